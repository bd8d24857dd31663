//! S7comm-plus (protocol id 0x72), the protocol of S7-1200/1500 PLCs with
//! TIA Portal, carried in COTP TSDUs on port 102.
//!
//! A telegram is a 4-octet header (0x72, protocol version, data length), the
//! data, and a 4-octet trailer (0x72, version, 0x0000). Versions 1 and 2
//! start the data with the opcode (0x31 request, 0x32 response, 0x33
//! notification, 0x02 response on some HMIs) and, for requests and
//! responses, reserved (2), function (2), reserved (2), sequence number (2);
//! a request goes on with the session id (4) and transport flags (1).
//! Version 3 (S7-1500 firmware 1.5 on, TIA V13 on) puts an integrity part in
//! front of the data of every telegram: a digest length (1, normally 32) and
//! the digest (an HMAC over the telegram, keyed per session). The rest is not
//! encrypted, so opcode, function, sequence and session id are read after the
//! digest just the same; `integrity` reports that it is there. Versions 0xfe
//! and 0xff are keep-alives.
//!
//! A telegram that has no trailer is the first fragment of a larger one: its
//! continuations come in the next TSDUs of the same direction, each with its
//! own header, until one with a trailer ends it (Wireshark's S7comm-plus
//! plugin reassembles them the same way). **One event per TSDU starting with
//! 0x72** — fragments included, marked `fragment`: `first`, `inner`, `last`;
//! inner and last fragments carry the first one's opcode, function and
//! sequence, since their data is a continuation.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::cotp::Tsdu;
use super::cotp::bytes::{be16, be32, u8_at};
use super::{Direction, Emitter};
use crate::event::{Anomalies, Fields, FunctionClass, Pdu, Protocol, Value, Visitor};

/// Protocol id: the first octet of every S7comm-plus telegram.
pub const PROTOCOL_ID: u8 = 0x72;
const HEADER_LEN: usize = 4;
const TRAILER_LEN: usize = 4;
/// Requests awaiting their answer, per direction. Some requests are never
/// answered (e.g. the SetVariable telegrams of an HMI session), so a full
/// table silently forgets the oldest: that is not an anomaly here.
pub const MAX_PENDING: usize = 64;

/// Protocol versions (header octet 1).
pub mod version {
    pub const V1: u8 = 0x01;
    pub const V2: u8 = 0x02;
    /// Integrity-protected.
    pub const V3: u8 = 0x03;
    pub const EXTENDED_KEEP_ALIVE: u8 = 0xfe;
    pub const KEEP_ALIVE: u8 = 0xff;
}

/// Opcodes (first data octet).
pub mod opcode {
    pub const REQUEST: u8 = 0x31;
    pub const RESPONSE: u8 = 0x32;
    pub const NOTIFICATION: u8 = 0x33;
    /// A response seen from some HMIs for cyclic data.
    pub const RESPONSE2: u8 = 0x02;

    pub fn name(op: u8) -> Option<&'static str> {
        Some(match op {
            REQUEST => "request",
            RESPONSE => "response",
            NOTIFICATION => "notification",
            RESPONSE2 => "response2",
            _ => return None,
        })
    }
}

/// A request/response function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionCode(pub u16);

impl FunctionCode {
    pub const ERROR: FunctionCode = FunctionCode(0x04b1);
    pub const EXPLORE: FunctionCode = FunctionCode(0x04bb);
    pub const CREATE_OBJECT: FunctionCode = FunctionCode(0x04ca);
    pub const DELETE_OBJECT: FunctionCode = FunctionCode(0x04d4);
    pub const SET_VARIABLE: FunctionCode = FunctionCode(0x04f2);
    pub const GET_VARIABLE: FunctionCode = FunctionCode(0x04fc);
    pub const ADD_LINK: FunctionCode = FunctionCode(0x0506);
    pub const REMOVE_LINK: FunctionCode = FunctionCode(0x051a);
    pub const GET_LINK: FunctionCode = FunctionCode(0x0524);
    pub const SET_MULTI_VARIABLES: FunctionCode = FunctionCode(0x0542);
    pub const GET_MULTI_VARIABLES: FunctionCode = FunctionCode(0x054c);
    pub const BEGIN_SEQUENCE: FunctionCode = FunctionCode(0x0556);
    pub const END_SEQUENCE: FunctionCode = FunctionCode(0x0560);
    pub const INVOKE: FunctionCode = FunctionCode(0x056b);
    pub const SET_VAR_SUB_STREAMED: FunctionCode = FunctionCode(0x057c);
    pub const GET_VAR_SUB_STREAMED: FunctionCode = FunctionCode(0x0586);
    pub const GET_VARIABLES_ADDRESS: FunctionCode = FunctionCode(0x0590);
    pub const ABORT: FunctionCode = FunctionCode(0x059a);

    /// Stable name and class. Get* are `read`, Set* `write`; CreateObject and
    /// DeleteObject (which open and close sessions and subscriptions) and
    /// Abort are `session`; Explore (browsing the PLC's object tree) is
    /// `discovery`; Invoke (calling a method of a PLC object, e.g. a mode
    /// change) is `control`; the rest `other`.
    pub fn describe(self) -> Option<(&'static str, FunctionClass)> {
        use FunctionClass::*;
        Some(match self {
            FunctionCode::ERROR => ("error", Other),
            FunctionCode::EXPLORE => ("explore", Discovery),
            FunctionCode::CREATE_OBJECT => ("create_object", Session),
            FunctionCode::DELETE_OBJECT => ("delete_object", Session),
            FunctionCode::SET_VARIABLE => ("set_variable", Write),
            FunctionCode::GET_VARIABLE => ("get_variable", Read),
            FunctionCode::ADD_LINK => ("add_link", Other),
            FunctionCode::REMOVE_LINK => ("remove_link", Other),
            FunctionCode::GET_LINK => ("get_link", Read),
            FunctionCode::SET_MULTI_VARIABLES => ("set_multi_variables", Write),
            FunctionCode::GET_MULTI_VARIABLES => ("get_multi_variables", Read),
            FunctionCode::BEGIN_SEQUENCE => ("begin_sequence", Other),
            FunctionCode::END_SEQUENCE => ("end_sequence", Other),
            FunctionCode::INVOKE => ("invoke", Control),
            FunctionCode::SET_VAR_SUB_STREAMED => ("set_var_sub_streamed", Write),
            FunctionCode::GET_VAR_SUB_STREAMED => ("get_var_sub_streamed", Read),
            FunctionCode::GET_VARIABLES_ADDRESS => ("get_variables_address", Read),
            FunctionCode::ABORT => ("abort", Session),
            _ => return None,
        })
    }
}

/// Stable anomaly names of this decoder.
/// Every `function` name `s7commplus` events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0xffff_u16)
        .filter_map(|c| FunctionCode(c).describe().map(|(n, _)| n))
        .collect();
    names.extend([
        "keep_alive",
        "extended_keep_alive",
        "notification",
        "unknown",
        "invalid",
    ]);
    names.sort_unstable();
    names.dedup();
    names
}

pub mod anomaly {
    /// Fewer than 4 octets: no header.
    pub const TRUNCATED_HEADER: &str = "truncated_header";
    /// A protocol version other than 1, 2, 3, 0xfe, 0xff.
    pub const UNKNOWN_VERSION: &str = "unknown_version";
    /// The TSDU ends before the data length says.
    pub const TRUNCATED_PDU: &str = "truncated_pdu";
    /// Octets after the trailer.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// The trailer is not 0x72, the header's version, 0x0000.
    pub const INVALID_TRAILER: &str = "invalid_trailer";
    /// The data ends inside the opcode, function or sequence fields.
    pub const TRUNCATED_DATA: &str = "truncated_data";
    /// A version 3 telegram whose integrity part does not fit its data.
    pub const INVALID_INTEGRITY_PART: &str = "invalid_integrity_part";
    pub const UNKNOWN_OPCODE: &str = "unknown_opcode";
    pub const UNKNOWN_FUNCTION_CODE: &str = "unknown_function_code";
    /// No pending request with this sequence number (expected at capture start or after a gap).
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// The response's function differs from its request's.
    pub const FUNCTION_MISMATCH: &str = "function_mismatch";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        TRUNCATED_HEADER,
        UNKNOWN_VERSION,
        TRUNCATED_PDU,
        TRAILING_BYTES,
        INVALID_TRAILER,
        TRUNCATED_DATA,
        INVALID_INTEGRITY_PART,
        UNKNOWN_OPCODE,
        UNKNOWN_FUNCTION_CODE,
        RESPONSE_WITHOUT_REQUEST,
        FUNCTION_MISMATCH,
    ];
}
use anomaly::*;

/// Where a telegram stands in a fragmented one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragment {
    First,
    Inner,
    Last,
}

impl Fragment {
    pub fn name(self) -> &'static str {
        match self {
            Fragment::First => "first",
            Fragment::Inner => "inner",
            Fragment::Last => "last",
        }
    }
}

/// S7comm-plus fields of one event. Absent values are not written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct S7commPlusFields {
    /// Header protocol version: 1, 2, 3 (integrity-protected), 0xfe, 0xff (keep-alives).
    pub version: u8,
    /// Header data length (octets between header and trailer).
    pub data_length: Option<u16>,
    /// Whether version 3's integrity part (digest) precedes the data.
    pub integrity: bool,
    /// Digest length of the integrity part.
    pub digest_length: Option<u8>,
    /// First data octet (0x31 request, 0x32 response, 0x33 notification);
    /// its name is written as `opcode_name`.
    pub opcode: Option<u8>,
    /// Function code of a request or response (e.g. 0x054c GetMultiVariables).
    pub function_code: Option<u16>,
    pub sequence: Option<u16>,
    /// Requests: the session id; responses carry their request's.
    pub session_id: Option<u32>,
    /// Notifications: the subscription object id.
    pub subscription_id: Option<u32>,
    /// Requests and responses: transport flags.
    pub transport_flags: Option<u8>,
    /// Keep-alive: its sequence number.
    pub keep_alive_sequence: Option<u8>,
    /// Position in a fragmented telegram.
    pub fragment: Option<Fragment>,
    /// COTP DT TPDUs that carried this telegram, when more than one.
    pub cotp_segments: Option<u16>,
    /// Packet of the request this response answers.
    pub request_packet: Option<u64>,
}

impl S7commPlusFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value.into()));
            }
        }
        u(v, "version", Some(self.version));
        u(v, "data_length", self.data_length);
        v.field("integrity", Value::Bool(self.integrity));
        u(v, "digest_length", self.digest_length);
        u(v, "opcode", self.opcode);
        if let Some(name) = self.opcode.and_then(opcode::name) {
            v.field("opcode_name", Value::Str(name));
        }
        u(v, "sequence", self.sequence);
        u(v, "session_id", self.session_id);
        u(v, "subscription_id", self.subscription_id);
        u(v, "transport_flags", self.transport_flags);
        u(v, "keep_alive_sequence", self.keep_alive_sequence);
        if let Some(fragment) = self.fragment {
            v.field("fragment", Value::Str(fragment.name()));
        }
        u(v, "cotp_segments", self.cotp_segments);
        u(v, "request_packet", self.request_packet);
    }
}

/// What [`decode`] makes of one telegram.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    pub fields: S7commPlusFields,
    pub anomalies: Anomalies,
    /// The telegram has a trailer (else it is a fragment to be continued).
    pub has_trailer: bool,
}

/// Decodes one telegram (a TSDU starting with 0x72) on its own. `continuation`
/// tells that it continues a fragmented telegram: its data is then not read
/// for an opcode.
pub fn decode(t: &[u8], continuation: bool) -> Decoded {
    let mut d = Decoded::default();
    let f = &mut d.fields;
    let a = &mut d.anomalies;
    let (Some(ver), Some(b2), Some(b3)) = (u8_at(t, 1), u8_at(t, 2), u8_at(t, 3)) else {
        a.add(TRUNCATED_HEADER);
        f.version = u8_at(t, 1).unwrap_or_default();
        d.has_trailer = true;
        return d;
    };
    f.version = ver;
    if ver == version::KEEP_ALIVE {
        f.keep_alive_sequence = Some(b2);
        d.has_trailer = true;
        if t.len() > HEADER_LEN {
            a.add(TRAILING_BYTES);
        }
        return d;
    }
    if !matches!(
        ver,
        version::V1 | version::V2 | version::V3 | version::EXTENDED_KEEP_ALIVE
    ) {
        a.add(UNKNOWN_VERSION);
    }
    let length = u16::from_be_bytes([b2, b3]);
    f.data_length = Some(length);
    let data_end = HEADER_LEN + usize::from(length);
    // As Wireshark's plugin: a trailer is there if octets remain after the data.
    d.has_trailer = t.len() > data_end;
    if t.len() < data_end {
        a.add(TRUNCATED_PDU);
    }
    if d.has_trailer {
        let trailer = t.get(data_end..).unwrap_or_default();
        let valid = trailer.len() >= TRAILER_LEN
            && trailer.first() == Some(&PROTOCOL_ID)
            && trailer.get(1) == Some(&ver)
            && be16(trailer, 2) == Some(0);
        if !valid {
            a.add(INVALID_TRAILER);
        }
        if trailer.len() > TRAILER_LEN {
            a.add(TRAILING_BYTES);
        }
    }
    let data = t.get(HEADER_LEN..data_end.min(t.len())).unwrap_or_default();
    if ver == version::EXTENDED_KEEP_ALIVE {
        return d;
    }
    let data = if ver == version::V3 {
        f.integrity = true;
        let digest = u8_at(data, 0);
        f.digest_length = digest;
        match digest.and_then(|n| data.get(1 + usize::from(n)..)) {
            Some(rest) => rest,
            None => {
                a.add(INVALID_INTEGRITY_PART);
                return d;
            }
        }
    } else {
        data
    };
    if continuation {
        return d;
    }
    let Some(op) = u8_at(data, 0) else {
        a.add(TRUNCATED_DATA);
        return d;
    };
    f.opcode = Some(op);
    match op {
        opcode::REQUEST | opcode::RESPONSE | opcode::RESPONSE2 => {
            f.function_code = be16(data, 3);
            f.sequence = be16(data, 7);
            if op == opcode::REQUEST {
                f.session_id = be32(data, 9);
                f.transport_flags = u8_at(data, 13);
            } else {
                f.transport_flags = u8_at(data, 9);
            }
            if f.transport_flags.is_none() {
                a.add(TRUNCATED_DATA);
            }
            if f.function_code
                .is_some_and(|c| FunctionCode(c).describe().is_none())
            {
                a.add(UNKNOWN_FUNCTION_CODE);
            }
        }
        opcode::NOTIFICATION => {
            f.subscription_id = be32(data, 1);
            if f.subscription_id.is_none() {
                a.add(TRUNCATED_DATA);
            }
        }
        _ => a.add(UNKNOWN_OPCODE),
    }
    d
}

/// The stable name and class of a decoded telegram.
fn describe(f: &S7commPlusFields) -> (&'static str, FunctionClass) {
    match f.version {
        version::KEEP_ALIVE => return ("keep_alive", FunctionClass::Session),
        version::EXTENDED_KEEP_ALIVE => return ("extended_keep_alive", FunctionClass::Session),
        _ => {}
    }
    match (f.opcode, f.function_code) {
        (Some(opcode::NOTIFICATION), _) => ("notification", FunctionClass::Read),
        (_, Some(code)) => FunctionCode(code)
            .describe()
            .unwrap_or(("unknown", FunctionClass::Other)),
        (Some(_), None) => ("unknown", FunctionClass::Other),
        (None, None) => ("invalid", FunctionClass::Other),
    }
}

/// The start of a fragmented telegram, whose continuations inherit it.
#[derive(Clone, Copy, Debug, Default)]
struct Started {
    opcode: Option<u8>,
    function_code: Option<u16>,
    sequence: Option<u16>,
    session_id: Option<u32>,
    subscription_id: Option<u32>,
}

/// A request awaiting its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    sequence: u16,
    function_code: Option<u16>,
    /// Responses have no session id of their own: they are given this one.
    session_id: Option<u32>,
    packet: u64,
}

/// Per-connection S7comm-plus state: fragments in progress and pending
/// requests, per direction.
#[derive(Debug, Default)]
pub struct S7commPlusState {
    started: [Option<Started>; 2],
    pending: [VecDeque<Pending>; 2],
}

impl S7commPlusState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes were lost in `dir`: a fragmented telegram there is abandoned,
    /// and so are the requests whose responses travel in `dir`.
    pub fn gap(&mut self, dir: Direction) {
        self.started[dir.index()] = None;
        self.pending[dir.reverse().index()].clear();
    }

    /// Decodes one telegram and emits its event.
    pub fn telegram(&mut self, tsdu: &Tsdu<'_>, out: &mut Emitter<'_>) {
        let dir = out.direction();
        let started = self.started[dir.index()];
        let mut d = decode(tsdu.data, started.is_some());
        for name in tsdu.anomalies.iter() {
            d.anomalies.add(name);
        }
        let f = &mut d.fields;
        if tsdu.segments > 1 {
            f.cotp_segments = Some(tsdu.segments);
        }
        let keep_alive = matches!(
            f.version,
            version::KEEP_ALIVE | version::EXTENDED_KEEP_ALIVE
        );
        if !keep_alive {
            match (started, d.has_trailer) {
                (None, true) => {}
                (None, false) => {
                    f.fragment = Some(Fragment::First);
                    self.started[dir.index()] = Some(Started {
                        opcode: f.opcode,
                        function_code: f.function_code,
                        sequence: f.sequence,
                        session_id: f.session_id,
                        subscription_id: f.subscription_id,
                    });
                }
                (Some(s), last) => {
                    f.fragment = Some(if last {
                        Fragment::Last
                    } else {
                        Fragment::Inner
                    });
                    f.opcode = s.opcode;
                    f.function_code = s.function_code;
                    f.sequence = s.sequence;
                    f.session_id = s.session_id;
                    f.subscription_id = s.subscription_id;
                    if last {
                        self.started[dir.index()] = None;
                    }
                }
            }
        }
        // Pair once per telegram: on its first (or only) fragment.
        let first = matches!(f.fragment, None | Some(Fragment::First));
        if first && !keep_alive {
            match (f.opcode, f.sequence) {
                (Some(opcode::REQUEST), Some(sequence)) => {
                    let pending = &mut self.pending[dir.index()];
                    pending.retain(|p| p.sequence != sequence);
                    if pending.len() >= MAX_PENDING {
                        pending.pop_front();
                    }
                    pending.push_back(Pending {
                        sequence,
                        function_code: f.function_code,
                        session_id: f.session_id,
                        packet: out.header().packet,
                    });
                }
                (Some(opcode::RESPONSE | opcode::RESPONSE2), Some(sequence)) => {
                    let pending = &mut self.pending[dir.reverse().index()];
                    match super::take_pending(pending, |p| p.sequence == sequence) {
                        Some(req) => {
                            f.request_packet = Some(req.packet);
                            f.session_id = req.session_id;
                            if req.function_code != f.function_code {
                                d.anomalies.add(FUNCTION_MISMATCH);
                            }
                            // The response's further fragments carry it too.
                            if let Some(s) = self.started[dir.index()].as_mut() {
                                s.session_id = req.session_id;
                            }
                        }
                        None => d.anomalies.add(RESPONSE_WITHOUT_REQUEST),
                    }
                }
                _ => {}
            }
        }
        let (function, class) = describe(&d.fields);
        let function_code = match d.fields.opcode {
            Some(opcode::NOTIFICATION) => None,
            _ => d.fields.function_code.map(u32::from),
        };
        out.emit(Pdu {
            protocol: Protocol::S7commPlus,
            is_response: dir == Direction::ToClient,
            function_code,
            function,
            class,
            anomalies: d.anomalies,
            fields: Fields::S7commPlus(d.fields),
            identity: None,
        });
    }
}
