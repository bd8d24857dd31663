//! GSE management (`gseMngtPdu`, [APPLICATION 0], IEC 61850-8-1 Annex A):
//! a subscriber asks a publisher which control blocks it has and where a
//! data set member sits; the publisher answers. Rare on real networks; it is
//! decoded far enough to name the service, the control block asked about and
//! the outcome.

use super::anomaly::*;
use super::ber::{self, Class, Tlvs};
use super::{GooseFields, MAX_TEXT, text};
use crate::event::Anomalies;

/// The management services (the CHOICE tags of requests and responses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    GetGoReference,
    GetGooseElementNumber,
    GetGsReference,
    GetGsseDataOffset,
    /// Response `gseMngtNotSupported`.
    NotSupported,
    /// A tag the CHOICE does not have.
    Unknown,
}

impl Service {
    fn from_tag(number: u32, response: bool) -> Service {
        match number {
            0 if response => Service::NotSupported,
            1 => Service::GetGoReference,
            2 => Service::GetGooseElementNumber,
            3 => Service::GetGsReference,
            4 => Service::GetGsseDataOffset,
            _ => Service::Unknown,
        }
    }

    pub const ALL: &'static [Service] = &[
        Service::GetGoReference,
        Service::GetGooseElementNumber,
        Service::GetGsReference,
        Service::GetGsseDataOffset,
        Service::NotSupported,
        Service::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::GetGoReference => "get_go_reference",
            Service::GetGooseElementNumber => "get_goose_element_number",
            Service::GetGsReference => "get_gs_reference",
            Service::GetGsseDataOffset => "get_gsse_data_offset",
            Service::NotSupported => "not_supported",
            Service::Unknown => "gse_management",
        }
    }
}

/// Decodes the contents of a `gseMngtPdu` into `f`; returns the service and
/// whether it is a response.
pub fn decode(content: &[u8], f: &mut GooseFields, a: &mut Anomalies) -> (Service, bool) {
    let mut service = (Service::Unknown, false);
    let mut fields = Tlvs::new(content);
    for tlv in &mut fields {
        if tlv.truncated {
            a.add(TRUNCATED_PDU);
        }
        match (tlv.tag.class, tlv.tag.number, tlv.tag.constructed) {
            (Class::Context, 0, false) => f.state_id = ber::unsigned(tlv.value),
            // requests [1] / responses [2]: a CHOICE of services.
            (Class::Context, n @ (1 | 2), true) => {
                let response = n == 2;
                let mut choice = Tlvs::new(tlv.value);
                match choice.next() {
                    Some(inner) if inner.tag.class == Class::Context => {
                        let kind = Service::from_tag(inner.tag.number, response);
                        if kind == Service::Unknown {
                            a.add(UNKNOWN_SERVICE);
                        }
                        service = (kind, response);
                        if inner.tag.constructed {
                            body(inner.value, response, f, a);
                        }
                    }
                    _ => a.add(INVALID_BER),
                }
            }
            _ => a.add(UNEXPECTED_FIELD),
        }
    }
    if fields.error.is_some() {
        a.add(INVALID_BER);
    }
    service
}

/// A request (`ident`, offsets or references) or a response (`ident`,
/// `confRev`, positive with `datSet` and results, or negative).
fn body(content: &[u8], response: bool, f: &mut GooseFields, a: &mut Anomalies) {
    let mut fields = Tlvs::new(content);
    for tlv in &mut fields {
        if tlv.truncated {
            a.add(TRUNCATED_PDU);
            continue;
        }
        match (tlv.tag.number, tlv.tag.constructed, response) {
            (0, false, _) => f.ident = Some(text(tlv.value, MAX_TEXT, a)),
            // Request offsets / references: a SEQUENCE OF.
            (1, true, false) => f.items = Some(Tlvs::new(tlv.value).count() as u64),
            (1, false, true) => f.conf_rev = ber::unsigned(tlv.value),
            (2, true, true) => {
                for part in Tlvs::new(tlv.value) {
                    match (part.tag.number, part.tag.constructed) {
                        (0, false) => f.dat_set = Some(text(part.value, MAX_TEXT, a)),
                        (1, true) => f.items = Some(Tlvs::new(part.value).count() as u64),
                        _ => a.add(UNEXPECTED_FIELD),
                    }
                }
            }
            (3, false, true) => f.error_code = ber::unsigned(tlv.value),
            _ => a.add(UNEXPECTED_FIELD),
        }
    }
    if fields.error.is_some() {
        a.add(INVALID_BER);
    }
}
