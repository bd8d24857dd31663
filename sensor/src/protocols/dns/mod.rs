//! DNS (UDP and TCP 53), LLMNR (UDP 5355) and mDNS (UDP 5353): one message
//! format ([`message`]), three protocols told apart by port.
//!
//! One event per DNS message: a datagram, or over TCP one length-prefixed
//! message. A message that breaks the format is still an event, with
//! anomalies and what could be read. Questions (name, type) and answer
//! records (name, type, TTL, and for A, AAAA, CNAME, PTR, NS, MX, SRV and
//! DNAME the data) are kept, up to [`MAX_QUESTIONS`] and [`MAX_ANSWERS`];
//! authority and additional records are walked and counted.
//!
//! mDNS and LLMNR responses that give the sender's own address (an A or AAAA
//! record whose address is the packet's source) carry the record's name as
//! the sender's `hostname` (without mDNS's `.local`).

pub mod message;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use super::itwire::{Reader, ip_from, ip_text, put_str, put_u64};
use super::{DatagramParser, Direction, Emitter, Probe, StreamParser};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use message::{
    HEADER_LEN, Header, Name, NameError, RawRecord, read_name, read_question, read_record,
};

pub const PORT: u16 = 53;
pub const LLMNR_PORT: u16 = 5355;
pub const MDNS_PORT: u16 = 5353;
/// Questions kept per message (all are walked).
pub const MAX_QUESTIONS: usize = 16;
/// Answer records kept per message (all are walked).
pub const MAX_ANSWERS: usize = 32;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Shorter than the 12-byte header (the event is `invalid`).
    pub const TRUNCATED_HEADER: &str = "truncated_header";
    /// The message ends inside a question.
    pub const TRUNCATED_QUESTION: &str = "truncated_question";
    /// The message ends inside a resource record.
    pub const TRUNCATED_RECORD: &str = "truncated_record";
    /// A name longer than 255 bytes of text (the first 255 are kept).
    pub const NAME_TOO_LONG: &str = "name_too_long";
    /// More than 64 compression pointers in one name: a loop.
    pub const NAME_POINTER_LOOP: &str = "name_pointer_loop";
    /// A compression pointer beyond the message.
    pub const BAD_NAME_POINTER: &str = "bad_name_pointer";
    /// A label type other than a length or a pointer.
    pub const BAD_LABEL_TYPE: &str = "bad_label_type";
    /// Record data whose length does not fit its type (an A record not 4
    /// bytes, a name running past the data).
    pub const BAD_RDATA: &str = "bad_rdata";
    /// Bytes after the last record the counts announce.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// An opcode the registry does not define (3, 7–15).
    pub const UNKNOWN_OPCODE: &str = "unknown_opcode";

    pub const ALL: &[&str] = &[
        TRUNCATED_HEADER,
        TRUNCATED_QUESTION,
        TRUNCATED_RECORD,
        NAME_TOO_LONG,
        NAME_POINTER_LOOP,
        BAD_NAME_POINTER,
        BAD_LABEL_TYPE,
        BAD_RDATA,
        TRAILING_BYTES,
        UNKNOWN_OPCODE,
    ];
}
use anomaly::*;

/// The anomaly a name error is reported as; `truncated` in context.
fn name_anomaly(error: NameError, truncated: &'static str) -> &'static str {
    match error {
        NameError::Truncated => truncated,
        NameError::BadPointer => BAD_NAME_POINTER,
        NameError::PointerLoop => NAME_POINTER_LOOP,
        NameError::BadLabelType => BAD_LABEL_TYPE,
        NameError::TooLong => NAME_TOO_LONG,
    }
}

/// An opcode's `function` name and class.
fn opcode(code: u8) -> Option<(&'static str, FunctionClass)> {
    Some(match code {
        0 => ("query", FunctionClass::Discovery),
        1 => ("inverse_query", FunctionClass::Discovery),
        2 => ("status", FunctionClass::Discovery),
        4 => ("notify", FunctionClass::Other),
        // Dynamic update (RFC 2136) changes the zone.
        5 => ("update", FunctionClass::Write),
        // DNS stateful operations (RFC 8490): session signalling.
        6 => ("dso", FunctionClass::Session),
        _ => return None,
    })
}

/// Every `function` name DNS, LLMNR and mDNS events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..16).filter_map(|c| opcode(c).map(|o| o.0)).collect();
    names.extend(["unknown", "invalid"]);
    names.sort_unstable();
    names
}

/// Mnemonics of the record types worth naming; others are written `TYPE<n>`
/// (RFC 3597).
const TYPES: &[(u16, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (12, "PTR"),
    (13, "HINFO"),
    (15, "MX"),
    (16, "TXT"),
    (28, "AAAA"),
    (33, "SRV"),
    (35, "NAPTR"),
    (39, "DNAME"),
    (41, "OPT"),
    (43, "DS"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (50, "NSEC3"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (251, "IXFR"),
    (252, "AXFR"),
    (255, "ANY"),
    (257, "CAA"),
];

/// A record type as written in events: its mnemonic, or `TYPE<n>`.
pub fn type_name(rtype: u16) -> super::itwire::StackText<10> {
    use std::fmt::Write as _;
    let mut t = super::itwire::StackText::new();
    match TYPES.iter().find(|(n, _)| *n == rtype) {
        Some((_, name)) => {
            let _ = t.write_str(name);
        }
        None => {
            let _ = write!(t, "TYPE{rtype}");
        }
    }
    t
}

/// The number of a record type written by [`type_name`].
pub fn type_number(name: &str) -> Option<u16> {
    TYPES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(n, _)| *n)
        .or_else(|| name.strip_prefix("TYPE")?.parse().ok())
}

/// Names of the response codes.
fn rcode_name(rcode: u8) -> Option<&'static str> {
    Some(match rcode {
        0 => "no_error",
        1 => "format_error",
        2 => "server_failure",
        3 => "name_error",
        4 => "not_implemented",
        5 => "refused",
        6 => "yx_domain",
        7 => "yx_rrset",
        8 => "nx_rrset",
        9 => "not_auth",
        10 => "not_zone",
        11 => "dso_type_not_implemented",
        _ => return None,
    })
}

/// A question: a name and a record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: u16,
}

/// The data of an answer record, for the types whose data is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    /// A and AAAA.
    Address(IpAddr),
    /// A name (CNAME, PTR, NS, DNAME), or MX and SRV in presentation form
    /// (`10 mail.example.com`, `0 0 5060 sip.example.com`).
    Text(String),
}

/// An answer record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub name: String,
    pub rtype: u16,
    pub ttl: u32,
    pub data: Option<Data>,
}

/// DNS fields of one event (DNS, LLMNR and mDNS alike).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsFields {
    /// Transaction id (Wireshark `dns.id`).
    pub id: u16,
    /// The flags word (Wireshark `dns.flags`): QR, opcode, AA, TC, RD, RA, Z,
    /// AD, CD, rcode.
    pub flags: u16,
    pub question_count: u16,
    pub answer_count: u16,
    pub authority_count: u16,
    pub additional_count: u16,
    /// Wireshark `dns.qry.name`, `dns.qry.type`.
    pub questions: Vec<Question>,
    /// Wireshark `dns.resp.name`, `dns.resp.type`, `dns.resp.ttl`, `dns.a`,
    /// `dns.aaaa`, `dns.cname`, `dns.ptr.domain_name`…
    pub answers: Vec<Answer>,
    /// Set on messages that could be framed (a header was read).
    pub has_header: bool,
}

impl DnsFields {
    fn header(&self) -> Header {
        Header {
            flags: self.flags,
            ..Header::default()
        }
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
            put_str(v, "rcode_name", rcode_name(h.rcode()));
        }
        if h.aa() {
            v.field("authoritative", Value::Bool(true));
        }
        if h.tc() {
            v.field("truncated", Value::Bool(true));
        }
        put_u64(v, "question_count", Some(self.question_count));
        put_u64(v, "answer_count", Some(self.answer_count));
        put_u64(v, "authority_count", Some(self.authority_count));
        put_u64(v, "additional_count", Some(self.additional_count));
        if !self.questions.is_empty() {
            v.begin("questions", Nest::List);
            for q in &self.questions {
                v.begin("", Nest::Object);
                v.field("name", Value::Str(&q.name));
                v.field("type", Value::Str(type_name(q.qtype).as_str()));
                v.end();
            }
            v.end();
        }
        if !self.answers.is_empty() {
            v.begin("answers", Nest::List);
            for a in &self.answers {
                v.begin("", Nest::Object);
                v.field("name", Value::Str(&a.name));
                v.field("type", Value::Str(type_name(a.rtype).as_str()));
                v.field("ttl", Value::U64(a.ttl.into()));
                match &a.data {
                    Some(Data::Address(ip)) => v.field("data", Value::Str(ip_text(*ip).as_str())),
                    Some(Data::Text(text)) => v.field("data", Value::Str(text)),
                    None => {}
                }
                v.end();
            }
            v.end();
        }
    }
}

/// A DNS message decoded.
#[derive(Debug)]
pub struct Decoded {
    pub fields: DnsFields,
    pub anomalies: Anomalies,
    /// What the sender says about itself (mDNS/LLMNR only).
    pub identity: Option<Box<Identity>>,
}

/// The data of an answer record of a type whose data is kept.
fn answer_data(msg: &[u8], record: &RawRecord, a: &mut Anomalies) -> Option<Data> {
    let data = record.data(msg);
    let data_end = record.data_at + record.data_len;
    // A name inside the data, checked to end within it.
    let name_at = |at: usize, a: &mut Anomalies| -> Option<String> {
        let name = read_name(msg, at, true);
        if let Some(error) = name.error {
            a.add(name_anomaly(error, BAD_RDATA));
        }
        if name.end.is_none_or(|end| end > data_end) {
            a.add(BAD_RDATA);
        }
        (name.end.is_some()).then_some(name.text)
    };
    match record.rtype {
        1 | 28 => {
            let ip = ip_from(data).filter(|ip| ip.is_ipv4() == (record.rtype == 1));
            if ip.is_none() {
                a.add(BAD_RDATA);
            }
            ip.map(Data::Address)
        }
        2 | 5 | 12 | 39 => name_at(record.data_at, a).map(Data::Text),
        15 => {
            let Some(preference) = data.get(..2).map(|p| u16::from_be_bytes([p[0], p[1]])) else {
                a.add(BAD_RDATA);
                return None;
            };
            let exchange = name_at(record.data_at + 2, a)?;
            Some(Data::Text(format!("{preference} {exchange}")))
        }
        33 => {
            let mut r = Reader::new(data);
            let (Some(priority), Some(weight), Some(port)) = (r.u16(), r.u16(), r.u16()) else {
                a.add(BAD_RDATA);
                return None;
            };
            let target = name_at(record.data_at + 6, a)?;
            Some(Data::Text(format!("{priority} {weight} {port} {target}")))
        }
        _ => None,
    }
}

/// Decodes one DNS message. `sender` is the packet's source address; the
/// identity is looked for only for mDNS and LLMNR.
pub fn decode(msg: &[u8], protocol: Protocol, sender: Option<IpAddr>) -> Decoded {
    let mut f = DnsFields::default();
    let mut a = Anomalies::new();
    let mut identity = None;
    let Some(h) = Header::parse(msg) else {
        a.add(TRUNCATED_HEADER);
        return Decoded {
            fields: f,
            anomalies: a,
            identity,
        };
    };
    f.has_header = true;
    f.id = h.id;
    f.flags = h.flags;
    f.question_count = h.questions;
    f.answer_count = h.answers;
    f.authority_count = h.authorities;
    f.additional_count = h.additionals;
    if opcode(h.opcode()).is_none() {
        a.add(UNKNOWN_OPCODE);
    }
    let wants_identity =
        matches!(protocol, Protocol::Mdns | Protocol::Llmnr) && h.is_response() && sender.is_some();
    let mut pos = HEADER_LEN;
    let mut whole = true;
    for _ in 0..h.questions {
        let keep = f.questions.len() < MAX_QUESTIONS;
        match read_question(msg, pos, keep) {
            Ok((q, next)) => {
                if let Some(error) = q.name.error {
                    a.add(name_anomaly(error, TRUNCATED_QUESTION));
                }
                if keep {
                    f.questions.push(Question {
                        name: q.name.text,
                        qtype: q.qtype,
                    });
                }
                pos = next;
            }
            Err(name) => {
                a.add(name_anomaly(
                    name.error.unwrap_or(NameError::Truncated),
                    TRUNCATED_QUESTION,
                ));
                a.add(TRUNCATED_QUESTION);
                whole = false;
                break;
            }
        }
    }
    if whole {
        for index in 0..h.records() {
            let is_answer = index < usize::from(h.answers);
            let keep = is_answer && f.answers.len() < MAX_ANSWERS;
            let (record, next) = match read_record(msg, pos, keep) {
                Ok(found) => found,
                Err(name) => {
                    a.add(name_anomaly(
                        name.error.unwrap_or(NameError::Truncated),
                        TRUNCATED_RECORD,
                    ));
                    a.add(TRUNCATED_RECORD);
                    whole = false;
                    break;
                }
            };
            if let Some(error) = record.name.error {
                a.add(name_anomaly(error, TRUNCATED_RECORD));
            }
            // Records not kept are read only for an address of the sender's.
            let data = if keep || (wants_identity && matches!(record.rtype, 1 | 28)) {
                answer_data(msg, &record, &mut a)
            } else {
                None
            };
            if wants_identity
                && identity.is_none()
                && let Some(Data::Address(ip)) = &data
                && Some(*ip) == sender
            {
                identity = own_name(msg, pos, &record, protocol);
            }
            if keep {
                f.answers.push(Answer {
                    name: record.name.text,
                    rtype: record.rtype,
                    ttl: record.ttl,
                    data,
                });
            }
            pos = next;
        }
    }
    if whole && pos < msg.len() {
        a.add(TRAILING_BYTES);
    }
    Decoded {
        fields: f,
        anomalies: a,
        identity,
    }
}

/// The sender's own name, from the record at `at` that gives its address.
fn own_name(
    msg: &[u8],
    at: usize,
    record: &RawRecord,
    protocol: Protocol,
) -> Option<Box<Identity>> {
    let name: Name = if record.name.text.is_empty() {
        read_name(msg, at, true)
    } else {
        record.name.clone()
    };
    if name.error.is_some() {
        return None;
    }
    let text = name.text.trim_end_matches('.');
    let host = match protocol {
        Protocol::Mdns => text.strip_suffix(".local").unwrap_or(text),
        _ => text,
    };
    (!host.is_empty()).then(|| {
        Box::new(Identity {
            hostname: Some(host.to_string()),
            ..Identity::default()
        })
    })
}

/// The event of one DNS message.
fn pdu(msg: &[u8], protocol: Protocol, out: &Emitter<'_>) -> Pdu {
    let decoded = decode(msg, protocol, out.header().src_ip);
    let f = &decoded.fields;
    let h = Header {
        flags: f.flags,
        ..Header::default()
    };
    let (function_code, function, class) = if f.has_header {
        let (function, class) = opcode(h.opcode()).unwrap_or(("unknown", FunctionClass::Other));
        (Some(u32::from(h.opcode())), function, class)
    } else {
        (None, "invalid", FunctionClass::Other)
    };
    let is_response = if f.has_header {
        h.is_response()
    } else {
        out.direction() == Direction::ToClient
    };
    Pdu {
        protocol,
        is_response,
        function_code,
        function,
        class,
        anomalies: decoded.anomalies,
        identity: decoded.identity,
        fields: Fields::Dns(Box::new(decoded.fields)),
    }
}

/// The DNS decoder of one conversation (no state across messages): UDP
/// datagrams, or the TCP byte stream of length-prefixed messages.
#[derive(Debug)]
pub struct DnsParser {
    protocol: Protocol,
}

impl DnsParser {
    /// A decoder whose events are of `protocol` (`Dns`, `Llmnr` or `Mdns`).
    pub fn new(protocol: Protocol) -> Self {
        DnsParser { protocol }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
}

impl DatagramParser for DnsParser {
    /// A datagram is one message.
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        let pdu = pdu(datagram, self.protocol, out);
        out.emit(pdu);
    }
}

impl StreamParser for DnsParser {
    /// Messages prefixed with their 2-byte length (RFC 1035 §4.2.2). An
    /// incomplete message is left for more bytes; the length alone decides
    /// the framing, so a bad message is consumed as one event.
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| r.len() >= 2) {
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            let Some(msg) = rest.get(2..2 + len) else {
                break;
            };
            let pdu = pdu(msg, self.protocol, out);
            out.emit(pdu);
            consumed += 2 + len;
        }
        consumed
    }

    /// Nothing is held across messages.
    fn gap(&mut self, _dir: Direction) {}
}

/// Whether a header could start a message of `len` bytes: a defined opcode,
/// and counts whose smallest encoding fits (a question takes at least 5
/// bytes, a record 11).
fn plausible(h: &Header, len: usize) -> bool {
    let least = 5 * usize::from(h.questions) + 11 * h.records();
    opcode(h.opcode()).is_some() && HEADER_LEN + least <= len
}

/// A message that decodes without any anomaly, with one to four questions,
/// opcode query and the Z bit clear: the evidence asked for off the
/// well-known ports.
fn strict(msg: &[u8], protocol: Protocol) -> bool {
    let Some(h) = Header::parse(msg) else {
        return false;
    };
    let decoded = decode(msg, protocol, None);
    h.opcode() == 0
        && h.flags & 0x0040 == 0
        && (1..=4).contains(&h.questions)
        && (h.is_response() || h.rcode() == 0)
        && decoded.anomalies.is_empty()
}

/// Recognises a DNS datagram: on port 53 a plausible header is enough
/// (malformed messages must be seen); elsewhere the message must decode
/// cleanly as a standard query or response ([`strict`]).
pub fn probe(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let Some(h) = Header::parse(datagram) else {
        return if on_known_port && !datagram.is_empty() {
            Probe::Match
        } else {
            Probe::NoMatch
        };
    };
    let ok = if on_known_port {
        plausible(&h, datagram.len())
    } else {
        strict(datagram, Protocol::Dns)
    };
    if ok { Probe::Match } else { Probe::NoMatch }
}

/// LLMNR and mDNS are recognised on their ports only, by a plausible header.
fn probe_multicast(datagram: &[u8], on_known_port: bool) -> Probe {
    match Header::parse(datagram) {
        Some(h) if on_known_port && plausible(&h, datagram.len()) => Probe::Match,
        _ => Probe::NoMatch,
    }
}

pub fn probe_llmnr(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    probe_multicast(datagram, on_known_port)
}

pub fn probe_mdns(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    probe_multicast(datagram, on_known_port)
}

/// Recognises DNS over TCP on port 53 only (elsewhere it is rare, and
/// waiting for a whole message of every unknown stream would hold them all
/// back): a length prefix of at least a header, and a plausible header.
pub fn probe_stream(data: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    if !on_known_port {
        return Probe::NoMatch;
    }
    let Some(len) = data
        .get(..2)
        .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
    else {
        return Probe::NeedMore;
    };
    if len < HEADER_LEN {
        return Probe::NoMatch;
    }
    let Some(h) = data.get(2..).and_then(Header::parse) else {
        return Probe::NeedMore;
    };
    if plausible(&h, len) {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}
