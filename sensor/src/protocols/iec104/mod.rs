//! IEC 60870-5-104: APCI framing (I, S and U formats), per-direction
//! tracking of the send and receive sequence numbers, STARTDT/STOPDT/TESTFR
//! pairing, and the ASDU with the values of its information objects.
//!
//! One event per APDU: a start octet 0x68, a length octet, and that many
//! octets (four of control field, then for I-frames the ASDU). Several
//! APDUs in one segment give several events; an APDU split over segments
//! gives one event, on the packet that completes it. An APDU that breaks the
//! spec is still an event, with anomalies. Bytes where an APDU should start
//! but that are not 0x68 are consumed up to the next 0x68 (Wireshark resynchronises
//! the same way) and reported as one `invalid` event per run (see [`Iec104Parser`]).
//!
//! Layout: [`names`] holds the code values, their names, classes and element
//! sizes; `asdu` the data unit and its objects; this file the framing, the
//! session state, the event fields and the probe.
//!
//! Fuzzing entry points: [`Iec104Parser::parse`] (through [`StreamParser`]),
//! [`decode_apdu`] and [`probe`], all pure functions of their bytes (and,
//! for the parser, of the state earlier bytes left).

mod asdu;
pub mod names;

#[cfg(test)]
mod tests;

use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Nest, Pdu, Protocol, Value, Visitor};
pub use asdu::{Cp24Time, Cp56Time, Time};
use names::{ApciType, Cause, ElementSize, Quality, TypeId, UFunction};

pub const PORT: u16 = 2404;

/// The octet that starts every APDU.
pub const START: u8 = 0x68;
/// Start and length octets.
const PREFIX_LEN: usize = 2;
/// Start, length and the four control octets.
pub const APCI_LEN: usize = 6;
/// The smallest APDU length: the control field alone (S- and U-frames).
pub const MIN_LENGTH: u8 = 4;
/// The largest APDU length the standard allows (255-octet APDU).
pub const MAX_LENGTH: u8 = 253;
/// Object values kept per event; the addresses of all objects are kept
/// (at most 127, the VSQ's limit).
pub const MAX_VALUES: usize = 32;
/// Sequence numbers count modulo 2^15.
const SEQ_MASK: u16 = 0x7FFF;
/// A sequence number at most this far behind the expected one is a repeat;
/// further is taken as ahead (a gap).
const SEQ_WINDOW: u16 = 0x4000;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// Bytes where an APDU should start that are not 0x68 (an `invalid` event).
    pub const INVALID_START: &str = "invalid_start";
    /// APDU length below 4: no room for the control field.
    pub const APDU_LENGTH_TOO_SHORT: &str = "apdu_length_too_short";
    /// APDU length above 253.
    pub const APDU_LENGTH_TOO_LONG: &str = "apdu_length_too_long";
    /// An S- or U-frame longer than its control field.
    pub const APDU_LENGTH_MISMATCH: &str = "apdu_length_mismatch";
    /// Control field bits the format requires to be zero are set.
    pub const INVALID_CONTROL_FIELD: &str = "invalid_control_field";
    /// A U-frame with none or several of the six functions.
    pub const INVALID_U_FUNCTION: &str = "invalid_u_function";
    /// An I-frame without ASDU.
    pub const MISSING_ASDU: &str = "missing_asdu";
    /// The ASDU ends inside its six-octet header.
    pub const TRUNCATED_ASDU: &str = "truncated_asdu";
    pub const UNKNOWN_TYPE_ID: &str = "unknown_type_id";
    /// A cause of transmission the standard does not define (0 included).
    pub const UNKNOWN_CAUSE: &str = "unknown_cause";
    /// The objects the VSQ announces do not fill the ASDU exactly.
    pub const ASDU_LENGTH_MISMATCH: &str = "asdu_length_mismatch";
    /// A time tag whose fields are out of range (CP56Time2a year above 99 included).
    pub const INVALID_TIME: &str = "invalid_time";
    /// A short float that is NaN or infinite (its `value` is left out).
    pub const NON_FINITE_VALUE: &str = "non_finite_value";
    /// C_TS_NA_1 with a test pattern other than 0x55AA.
    pub const INVALID_TEST_PATTERN: &str = "invalid_test_pattern";
    /// An I-frame's N(S) is ahead of the one expected: I-frames are missing.
    pub const SEQUENCE_GAP: &str = "sequence_gap";
    /// An I-frame's N(S) was already used by an earlier I-frame (replay or repeat).
    pub const DUPLICATE_SEQUENCE: &str = "duplicate_sequence";
    /// N(R) acknowledges I-frames the peer has not sent.
    pub const ACK_BEYOND_SENT: &str = "ack_beyond_sent";
    /// N(R) is behind an earlier N(R) of the same side.
    pub const ACK_WENT_BACKWARDS: &str = "ack_went_backwards";
    /// A STARTDT/STOPDT/TESTFR confirmation whose activation the peer did
    /// not send (expected at the start of a capture or after a gap).
    pub const CONFIRMATION_WITHOUT_ACTIVATION: &str = "confirmation_without_activation";
    /// An I-frame after STOPDT was confirmed, before STARTDT.
    pub const DATA_WHILE_STOPPED: &str = "data_while_stopped";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_START,
        APDU_LENGTH_TOO_SHORT,
        APDU_LENGTH_TOO_LONG,
        APDU_LENGTH_MISMATCH,
        INVALID_CONTROL_FIELD,
        INVALID_U_FUNCTION,
        MISSING_ASDU,
        TRUNCATED_ASDU,
        UNKNOWN_TYPE_ID,
        UNKNOWN_CAUSE,
        ASDU_LENGTH_MISMATCH,
        INVALID_TIME,
        NON_FINITE_VALUE,
        INVALID_TEST_PATTERN,
        SEQUENCE_GAP,
        DUPLICATE_SEQUENCE,
        ACK_BEYOND_SENT,
        ACK_WENT_BACKWARDS,
        CONFIRMATION_WITHOUT_ACTIVATION,
        DATA_WHILE_STOPPED,
    ];
}

/// Every `function` name IEC 104 events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0xff_u8)
        .filter_map(|t| TypeId(t).info().map(|i| i.function))
        .collect();
    names.extend((0..6).filter_map(|bit| UFunction(1 << bit).name()));
    names.extend(["supervisory", "unknown", "invalid"]);
    names.sort_unstable();
    names.dedup();
    names
}
use anomaly::*;

/// IEC 104 fields of one event. Absent (`None`, empty) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Iec104Fields {
    /// APDU length octet (Wireshark `iec60870_104.apdulen`).
    pub apdu_length: Option<u8>,
    /// APCI format (Wireshark `iec60870_104.type`).
    pub apci_type: Option<ApciType>,
    /// U-frame function (Wireshark `iec60870_104.utype`), written by name.
    pub utype: Option<UFunction>,
    /// Send sequence number N(S) of an I-frame (Wireshark `iec60870_104.tx`).
    pub tx: Option<u16>,
    /// Receive sequence number N(R) of an I- or S-frame (Wireshark `iec60870_104.rx`).
    pub rx: Option<u16>,
    /// Type identification (Wireshark `iec60870_asdu.typeid`).
    pub type_id: Option<u8>,
    /// VSQ SQ bit: one address, consecutive objects (Wireshark `iec60870_asdu.sq`).
    pub sq: Option<bool>,
    /// VSQ number of objects (Wireshark `iec60870_asdu.numix`).
    pub num_objects: Option<u8>,
    /// Cause of transmission (Wireshark `iec60870_asdu.causetx`).
    pub cause: Option<u8>,
    /// P/N bit: negative confirmation (Wireshark `iec60870_asdu.nega`).
    pub negative: Option<bool>,
    /// T bit: test (Wireshark `iec60870_asdu.test`).
    pub test: Option<bool>,
    /// Originator address (Wireshark `iec60870_asdu.oa`).
    pub originator_address: Option<u8>,
    /// Common address of ASDU (Wireshark `iec60870_asdu.addr`).
    pub common_address: Option<u16>,
    /// Information object addresses, all objects walked (Wireshark `iec60870_asdu.ioa`).
    pub ioa: Vec<u32>,
    /// Commands: the select (true) / execute (false) bit of the first object.
    pub select: Option<bool>,
    /// The first [`MAX_VALUES`] objects' values.
    pub values: Vec<InfoObject>,
    /// More objects were walked than `values` keeps.
    pub objects_truncated: bool,
    /// On `invalid` events for bytes that are not an APDU: how many were skipped.
    pub skipped_bytes: Option<u32>,
}

/// One information object's decoded elements.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct InfoObject {
    pub ioa: u32,
    pub value: Option<ObjectValue>,
    /// Double point/command, protection event state, regulating step: the value's name.
    pub state: Option<&'static str>,
    /// Step position: the transient bit.
    pub transient: Option<bool>,
    pub quality: Quality,
    /// Integrated totals: the sequence number of the counter reading.
    pub counter_sequence: Option<u8>,
    /// Commands and set points: select (true) or execute (false).
    pub select: Option<bool>,
    /// Commands: qualifier of command (QU); set points: QL; and the qualifier
    /// octet of end of initialization (COI), interrogation (QOI), counter
    /// interrogation (QCC), reset process (QRP), parameters (QPM, QPA).
    pub qualifier: Option<u8>,
    /// Protection events: elapsed time or duration; delay acquisition: the delay (CP16Time2a).
    pub elapsed_ms: Option<u16>,
    pub time: Option<Time>,
}

/// The value of an information object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ObjectValue {
    /// Single point, single command.
    Bool(bool),
    /// Double point and commands (0–3), bitstrings, test patterns and counters.
    Unsigned(u32),
    /// Scaled values, step positions, integrated totals.
    Signed(i32),
    /// Normalized values (a fraction of full scale, exact).
    Float(f64),
    /// Short floats, as sent; shown as the f64 nearest their shortest
    /// decimal, worked out only when the value is looked at.
    Short(f32),
}

impl ObjectValue {
    fn visit(self, name: &str, v: &mut dyn Visitor) {
        match self {
            ObjectValue::Bool(b) => v.field(name, Value::Bool(b)),
            ObjectValue::Unsigned(n) => v.field(name, Value::U64(n.into())),
            ObjectValue::Signed(n) => v.field(name, Value::I64(n.into())),
            // JSON has no NaN or infinity: such a value is left out (and flagged).
            ObjectValue::Float(x) if !x.is_finite() => {}
            ObjectValue::Float(x) => v.field(name, Value::F64(x)),
            ObjectValue::Short(x) => ObjectValue::Float(asdu::shortest_f64(x)).visit(name, v),
        }
    }
}

impl InfoObject {
    fn visit(&self, v: &mut dyn Visitor) {
        v.begin("", Nest::Object);
        v.field("ioa", Value::U64(self.ioa.into()));
        if let Some(value) = self.value {
            value.visit("value", v);
        }
        if let Some(state) = self.state {
            v.field("state", Value::Str(state));
        }
        if let Some(transient) = self.transient {
            v.field("transient", Value::Bool(transient));
        }
        if !self.quality.is_empty() {
            v.begin("quality", Nest::List);
            for name in self.quality.names() {
                v.field("", Value::Str(name));
            }
            v.end();
        }
        if let Some(n) = self.counter_sequence {
            v.field("counter_sequence", Value::U64(n.into()));
        }
        if let Some(select) = self.select {
            v.field("select", Value::Bool(select));
        }
        if let Some(q) = self.qualifier {
            v.field("qualifier", Value::U64(q.into()));
        }
        if let Some(ms) = self.elapsed_ms {
            v.field("elapsed_ms", Value::U64(ms.into()));
        }
        match self.time {
            Some(Time::Cp56(t)) => {
                let mut buf = [0; 24];
                if let Some(text) = t.render(&mut buf) {
                    v.field("time", Value::Str(text));
                }
                if t.summer_time {
                    v.field("summer_time", Value::Bool(true));
                }
            }
            Some(Time::Cp24(t)) => {
                let mut buf = [0; 9];
                if let Some(text) = t.render(&mut buf) {
                    v.field("time_of_hour", Value::Str(text));
                }
            }
            None => {}
        }
        if self.time.is_some_and(Time::invalid_flag) {
            v.field("time_invalid", Value::Bool(true));
        }
        v.end();
    }
}

impl Iec104Fields {
    /// The standard mnemonic of the type (`M_ME_NC_1`), if it is a defined one.
    pub fn type_name(&self) -> Option<&'static str> {
        self.type_id
            .and_then(|t| TypeId(t).info())
            .map(|i| i.mnemonic)
    }

    /// The name of the cause of transmission, if it is a defined one.
    pub fn cause_name(&self) -> Option<&'static str> {
        self.cause.and_then(|c| Cause(c).name())
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value.into()));
            }
        }
        fn s(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        }
        fn b(v: &mut dyn Visitor, name: &str, value: Option<bool>) {
            if let Some(value) = value {
                v.field(name, Value::Bool(value));
            }
        }
        u(v, "apdu_length", self.apdu_length);
        s(v, "apci_type", self.apci_type.map(ApciType::name));
        s(v, "utype", self.utype.and_then(UFunction::name));
        u(v, "tx", self.tx);
        u(v, "rx", self.rx);
        u(v, "type_id", self.type_id);
        s(v, "type", self.type_name());
        b(v, "sq", self.sq);
        u(v, "num_objects", self.num_objects);
        u(v, "cause", self.cause);
        s(v, "cause_name", self.cause_name());
        b(v, "negative", self.negative);
        b(v, "test", self.test);
        u(v, "originator_address", self.originator_address);
        u(v, "common_address", self.common_address);
        if !self.ioa.is_empty() {
            v.begin("ioa", Nest::List);
            for &ioa in &self.ioa {
                v.field("", Value::U64(ioa.into()));
            }
            v.end();
        }
        b(v, "select", self.select);
        if !self.values.is_empty() {
            v.begin("values", Nest::List);
            for object in &self.values {
                object.visit(v);
            }
            v.end();
        }
        if self.objects_truncated {
            v.field("objects_truncated", Value::Bool(true));
        }
        u(v, "skipped_bytes", self.skipped_bytes);
    }
}

/// Decodes one whole APDU (start octet, length octet and `length` octets, as
/// [`Iec104Parser`] frames it) into `f` and `a`, without session state.
pub fn decode_apdu(apdu: &[u8], f: &mut Iec104Fields, a: &mut Anomalies) {
    let Some(&length) = apdu.get(1) else {
        a.add(APDU_LENGTH_TOO_SHORT);
        return;
    };
    f.apdu_length = Some(length);
    if length < MIN_LENGTH {
        a.add(APDU_LENGTH_TOO_SHORT);
        return;
    }
    if length > MAX_LENGTH {
        a.add(APDU_LENGTH_TOO_LONG);
    }
    let Some(&[c0, c1, c2, c3]) = apdu.get(PREFIX_LEN..APCI_LEN) else {
        a.add(APDU_LENGTH_TOO_SHORT);
        return;
    };
    let kind = ApciType::of(c0);
    f.apci_type = Some(kind);
    let rx = u16::from_le_bytes([c2, c3]) >> 1;
    match kind {
        ApciType::I => {
            f.tx = Some(u16::from_le_bytes([c0, c1]) >> 1);
            f.rx = Some(rx);
            if c2 & 0x01 != 0 {
                a.add(INVALID_CONTROL_FIELD);
            }
            asdu::decode(apdu.get(APCI_LEN..).unwrap_or_default(), f, a);
        }
        ApciType::S => {
            f.rx = Some(rx);
            if c0 != 0x01 || c1 != 0 || c2 & 0x01 != 0 {
                a.add(INVALID_CONTROL_FIELD);
            }
        }
        ApciType::U => {
            let function = UFunction::of(c0);
            f.utype = Some(function);
            if function.name().is_none() {
                a.add(INVALID_U_FUNCTION);
            }
            if c1 != 0 || c2 != 0 || c3 != 0 {
                a.add(INVALID_CONTROL_FIELD);
            }
        }
    }
    if kind != ApciType::I && length != MIN_LENGTH {
        a.add(APDU_LENGTH_MISMATCH);
    }
}

/// `function_code`, `function` and `class` of an APDU: the type id for
/// I-frames, Wireshark's `utype` for U-frames, the APCI format (1) for S-frames.
fn describe(f: &Iec104Fields) -> (Option<u32>, &'static str, FunctionClass) {
    match f.apci_type {
        None => (None, "invalid", FunctionClass::Other),
        Some(ApciType::S) => (
            Some(ApciType::S.code().into()),
            "supervisory",
            FunctionClass::Session,
        ),
        Some(ApciType::U) => {
            let function = f.utype.unwrap_or(UFunction(0));
            (
                Some(function.0.into()),
                function.name().unwrap_or("unknown"),
                FunctionClass::Session,
            )
        }
        Some(ApciType::I) => match f.type_id {
            None => (None, "invalid", FunctionClass::Other),
            Some(t) => match TypeId(t).info() {
                Some(info) => (Some(t.into()), info.function, info.class),
                None => (Some(t.into()), "unknown", FunctionClass::Other),
            },
        },
    }
}

/// How the bytes at the start of a buffer frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// A whole APDU of this many bytes.
    Apdu(usize),
    /// The start of an APDU: more bytes are needed.
    Incomplete,
    /// This many bytes are not an APDU (up to the next 0x68 or the end).
    Garbage(usize),
}

fn framing(b: &[u8]) -> Framing {
    match b.first() {
        None => Framing::Incomplete,
        Some(&START) => match b.get(1) {
            None => Framing::Incomplete,
            Some(&length) => {
                let size = PREFIX_LEN + usize::from(length);
                if b.len() < size {
                    Framing::Incomplete
                } else {
                    Framing::Apdu(size)
                }
            }
        },
        Some(_) => Framing::Garbage(
            b.iter()
                .skip(1)
                .position(|&byte| byte == START)
                .map_or(b.len(), |at| at + 1),
        ),
    }
}

/// What one side of the connection has sent, for the sequence checks.
#[derive(Clone, Copy, Debug, Default)]
struct Side {
    /// N(S) expected of this side's next I-frame; `None` until one is seen
    /// (or after a gap in this side's bytes).
    next_send: Option<u16>,
    /// Latest N(R) this side sent.
    last_ack: Option<u16>,
    /// U-frame activations (bits of [`UFunction`]) this side sent that the
    /// peer has not confirmed.
    pending_activations: u8,
}

impl Side {
    /// After a gap nothing is known; activations may have been lost, so a
    /// confirmation is not flagged.
    fn unknown() -> Side {
        Side {
            next_send: None,
            last_ack: None,
            pending_activations: UFunction::ACTIVATIONS,
        }
    }
}

/// How far sequence number `a` is ahead of `b`, modulo 2^15.
fn seq_ahead(a: u16, b: u16) -> u16 {
    a.wrapping_sub(b) & SEQ_MASK
}

/// Per-connection IEC 104 state: each side's send and receive sequence
/// numbers, its pending U activations, and whether data transfer was stopped.
///
/// The parser keeps no partial bytes: an incomplete APDU is left unconsumed
/// for the caller to present again. Bytes that cannot start an APDU (not
/// 0x68) are reported as one `invalid` event and skipped up to the next 0x68;
/// if there is none in `data`, all of it is skipped. After a 0x68 the length
/// octet is trusted, whatever its value (at most 257 octets are taken).
#[derive(Debug, Default)]
pub struct Iec104Parser {
    /// By sending direction ([`Direction::index`]).
    sides: [Side; 2],
    /// STOPDT was confirmed and STARTDT has not been seen since.
    stopped: bool,
}

impl Iec104Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks an APDU's sequence numbers and U function against the
    /// connection's state, and updates it.
    fn track(&mut self, dir: Direction, f: &Iec104Fields, a: &mut Anomalies) {
        let (me, peer) = (dir.index(), dir.reverse().index());
        if let Some(tx) = f.tx {
            if self.stopped {
                a.add(DATA_WHILE_STOPPED);
            }
            let side = &mut self.sides[me];
            side.next_send = Some(match side.next_send {
                Some(expected) if tx == expected => (tx + 1) & SEQ_MASK,
                Some(expected) if (1..=SEQ_WINDOW).contains(&seq_ahead(expected, tx)) => {
                    a.add(DUPLICATE_SEQUENCE);
                    expected
                }
                Some(_) => {
                    a.add(SEQUENCE_GAP);
                    (tx + 1) & SEQ_MASK
                }
                None => (tx + 1) & SEQ_MASK,
            });
        }
        if let Some(rx) = f.rx {
            if let Some(peer_next) = self.sides[peer].next_send
                && (1..=SEQ_WINDOW).contains(&seq_ahead(rx, peer_next))
            {
                a.add(ACK_BEYOND_SENT);
            }
            let side = &mut self.sides[me];
            match side.last_ack {
                Some(last) if (1..=SEQ_WINDOW).contains(&seq_ahead(last, rx)) => {
                    a.add(ACK_WENT_BACKWARDS);
                }
                _ => side.last_ack = Some(rx),
            }
        }
        if let Some(function) = f.utype {
            if function.is_activation() {
                self.sides[me].pending_activations |= function.0;
            } else if function.is_confirmation() {
                let activation = function.0 >> 1;
                let pending = &mut self.sides[peer].pending_activations;
                if *pending & activation == 0 {
                    a.add(CONFIRMATION_WITHOUT_ACTIVATION);
                }
                *pending &= !activation;
            }
            match function {
                UFunction::STOPDT_CON => self.stopped = true,
                UFunction::STARTDT_ACT | UFunction::STARTDT_CON => self.stopped = false,
                _ => {}
            }
        }
    }

    fn apdu(&mut self, apdu: &[u8], out: &mut Emitter<'_>) {
        let mut f = Iec104Fields::default();
        let mut a = Anomalies::new();
        decode_apdu(apdu, &mut f, &mut a);
        self.track(out.direction(), &f, &mut a);
        let (function_code, function, class) = describe(&f);
        out.emit(Pdu {
            protocol: Protocol::Iec104,
            is_response: out.direction() == Direction::ToClient,
            function_code,
            function,
            class,
            anomalies: a,
            fields: Fields::Iec104(f),
            identity: None,
        });
    }

    /// Reports `skipped` bytes that are not an APDU.
    fn garbage(&mut self, skipped: usize, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(INVALID_START);
        let f = Iec104Fields {
            skipped_bytes: Some(u32::try_from(skipped).unwrap_or(u32::MAX)),
            ..Iec104Fields::default()
        };
        out.emit(Pdu {
            protocol: Protocol::Iec104,
            is_response: out.direction() == Direction::ToClient,
            function_code: None,
            function: "invalid",
            class: FunctionClass::Other,
            anomalies: a,
            fields: Fields::Iec104(f),
            identity: None,
        });
    }
}

impl StreamParser for Iec104Parser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match framing(rest) {
                Framing::Incomplete => break,
                Framing::Apdu(size) => {
                    self.apdu(rest.get(..size).unwrap_or(rest), out);
                    consumed += size;
                }
                Framing::Garbage(skip) => {
                    self.garbage(skip, out);
                    consumed += skip;
                }
            }
        }
        consumed
    }

    /// The parser holds no partial bytes, so a gap only affects the session
    /// state: what the side that lost bytes sent is no longer known, so its
    /// sequence numbers are learnt afresh and a confirmation of one of its
    /// activations is not flagged.
    fn gap(&mut self, dir: Direction) {
        self.sides[dir.index()] = Side::unknown();
        self.stopped = false;
    }
}

/// Recognises IEC 104 by structure, not port: APDUs back to back, each a
/// start octet 0x68 and a length in 4..=253. Fewer than six bytes (start,
/// length, control field) give `NeedMore`.
///
/// On the well-known port the APCI is enough, whatever the U function or
/// type id (fuzzers and scanners send invalid ones, and they must be seen);
/// an I-frame whose ASDU header is there must not have type id 0 or cause 0
/// ("not used"), which sets apart Modbus frames whose transaction id starts
/// with 0x68. Elsewhere the evidence must be stronger: whole APDUs, S- and
/// U-frames of length 4 with a valid control field (one U function), I-frames
/// whose ASDU decodes without anomalies; a first APDU still incomplete gives
/// `NeedMore`. HTTP, TLS, TPKT, DNP3 and most Modbus fail the start octet.
pub fn probe(data: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    let mut rest = data;
    let mut apdus = 0usize;
    while let Some(&start) = rest.first() {
        if start != START {
            return Probe::NoMatch;
        }
        let Some(&length) = rest.get(1) else {
            break;
        };
        if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
            return Probe::NoMatch;
        }
        let Some(&[c0, c1, c2, c3]) = rest.get(PREFIX_LEN..APCI_LEN) else {
            break;
        };
        let kind = ApciType::of(c0);
        if !on_known_port {
            let valid = match kind {
                ApciType::I => c2 & 0x01 == 0,
                ApciType::S => length == MIN_LENGTH && c0 == 0x01 && c1 == 0 && c2 & 0x01 == 0,
                ApciType::U => {
                    length == MIN_LENGTH
                        && UFunction::of(c0).name().is_some()
                        && [c1, c2, c3] == [0, 0, 0]
                }
            };
            if !valid {
                return Probe::NoMatch;
            }
        }
        let size = PREFIX_LEN + usize::from(length);
        let Some(apdu) = rest.get(..size) else {
            break;
        };
        if kind == ApciType::I
            && !plausible_asdu(apdu.get(APCI_LEN..).unwrap_or_default(), on_known_port)
        {
            return Probe::NoMatch;
        }
        apdus += 1;
        rest = rest.get(size..).unwrap_or_default();
    }
    match (rest.len(), apdus) {
        (0, 0) => Probe::NeedMore,
        (0, _) => Probe::Match,
        // A partial APDU follows whole ones that passed.
        (_, 1..) => Probe::Match,
        // The first APDU is incomplete: its APCI is enough on the known port.
        (n, 0) if on_known_port && n >= APCI_LEN => Probe::Match,
        _ => Probe::NeedMore,
    }
}

/// Whether an I-frame's ASDU looks like one: on the known port, no type id 0
/// or cause 0; elsewhere, it decodes cleanly (known type walked to the
/// exact length, defined cause).
fn plausible_asdu(asdu: &[u8], on_known_port: bool) -> bool {
    if on_known_port {
        let type_ok = asdu.first().is_none_or(|&t| t != 0);
        let cause_ok = asdu.get(2).is_none_or(|&c| c & Cause::MASK != 0);
        return type_ok && cause_ok;
    }
    let walkable = asdu
        .first()
        .and_then(|&t| TypeId(t).info())
        .is_some_and(|info| info.size != ElementSize::Variable);
    if !walkable {
        return false;
    }
    let mut f = Iec104Fields::default();
    let mut a = Anomalies::new();
    asdu::decode(asdu, &mut f, &mut a);
    a.is_empty() && !f.ioa.is_empty()
}
