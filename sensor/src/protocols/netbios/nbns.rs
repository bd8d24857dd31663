//! NetBIOS name service (UDP 137): queries, registrations, releases,
//! refreshes and node status, in the DNS message format with NetBIOS names.
//!
//! One event per datagram. The sender's `hostname` is its own NetBIOS name,
//! taken from what only the name's owner sends: a registration or refresh
//! (or a positive query response) whose address is the packet's source, or a
//! node status response (the first unique workstation or server name).

use std::net::{IpAddr, Ipv4Addr};

use super::anomaly::*;
use super::{NetbiosName, name_text};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Mac, Nest, Pdu, Protocol, Value, Visitor,
};
use crate::protocols::dns::message::{
    HEADER_LEN, Header, NameError, RawRecord, read_question, read_record,
};
use crate::protocols::itwire::{Reader, ip_text, put_mac, put_str, put_u64};
use crate::protocols::{DatagramParser, Direction, Emitter, Probe};

/// Questions and records kept per message (all are walked).
const MAX_ITEMS: usize = 8;
/// Addresses of NB records kept.
const MAX_ADDRESSES: usize = 16;
/// Names of a node status response kept.
const MAX_NODE_NAMES: usize = 32;
/// Record types.
const NB: u16 = 0x20;
const NBSTAT: u16 = 0x21;

fn opcode_name(opcode: u8) -> Option<&'static str> {
    Some(match opcode {
        0 => "query",
        5 => "registration",
        6 => "release",
        7 => "wait_for_ack",
        8 | 9 => "refresh",
        15 => "multihomed_registration",
        _ => return None,
    })
}

pub(super) fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..16).filter_map(opcode_name).collect();
    names.extend(["node_status", "unknown", "invalid"]);
    names.sort_unstable();
    names.dedup();
    names
}

/// A question or record: its name (`NAME<xx>`) and type (0x20 NB, 0x21 NBSTAT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NbItem {
    pub name: String,
    pub rtype: u16,
    /// Records only.
    pub ttl: Option<u32>,
}

/// A name of a node status response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeName {
    pub name: String,
    /// A group (not unique) name.
    pub group: bool,
}

/// NBNS fields of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NbnsFields {
    /// Wireshark `nbns.id`.
    pub id: u16,
    /// Wireshark `nbns.flags`: response bit, opcode, AA, TC, RD, RA, B, rcode.
    pub flags: u16,
    /// Wireshark `nbns.name`, `nbns.type` (question section).
    pub questions: Vec<NbItem>,
    /// Answer, authority and additional records (Wireshark `nbns.name`,
    /// `nbns.type`, `nbns.ttl`).
    pub records: Vec<NbItem>,
    /// Addresses of NB records (Wireshark `nbns.addr`).
    pub addresses: Vec<Ipv4Addr>,
    /// The first NB entry's group bit (Wireshark `nbns.nb_flags.group`).
    pub group: Option<bool>,
    /// Names listed by a node status response (Wireshark `nbns.netbios_name`).
    pub node_names: Vec<NodeName>,
    /// Unit id of a node status response: usually the MAC address
    /// (Wireshark `nbns.unit_id`).
    pub unit_id: Option<Mac>,
    pub has_header: bool,
}

impl NbnsFields {
    fn header(&self) -> Header {
        Header {
            flags: self.flags,
            ..Header::default()
        }
    }

    /// The name the message is about: its first question's, or first record's.
    pub fn name(&self) -> Option<&str> {
        self.questions
            .first()
            .or(self.records.first())
            .map(|i| i.name.as_str())
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        if !self.has_header {
            return;
        }
        let h = self.header();
        put_u64(v, "id", Some(self.id));
        put_u64(v, "flags", Some(self.flags));
        if h.is_response() {
            put_u64(v, "rcode", Some(h.rcode()));
        }
        put_str(v, "name", self.name());
        let items = |v: &mut dyn Visitor, name: &str, items: &[NbItem]| {
            if items.is_empty() {
                return;
            }
            v.begin(name, Nest::List);
            for item in items {
                v.begin("", Nest::Object);
                v.field("name", Value::Str(&item.name));
                v.field("type", Value::U64(item.rtype.into()));
                put_u64(v, "ttl", item.ttl);
                v.end();
            }
            v.end();
        };
        items(v, "questions", &self.questions);
        items(v, "records", &self.records);
        if !self.addresses.is_empty() {
            v.begin("addresses", Nest::List);
            for ip in &self.addresses {
                v.field("", Value::Str(ip_text(IpAddr::V4(*ip)).as_str()));
            }
            v.end();
        }
        if let Some(group) = self.group {
            v.field("group", Value::Bool(group));
        }
        if !self.node_names.is_empty() {
            v.begin("node_names", Nest::List);
            for n in &self.node_names {
                v.begin("", Nest::Object);
                v.field("name", Value::Str(&n.name));
                v.field("group", Value::Bool(n.group));
                v.end();
            }
            v.end();
        }
        put_mac(v, "unit_id", self.unit_id.as_ref());
    }
}

/// A name's text, noting a bad encoding.
fn item_name(
    encoded: &str,
    error: Option<NameError>,
    a: &mut Anomalies,
) -> (String, Option<NetbiosName>) {
    if error.is_some() {
        a.add(BAD_NAME);
    }
    let (text, name) = name_text(encoded);
    if name.is_none() {
        a.add(BAD_NETBIOS_NAME);
    }
    (text, name)
}

/// The sender's own name, as what it announces or answers says.
struct Claim {
    /// A unique host name claimed for an address.
    name: NetbiosName,
    address: Option<Ipv4Addr>,
}

/// Reads a record's data into `f`; returns the name it claims for an address.
fn record_data(
    msg: &[u8],
    record: &RawRecord,
    name: Option<NetbiosName>,
    opcode: u8,
    f: &mut NbnsFields,
    a: &mut Anomalies,
) -> Option<Claim> {
    let data = record.data(msg);
    match record.rtype {
        // A wait for acknowledgement carries only its flags.
        NB if opcode == 7 => None,
        NB => {
            if data.is_empty() || !data.len().is_multiple_of(6) {
                a.add(BAD_RDATA);
            }
            let mut claim = None;
            for entry in data.chunks_exact(6) {
                let group = entry[0] & 0x80 != 0;
                let ip = Ipv4Addr::new(entry[2], entry[3], entry[4], entry[5]);
                f.group.get_or_insert(group);
                if f.addresses.len() < MAX_ADDRESSES {
                    f.addresses.push(ip);
                }
                if let Some(name) = name.filter(|n| !group && n.is_host_name())
                    && claim.is_none()
                {
                    claim = Some(Claim {
                        name,
                        address: Some(ip),
                    });
                }
            }
            claim
        }
        NBSTAT => {
            let mut r = Reader::new(data);
            let Some(count) = r.u8() else {
                a.add(BAD_RDATA);
                return None;
            };
            let mut claim = None;
            for _ in 0..count {
                let (Some(bytes), Some(flags)) = (r.array::<16>(), r.u16()) else {
                    a.add(BAD_RDATA);
                    return claim;
                };
                let node = NetbiosName { bytes };
                let group = flags & 0x8000 != 0;
                if claim.is_none() && !group && node.is_host_name() {
                    claim = Some(Claim {
                        name: node,
                        address: None,
                    });
                }
                if f.node_names.len() < MAX_NODE_NAMES {
                    f.node_names.push(NodeName {
                        name: node.display(),
                        group,
                    });
                }
            }
            f.unit_id = r.mac();
            claim
        }
        _ => None,
    }
}

/// Decodes one name service message; `sender` is the packet's source address.
pub fn decode(
    msg: &[u8],
    sender: Option<IpAddr>,
) -> (NbnsFields, Anomalies, Option<Box<Identity>>) {
    let mut f = NbnsFields::default();
    let mut a = Anomalies::new();
    let Some(h) = Header::parse(msg) else {
        a.add(TRUNCATED);
        return (f, a, None);
    };
    f.has_header = true;
    f.id = h.id;
    f.flags = h.flags;
    let opcode = h.opcode();
    if opcode_name(opcode).is_none() {
        a.add(UNKNOWN_OPCODE);
    }
    let mut pos = HEADER_LEN;
    let mut whole = true;
    for _ in 0..h.questions {
        let keep = f.questions.len() < MAX_ITEMS;
        match read_question(msg, pos, keep) {
            Ok((q, next)) => {
                if keep {
                    let (name, _) = item_name(&q.name.text, q.name.error, &mut a);
                    f.questions.push(NbItem {
                        name,
                        rtype: q.qtype,
                        ttl: None,
                    });
                }
                pos = next;
            }
            Err(_) => {
                a.add(TRUNCATED);
                whole = false;
                break;
            }
        }
    }
    let mut claim = None;
    if whole {
        for _ in 0..h.records() {
            let keep = f.records.len() < MAX_ITEMS;
            let Ok((record, next)) = read_record(msg, pos, true) else {
                a.add(TRUNCATED);
                whole = false;
                break;
            };
            let (text, name) = item_name(&record.name.text, record.name.error, &mut a);
            let claimed = record_data(msg, &record, name, opcode, &mut f, &mut a);
            if claim.is_none() {
                claim = claimed;
            }
            if keep {
                f.records.push(NbItem {
                    name: text,
                    rtype: record.rtype,
                    ttl: Some(record.ttl),
                });
            }
            pos = next;
        }
    }
    if whole && pos < msg.len() {
        a.add(TRAILING_BYTES);
    }
    let owner_speaks = match (h.is_response(), opcode) {
        // Registrations and refreshes come from the name's owner.
        (false, 5 | 8 | 9 | 15) => true,
        // A positive answer: the owner's own, or a name server's for
        // another host (told apart by the address).
        (true, 0) => h.rcode() == 0,
        _ => false,
    };
    let identity = claim
        .filter(|_| owner_speaks)
        .filter(|c| match (c.address, sender) {
            (Some(ip), Some(sender)) => IpAddr::V4(ip) == sender,
            // Node status lists the responder's own names.
            (None, _) => h.is_response(),
            (Some(_), None) => false,
        })
        .map(|c| {
            Box::new(Identity {
                hostname: Some(c.name.base()),
                ..Identity::default()
            })
        });
    (f, a, identity)
}

/// The name service decoder of one conversation (stateless).
#[derive(Debug, Default)]
pub struct NbnsParser;

impl NbnsParser {
    pub fn new() -> Self {
        NbnsParser
    }
}

impl DatagramParser for NbnsParser {
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        let (f, anomalies, identity) = decode(datagram, out.header().src_ip);
        let h = f.header();
        let (function_code, function, is_response) = if f.has_header {
            let status = f
                .questions
                .first()
                .or(f.records.first())
                .is_some_and(|i| i.rtype == NBSTAT);
            let function = match opcode_name(h.opcode()) {
                Some("query") if status => "node_status",
                Some(name) => name,
                None => "unknown",
            };
            (Some(u32::from(h.opcode())), function, h.is_response())
        } else {
            (None, "invalid", out.direction() == Direction::ToClient)
        };
        out.emit(Pdu {
            protocol: Protocol::Nbns,
            is_response,
            function_code,
            function,
            class: FunctionClass::Discovery,
            anomalies,
            identity,
            fields: Fields::Nbns(Box::new(f)),
        });
    }
}

/// Recognises the name service on port 137 only: a header with a defined
/// opcode and counts that fit, and a first name that is a first-level
/// encoding (32 letters A–P) when there is a question.
pub fn probe_nbns(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let Some(h) = Header::parse(datagram) else {
        return if on_known_port && !datagram.is_empty() {
            Probe::Match
        } else {
            Probe::NoMatch
        };
    };
    let least = HEADER_LEN + 5 * usize::from(h.questions) + 11 * h.records();
    let first_name_ok = datagram.get(HEADER_LEN) == Some(&32)
        && datagram
            .get(HEADER_LEN + 1..HEADER_LEN + 33)
            .is_some_and(|l| l.iter().all(|c| (b'A'..=b'P').contains(c)));
    let ok = opcode_name(h.opcode()).is_some()
        && least <= datagram.len()
        && (h.questions + h.answers + h.additionals == 0 || first_name_ok);
    if on_known_port && ok {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}
