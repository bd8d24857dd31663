//! NetBIOS datagram service (UDP 138), and the browser messages (MS-BRWS)
//! carried in its datagrams as SMB `\MAILSLOT\BROWSE` transactions.
//!
//! One event per datagram, its browser message (if any) as the `browser`
//! object. The sender's `hostname` is the server name of its host or local
//! master announcement (with the OS version as `firmware`), else the
//! datagram's source name when that is a workstation or server name sent
//! from the packet's own address.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use super::anomaly::*;
use super::{NetbiosName, name_text};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use crate::protocols::dns::message::read_name;
use crate::protocols::itwire::{Reader, StackText, ip_text, put_str, put_u64, text};
use crate::protocols::{DatagramParser, Direction, Emitter, Probe};

/// Longest mailslot name, server name and comment kept.
const MAX_TEXT: usize = 64;

fn message_type_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x10 => "direct_unique",
        0x11 => "direct_group",
        0x12 => "broadcast",
        0x13 => "error",
        0x14 => "query_request",
        0x15 => "positive_query_response",
        0x16 => "negative_query_response",
        _ => return None,
    })
}

pub(super) fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0x10..=0x16).filter_map(message_type_name).collect();
    names.extend(["unknown", "invalid"]);
    names.sort_unstable();
    names
}

/// Browser commands (MS-BRWS 2.2), by name.
fn browser_command_name(command: u8) -> Option<&'static str> {
    Some(match command {
        0x01 => "host_announcement",
        0x02 => "announcement_request",
        0x08 => "election_request",
        0x09 => "get_backup_list_request",
        0x0a => "get_backup_list_response",
        0x0b => "become_backup",
        0x0c => "domain_announcement",
        0x0d => "master_announcement",
        0x0e => "reset_state_request",
        0x0f => "local_master_announcement",
        _ => return None,
    })
}

/// A browser message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Browser {
    /// Wireshark `browser.command`.
    pub command: u8,
    /// Announcements: the server's name, or for a domain announcement the
    /// domain's (Wireshark `browser.server`); election requests, become
    /// backup and master announcements: the browser's name.
    pub server_name: Option<String>,
    /// Announcements: OS version (Wireshark `browser.os_major`, `os_minor`).
    pub os_major: Option<u8>,
    pub os_minor: Option<u8>,
    /// Announcements: server type bits (Wireshark `browser.server_type`).
    pub server_type: Option<u32>,
    /// Announcements: the comment (a domain announcement's names the master
    /// browser).
    pub comment: Option<String>,
}

impl Browser {
    fn visit(&self, v: &mut dyn Visitor) {
        v.begin("browser", Nest::Object);
        v.field("command", Value::U64(self.command.into()));
        put_str(v, "command_name", browser_command_name(self.command));
        put_str(v, "server_name", self.server_name.as_deref());
        if let (Some(major), Some(minor)) = (self.os_major, self.os_minor) {
            let mut version = StackText::<8>::new();
            let _ = write!(version, "{major}.{minor}");
            v.field("os_version", Value::Str(version.as_str()));
        }
        put_u64(v, "server_type", self.server_type);
        put_str(v, "comment", self.comment.as_deref());
        v.end();
    }

    /// Announcements of a host itself (not of a domain).
    fn announces_host(&self) -> bool {
        matches!(self.command, 0x01 | 0x0f)
    }
}

/// NBDGM fields of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NbdgmFields {
    /// Wireshark `nbdgm.type`.
    pub msg_type: u8,
    /// Wireshark `nbdgm.flags`.
    pub flags: u8,
    /// Wireshark `nbdgm.dgram_id`.
    pub datagram_id: u16,
    /// Wireshark `nbdgm.src.ip`, `nbdgm.src.port`.
    pub source_ip: Option<Ipv4Addr>,
    pub source_port: Option<u16>,
    /// Wireshark `nbdgm.source_name`, `nbdgm.destination_name`.
    pub source_name: Option<String>,
    pub destination_name: Option<String>,
    /// Error datagrams: Wireshark `nbdgm.error_code`.
    pub error_code: Option<u8>,
    /// The SMB mailslot the user data is addressed to (`\MAILSLOT\BROWSE`).
    pub mailslot: Option<String>,
    pub browser: Option<Browser>,
    pub has_header: bool,
}

impl NbdgmFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        if !self.has_header {
            return;
        }
        put_u64(v, "msg_type", Some(self.msg_type));
        put_u64(v, "flags", Some(self.flags));
        put_u64(v, "datagram_id", Some(self.datagram_id));
        if let Some(ip) = self.source_ip {
            v.field("source_ip", Value::Str(ip_text(IpAddr::V4(ip)).as_str()));
        }
        put_u64(v, "source_port", self.source_port);
        put_str(v, "source_name", self.source_name.as_deref());
        put_str(v, "destination_name", self.destination_name.as_deref());
        put_u64(v, "error_code", self.error_code);
        put_str(v, "mailslot", self.mailslot.as_deref());
        if let Some(browser) = &self.browser {
            browser.visit(v);
        }
    }
}

/// Reads a NetBIOS name at `at`; returns its text, the decoded name and where
/// what follows starts.
fn name_at(
    msg: &[u8],
    at: usize,
    a: &mut Anomalies,
) -> Option<(String, Option<NetbiosName>, usize)> {
    let name = read_name(msg, at, true);
    let Some(end) = name.end else {
        a.add(TRUNCATED);
        return None;
    };
    if name.error.is_some() {
        a.add(BAD_NAME);
    }
    let (text, decoded) = name_text(&name.text);
    if decoded.is_none() {
        a.add(BAD_NETBIOS_NAME);
    }
    Some((text, decoded, end))
}

/// A NUL-terminated string of at most `max` bytes kept.
fn c_string(bytes: &[u8], max: usize) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    text(bytes.get(..end).unwrap_or_default(), max)
}

/// The mailslot name and browser message of an SMB transaction request
/// (SMB_COM_TRANSACTION, little-endian), if the user data is one.
fn mailslot(smb: &[u8], f: &mut NbdgmFields, a: &mut Anomalies) {
    if !smb.starts_with(b"\xffSMB") || smb.get(4) != Some(&0x25) {
        return;
    }
    let le16 = |at: usize| {
        smb.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    // Word count at 32, then 14 parameter words and the setup words.
    let parsed = (|| {
        let words = usize::from(*smb.get(32)?);
        let data_count = usize::from(le16(33 + 22)?);
        let data_offset = usize::from(le16(33 + 24)?);
        let name_at = 33 + 2 * words + 2;
        let name = smb.get(name_at..)?;
        let data = smb.get(data_offset..data_offset.checked_add(data_count)?)?;
        Some((c_string(name, MAX_TEXT), data))
    })();
    let Some((name, data)) = parsed else {
        a.add(BAD_MAILSLOT);
        return;
    };
    if name.eq_ignore_ascii_case("\\MAILSLOT\\BROWSE")
        || name.eq_ignore_ascii_case("\\MAILSLOT\\LANMAN")
    {
        f.browser = browser(data, a);
    }
    f.mailslot = Some(name);
}

/// A browser message (MS-BRWS 2.2).
fn browser(data: &[u8], a: &mut Anomalies) -> Option<Browser> {
    let mut r = Reader::new(data);
    let command = r.u8()?;
    let mut b = Browser {
        command,
        ..Browser::default()
    };
    match command {
        // Host, domain and local master announcements: update count,
        // periodicity, name, OS version, server type, browser version,
        // signature, comment.
        0x01 | 0x0c | 0x0f => {
            let fixed = (|| {
                let _update_count = r.u8()?;
                let _periodicity = r.u32()?;
                let name = r.take(16)?;
                let os = (r.u8()?, r.u8()?);
                let server_type = u32::from_le_bytes(r.array()?);
                let _version_signature = r.take(4)?;
                Some((name, os, server_type))
            })();
            let Some((name, (major, minor), server_type)) = fixed else {
                a.add(BAD_MAILSLOT);
                return Some(b);
            };
            b.server_name = Some(c_string(name, 16));
            b.os_major = Some(major);
            b.os_minor = Some(minor);
            b.server_type = Some(server_type);
            let comment = c_string(r.rest(), MAX_TEXT);
            b.comment = (!comment.is_empty()).then_some(comment);
        }
        // Election request: version, criteria, uptime, reserved, name.
        0x08 => b.server_name = r.take(13).map(|_| c_string(r.rest(), MAX_TEXT)),
        // Become backup and master announcement: a name.
        0x0b | 0x0d => b.server_name = Some(c_string(r.rest(), MAX_TEXT)),
        _ => {}
    }
    Some(b)
}

/// Decodes one datagram; `sender` is the packet's source address.
pub fn decode(
    msg: &[u8],
    sender: Option<IpAddr>,
) -> (NbdgmFields, Anomalies, Option<Box<Identity>>) {
    let mut f = NbdgmFields::default();
    let mut a = Anomalies::new();
    let mut r = Reader::new(msg);
    let (Some(msg_type), Some(flags), Some(id)) = (r.u8(), r.u8(), r.u16()) else {
        a.add(TRUNCATED);
        return (f, a, None);
    };
    f.has_header = true;
    f.msg_type = msg_type;
    f.flags = flags;
    f.datagram_id = id;
    f.source_ip = r.ipv4();
    f.source_port = r.u16();
    if f.source_port.is_none() {
        a.add(TRUNCATED);
        return (f, a, None);
    }
    if let (Some(ip), Some(sender)) = (f.source_ip, sender)
        && IpAddr::V4(ip) != sender
    {
        a.add(SOURCE_IP_MISMATCH);
    }
    let mut source = None;
    match msg_type {
        0x10..=0x12 => {
            let (Some(_length), Some(_offset)) = (r.u16(), r.u16()) else {
                a.add(TRUNCATED);
                return (f, a, None);
            };
            if let Some((text, name, end)) = name_at(msg, r.pos(), &mut a) {
                f.source_name = Some(text);
                source = name;
                if let Some((text, _, end)) = name_at(msg, end, &mut a) {
                    f.destination_name = Some(text);
                    mailslot(msg.get(end..).unwrap_or_default(), &mut f, &mut a);
                }
            }
        }
        0x13 => match r.u8() {
            Some(code) => f.error_code = Some(code),
            None => a.add(TRUNCATED),
        },
        0x14..=0x16 => {
            if let Some((text, _, _)) = name_at(msg, r.pos(), &mut a) {
                f.destination_name = Some(text);
            }
        }
        _ => a.add(UNKNOWN_MESSAGE_TYPE),
    }
    let from_itself = match (f.source_ip, sender) {
        (Some(ip), Some(sender)) => IpAddr::V4(ip) == sender,
        _ => false,
    };
    let announced = f.browser.as_ref().filter(|b| b.announces_host());
    let identity = if let Some(b) =
        announced.filter(|b| b.server_name.as_ref().is_some_and(|n| !n.is_empty()))
    {
        Some(Identity {
            hostname: b.server_name.clone(),
            firmware: b
                .os_major
                .zip(b.os_minor)
                .map(|(major, minor)| format!("{major}.{minor}")),
            ..Identity::default()
        })
    } else {
        source
            .filter(|n| from_itself && n.is_host_name())
            .map(|n| Identity {
                hostname: Some(n.base()),
                ..Identity::default()
            })
    };
    (f, a, identity.map(Box::new))
}

/// The datagram service decoder of one conversation (stateless).
#[derive(Debug, Default)]
pub struct NbdgmParser;

impl NbdgmParser {
    pub fn new() -> Self {
        NbdgmParser
    }
}

impl DatagramParser for NbdgmParser {
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        let (f, anomalies, identity) = decode(datagram, out.header().src_ip);
        let (function_code, function) = if f.has_header {
            (
                Some(u32::from(f.msg_type)),
                message_type_name(f.msg_type).unwrap_or("unknown"),
            )
        } else {
            (None, "invalid")
        };
        out.emit(Pdu {
            protocol: Protocol::Nbdgm,
            // Query responses answer; everything else is sent unasked.
            is_response: matches!(f.msg_type, 0x15 | 0x16),
            function_code,
            function,
            class: FunctionClass::Discovery,
            anomalies,
            identity,
            fields: Fields::Nbdgm(Box::new(f)),
        });
    }
}

/// Recognises the datagram service on port 138 only: a defined message
/// type, and for datagrams carrying data a source name that is a
/// first-level encoding.
pub fn probe_nbdgm(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let Some(&msg_type) = datagram.first() else {
        return Probe::NoMatch;
    };
    let name_ok = || {
        datagram.get(14) == Some(&32)
            && datagram
                .get(15..47)
                .is_some_and(|l| l.iter().all(|c| (b'A'..=b'P').contains(c)))
    };
    let ok = match msg_type {
        0x10..=0x12 => name_ok(),
        0x13..=0x16 => datagram.len() >= 11,
        _ => false,
    };
    if on_known_port && ok {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}
