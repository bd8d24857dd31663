//! SNMP v1, v2c and v3 (UDP 161, traps and informs to 162): version,
//! community (a cleartext credential: written redacted unless
//! `--show-secrets`), PDU type, request id, errors, variable bindings; for v3
//! the message header and the USM user name, with an encrypted scoped PDU
//! reported as such.
//!
//! One event per SNMP message (one datagram). Responses carry the class of
//! the request they answer (matched by request id within the conversation).
//! A response that gives the system group's sysDescr, sysObjectID or sysName
//! identifies the responding agent: `product` and `firmware` from sysDescr,
//! the enterprise number of sysObjectID as `vendor_id`, `hostname` from
//! sysName.

pub mod ber;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use super::itwire::{describe_system, put_str, put_u64, text};
use super::{DatagramParser, Direction, Emitter, Probe};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use ber::{Ber, Error};

pub const PORT: u16 = 161;
pub const TRAP_PORT: u16 = 162;
/// Variable bindings kept per message (all are counted).
pub const MAX_VARBINDS: usize = 32;
/// Longest octet string value kept, as text (hex values: half of it).
const MAX_VALUE_TEXT: usize = 255;
/// Requests remembered per conversation for pairing.
const MAX_PENDING: usize = 64;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// An element runs past the end of the datagram.
    pub const TRUNCATED: &str = "truncated";
    /// Not valid BER (a multi-byte tag, an indefinite length, an integer
    /// over 8 bytes, an OID that does not end) or another element than the
    /// message structure asks for.
    pub const BAD_BER: &str = "bad_ber";
    /// A version other than 0 (v1), 1 (v2c) and 3.
    pub const UNKNOWN_VERSION: &str = "unknown_version";
    /// A PDU tag other than 0xA0–0xA8.
    pub const UNKNOWN_PDU_TYPE: &str = "unknown_pdu_type";
    /// Bytes after the message.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// A response whose request was not seen.
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// The community is `public` or `private`, the factory defaults.
    pub const DEFAULT_COMMUNITY: &str = "default_community";

    pub const ALL: &[&str] = &[
        TRUNCATED,
        BAD_BER,
        UNKNOWN_VERSION,
        UNKNOWN_PDU_TYPE,
        TRAILING_BYTES,
        RESPONSE_WITHOUT_REQUEST,
        DEFAULT_COMMUNITY,
    ];
}
use anomaly::*;

/// PDU types (the context tag number), their names and classes.
fn pdu_type(code: u8) -> Option<(&'static str, FunctionClass)> {
    Some(match code {
        0 => ("get_request", FunctionClass::Read),
        1 => ("get_next_request", FunctionClass::Read),
        2 => ("get_response", FunctionClass::Read),
        3 => ("set_request", FunctionClass::Write),
        4 => ("trap", FunctionClass::Other),
        5 => ("get_bulk_request", FunctionClass::Read),
        6 => ("inform_request", FunctionClass::Other),
        7 => ("snmpv2_trap", FunctionClass::Other),
        8 => ("report", FunctionClass::Other),
        _ => return None,
    })
}

const GET_RESPONSE: u8 = 2;
const TRAP_V1: u8 = 4;
const GET_BULK: u8 = 5;

/// Every `function` name SNMP events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..9).filter_map(|c| pdu_type(c).map(|p| p.0)).collect();
    names.extend(["encrypted_pdu", "unknown", "invalid"]);
    names.sort_unstable();
    names
}

/// The system group objects that identify an agent.
const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
const SYS_OBJECT_ID: &str = "1.3.6.1.2.1.1.2.0";
const SYS_NAME: &str = "1.3.6.1.2.1.1.5.0";
/// Enterprise OIDs: `1.3.6.1.4.1.<IANA private enterprise number>…`.
const ENTERPRISES: &str = "1.3.6.1.4.1.";

/// The value of a variable binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarValue {
    Integer(i64),
    /// Counter32, Gauge32, TimeTicks, Counter64.
    Unsigned(u8, u64),
    /// An octet string that is text.
    Text(String),
    /// An octet string or opaque value that is not text.
    Bytes(u8, Vec<u8>),
    Oid(String),
    IpAddress(Ipv4Addr),
    Null,
    /// noSuchObject, noSuchInstance, endOfMibView, or an unknown tag.
    Exception(u8),
}

impl VarValue {
    fn type_name(&self) -> &'static str {
        match self {
            VarValue::Integer(_) => "integer",
            VarValue::Unsigned(ber::COUNTER32, _) => "counter32",
            VarValue::Unsigned(ber::GAUGE32, _) => "gauge32",
            VarValue::Unsigned(ber::TIMETICKS, _) => "timeticks",
            VarValue::Unsigned(_, _) => "counter64",
            VarValue::Text(_) | VarValue::Bytes(ber::OCTET_STRING, _) => "octet_string",
            VarValue::Bytes(_, _) => "opaque",
            VarValue::Oid(_) => "oid",
            VarValue::IpAddress(_) => "ip_address",
            VarValue::Null => "null",
            VarValue::Exception(ber::NO_SUCH_OBJECT) => "no_such_object",
            VarValue::Exception(ber::NO_SUCH_INSTANCE) => "no_such_instance",
            VarValue::Exception(ber::END_OF_MIB_VIEW) => "end_of_mib_view",
            VarValue::Exception(_) => "unknown",
        }
    }
}

/// A variable binding: an OID (dotted) and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Varbind {
    pub oid: String,
    pub value: VarValue,
}

/// SNMP fields of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnmpFields {
    /// Wireshark `snmp.version`: 0 v1, 1 v2c, 3 v3.
    pub version: Option<i64>,
    /// v1/v2c community (Wireshark `snmp.community`), written as a secret.
    pub community: Option<String>,
    /// PDU type (Wireshark `snmp.data`).
    pub pdu_type: Option<u8>,
    /// Wireshark `snmp.request_id`.
    pub request_id: Option<i64>,
    /// Wireshark `snmp.error_status`, `snmp.error_index` (for GetBulk,
    /// `non_repeaters` and `max_repetitions` instead).
    pub error_status: Option<i64>,
    pub error_index: Option<i64>,
    pub non_repeaters: Option<i64>,
    pub max_repetitions: Option<i64>,
    /// Wireshark `snmp.name` and the values.
    pub varbinds: Vec<Varbind>,
    /// Variable bindings in the message (more than are kept).
    pub varbind_count: u32,
    /// Trap v1: Wireshark `snmp.enterprise`, `snmp.agent_addr`,
    /// `snmp.generic_trap`, `snmp.specific_trap`, `snmp.time_stamp`.
    pub enterprise: Option<String>,
    pub agent_address: Option<Ipv4Addr>,
    pub generic_trap: Option<i64>,
    pub specific_trap: Option<i64>,
    pub timestamp: Option<u64>,
    /// v3: Wireshark `snmp.msgID`, `snmp.msgFlags`, `snmp.msgSecurityModel`,
    /// `snmp.msgAuthoritativeEngineID`, `snmp.msgUserName`,
    /// `snmp.contextName`.
    pub msg_id: Option<i64>,
    pub msg_flags: Option<u8>,
    pub security_model: Option<i64>,
    pub engine_id: Option<Vec<u8>>,
    pub user_name: Option<String>,
    pub context_name: Option<String>,
    /// v3: the scoped PDU is encrypted.
    pub encrypted: bool,
    /// Responses: the packet of the request answered.
    pub request_packet: Option<u64>,
}

impl SnmpFields {
    /// The identity of the responding agent, from the system group.
    fn identity(&self) -> Option<Box<Identity>> {
        if self.pdu_type != Some(GET_RESPONSE) {
            return None;
        }
        let mut identity = Identity::default();
        for vb in &self.varbinds {
            match (vb.oid.as_str(), &vb.value) {
                (SYS_DESCR, VarValue::Text(descr)) => {
                    let (product, firmware) = describe_system(descr);
                    identity.product = product;
                    identity.firmware = firmware;
                }
                (SYS_OBJECT_ID, VarValue::Oid(oid)) => {
                    identity.vendor_id = oid
                        .strip_prefix(ENTERPRISES)
                        .and_then(|rest| rest.split('.').next()?.parse().ok());
                }
                (SYS_NAME, VarValue::Text(name)) if !name.is_empty() => {
                    identity.hostname = Some(name.clone());
                }
                _ => {}
            }
        }
        (!identity.is_empty()).then(|| Box::new(identity))
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        if let Some(version) = self.version {
            v.field("version", Value::I64(version));
        }
        if let Some(community) = &self.community {
            v.field("community", Value::Secret(community));
        }
        if self.version.is_some() && self.version != Some(3) {
            v.field("community_present", Value::Bool(self.community.is_some()));
        }
        put_u64(v, "msg_id", self.msg_id.and_then(|i| u64::try_from(i).ok()));
        put_u64(v, "msg_flags", self.msg_flags);
        put_u64(
            v,
            "security_model",
            self.security_model.and_then(|i| u64::try_from(i).ok()),
        );
        if let Some(id) = &self.engine_id {
            v.field("engine_id", Value::Hex(id));
        }
        put_str(v, "user_name", self.user_name.as_deref());
        put_str(v, "context_name", self.context_name.as_deref());
        if self.encrypted {
            v.field("encrypted", Value::Bool(true));
        }
        let int = |v: &mut dyn Visitor, name: &str, value: Option<i64>| {
            if let Some(value) = value {
                v.field(name, Value::I64(value));
            }
        };
        int(v, "request_id", self.request_id);
        int(v, "error_status", self.error_status);
        int(v, "error_index", self.error_index);
        int(v, "non_repeaters", self.non_repeaters);
        int(v, "max_repetitions", self.max_repetitions);
        put_str(v, "enterprise", self.enterprise.as_deref());
        if let Some(ip) = self.agent_address {
            v.field(
                "agent_address",
                Value::Str(super::itwire::ip_text(ip.into()).as_str()),
            );
        }
        int(v, "generic_trap", self.generic_trap);
        int(v, "specific_trap", self.specific_trap);
        put_u64(v, "timestamp", self.timestamp);
        if self.pdu_type.is_some() {
            put_u64(v, "varbind_count", Some(self.varbind_count));
        }
        if !self.varbinds.is_empty() {
            v.begin("varbinds", Nest::List);
            for vb in &self.varbinds {
                v.begin("", Nest::Object);
                v.field("oid", Value::Str(&vb.oid));
                v.field("type", Value::Str(vb.value.type_name()));
                match &vb.value {
                    VarValue::Integer(i) => v.field("value", Value::I64(*i)),
                    VarValue::Unsigned(_, u) => v.field("value", Value::U64(*u)),
                    VarValue::Text(t) | VarValue::Oid(t) => v.field("value", Value::Str(t)),
                    VarValue::Bytes(_, b) => v.field("value", Value::Hex(b)),
                    VarValue::IpAddress(ip) => v.field(
                        "value",
                        Value::Str(super::itwire::ip_text((*ip).into()).as_str()),
                    ),
                    VarValue::Null | VarValue::Exception(_) => {}
                }
                v.end();
            }
            v.end();
        }
        put_u64(v, "request_packet", self.request_packet);
    }
}

/// Records a BER error as its anomaly.
fn ber_anomaly(a: &mut Anomalies, error: Error) {
    a.add(match error {
        Error::Truncated => TRUNCATED,
        Error::Invalid | Error::UnexpectedTag(_) => BAD_BER,
    });
}

/// An octet string as text when it is text (printable UTF-8, tabs and line
/// breaks allowed), else as bytes.
fn octets(tag: u8, bytes: &[u8]) -> VarValue {
    let printable = std::str::from_utf8(bytes).ok().filter(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
    });
    match printable {
        Some(_) if tag == ber::OCTET_STRING => VarValue::Text(text(bytes, MAX_VALUE_TEXT)),
        _ => VarValue::Bytes(
            tag,
            bytes.get(..MAX_VALUE_TEXT / 2).unwrap_or(bytes).to_vec(),
        ),
    }
}

/// A varbind value.
fn var_value(tlv: ber::Tlv<'_>) -> Result<VarValue, Error> {
    Ok(match tlv.tag {
        ber::INTEGER => VarValue::Integer(ber::integer(tlv.value)?),
        ber::COUNTER32 | ber::GAUGE32 | ber::TIMETICKS | ber::COUNTER64 => {
            VarValue::Unsigned(tlv.tag, ber::unsigned(tlv.value)?)
        }
        ber::OCTET_STRING | ber::OPAQUE => octets(tlv.tag, tlv.value),
        ber::OID => VarValue::Oid(
            ber::oid_text(tlv.value)
                .ok_or(Error::Invalid)?
                .as_str()
                .to_string(),
        ),
        ber::IP_ADDRESS => VarValue::IpAddress(
            <[u8; 4]>::try_from(tlv.value)
                .map_err(|_| Error::Invalid)?
                .into(),
        ),
        ber::NULL => VarValue::Null,
        tag => VarValue::Exception(tag),
    })
}

/// Decodes a PDU (its contents, after the context tag) into `f`.
fn pdu_body(kind: u8, body: &[u8], f: &mut SnmpFields) -> Result<(), Error> {
    let mut b = Ber::new(body);
    if kind == TRAP_V1 {
        let enterprise = b.expect(ber::OID)?;
        f.enterprise = Some(
            ber::oid_text(enterprise)
                .ok_or(Error::Invalid)?
                .as_str()
                .to_string(),
        );
        let address = b.expect(ber::IP_ADDRESS)?;
        f.agent_address = <[u8; 4]>::try_from(address).ok().map(Ipv4Addr::from);
        f.generic_trap = Some(b.integer()?);
        f.specific_trap = Some(b.integer()?);
        f.timestamp = Some(ber::unsigned(b.expect(ber::TIMETICKS)?)?);
    } else {
        f.request_id = Some(b.integer()?);
        let (first, second) = (b.integer()?, b.integer()?);
        if kind == GET_BULK {
            f.non_repeaters = Some(first);
            f.max_repetitions = Some(second);
        } else {
            f.error_status = Some(first);
            f.error_index = Some(second);
        }
    }
    let mut list = Ber::new(b.expect(ber::SEQUENCE)?);
    while !list.is_empty() {
        let mut vb = Ber::new(list.expect(ber::SEQUENCE)?);
        f.varbind_count = f.varbind_count.saturating_add(1);
        let name = vb.expect(ber::OID)?;
        let value = vb.any()?;
        if f.varbinds.len() < MAX_VARBINDS {
            f.varbinds.push(Varbind {
                oid: ber::oid_text(name)
                    .ok_or(Error::Invalid)?
                    .as_str()
                    .to_string(),
                value: var_value(value)?,
            });
        }
    }
    Ok(())
}

/// Decodes the PDU element at the cursor (what there is of it, if cut).
fn pdu(b: &mut Ber<'_>, f: &mut SnmpFields, a: &mut Anomalies) -> Result<(), Error> {
    let (tlv, cut) = b.any_cut()?;
    if !(0xa0..=0xa8).contains(&tlv.tag) {
        a.add(UNKNOWN_PDU_TYPE);
        return Ok(());
    }
    let kind = tlv.tag & 0x1f;
    f.pdu_type = Some(kind);
    pdu_body(kind, tlv.value, f)?;
    if cut { Err(Error::Truncated) } else { Ok(()) }
}

/// The v3 header, security parameters and scoped PDU.
fn v3(b: &mut Ber<'_>, f: &mut SnmpFields, a: &mut Anomalies) -> Result<(), Error> {
    let mut global = Ber::new(b.expect(ber::SEQUENCE)?);
    f.msg_id = Some(global.integer()?);
    let _max_size = global.integer()?;
    f.msg_flags = global.expect(ber::OCTET_STRING)?.first().copied();
    f.security_model = Some(global.integer()?);
    let params = b.expect(ber::OCTET_STRING)?;
    // The user-based security model (3) is the one in use; others are opaque.
    if f.security_model == Some(3) && !params.is_empty() {
        let mut usm = Ber::new(params);
        let mut usm = Ber::new(usm.expect(ber::SEQUENCE)?);
        let engine = usm.expect(ber::OCTET_STRING)?;
        f.engine_id = (!engine.is_empty()).then(|| engine.get(..32).unwrap_or(engine).to_vec());
        let _boots = usm.integer()?;
        let _time = usm.integer()?;
        let user = usm.expect(ber::OCTET_STRING)?;
        f.user_name = (!user.is_empty()).then(|| text(user, MAX_VALUE_TEXT));
    }
    let data = b.any()?;
    match data.tag {
        ber::OCTET_STRING => f.encrypted = true,
        ber::SEQUENCE => {
            let mut scoped = Ber::new(data.value);
            let _context_engine = scoped.expect(ber::OCTET_STRING)?;
            let context = scoped.expect(ber::OCTET_STRING)?;
            f.context_name = (!context.is_empty()).then(|| text(context, MAX_VALUE_TEXT));
            pdu(&mut scoped, f, a)?;
        }
        tag => return Err(Error::UnexpectedTag(tag)),
    }
    Ok(())
}

/// Decodes one SNMP message.
pub fn decode(msg: &[u8]) -> (SnmpFields, Anomalies) {
    let mut f = SnmpFields::default();
    let mut a = Anomalies::new();
    let mut outer = Ber::new(msg);
    let result = (|| {
        let (message, cut) = outer.any_cut()?;
        if message.tag != ber::SEQUENCE {
            return Err(Error::UnexpectedTag(message.tag));
        }
        let mut b = Ber::new(message.value);
        let version = b.integer()?;
        f.version = Some(version);
        match version {
            0 | 1 => {
                let community = b.expect(ber::OCTET_STRING)?;
                let community = text(community, MAX_VALUE_TEXT);
                if matches!(community.as_str(), "public" | "private") {
                    a.add(DEFAULT_COMMUNITY);
                }
                f.community = Some(community);
                pdu(&mut b, &mut f, &mut a)
            }
            3 => v3(&mut b, &mut f, &mut a),
            _ => {
                a.add(UNKNOWN_VERSION);
                Ok(())
            }
        }?;
        if cut { Err(Error::Truncated) } else { Ok(()) }
    })();
    match result {
        Ok(()) if !outer.is_empty() => a.add(TRAILING_BYTES),
        Ok(()) => {}
        Err(e) => ber_anomaly(&mut a, e),
    }
    (f, a)
}

/// A request awaiting its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    request_id: i64,
    class: FunctionClass,
    packet: u64,
}

/// The SNMP decoder of one conversation: requests awaiting their response,
/// so that a response has its request's class.
#[derive(Debug, Default)]
pub struct SnmpParser {
    pending: VecDeque<Pending>,
}

impl SnmpParser {
    pub fn new() -> Self {
        SnmpParser::default()
    }
}

impl DatagramParser for SnmpParser {
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        let (mut f, mut anomalies) = decode(datagram);
        let described = f.pdu_type.and_then(pdu_type);
        let (function_code, function, mut class) = match (described, f.encrypted) {
            (Some((name, class)), _) => (f.pdu_type.map(u32::from), name, class),
            (None, true) => (None, "encrypted_pdu", FunctionClass::Other),
            // A PDU tag or version nobody defined, else a message whose PDU
            // could not be reached.
            (None, false)
                if anomalies.contains(UNKNOWN_PDU_TYPE) || anomalies.contains(UNKNOWN_VERSION) =>
            {
                (None, "unknown", FunctionClass::Other)
            }
            (None, false) => (None, "invalid", FunctionClass::Other),
        };
        let is_response = match f.pdu_type {
            Some(GET_RESPONSE | 8) => true,
            Some(_) => false,
            None => out.direction() == Direction::ToClient,
        };
        if f.pdu_type == Some(GET_RESPONSE)
            && let Some(id) = f.request_id
        {
            match super::take_pending(&mut self.pending, |p| p.request_id == id) {
                Some(request) => {
                    class = request.class;
                    f.request_packet = Some(request.packet);
                }
                None => anomalies.add(RESPONSE_WITHOUT_REQUEST),
            }
        } else if let (Some(id), false) = (f.request_id, is_response)
            // Traps are not answered (v2 traps have a request id too).
            && !matches!(f.pdu_type, Some(TRAP_V1 | 7))
        {
            if self.pending.len() == MAX_PENDING {
                self.pending.pop_front();
            }
            self.pending.retain(|p| p.request_id != id);
            self.pending.push_back(Pending {
                request_id: id,
                class,
                packet: out.header().packet,
            });
        }
        out.emit(Pdu {
            protocol: Protocol::Snmp,
            is_response,
            function_code,
            function,
            class,
            anomalies,
            identity: f.identity(),
            fields: Fields::Snmp(Box::new(f)),
        });
    }
}

/// Recognises SNMP by structure: a SEQUENCE holding a version INTEGER of 0,
/// 1 or 3 (on ports 161 and 162 that is enough, and a SEQUENCE cut before
/// its version is whole is seen too); elsewhere the whole message must
/// decode cleanly.
pub fn probe(datagram: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    if datagram.first() != Some(&ber::SEQUENCE) {
        return Probe::NoMatch;
    }
    // The version, read from what the datagram holds of the sequence.
    let body = match Ber::new(datagram).any() {
        Ok(tlv) => tlv.value,
        Err(_) => datagram.get(2..).unwrap_or_default(),
    };
    match Ber::new(body).integer() {
        Ok(0 | 1 | 3) => {}
        Err(Error::Truncated) if on_known_port => return Probe::Match,
        _ => return Probe::NoMatch,
    }
    if on_known_port {
        return Probe::Match;
    }
    let (f, a) = decode(datagram);
    let clean = a.iter().all(|n| n == DEFAULT_COMMUNITY) && (f.pdu_type.is_some() || f.encrypted);
    if clean { Probe::Match } else { Probe::NoMatch }
}
