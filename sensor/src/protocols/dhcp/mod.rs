//! DHCP (RFC 2131/2132) and plain BOOTP, UDP 67/68: who asks for an address
//! and what it says about itself, who offers one and what configuration it
//! pushes (router, DNS, domain, boot server).
//!
//! One event per message (one datagram). Options are read from the options
//! field, then, when option 52 overloads them, from the `file` and `sname`
//! fields (RFC 2131 §4.1 order).
//!
//! Identity: a client's DISCOVER, REQUEST and INFORM describe the client —
//! `hostname` (option 12, else the first label of the client FQDN, option
//! 81) and `device_type` (the vendor class id, option 60: `MSFT 5.0`,
//! `udhcp 1.36.1`, `Cisco Systems, Inc. IP Phone CP-7961G`). They are attached
//! only when the message was not relayed (giaddr 0) and its client hardware
//! address is the frame's source MAC, so that they describe the sender. A
//! client often has no IP address yet (source 0.0.0.0): the inventory then
//! files the identity under the sender's MAC address, which joins the
//! client's IP address once seen (`Inventory::event`).

#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use super::itwire::{Reader, put_ips, put_mac, put_str, put_u64, text};
use super::{DatagramParser, Direction, Emitter, Probe};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Mac, Pdu, Protocol, Value, Visitor,
};

pub const SERVER_PORT: u16 = 67;
pub const CLIENT_PORT: u16 = 68;
/// The fixed BOOTP header, up to the options.
const FIXED_LEN: usize = 236;
const SNAME: std::ops::Range<usize> = 44..108;
const FILE: std::ops::Range<usize> = 108..236;
const MAGIC_COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];
/// Longest text kept from an option or header field.
const MAX_TEXT: usize = 255;
/// Addresses kept per address-list option.
const MAX_ADDRESSES: usize = 8;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Shorter than the 236-byte BOOTP header (the event is `invalid`).
    pub const TRUNCATED: &str = "truncated";
    /// An option whose length runs past its field.
    pub const TRUNCATED_OPTION: &str = "truncated_option";
    /// No End option (255) closes the options.
    pub const MISSING_END_OPTION: &str = "missing_end_option";
    /// An option whose length does not fit its type (message type not 1
    /// byte, an address option not a multiple of 4…).
    pub const BAD_OPTION_LENGTH: &str = "bad_option_length";
    /// A message type (option 53) RFC 2132 and its successors do not define.
    pub const UNKNOWN_MESSAGE_TYPE: &str = "unknown_message_type";
    /// Option 52 with a value other than 1–3, or found in `file`/`sname`.
    pub const BAD_OVERLOAD: &str = "bad_overload";
    /// A client's message type in a BOOTREPLY, or a server's in a BOOTREQUEST.
    pub const OP_MISMATCH: &str = "op_mismatch";
    /// A hardware address length above 16.
    pub const BAD_HARDWARE_LENGTH: &str = "bad_hardware_length";
    /// A client message, not relayed, whose client hardware address is not
    /// the frame's source MAC (address pool exhaustion tools do this).
    pub const CLIENT_MAC_MISMATCH: &str = "client_mac_mismatch";

    pub const ALL: &[&str] = &[
        TRUNCATED,
        TRUNCATED_OPTION,
        MISSING_END_OPTION,
        BAD_OPTION_LENGTH,
        UNKNOWN_MESSAGE_TYPE,
        BAD_OVERLOAD,
        OP_MISMATCH,
        BAD_HARDWARE_LENGTH,
        CLIENT_MAC_MISMATCH,
    ];
}
use anomaly::*;

/// Message types (option 53): name, and whether a client sends it.
fn message_type(code: u8) -> Option<(&'static str, bool)> {
    Some(match code {
        1 => ("discover", true),
        2 => ("offer", false),
        3 => ("request", true),
        4 => ("decline", true),
        5 => ("ack", false),
        6 => ("nak", false),
        7 => ("release", true),
        8 => ("inform", true),
        9 => ("force_renew", false),
        10 => ("lease_query", true),
        11 => ("lease_unassigned", false),
        12 => ("lease_unknown", false),
        13 => ("lease_active", false),
        14 => ("bulk_lease_query", true),
        15 => ("lease_query_done", false),
        16 => ("active_lease_query", true),
        17 => ("lease_query_status", false),
        18 => ("tls", true),
        _ => return None,
    })
}

/// Every `function` name DHCP events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=255)
        .filter_map(|c| message_type(c).map(|m| m.0))
        .collect();
    names.extend(["bootp_request", "bootp_reply", "unknown", "invalid"]);
    names.sort_unstable();
    names
}

/// DHCP fields of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DhcpFields {
    /// BOOTP op: 1 request, 2 reply (Wireshark `dhcp.type`).
    pub op: u8,
    /// Wireshark `dhcp.hw.type`, `dhcp.hw.len`.
    pub hardware_type: u8,
    pub hardware_length: u8,
    pub hops: u8,
    /// Wireshark `dhcp.id`.
    pub transaction_id: u32,
    /// Wireshark `dhcp.secs`, `dhcp.flags`.
    pub seconds: u16,
    pub flags: u16,
    /// ciaddr, yiaddr, siaddr, giaddr (Wireshark `dhcp.ip.client`,
    /// `dhcp.ip.your`, `dhcp.ip.server`, `dhcp.ip.relay`); `None` for 0.0.0.0.
    pub client_ip: Option<Ipv4Addr>,
    pub assigned_ip: Option<Ipv4Addr>,
    pub next_server_ip: Option<Ipv4Addr>,
    pub relay_ip: Option<Ipv4Addr>,
    /// chaddr, for Ethernet (Wireshark `dhcp.hw.mac_addr`).
    pub client_mac: Option<Mac>,
    /// sname and file, when they hold text rather than options.
    pub server_hostname: Option<String>,
    pub boot_file: Option<String>,
    /// Option 53 (Wireshark `dhcp.option.dhcp`).
    pub message_type: Option<u8>,
    /// Option 12 (Wireshark `dhcp.option.hostname`).
    pub hostname: Option<String>,
    /// Option 81, the client's FQDN (Wireshark `dhcp.fqdn.name`).
    pub client_fqdn: Option<String>,
    /// Option 60 (Wireshark `dhcp.option.vendor_class_id`).
    pub vendor_class_id: Option<String>,
    /// Option 55, the options asked for, in order: the client's DHCP
    /// fingerprint (Wireshark `dhcp.option.request_list_item`).
    pub parameter_request_list: Option<Vec<u8>>,
    /// Option 50 (Wireshark `dhcp.option.requested_ip_address`).
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54 (Wireshark `dhcp.option.dhcp_server_id`).
    pub server_id: Option<Ipv4Addr>,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3 (Wireshark `dhcp.option.router`).
    pub routers: Vec<IpAddr>,
    /// Option 6 (Wireshark `dhcp.option.domain_name_server`).
    pub dns_servers: Vec<IpAddr>,
    /// Option 15 (Wireshark `dhcp.option.domain_name`).
    pub domain_name: Option<String>,
    /// Option 51, seconds.
    pub lease_time: Option<u32>,
    /// Option 61 (Wireshark `dhcp.client_id`; with type 1 and six
    /// bytes it is a MAC address, `dhcp.hw.mac_addr`).
    pub client_id: Option<Vec<u8>>,
    /// Option 52: 1 `file`, 2 `sname`, 3 both hold options.
    pub overload: Option<u8>,
    /// Set when the fixed header was whole.
    pub has_header: bool,
}

impl DhcpFields {
    /// Option 55 as the comma-joined option numbers (`1,3,6,15,119,252`), as
    /// DHCP fingerprint databases write it.
    pub fn fingerprint(&self) -> Option<String> {
        let list = self.parameter_request_list.as_ref()?;
        let mut s = String::with_capacity(list.len() * 4);
        for (i, code) in list.iter().enumerate() {
            let _ = write!(s, "{}{code}", if i == 0 { "" } else { "," });
        }
        Some(s)
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        if !self.has_header {
            return;
        }
        let opt_ip = |v: &mut dyn Visitor, name: &str, ip: Option<Ipv4Addr>| {
            if let Some(ip) = ip {
                v.field(name, Value::Str(super::itwire::ip_text(ip.into()).as_str()));
            }
        };
        put_u64(v, "op", Some(self.op));
        put_u64(v, "message_type", self.message_type);
        put_u64(v, "transaction_id", Some(self.transaction_id));
        put_u64(v, "hardware_type", Some(self.hardware_type));
        put_u64(v, "hops", Some(self.hops).filter(|h| *h > 0));
        put_u64(v, "seconds", Some(self.seconds));
        put_u64(v, "flags", Some(self.flags));
        put_mac(v, "client_mac", self.client_mac.as_ref());
        opt_ip(v, "client_ip", self.client_ip);
        opt_ip(v, "assigned_ip", self.assigned_ip);
        opt_ip(v, "next_server_ip", self.next_server_ip);
        opt_ip(v, "relay_ip", self.relay_ip);
        put_str(v, "server_hostname", self.server_hostname.as_deref());
        put_str(v, "boot_file", self.boot_file.as_deref());
        put_str(v, "hostname", self.hostname.as_deref());
        put_str(v, "client_fqdn", self.client_fqdn.as_deref());
        put_str(v, "vendor_class_id", self.vendor_class_id.as_deref());
        if let Some(fingerprint) = self.fingerprint() {
            v.field("parameter_request_list", Value::Str(&fingerprint));
        }
        opt_ip(v, "requested_ip", self.requested_ip);
        opt_ip(v, "server_id", self.server_id);
        opt_ip(v, "subnet_mask", self.subnet_mask);
        put_ips(v, "routers", &self.routers);
        put_ips(v, "dns_servers", &self.dns_servers);
        put_str(v, "domain_name", self.domain_name.as_deref());
        put_u64(v, "lease_time", self.lease_time);
        if let Some(id) = &self.client_id {
            v.field("client_id", Value::Hex(id));
        }
        put_u64(v, "overload", self.overload);
    }

    /// What the client says about itself.
    fn identity(&self) -> Option<Box<Identity>> {
        let hostname = self.hostname.clone().or_else(|| {
            let fqdn = self.client_fqdn.as_deref()?;
            let first = fqdn.split('.').next().filter(|l| !l.is_empty())?;
            Some(first.to_string())
        });
        let identity = Identity {
            hostname: hostname.filter(|h| !h.is_empty()),
            device_type: self.vendor_class_id.clone().filter(|v| !v.is_empty()),
            ..Identity::default()
        };
        (!identity.is_empty()).then(|| Box::new(identity))
    }
}

/// Addresses of an address-list option.
fn addresses(value: &[u8], a: &mut Anomalies) -> Vec<IpAddr> {
    if value.is_empty() || !value.len().is_multiple_of(4) {
        a.add(BAD_OPTION_LENGTH);
    }
    value
        .chunks_exact(4)
        .take(MAX_ADDRESSES)
        .map(|c| IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3])))
        .collect()
}

/// One IPv4 address option.
fn address(value: &[u8], a: &mut Anomalies) -> Option<Ipv4Addr> {
    match <[u8; 4]>::try_from(value) {
        Ok(ip) => Some(ip.into()),
        Err(_) => {
            a.add(BAD_OPTION_LENGTH);
            None
        }
    }
}

/// The client FQDN option: flags, two obsolete rcodes, then the name in DNS
/// wire format (flag E) or as ASCII.
fn client_fqdn(value: &[u8]) -> Option<String> {
    let (&flags, rest) = value.split_first()?;
    let name = rest.get(2..)?;
    if flags & 0x04 != 0 {
        let mut labels = Vec::new();
        let mut r = Reader::new(name);
        while let Some(len) = r.u8().filter(|l| *l > 0 && *l < 64) {
            labels.push(text(r.take(usize::from(len))?, 63));
        }
        Some(labels.join("."))
    } else {
        Some(text(name, MAX_TEXT))
    }
}

/// Reads the options of one field into `f`. `main` is the options field
/// (where option 52 may appear). Returns whether an End option was found.
fn options(field: &[u8], main: bool, f: &mut DhcpFields, a: &mut Anomalies) -> bool {
    let mut r = Reader::new(field);
    loop {
        let Some(code) = r.u8() else {
            return false;
        };
        match code {
            0 => continue,
            255 => return true,
            _ => {}
        }
        let Some(value) = r.u8().and_then(|len| r.take(usize::from(len))) else {
            a.add(TRUNCATED_OPTION);
            return false;
        };
        let string = |slot: &mut Option<String>| {
            slot.get_or_insert_with(|| text(value, MAX_TEXT));
        };
        match code {
            53 => match value {
                [t] => {
                    f.message_type.get_or_insert(*t);
                }
                _ => a.add(BAD_OPTION_LENGTH),
            },
            12 => string(&mut f.hostname),
            60 => string(&mut f.vendor_class_id),
            15 => string(&mut f.domain_name),
            55 => {
                f.parameter_request_list
                    .get_or_insert_with(|| value.to_vec());
            }
            50 => f.requested_ip = f.requested_ip.or(address(value, a)),
            54 => f.server_id = f.server_id.or(address(value, a)),
            1 => f.subnet_mask = f.subnet_mask.or(address(value, a)),
            3 if f.routers.is_empty() => f.routers = addresses(value, a),
            6 if f.dns_servers.is_empty() => f.dns_servers = addresses(value, a),
            51 => match <[u8; 4]>::try_from(value) {
                Ok(t) => f.lease_time = Some(u32::from_be_bytes(t)),
                Err(_) => a.add(BAD_OPTION_LENGTH),
            },
            61 => {
                f.client_id
                    .get_or_insert_with(|| value.get(..64).unwrap_or(value).to_vec());
            }
            81 if f.client_fqdn.is_none() => f.client_fqdn = client_fqdn(value),
            52 => match value {
                [o @ 1..=3] if main => f.overload = Some(*o),
                _ => a.add(BAD_OVERLOAD),
            },
            _ => {}
        }
    }
}

/// Decodes one DHCP or BOOTP message. `src_mac` is the frame's source MAC.
pub fn decode(msg: &[u8], src_mac: Option<Mac>) -> (DhcpFields, Anomalies) {
    let mut f = DhcpFields::default();
    let mut a = Anomalies::new();
    let mut r = Reader::new(msg);
    let fixed = (|| {
        f.op = r.u8()?;
        f.hardware_type = r.u8()?;
        f.hardware_length = r.u8()?;
        f.hops = r.u8()?;
        f.transaction_id = r.u32()?;
        f.seconds = r.u16()?;
        f.flags = r.u16()?;
        let set = |ip: Ipv4Addr| (!ip.is_unspecified()).then_some(ip);
        f.client_ip = set(r.ipv4()?);
        f.assigned_ip = set(r.ipv4()?);
        f.next_server_ip = set(r.ipv4()?);
        f.relay_ip = set(r.ipv4()?);
        let chaddr: [u8; 16] = r.array()?;
        r.take(FIXED_LEN - 44)?;
        Some(chaddr)
    })();
    let Some(chaddr) = fixed else {
        a.add(TRUNCATED);
        return (f, a);
    };
    f.has_header = true;
    match f.hardware_length {
        6 => f.client_mac = chaddr[..6].try_into().ok(),
        0..=16 => {}
        _ => a.add(BAD_HARDWARE_LENGTH),
    }
    let has_cookie = r.take(4) == Some(&MAGIC_COOKIE[..]);
    if has_cookie {
        if !options(r.rest(), true, &mut f, &mut a) {
            a.add(MISSING_END_OPTION);
        }
        let (sname, file) = (
            msg.get(SNAME).unwrap_or_default(),
            msg.get(FILE).unwrap_or_default(),
        );
        // RFC 2131 §4.1: the options field, then `file`, then `sname`.
        if matches!(f.overload, Some(1 | 3)) && !options(file, false, &mut f, &mut a) {
            a.add(MISSING_END_OPTION);
        }
        if matches!(f.overload, Some(2 | 3)) && !options(sname, false, &mut f, &mut a) {
            a.add(MISSING_END_OPTION);
        }
    }
    let field_text = |bytes: &[u8]| {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Some(text(&bytes[..end], MAX_TEXT)).filter(|s| !s.is_empty())
    };
    if !matches!(f.overload, Some(2 | 3)) {
        f.server_hostname = field_text(msg.get(SNAME).unwrap_or_default());
    }
    if !matches!(f.overload, Some(1 | 3)) {
        f.boot_file = field_text(msg.get(FILE).unwrap_or_default());
    }
    if let Some(t) = f.message_type {
        match message_type(t) {
            Some((_, from_client)) if from_client != (f.op == 1) => a.add(OP_MISMATCH),
            Some(_) => {}
            None => a.add(UNKNOWN_MESSAGE_TYPE),
        }
    }
    if f.op == 1
        && f.relay_ip.is_none()
        && let (Some(chaddr), Some(src)) = (f.client_mac, src_mac)
        && chaddr != src
    {
        a.add(CLIENT_MAC_MISMATCH);
    }
    (f, a)
}

/// The DHCP decoder of one conversation (stateless).
#[derive(Debug, Default)]
pub struct DhcpParser;

impl DhcpParser {
    pub fn new() -> Self {
        DhcpParser
    }
}

impl DatagramParser for DhcpParser {
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        let (f, anomalies) = decode(datagram, out.header().src_mac);
        let (function_code, function) = match (f.has_header, f.message_type) {
            (false, _) => (None, "invalid"),
            (true, Some(t)) => (
                Some(u32::from(t)),
                message_type(t).map_or("unknown", |m| m.0),
            ),
            (true, None) if f.op == 2 => (None, "bootp_reply"),
            (true, None) => (None, "bootp_request"),
        };
        let is_response = if f.has_header {
            f.op == 2
        } else {
            out.direction() == Direction::ToClient
        };
        // The client describes itself, when it is the sender.
        let describes_sender = f.op == 1
            && matches!(f.message_type, Some(1 | 3 | 8))
            && f.relay_ip.is_none()
            && !anomalies.contains(CLIENT_MAC_MISMATCH);
        let identity = if describes_sender { f.identity() } else { None };
        out.emit(Pdu {
            protocol: Protocol::Dhcp,
            is_response,
            function_code,
            function,
            class: FunctionClass::Discovery,
            anomalies,
            identity,
            fields: Fields::Dhcp(Box::new(f)),
        });
    }
}

/// Recognises DHCP by its magic cookie after a BOOTP header with op 1 or 2
/// (strong enough on any port). On ports 67 and 68 a BOOTP header without
/// the cookie is recognised too (a whole header with a hardware address
/// length up to 16), and so is a message cut short whose header starts as
/// Ethernet's does (hardware type 1, length 6), so that it is seen.
pub fn probe(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let op_ok = matches!(datagram.first(), Some(1 | 2));
    let cookie = datagram.get(FIXED_LEN..FIXED_LEN + 4) == Some(&MAGIC_COOKIE[..]);
    let bootp = datagram.len() >= FIXED_LEN && datagram.get(2).is_some_and(|&l| l <= 16);
    let ethernet = datagram.get(1..3) == Some(&[1, 6][..]);
    if op_ok && (cookie || (on_known_port && (bootp || ethernet))) {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}
