//! The EtherNet/IP encapsulation: the 24-byte header, the common packet
//! format (CPF) items, and the command-specific data of the commands that
//! carry no CIP (ListIdentity, ListServices, RegisterSession). Pure
//! functions over slices; nothing here allocates except the strings that go
//! into events.

use std::net::Ipv4Addr;

use super::anomaly::*;
use super::names::{device_type_name, item};
use super::vendors::vendor_name;
use crate::event::{Anomalies, Identity};

pub fn le16(b: &[u8], at: usize) -> Option<u16> {
    let bytes = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([bytes[0], bytes[1]]))
}

pub fn le32(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    let bytes = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// Field offsets of the encapsulation header (all little-endian).
pub mod field {
    pub const COMMAND: usize = 0;
    pub const LENGTH: usize = 2;
    pub const SESSION: usize = 4;
    pub const STATUS: usize = 8;
    pub const SENDER_CONTEXT: std::ops::Range<usize> = 12..20;
    pub const OPTIONS: usize = 20;
}

/// Bytes of the encapsulation header; the command-specific data follows.
pub const HEADER_LEN: usize = 24;

/// The encapsulation header of one message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub command: u16,
    pub length: u16,
    pub session: u32,
    pub status: u32,
    pub sender_context: [u8; 8],
    pub options: u32,
}

impl Header {
    /// Reads the header at the start of `b`, if 24 bytes are there.
    pub fn parse(b: &[u8]) -> Option<Header> {
        let mut sender_context = [0; 8];
        sender_context.copy_from_slice(b.get(field::SENDER_CONTEXT)?);
        Some(Header {
            command: le16(b, field::COMMAND)?,
            length: le16(b, field::LENGTH)?,
            session: le32(b, field::SESSION)?,
            status: le32(b, field::STATUS)?,
            sender_context,
            options: le32(b, field::OPTIONS)?,
        })
    }

    /// The sender context as one number, for pairing.
    pub fn context(&self) -> u64 {
        u64::from_le_bytes(self.sender_context)
    }
}

/// One common packet format item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item<'a> {
    pub type_id: u16,
    pub data: &'a [u8],
}

/// The item types of a CPF, as listed on events (Wireshark
/// `enip.cpf.typeid`). Fixed capacity: building an event never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ItemTypes {
    types: [u16; ItemTypes::CAPACITY],
    len: u8,
}

impl ItemTypes {
    pub const CAPACITY: usize = 8;

    pub fn push(&mut self, type_id: u16) {
        if let Some(slot) = self.types.get_mut(usize::from(self.len)) {
            *slot = type_id;
            self.len += 1;
        }
    }

    pub fn as_slice(&self) -> &[u16] {
        self.types.get(..usize::from(self.len)).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A parsed common packet format: the items a message carries, bounded.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpf<'a> {
    pub types: ItemTypes,
    items: [Option<Item<'a>>; ItemTypes::CAPACITY],
    /// Item count as declared.
    pub count: u16,
}

impl<'a> Cpf<'a> {
    /// Parses the item count and items at the start of `b`. Items past
    /// [`ItemTypes::CAPACITY`] are not kept (`too_many_items`); an item whose
    /// length runs past the data keeps what is there (`truncated_cpf_item`).
    pub fn parse(b: &'a [u8], a: &mut Anomalies) -> Cpf<'a> {
        let mut cpf = Cpf::default();
        let Some(count) = le16(b, 0) else {
            a.add(TRUNCATED_COMMAND_DATA);
            return cpf;
        };
        cpf.count = count;
        let mut at = 2;
        for index in 0..usize::from(count) {
            let (Some(type_id), Some(length)) = (le16(b, at), le16(b, at + 2)) else {
                a.add(TRUNCATED_CPF_ITEM);
                return cpf;
            };
            let start = at + 4;
            let end = start + usize::from(length);
            let data = match b.get(start..end) {
                Some(data) => data,
                None => {
                    a.add(TRUNCATED_CPF_ITEM);
                    b.get(start..).unwrap_or_default()
                }
            };
            if !item::is_known(type_id) {
                a.add(UNKNOWN_ITEM_TYPE);
            }
            if index < ItemTypes::CAPACITY {
                cpf.types.push(type_id);
                cpf.items[index] = Some(Item { type_id, data });
            } else {
                a.add(TOO_MANY_ITEMS);
            }
            at = end;
            if at > b.len() {
                return cpf;
            }
        }
        if at < b.len() {
            a.add(LENGTH_MISMATCH);
        }
        cpf
    }

    pub fn items(&self) -> impl Iterator<Item = Item<'a>> + '_ {
        self.items.iter().flatten().copied()
    }

    /// The first item of `type_id`.
    pub fn find(&self, type_id: u16) -> Option<Item<'a>> {
        self.items().find(|i| i.type_id == type_id)
    }
}

/// A socket address item (0x8000 O→T, 0x8001 T→O): where the I/O of a
/// Forward Open is to be sent (a T→O multicast group, typically). Laid out
/// as BSD's `sockaddr_in`, big-endian: family, port, IPv4 address, then 8
/// zero bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockAddr {
    pub family: u16,
    pub port: u16,
    pub addr: Ipv4Addr,
}

impl SockAddr {
    /// The item's length in the specification.
    pub const LEN: usize = 16;
    pub const AF_INET: u16 = 2;
    /// Longest text: `255.255.255.255:65535`.
    pub const TEXT_LEN: usize = 21;

    /// Reads an item's data; `None` when it ends before the address does.
    pub fn parse(d: &[u8]) -> Option<SockAddr> {
        let addr = <[u8; 4]>::try_from(d.get(4..8)?).ok()?;
        Some(SockAddr {
            family: be16(d, 0)?,
            port: be16(d, 2)?,
            addr: Ipv4Addr::from(addr),
        })
    }

    /// `ip:port`, written into `buf` (an event field, without allocating).
    pub fn text<'b>(&self, buf: &'b mut [u8; SockAddr::TEXT_LEN]) -> &'b str {
        use std::io::Write as _;
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        // Never fails: the longest text fits.
        let _ = write!(cursor, "{}:{}", self.addr, self.port);
        let end = cursor.position() as usize;
        std::str::from_utf8(&buf[..end]).unwrap_or_default()
    }
}

/// A ListIdentity reply item (type 0x000C): what a device says it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityItem {
    pub encapsulation_version: u16,
    /// The socket address the device gives, `ip:port` (sent big-endian).
    pub socket_address: String,
    pub vendor_id: u16,
    pub device_type: u16,
    pub product_code: u16,
    pub revision_major: u8,
    pub revision_minor: u8,
    /// Identity object status word.
    pub status: u16,
    pub serial_number: u32,
    pub product_name: String,
    pub state: Option<u8>,
}

/// Product names are SHORT_STRINGs (at most 255 bytes).
const MAX_NAME: usize = 255;

/// Text of a SHORT_STRING's bytes, printable ASCII kept and the rest
/// replaced, bounded.
pub fn text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(MAX_NAME)
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                char::from(c)
            } else {
                '\u{FFFD}'
            }
        })
        .collect()
}

impl IdentityItem {
    /// Parses the item's data; `None` when even the fixed part is missing.
    pub fn parse(d: &[u8], a: &mut Anomalies) -> Option<IdentityItem> {
        let sin_port = be16(d, 4)?;
        let addr = <[u8; 4]>::try_from(d.get(6..10)?).ok()?;
        let name_len = usize::from(*d.get(32)?);
        let name = match d.get(33..33 + name_len) {
            Some(name) => name,
            None => {
                a.add(TRUNCATED_CPF_ITEM);
                d.get(33..).unwrap_or_default()
            }
        };
        let state = d.get(33 + name_len).copied();
        if state.is_none() {
            a.add(TRUNCATED_CPF_ITEM);
        }
        Some(IdentityItem {
            encapsulation_version: le16(d, 0)?,
            socket_address: format!("{}:{sin_port}", Ipv4Addr::from(addr)),
            vendor_id: le16(d, 18)?,
            device_type: le16(d, 20)?,
            product_code: le16(d, 22)?,
            revision_major: *d.get(24)?,
            revision_minor: *d.get(25)?,
            status: le16(d, 26)?,
            serial_number: le32(d, 28)?,
            product_name: text(name),
            state,
        })
    }

    /// Revision as Wireshark's `enip.lir.revision` number: major in the high byte.
    pub fn revision(&self) -> u16 {
        u16::from(self.revision_major) << 8 | u16::from(self.revision_minor)
    }

    /// The device identity, with what only ListIdentity carries: the
    /// socket address, status word and state.
    pub fn identity(&self) -> Identity {
        Identity {
            socket_address: (!self.socket_address.is_empty()).then(|| self.socket_address.clone()),
            device_status: Some(format!("0x{:04x}", self.status)),
            device_state: self.state.map(|s| s.to_string()),
            ..device_identity(
                self.vendor_id,
                self.device_type,
                self.product_code,
                (self.revision_major, self.revision_minor),
                self.serial_number,
                &self.product_name,
            )
        }
    }
}

/// The inventory's view of a CIP identity (ListIdentity item or Identity
/// object attributes): firmware as Wireshark shows revisions (`4.03`), serial
/// as 8 hex digits (`0x00524d8e`).
pub fn device_identity(
    vendor_id: u16,
    device_type: u16,
    product_code: u16,
    (major, minor): (u8, u8),
    serial: u32,
    product: &str,
) -> Identity {
    Identity {
        vendor: vendor_name(vendor_id).map(str::to_string),
        vendor_id: Some(vendor_id.into()),
        product: (!product.is_empty()).then(|| product.to_string()),
        product_code: Some(product_code.to_string()),
        firmware: Some(format!("{major}.{minor:02}")),
        serial: Some(format!("0x{serial:08x}")),
        device_type: Some(
            device_type_name(device_type)
                .map(str::to_string)
                .unwrap_or_else(|| format!("0x{device_type:02x}")),
        ),
        ..Identity::default()
    }
}

/// One ListServices reply item (type 0x0100).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceItem {
    pub version: u16,
    pub capabilities: u16,
    pub name: String,
}

impl ServiceItem {
    pub fn parse(d: &[u8]) -> Option<ServiceItem> {
        let name = d.get(4..).unwrap_or_default();
        let name = name
            .iter()
            .position(|&c| c == 0)
            .and_then(|end| name.get(..end))
            .unwrap_or(name);
        Some(ServiceItem {
            version: le16(d, 0)?,
            capabilities: le16(d, 2)?,
            name: text(name.get(..16).unwrap_or(name)),
        })
    }
}
