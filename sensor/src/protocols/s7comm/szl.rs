//! SZL (System-Zustands-Liste, system status list) answers: the header every
//! partial list has, and the two lists that identify a module, for the asset
//! inventory:
//!
//! - `xy11` module identification: records of 28 octets (index, 20-character
//!   order number "MlfB", module type, two version words). Index 0x0001 is the
//!   module, 0x0006 its basic hardware, 0x0007 its basic firmware, whose
//!   version words read `'V'` major, minor, patch.
//! - `xy1C` component identification: records of 34 octets (index, 32 octets).
//!   Index 0x0001 is the name of the automation system (the PLC name), 0x0002
//!   the module name, 0x0005 the serial number, 0x0007 the module type name,
//!   0x0009 the manufacturer (PROFIBUS/PROFINET vendor id) and profile.

use crate::event::Identity;
use crate::protocols::cotp::bytes::{be16, text};

/// Records read at most from one list.
const MAX_RECORDS: usize = 64;
/// The PROFIBUS & PROFINET International vendor id of Siemens.
const SIEMENS_VENDOR_ID: u16 = 0x002a;

/// The header of an SZL answer and its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Szl<'a> {
    pub id: u16,
    pub index: u16,
    /// Octets per record (LENTHDR).
    pub record_len: u16,
    /// Records declared (N_DR).
    pub count: u16,
    /// The record octets present.
    pub records: &'a [u8],
}

impl<'a> Szl<'a> {
    /// Reads an SZL answer: `data` starts at the SZL id (after the 4-octet
    /// userdata data header).
    pub fn parse(data: &'a [u8]) -> Option<Szl<'a>> {
        Some(Szl {
            id: be16(data, 0)?,
            index: be16(data, 2)?,
            record_len: be16(data, 4)?,
            count: be16(data, 6)?,
            records: data.get(8..)?,
        })
    }

    /// The records present, at most as many as declared.
    pub fn records(&self) -> impl Iterator<Item = &'a [u8]> {
        let len = usize::from(self.record_len);
        let records = if len == 0 { &[][..] } else { self.records };
        records
            .chunks_exact(len.max(1))
            .take(usize::from(self.count).min(MAX_RECORDS))
    }

    /// Whether all the declared records are present.
    pub fn complete(&self) -> bool {
        usize::from(self.record_len) * usize::from(self.count) <= self.records.len()
    }

    /// The partial list number: the low octet of the id (0x11 module
    /// identification, 0x1c component identification…).
    fn list(&self) -> u8 {
        (self.id & 0xff) as u8
    }

    /// What the module says about itself in this answer, if it identifies it.
    pub fn identity(&self) -> Option<Identity> {
        let mut id = Identity::default();
        match (self.list(), self.record_len) {
            (0x11, 28) => module_identification(self, &mut id),
            (0x1c, 34) => component_identification(self, &mut id),
            _ => return None,
        }
        (!id.is_empty()).then_some(id)
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// SZL xy11: order number, hardware and firmware versions.
fn module_identification(szl: &Szl<'_>, id: &mut Identity) {
    let mut basic_hardware = None;
    for record in szl.records() {
        let index = be16(record, 0).unwrap_or_default();
        let order = record.get(2..22).map(|m| text(m, 20)).and_then(non_empty);
        let ausbg = be16(record, 24).unwrap_or_default();
        let ausbe = be16(record, 26).unwrap_or_default();
        match index {
            0x0001 => {
                id.order_number = order.or(id.order_number.take());
                id.hardware.get_or_insert_with(|| ausbg.to_string());
            }
            0x0006 => {
                basic_hardware = Some(ausbg.to_string());
                id.order_number = id.order_number.take().or(order);
            }
            0x0007 if ausbg >> 8 == u16::from(b'V') => {
                id.firmware = Some(format!("V{}.{}.{}", ausbg & 0xff, ausbe >> 8, ausbe & 0xff));
            }
            _ => {}
        }
    }
    if basic_hardware.is_some() {
        id.hardware = basic_hardware;
    }
}

/// SZL xy1C: names, serial number, manufacturer.
fn component_identification(szl: &Szl<'_>, id: &mut Identity) {
    for record in szl.records() {
        let index = be16(record, 0).unwrap_or_default();
        let data = record.get(2..).unwrap_or_default();
        let field = |len: usize| data.get(..len).map(|d| text(d, len)).and_then(non_empty);
        match index {
            0x0001 => id.station_name = field(24),
            0x0002 => id.module_name = field(24),
            0x0005 => id.serial = field(24),
            0x0007 => id.product = field(32),
            0x0009 => {
                if let Some(vendor) = be16(data, 0).filter(|&v| v != 0) {
                    id.vendor_id = Some(vendor.into());
                    if vendor == SIEMENS_VENDOR_ID {
                        id.vendor = Some("Siemens".to_string());
                    }
                }
            }
            _ => {}
        }
    }
    if id.product.is_none() {
        id.product.clone_from(&id.module_name);
    }
}
