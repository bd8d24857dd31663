//! IEC 61850 GOOSE (ethertype 0x88B8), GSE management (0x88B9) and Sampled
//! Values (0x88BA, in [`sv`]): multicast frames a publishing IED sends
//! without IP, decoded with a total BER reader ([`ber`]) and tracked per
//! publisher.
//!
//! One event per **frame**: GOOSE and GSE management frames carry one PDU
//! each; an SV frame carries one `savPdu` of one or more ASDUs (one event,
//! with all the ASDUs). A frame whose header or PDU breaks the standard is
//! still an event, with anomalies.
//!
//! The frame: APPID, length (header included), reserved 1 (its top bit is
//! the simulation bit of IEC 61850-8-1 Ed. 2), reserved 2, then the BER PDU.
//! VLAN tags are removed by the packet layer.
//!
//! A layer-2 flow is one source MAC, destination MAC and ethertype: one
//! publisher and one multicast group. [`GooseParser`] keeps, per control
//! block reference (`gocbRef`) in its flow, the last state and sequence
//! numbers, configuration revision, time allowed to live, packet time and a
//! hash of `allData`, and reports state changes and what breaks the
//! retransmission scheme: sequence gaps and resets, regressions, data that
//! changed without a new state number, and TTL expiry measured in packet
//! time: on the late frame, or, when none comes, at the worker's sweep
//! ([`FrameParser::sweep`]).
//!
//! Entry points, pure functions of their input bytes: [`decode`] (GOOSE and
//! GSE management frames), [`sv::decode`], [`ber::read`], [`data::walk`];
//! the stateful parsers [`GooseParser`] and [`sv::SvParser`] through
//! [`FrameParser`].

pub mod ber;
pub mod data;
mod mngt;
mod publisher;
pub mod sv;
pub mod utc;

#[cfg(test)]
mod tests;

use super::{Emitter, FrameParser};
use crate::event::{Anomalies, Event, Fields, FunctionClass, Nest, Pdu, Protocol, Value, Visitor};
use crate::time::Timestamp;
use ber::{Class, Tlvs};
use data::AllData;
pub use mngt::Service;
use publisher::Publishers;
use utc::UtcTime;

pub const ETHERTYPE_GOOSE: u16 = 0x88b8;
pub const ETHERTYPE_GSE_MANAGEMENT: u16 = 0x88b9;
pub const ETHERTYPE_SV: u16 = 0x88ba;

/// Octets of the header before the PDU.
pub const HEADER_LEN: usize = 8;
/// Reserved 1 bit 15: the frame is a simulation (IEC 61850-8-1 Ed. 2).
const SIMULATION_BIT: u16 = 0x8000;
/// An Ethernet payload this short may end in padding (46 octets untagged;
/// the packet layer removes a VLAN tag but not the padding).
const MIN_ETHERNET_PAYLOAD: usize = 46;
/// Octets past the PDU tolerated as a frame check sequence left in the capture.
const FCS_LEN: usize = 4;
/// Octets of a string kept in an event.
pub(crate) const MAX_TEXT: usize = 255;
/// Longest reference or identifier the standard allows (VisibleString129).
const MAX_STANDARD_TEXT: usize = 129;

/// Stable anomaly names of the GOOSE and GSE management events (the framing
/// ones are shared with SV).
pub mod anomaly {
    /// The payload is shorter than the 8-octet header.
    pub const TRUNCATED_HEADER: &str = "truncated_header";
    /// The header's length is below 8 (it counts the header itself).
    pub const INVALID_LENGTH: &str = "invalid_length";
    /// The header's length, or a BER length inside, runs past the frame.
    pub const TRUNCATED_PDU: &str = "truncated_pdu";
    /// Octets after the length that padding or a frame check sequence cannot explain.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// The PDU tag is none of this ethertype's (GOOSE 0x61, GSE management
    /// 0x60; SV 0x60).
    pub const UNKNOWN_PDU_TYPE: &str = "unknown_pdu_type";
    /// A BER header that cannot be read: indefinite or oversized length, cut short.
    pub const INVALID_BER: &str = "invalid_ber";
    /// A mandatory field is absent (`missing_fields` names them).
    pub const MISSING_MANDATORY_FIELD: &str = "missing_mandatory_field";
    /// A tag the PDU does not define.
    pub const UNEXPECTED_FIELD: &str = "unexpected_field";
    /// Fields out of their defined order, or repeated.
    pub const FIELD_OUT_OF_ORDER: &str = "field_out_of_order";
    /// A field whose contents do not fit its type (an INTEGER too long or
    /// negative, a BOOLEAN not one octet, a UtcTime not eight).
    pub const INVALID_FIELD_VALUE: &str = "invalid_field_value";
    /// A VisibleString with octets outside 0x20–0x7e.
    pub const INVALID_STRING: &str = "invalid_string";
    /// A reference or identifier longer than the 129 characters allowed.
    pub const STRING_TOO_LONG: &str = "string_too_long";
    /// Reserved 1 has the simulation bit set, or the PDU's `simulation` is true:
    /// subscribers not in simulation mode must ignore the frame.
    pub const SIMULATION_FLAG: &str = "simulation_flag";
    /// GOOSE only.
    pub const SIMULATION_BIT_MISMATCH: &str = "simulation_bit_mismatch";
    /// A quality in `allData` has its test bit set: the publisher is in test mode.
    pub const TEST_FLAG: &str = "test_flag";
    /// `ndsCom`: the control block needs commissioning.
    pub const NEEDS_COMMISSIONING: &str = "needs_commissioning";
    /// `numDatSetEntries` differs from the entries of `allData`.
    pub const NUM_DAT_SET_ENTRIES_MISMATCH: &str = "num_dat_set_entries_mismatch";
    /// A value of `allData` that is not valid MMS `Data`.
    pub const INVALID_DATA: &str = "invalid_data";
    /// Structures or arrays nested deeper than the decoder follows.
    pub const NESTING_TOO_DEEP: &str = "nesting_too_deep";
    /// The state number went up by more than one: state changes were missed.
    pub const ST_NUM_GAP: &str = "st_num_gap";
    /// The state number went down.
    pub const ST_NUM_REGRESSED: &str = "st_num_regressed";
    /// The sequence number skipped values (retransmissions lost, or the first
    /// frames of a new state).
    pub const SQ_NUM_GAP: &str = "sq_num_gap";
    /// The sequence number went back (to 0 or lower) with the same state number.
    pub const SQ_NUM_RESET_WITHOUT_STATE_CHANGE: &str = "sq_num_reset_without_state_change";
    /// The same state and sequence numbers again, with the same data (a
    /// duplicate: redundancy or capture).
    pub const SQ_NUM_REPEATED: &str = "sq_num_repeated";
    /// `allData` changed while the state number stayed (a publisher must
    /// increment stNum on every change: a sign of injected frames).
    pub const DATA_CHANGED_WITHOUT_STATE_CHANGE: &str = "data_changed_without_state_change";
    /// This frame came later than the previous frame's time allowed to live:
    /// subscribers had declared the publisher lost (`ttl_late_ms`).
    pub const TTL_EXPIRED: &str = "ttl_expired";
    /// `confRev` differs from the previous frame's.
    pub const CONF_REV_CHANGED: &str = "conf_rev_changed";
    /// More control blocks in one flow than are tracked: the least recent was forgotten.
    pub const PUBLISHER_TABLE_FULL: &str = "publisher_table_full";
    /// GSE management: a service tag the standard does not define.
    pub const UNKNOWN_SERVICE: &str = "unknown_service";

    /// Every anomaly name of GOOSE events, for rule validation.
    pub const ALL: &[&str] = &[
        TRUNCATED_HEADER,
        INVALID_LENGTH,
        TRUNCATED_PDU,
        TRAILING_BYTES,
        UNKNOWN_PDU_TYPE,
        INVALID_BER,
        MISSING_MANDATORY_FIELD,
        UNEXPECTED_FIELD,
        FIELD_OUT_OF_ORDER,
        INVALID_FIELD_VALUE,
        INVALID_STRING,
        STRING_TOO_LONG,
        SIMULATION_FLAG,
        SIMULATION_BIT_MISMATCH,
        TEST_FLAG,
        NEEDS_COMMISSIONING,
        NUM_DAT_SET_ENTRIES_MISMATCH,
        INVALID_DATA,
        NESTING_TOO_DEEP,
        ST_NUM_GAP,
        ST_NUM_REGRESSED,
        SQ_NUM_GAP,
        SQ_NUM_RESET_WITHOUT_STATE_CHANGE,
        SQ_NUM_REPEATED,
        DATA_CHANGED_WITHOUT_STATE_CHANGE,
        TTL_EXPIRED,
        CONF_REV_CHANGED,
        PUBLISHER_TABLE_FULL,
        UNKNOWN_SERVICE,
    ];
}
use anomaly::*;

/// `function` of a GOOSE retransmission (same state number as before).
pub const PUBLISH: &str = "publish";
/// `function` of the first frame of a new state (stNum changed).
pub const STATE_CHANGE: &str = "state_change";
/// Not a frame: a control block's time allowed to live ran out and no frame
/// followed (the publisher fell silent).
pub const PUBLISHER_SILENT: &str = "publisher_silent";
/// `function` of a frame without a readable PDU.
pub const INVALID: &str = "invalid";
/// `function` of a PDU of another type than GOOSE or GSE management.
pub const UNKNOWN: &str = "unknown";

/// Every `function` name GOOSE events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names = vec![PUBLISH, STATE_CHANGE, PUBLISHER_SILENT, INVALID, UNKNOWN];
    names.extend(Service::ALL.iter().map(|s| s.name()));
    names.sort_unstable();
    names
}

/// Does this decoder take frames of `ether_type`? (GOOSE and GSE management.)
pub fn matches(ether_type: u16, _payload: &[u8]) -> bool {
    matches!(ether_type, ETHERTYPE_GOOSE | ETHERTYPE_GSE_MANAGEMENT)
}

/// The header GOOSE, GSE management and SV frames share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Application identifier (Wireshark `goose.appid`, `sv.appid`).
    pub appid: u16,
    /// Octets from the APPID to the end of the PDU.
    pub length: u16,
    pub reserved1: u16,
    pub reserved2: u16,
}

impl Header {
    /// The simulation bit of reserved 1 (Wireshark `goose.reserve1.s_bit`).
    pub fn simulation(self) -> bool {
        self.reserved1 & SIMULATION_BIT != 0
    }

    fn visit(self, v: &mut dyn Visitor) {
        v.field("appid", Value::U64(self.appid.into()));
        v.field("length", Value::U64(self.length.into()));
        if self.reserved1 != 0 {
            v.field("reserved1", Value::U64(self.reserved1.into()));
        }
        if self.reserved2 != 0 {
            v.field("reserved2", Value::U64(self.reserved2.into()));
        }
        v.field("simulation_bit", Value::Bool(self.simulation()));
    }
}

/// Reads the header of `payload` and returns it with the PDU bytes (up to
/// its length, or to the end of a frame that is shorter); `None` when the
/// payload cannot hold a header.
pub fn split<'p>(payload: &'p [u8], a: &mut Anomalies) -> Option<(Header, &'p [u8])> {
    let (head, rest) = payload.split_first_chunk::<HEADER_LEN>().or_else(|| {
        a.add(TRUNCATED_HEADER);
        None
    })?;
    let word = |at: usize| u16::from_be_bytes([head[at], head[at + 1]]);
    let header = Header {
        appid: word(0),
        length: word(2),
        reserved1: word(4),
        reserved2: word(6),
    };
    let length = usize::from(header.length);
    if length < HEADER_LEN {
        a.add(INVALID_LENGTH);
        return Some((header, rest));
    }
    let pdu = match rest.get(..length - HEADER_LEN) {
        Some(pdu) => {
            if payload.len() > MIN_ETHERNET_PAYLOAD.max(length + FCS_LEN) {
                a.add(TRAILING_BYTES);
            }
            pdu
        }
        None => {
            a.add(TRUNCATED_PDU);
            rest
        }
    };
    Some((header, pdu))
}

/// The anomaly of a BER value whose length runs past what holds it: the
/// frame ended (`cut`), or the length is wrong.
pub(crate) fn cut_short(cut: bool) -> &'static str {
    if cut { TRUNCATED_PDU } else { INVALID_BER }
}

/// The anomaly of a walk of TLVs that stopped at `error`.
pub(crate) fn walk_error(error: ber::Error, cut: bool) -> &'static str {
    match error {
        ber::Error::TruncatedHeader => cut_short(cut),
        _ => INVALID_BER,
    }
}

/// A VisibleString field as event text, with its anomalies.
pub(crate) fn text(value: &[u8], cap: usize, a: &mut Anomalies) -> String {
    let (text, visible, _) = ber::visible_string(value, cap);
    if !visible {
        a.add(INVALID_STRING);
    }
    if value.len() > MAX_STANDARD_TEXT {
        a.add(STRING_TOO_LONG);
    }
    text
}

/// The GOOSE fields of one event. Absent (`None`) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GooseFields {
    pub header: Option<Header>,
    /// Wireshark `goose.gocbRef`: the control block, `LD/LLN0$GO$name`.
    pub gocb_ref: Option<String>,
    /// Wireshark `goose.timeAllowedtoLive`, milliseconds.
    pub time_allowed_to_live: Option<u64>,
    /// Wireshark `goose.datSet`.
    pub dat_set: Option<String>,
    /// Wireshark `goose.goID`.
    pub go_id: Option<String>,
    /// Wireshark `goose.t`: when the state last changed.
    pub t: Option<UtcTime>,
    /// Wireshark `goose.stNum`.
    pub st_num: Option<u64>,
    /// Wireshark `goose.sqNum`.
    pub sq_num: Option<u64>,
    /// Wireshark `goose.simulation` (called `test` in IEC 61850-8-1 Ed. 1).
    pub simulation: Option<bool>,
    /// Wireshark `goose.confRev`.
    pub conf_rev: Option<u64>,
    /// Wireshark `goose.ndsCom`.
    pub nds_com: Option<bool>,
    /// Wireshark `goose.numDatSetEntries`.
    pub num_dat_set_entries: Option<u64>,
    pub all_data: Option<AllData>,
    /// Mandatory fields absent from the PDU.
    pub missing_fields: Vec<&'static str>,
    /// Tracking: the state number changed since this control block's previous frame.
    pub state_change: Option<bool>,
    pub previous_st_num: Option<u64>,
    pub previous_sq_num: Option<u64>,
    pub previous_conf_rev: Option<u64>,
    /// Tracking: how late this frame came after the previous one's time allowed to live.
    pub ttl_late_ms: Option<u64>,
    /// Tracking, on `publisher_silent` events: when the time allowed to live
    /// of the control block's last frame ran out with no frame after it.
    pub ttl_expired_at: Option<Timestamp>,
    /// GSE management: `stateID`.
    pub state_id: Option<u64>,
    /// GSE management: the control block or data set asked about (`ident`).
    pub ident: Option<String>,
    /// GSE management: offsets or references requested, results returned.
    pub items: Option<u64>,
    /// GSE management: the error of a negative response.
    pub error_code: Option<u64>,
}

impl GooseFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<u64>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value));
            }
        }
        fn s(v: &mut dyn Visitor, name: &str, value: &Option<String>) {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        }
        fn b(v: &mut dyn Visitor, name: &str, value: Option<bool>) {
            if let Some(value) = value {
                v.field(name, Value::Bool(value));
            }
        }
        if let Some(header) = self.header {
            header.visit(v);
        }
        s(v, "gocb_ref", &self.gocb_ref);
        u(v, "time_allowed_to_live", self.time_allowed_to_live);
        s(v, "dat_set", &self.dat_set);
        s(v, "go_id", &self.go_id);
        if let Some(t) = self.t {
            visit_time(v, &T_NAMES, t);
        }
        u(v, "st_num", self.st_num);
        u(v, "sq_num", self.sq_num);
        b(v, "simulation", self.simulation);
        u(v, "conf_rev", self.conf_rev);
        b(v, "nds_com", self.nds_com);
        u(v, "num_dat_set_entries", self.num_dat_set_entries);
        if let Some(all) = &self.all_data {
            v.field("all_data_entries", Value::U64(all.entries.into()));
            b(v, "test", all.test);
            if !all.values.is_empty() {
                v.begin("values", Nest::List);
                for value in &all.values {
                    value.visit(v);
                }
                v.end();
            }
            if all.values_truncated {
                v.field("values_truncated", Value::Bool(true));
            }
        }
        b(v, "state_change", self.state_change);
        u(v, "previous_st_num", self.previous_st_num);
        u(v, "previous_sq_num", self.previous_sq_num);
        u(v, "previous_conf_rev", self.previous_conf_rev);
        u(v, "ttl_late_ms", self.ttl_late_ms);
        if let Some(at) = self.ttl_expired_at {
            let mut buf = [0u8; 27];
            v.field(
                "ttl_expired_at",
                Value::Str(at.write_rfc3339_micros(&mut buf)),
            );
        }
        u(v, "state_id", self.state_id);
        s(v, "ident", &self.ident);
        u(v, "items", self.items);
        u(v, "error_code", self.error_code);
        visit_missing(v, &self.missing_fields);
    }
}

/// The names under which a UtcTime and its quality are written.
pub(crate) struct TimeNames {
    pub time: &'static str,
    pub leap_seconds_known: &'static str,
    pub clock_failure: &'static str,
    pub clock_not_synchronized: &'static str,
    pub time_accuracy: &'static str,
}

const T_NAMES: TimeNames = TimeNames {
    time: "t",
    leap_seconds_known: "t_leap_seconds_known",
    clock_failure: "t_clock_failure",
    clock_not_synchronized: "t_clock_not_synchronized",
    time_accuracy: "t_time_accuracy",
};

/// A UtcTime as RFC 3339 text, then its quality flags.
pub(crate) fn visit_time(v: &mut dyn Visitor, names: &TimeNames, t: UtcTime) {
    let mut buf = [0u8; 30];
    v.field(names.time, Value::Str(t.render(&mut buf)));
    v.field(
        names.leap_seconds_known,
        Value::Bool(t.leap_seconds_known()),
    );
    v.field(names.clock_failure, Value::Bool(t.clock_failure()));
    v.field(
        names.clock_not_synchronized,
        Value::Bool(t.clock_not_synchronized()),
    );
    v.field(names.time_accuracy, Value::U64(t.time_accuracy().into()));
}

pub(crate) fn visit_missing(v: &mut dyn Visitor, missing: &[&'static str]) {
    if !missing.is_empty() {
        v.begin("missing_fields", Nest::List);
        for name in missing {
            v.field("", Value::Str(name));
        }
        v.end();
    }
}

/// What a frame is, once decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No PDU could be read (header cut short, no BER).
    Invalid,
    /// A PDU tag that is neither GOOSE nor GSE management.
    Unknown,
    Goose,
    Management {
        service: Service,
        response: bool,
    },
}

/// One GOOSE or GSE management frame, decoded without state.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub kind: Kind,
    pub fields: GooseFields,
    pub anomalies: Anomalies,
    /// FNV-1a hash of the `allData` contents, to notice data that changed.
    pub data_hash: Option<u64>,
}

/// The mandatory fields of `goosePdu`, by context tag.
const MANDATORY: &[(u32, &str)] = &[
    (0, "gocb_ref"),
    (1, "time_allowed_to_live"),
    (2, "dat_set"),
    (4, "t"),
    (5, "st_num"),
    (6, "sq_num"),
    (8, "conf_rev"),
    (10, "num_dat_set_entries"),
    (11, "all_data"),
];

/// Tag of `goosePdu`: [APPLICATION 1], constructed.
const GOOSE_PDU_TAG: u32 = 1;
/// Tag of `gseMngtPdu`: [APPLICATION 0], constructed.
const MNGT_PDU_TAG: u32 = 0;

/// Decodes one frame payload (what follows the ethertype).
pub fn decode(payload: &[u8]) -> Decoded {
    let mut d = Decoded {
        kind: Kind::Invalid,
        fields: GooseFields::default(),
        anomalies: Anomalies::new(),
        data_hash: None,
    };
    let a = &mut d.anomalies;
    let Some((header, pdu)) = split(payload, a) else {
        return d;
    };
    d.fields.header = Some(header);
    if header.simulation() {
        a.add(SIMULATION_FLAG);
    }
    let tlv = match ber::read(pdu) {
        Ok((tlv, _)) => tlv,
        Err(_) => {
            a.add(INVALID_BER);
            return d;
        }
    };
    if tlv.truncated {
        a.add(TRUNCATED_PDU);
    }
    match (tlv.tag.class, tlv.tag.number, tlv.tag.constructed) {
        (Class::Application, GOOSE_PDU_TAG, true) => {
            d.kind = Kind::Goose;
            d.data_hash = goose_pdu(tlv.value, tlv.truncated, &mut d.fields, a);
            let f = &d.fields;
            if f.simulation == Some(true) {
                a.add(SIMULATION_FLAG);
            }
            if header.simulation() && f.simulation != Some(true) {
                a.add(SIMULATION_BIT_MISMATCH);
            }
            if f.all_data
                .as_ref()
                .is_some_and(|all| all.test == Some(true))
            {
                a.add(TEST_FLAG);
            }
            if f.nds_com == Some(true) {
                a.add(NEEDS_COMMISSIONING);
            }
        }
        (Class::Application, MNGT_PDU_TAG, true) => {
            let (service, response) = mngt::decode(tlv.value, &mut d.fields, a);
            d.kind = Kind::Management { service, response };
        }
        _ => {
            a.add(UNKNOWN_PDU_TYPE);
            d.kind = Kind::Unknown;
        }
    }
    d
}

/// Decodes the fields of a `goosePdu` into `f` (`cut`: the frame ends
/// inside it); returns the hash of `allData`.
fn goose_pdu(content: &[u8], cut: bool, f: &mut GooseFields, a: &mut Anomalies) -> Option<u64> {
    let mut seen = 0u32;
    let mut last: Option<u32> = None;
    let mut data_hash = None;
    let mut truncated = false;
    let mut fields = Tlvs::new(content);
    for tlv in &mut fields {
        if tlv.truncated {
            a.add(cut_short(cut));
        }
        truncated |= tlv.truncated;
        let n = tlv.tag.number;
        if tlv.tag.class != Class::Context || n > 12 {
            a.add(UNEXPECTED_FIELD);
            continue;
        }
        if last.is_some_and(|l| n <= l) {
            a.add(FIELD_OUT_OF_ORDER);
        }
        last = Some(n);
        seen |= 1 << n;
        let v = tlv.value;
        // allData [11] is the only constructed field; a cut-short primitive is not read.
        if n == 11 {
            if tlv.tag.constructed {
                let all = data::walk(v, tlv.truncated && cut);
                data_hash = Some(fnv1a(v));
                f.all_data = Some(all);
            } else {
                a.add(INVALID_FIELD_VALUE);
            }
            continue;
        }
        if tlv.truncated {
            continue;
        }
        if tlv.tag.constructed {
            if n != 12 {
                a.add(INVALID_FIELD_VALUE);
            }
            continue;
        }
        let number = |a: &mut Anomalies| {
            let value = ber::unsigned(v);
            if value.is_none() {
                a.add(INVALID_FIELD_VALUE);
            }
            value
        };
        match n {
            0 => f.gocb_ref = Some(text(v, MAX_TEXT, a)),
            1 => f.time_allowed_to_live = number(a),
            2 => f.dat_set = Some(text(v, MAX_TEXT, a)),
            3 => f.go_id = Some(text(v, MAX_TEXT, a)),
            4 => {
                f.t = UtcTime::read(v);
                if f.t.is_none() {
                    a.add(INVALID_FIELD_VALUE);
                }
            }
            5 => f.st_num = number(a),
            6 => f.sq_num = number(a),
            8 => f.conf_rev = number(a),
            10 => f.num_dat_set_entries = number(a),
            7 | 9 => {
                let flag = ber::boolean(v);
                if flag.is_none() {
                    a.add(INVALID_FIELD_VALUE);
                }
                if n == 7 {
                    f.simulation = flag;
                } else {
                    f.nds_com = flag;
                }
            }
            // security [12]: reserved for a signature; not interpreted.
            _ => {}
        }
    }
    if let Some(error) = fields.error {
        a.add(walk_error(error, cut));
    }
    if !truncated && fields.error.is_none() {
        // Fields cut off by a truncation are not "missing".
        for &(tag, name) in MANDATORY {
            if seen & 1 << tag == 0 {
                f.missing_fields.push(name);
                a.add(MISSING_MANDATORY_FIELD);
            }
        }
    }
    if let Some(all) = &f.all_data {
        if all.truncated {
            a.add(TRUNCATED_PDU);
        }
        if all.invalid {
            a.add(INVALID_DATA);
        }
        if all.too_deep {
            a.add(NESTING_TOO_DEEP);
        }
        let complete = !all.truncated && !all.invalid;
        if complete
            && f.num_dat_set_entries
                .is_some_and(|n| n != u64::from(all.entries))
        {
            a.add(NUM_DAT_SET_ENTRIES_MISMATCH);
        }
    }
    data_hash
}

/// FNV-1a, 64 bits: cheap, deterministic, good enough to tell data apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The per-flow state of GOOSE and GSE management decoding: the control
/// blocks this publisher sent to this group.
#[derive(Debug, Default)]
pub struct GooseParser {
    publishers: Publishers,
}

impl GooseParser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl FrameParser for GooseParser {
    fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>) {
        let mut d = decode(payload);
        if d.kind == Kind::Goose {
            let header = *out.header();
            self.publishers
                .track(&mut d.fields, d.data_hash, header, &mut d.anomalies);
        }
        let (function, class, is_response) = match d.kind {
            Kind::Invalid => (INVALID, FunctionClass::Other, false),
            Kind::Unknown => (UNKNOWN, FunctionClass::Other, false),
            Kind::Goose if d.fields.state_change == Some(true) => {
                (STATE_CHANGE, FunctionClass::Control, false)
            }
            Kind::Goose => (PUBLISH, FunctionClass::Control, false),
            Kind::Management { service, response } => {
                (service.name(), FunctionClass::Discovery, response)
            }
        };
        out.emit(Pdu {
            protocol: Protocol::Goose,
            is_response,
            function_code: None,
            function,
            class,
            anomalies: d.anomalies,
            fields: Fields::Goose(Box::new(d.fields)),
            identity: None,
        });
    }

    fn sweep(&mut self, now: Timestamp, events: &mut Vec<Event>) {
        self.publishers.silent(now, |silence| {
            let mut anomalies = Anomalies::new();
            anomalies.add(TTL_EXPIRED);
            events.push(Event {
                header: silence.last,
                pdu: Pdu {
                    protocol: Protocol::Goose,
                    is_response: false,
                    function_code: None,
                    function: PUBLISHER_SILENT,
                    // As the publisher's frames, so that policy judges the
                    // report as it judged them.
                    class: FunctionClass::Control,
                    anomalies,
                    fields: Fields::Goose(Box::new(silence.fields)),
                    identity: None,
                },
            });
        });
    }
}
