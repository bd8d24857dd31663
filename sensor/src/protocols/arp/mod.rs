//! ARP (RFC 826) and its variants RARP and InARP, over Ethernet (ethertype
//! 0x0806): who says which IP address is at which MAC address.
//!
//! One event per ARP packet. ARP carries no identity, but its bindings feed
//! the inventory (`Inventory::arp`), where an IP address claimed by another
//! MAC address than before is recorded as a change (a replaced device, or ARP
//! spoofing). The event's `src_ip`/`dst_ip` are null (there is no IP header):
//! the addresses are in `sender_ip`/`target_ip`.

#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;

use super::itwire::{Reader, put_mac, put_u64};
use super::{Emitter, FrameParser};
use crate::event::{Anomalies, Fields, FunctionClass, Mac, Pdu, Protocol, Value, Visitor};

pub const ETHER_TYPE: u16 = 0x0806;
/// Hardware type of Ethernet.
const HW_ETHERNET: u16 = 1;
/// Protocol type of IPv4.
const PROTO_IPV4: u16 = 0x0800;
/// Fixed header: hardware type, protocol type, two sizes, opcode.
const HEADER_LEN: usize = 8;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// The packet ends before its addresses do.
    pub const TRUNCATED: &str = "truncated";
    /// An opcode ARP, RARP and InARP do not define.
    pub const UNKNOWN_OPCODE: &str = "unknown_opcode";
    /// Hardware or protocol addresses other than Ethernet's 6 and IPv4's 4
    /// bytes (the addresses are then left out).
    pub const UNUSUAL_ADDRESS_SIZES: &str = "unusual_address_sizes";
    /// The sender MAC differs from the Ethernet source address (proxies do
    /// this, and so does ARP spoofing).
    pub const SENDER_MAC_MISMATCH: &str = "sender_mac_mismatch";
    /// A group (multicast or broadcast) address as the sender MAC.
    pub const GROUP_SENDER_MAC: &str = "group_sender_mac";

    pub const ALL: &[&str] = &[
        TRUNCATED,
        UNKNOWN_OPCODE,
        UNUSUAL_ADDRESS_SIZES,
        SENDER_MAC_MISMATCH,
        GROUP_SENDER_MAC,
    ];
}
use anomaly::*;

/// An ARP operation code (open: any value is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opcode(pub u16);

impl Opcode {
    pub const REQUEST: Opcode = Opcode(1);
    pub const REPLY: Opcode = Opcode(2);
    pub const RARP_REQUEST: Opcode = Opcode(3);
    pub const RARP_REPLY: Opcode = Opcode(4);
    pub const INARP_REQUEST: Opcode = Opcode(8);
    pub const INARP_REPLY: Opcode = Opcode(9);

    fn is_reply(self) -> bool {
        matches!(
            self,
            Opcode::REPLY | Opcode::RARP_REPLY | Opcode::INARP_REPLY
        )
    }

    fn name(self) -> Option<&'static str> {
        Some(match self {
            Opcode::REQUEST => "request",
            Opcode::REPLY => "reply",
            Opcode::RARP_REQUEST => "rarp_request",
            Opcode::RARP_REPLY => "rarp_reply",
            Opcode::INARP_REQUEST => "inarp_request",
            Opcode::INARP_REPLY => "inarp_reply",
            _ => return None,
        })
    }
}

/// Every `function` name ARP events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = [1, 2, 3, 4, 8, 9]
        .into_iter()
        .filter_map(|c| Opcode(c).name())
        .collect();
    names.extend([
        "probe",
        "announcement",
        "gratuitous_reply",
        "unknown",
        "invalid",
    ]);
    names.sort_unstable();
    names
}

/// ARP fields of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArpFields {
    /// Hardware type (Wireshark `arp.hw.type`; 1 is Ethernet).
    pub hardware_type: u16,
    /// Protocol type (Wireshark `arp.proto.type`; 0x0800 is IPv4).
    pub protocol_type: u16,
    /// Operation (Wireshark `arp.opcode`).
    pub opcode: u16,
    /// Sender hardware address (Wireshark `arp.src.hw_mac`).
    pub sender_mac: Option<Mac>,
    /// Sender protocol address (Wireshark `arp.src.proto_ipv4`).
    pub sender_ip: Option<Ipv4Addr>,
    /// Target hardware address (Wireshark `arp.dst.hw_mac`).
    pub target_mac: Option<Mac>,
    /// Target protocol address (Wireshark `arp.dst.proto_ipv4`).
    pub target_ip: Option<Ipv4Addr>,
}

impl ArpFields {
    /// Sender and target IP addresses are the same (Wireshark `arp.isgratuitous`):
    /// an announcement or gratuitous reply.
    pub fn gratuitous(&self) -> bool {
        self.sender_ip.is_some() && self.sender_ip == self.target_ip
    }

    /// A request from a host without an address yet (sender IP 0.0.0.0):
    /// RFC 5227 address conflict detection.
    pub fn probe(&self) -> bool {
        self.opcode == Opcode::REQUEST.0 && self.sender_ip == Some(Ipv4Addr::UNSPECIFIED)
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        put_u64(v, "hardware_type", Some(self.hardware_type));
        put_u64(v, "protocol_type", Some(self.protocol_type));
        put_u64(v, "opcode", Some(self.opcode));
        put_mac(v, "sender_mac", self.sender_mac.as_ref());
        if let Some(ip) = self.sender_ip {
            v.field(
                "sender_ip",
                Value::Str(super::itwire::ip_text(ip.into()).as_str()),
            );
        }
        put_mac(v, "target_mac", self.target_mac.as_ref());
        if let Some(ip) = self.target_ip {
            v.field(
                "target_ip",
                Value::Str(super::itwire::ip_text(ip.into()).as_str()),
            );
        }
        if self.gratuitous() {
            v.field("gratuitous", Value::Bool(true));
        }
        if self.probe() {
            v.field("probe", Value::Bool(true));
        }
    }
}

/// Decodes one ARP packet (what follows the ethertype; Ethernet padding may
/// follow the addresses). `src_mac` is the frame's source address, if known.
/// Returns the fields, the anomalies, and whether the header was whole.
pub fn decode(payload: &[u8], src_mac: Option<Mac>) -> (ArpFields, Anomalies, bool) {
    let mut f = ArpFields::default();
    let mut a = Anomalies::new();
    let mut r = Reader::new(payload);
    let (Some(hw), Some(proto), Some(hlen), Some(plen), Some(op)) =
        (r.u16(), r.u16(), r.u8(), r.u8(), r.u16())
    else {
        a.add(TRUNCATED);
        return (f, a, false);
    };
    f.hardware_type = hw;
    f.protocol_type = proto;
    f.opcode = op;
    if Opcode(op).name().is_none() {
        a.add(UNKNOWN_OPCODE);
    }
    let (hlen, plen) = (usize::from(hlen), usize::from(plen));
    let Some(addresses) = r.take(2 * (hlen + plen)) else {
        a.add(TRUNCATED);
        return (f, a, true);
    };
    if hlen != 6 || plen != 4 || hw != HW_ETHERNET || proto != PROTO_IPV4 {
        a.add(UNUSUAL_ADDRESS_SIZES);
    }
    if hlen == 6 && plen == 4 {
        let mut r = Reader::new(addresses);
        f.sender_mac = r.mac();
        let sender_ip = r.ipv4();
        f.target_mac = r.mac();
        let target_ip = r.ipv4();
        if proto == PROTO_IPV4 {
            f.sender_ip = sender_ip;
            f.target_ip = target_ip;
        }
        if let Some(sender) = f.sender_mac {
            if sender[0] & 1 == 1 {
                a.add(GROUP_SENDER_MAC);
            }
            if src_mac.is_some_and(|m| m != sender) {
                a.add(SENDER_MAC_MISMATCH);
            }
        }
    }
    (f, a, HEADER_LEN <= payload.len())
}

/// The `function` of an ARP packet: its opcode's name, with requests from a
/// host without an address called `probe`, and requests and replies that
/// announce the sender's own address `announcement` and `gratuitous_reply`.
fn function(f: &ArpFields) -> &'static str {
    let op = Opcode(f.opcode);
    match op {
        Opcode::REQUEST if f.probe() => "probe",
        Opcode::REQUEST if f.gratuitous() => "announcement",
        Opcode::REPLY if f.gratuitous() => "gratuitous_reply",
        _ => op.name().unwrap_or("unknown"),
    }
}

/// The ARP decoder of a layer-2 conversation (stateless).
#[derive(Debug, Default)]
pub struct ArpParser;

impl ArpParser {
    pub fn new() -> Self {
        ArpParser
    }
}

impl FrameParser for ArpParser {
    fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>) {
        let (f, anomalies, whole_header) = decode(payload, out.header().src_mac);
        let (function_code, function) = if whole_header {
            (Some(u32::from(f.opcode)), function(&f))
        } else {
            (None, "invalid")
        };
        out.emit(Pdu {
            protocol: Protocol::Arp,
            is_response: Opcode(f.opcode).is_reply(),
            function_code,
            function,
            class: FunctionClass::Discovery,
            anomalies,
            fields: Fields::Arp(f),
            identity: None,
        });
    }
}

/// ARP frames are recognised by their ethertype alone.
pub fn matches(ether_type: u16, _payload: &[u8]) -> bool {
    ether_type == ETHER_TYPE
}
