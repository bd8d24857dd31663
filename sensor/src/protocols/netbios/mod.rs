//! NetBIOS over TCP/IP (RFC 1001/1002): the name service (UDP 137,
//! `protocol: "nbns"`) and the datagram service (UDP 138, `protocol:
//! "nbdgm"`), with the browser announcements (MS-BRWS) that ride in
//! datagrams as SMB mailslot messages.
//!
//! Two protocols, as the two services are two conversations with their own
//! message formats; browser messages are not a protocol of their own but the
//! payload of a datagram, so their fields are the `browser` object of the
//! `nbdgm` event that carries them (one event per datagram).
//!
//! Names are written as Wireshark writes them: the 15-byte name without its
//! trailing spaces, then the suffix byte in angle brackets (`EVON<20>`);
//! other bytes that are not printable are written `<xx>` too.

mod nbdgm;
mod nbns;
#[cfg(test)]
mod tests;

pub use nbdgm::{Browser, NbdgmFields, NbdgmParser, decode as decode_nbdgm, probe_nbdgm};
pub use nbns::{NbnsFields, NbnsParser, NodeName, decode as decode_nbns, probe_nbns};

use std::fmt::Write as _;

pub const NBNS_PORT: u16 = 137;
pub const NBDGM_PORT: u16 = 138;
/// Longest name text kept (a scope id may follow the 16 bytes).
const MAX_NAME_TEXT: usize = 128;

/// Stable anomaly names of both services.
pub mod anomaly {
    /// The message ends before its fixed fields do.
    pub const TRUNCATED: &str = "truncated";
    /// A name that is not a NetBIOS first-level encoding (32 letters A–P).
    pub const BAD_NETBIOS_NAME: &str = "bad_netbios_name";
    /// A name whose DNS-style encoding is broken (bad pointer, label type…).
    pub const BAD_NAME: &str = "bad_name";
    /// Record data whose length does not fit its type.
    pub const BAD_RDATA: &str = "bad_rdata";
    /// Bytes after the last record the counts announce.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// An NBNS opcode or NBDGM message type RFC 1002 does not define.
    pub const UNKNOWN_OPCODE: &str = "unknown_opcode";
    pub const UNKNOWN_MESSAGE_TYPE: &str = "unknown_message_type";
    /// A datagram's source address differs from the packet's.
    pub const SOURCE_IP_MISMATCH: &str = "source_ip_mismatch";
    /// A datagram's SMB mailslot message could not be read.
    pub const BAD_MAILSLOT: &str = "bad_mailslot";

    pub const ALL: &[&str] = &[
        TRUNCATED,
        BAD_NETBIOS_NAME,
        BAD_NAME,
        BAD_RDATA,
        TRAILING_BYTES,
        UNKNOWN_OPCODE,
        UNKNOWN_MESSAGE_TYPE,
        SOURCE_IP_MISMATCH,
        BAD_MAILSLOT,
    ];
}

/// A NetBIOS name, decoded from its 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetbiosName {
    pub bytes: [u8; 16],
}

impl NetbiosName {
    /// The suffix (16th byte): the name's service type (0x00 workstation,
    /// 0x20 server, 0x1d master browser, 0x1e browser election…).
    pub fn suffix(&self) -> u8 {
        self.bytes[15]
    }

    /// The first 15 bytes without trailing spaces, written as text.
    pub fn base(&self) -> String {
        let mut end = 15;
        while end > 0 && self.bytes[end - 1] == b' ' {
            end -= 1;
        }
        let mut s = String::new();
        for &b in &self.bytes[..end] {
            push_byte(&mut s, b);
        }
        s
    }

    /// `NAME<xx>`, as Wireshark writes NetBIOS names.
    pub fn display(&self) -> String {
        let mut s = self.base();
        let _ = write!(s, "<{:02x}>", self.suffix());
        s
    }

    /// A name a host takes for itself (workstation or server service), as
    /// opposed to the domain, browser and wildcard names.
    pub fn is_host_name(&self) -> bool {
        matches!(self.suffix(), 0x00 | 0x20)
            && self.bytes[0] != b'*'
            && self.bytes[..15]
                .iter()
                .all(|&b| (0x21..=0x7e).contains(&b) || b == b' ')
    }
}

/// A printable byte as is, another as `<xx>`.
fn push_byte(s: &mut String, b: u8) {
    if (0x20..=0x7e).contains(&b) {
        s.push(char::from(b));
    } else {
        let _ = write!(s, "<{b:02x}>");
    }
}

/// Decodes the first-level encoding of a name (RFC 1001 §14.1): each byte
/// as two letters `A`+high nibble, `A`+low nibble. `None` unless exactly 32
/// letters from A to P.
pub fn decode_first_level(label: &[u8]) -> Option<NetbiosName> {
    if label.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, pair) in label.chunks_exact(2).enumerate() {
        let nibble = |c: u8| (b'A'..=b'P').contains(&c).then(|| c - b'A');
        bytes[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(NetbiosName { bytes })
}

/// A name as text from its encoded DNS-style text (first label encoded,
/// then an optional scope): `NAME<xx>` followed by `.scope`, or the raw text
/// when it is not a first-level encoding (`None` as the decoded name).
pub fn name_text(encoded: &str) -> (String, Option<NetbiosName>) {
    let (first, scope) = match encoded.split_once('.') {
        Some((first, scope)) => (first, Some(scope)),
        None => (encoded, None),
    };
    match decode_first_level(first.as_bytes()) {
        Some(name) => {
            let mut text = name.display();
            if let Some(scope) = scope {
                text.push('.');
                text.push_str(scope);
            }
            (bounded(text), Some(name))
        }
        None => (bounded(encoded.to_string()), None),
    }
}

/// `text` cut to [`MAX_NAME_TEXT`] bytes, on a character boundary.
fn bounded(mut text: String) -> String {
    let mut cut = MAX_NAME_TEXT.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// Every `function` name NBNS events carry, for rule validation.
pub fn nbns_function_names() -> Vec<&'static str> {
    nbns::function_names()
}

/// Every `function` name NBDGM events carry, for rule validation.
pub fn nbdgm_function_names() -> Vec<&'static str> {
    nbdgm::function_names()
}
