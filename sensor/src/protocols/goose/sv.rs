//! IEC 61850-9-2 Sampled Values (ethertype 0x88BA): a merging unit
//! publishes measured currents and voltages thousands of times a second.
//!
//! One event per frame: the `savPdu` and its ASDUs (usually one; several
//! when the publisher packs consecutive samples). The first ASDU's fields
//! are written at the top of the event, and when there are several, all of
//! them again as `asdus`, so that each field keeps one type.
//!
//! [`SvParser`] tracks, per stream (`svID`) of the flow, the sample counter
//! (gaps, repeats, resets; the counter wraps once a second at a value that
//! depends on the sample rate), the configuration revision and the loss of
//! time synchronisation.

use super::ber::{self, Class, Tlvs};
use super::utc::UtcTime;
use super::{
    Emitter, FrameParser, Header, MAX_TEXT, TimeNames, cut_short, split, text, visit_missing,
    visit_time, walk_error,
};
use crate::event::{Anomalies, Fields, FunctionClass, Nest, Pdu, Protocol, Value, Visitor};

/// ASDUs kept per event; further ones are counted in `no_asdu` only.
pub const MAX_ASDUS: usize = 16;
/// Streams tracked per flow; beyond, the oldest is forgotten.
pub const MAX_STREAMS: usize = 16;

/// Stable anomaly names of SV events.
pub mod anomaly {
    pub use super::super::anomaly::{
        CONF_REV_CHANGED, FIELD_OUT_OF_ORDER, INVALID_BER, INVALID_FIELD_VALUE, INVALID_LENGTH,
        INVALID_STRING, MISSING_MANDATORY_FIELD, SIMULATION_FLAG, STRING_TOO_LONG, TRAILING_BYTES,
        TRUNCATED_HEADER, TRUNCATED_PDU, UNEXPECTED_FIELD, UNKNOWN_PDU_TYPE,
    };
    /// `noASDU` differs from the ASDUs in `seqASDU`.
    pub const NO_ASDU_MISMATCH: &str = "no_asdu_mismatch";
    /// More ASDUs than an event keeps ([`super::MAX_ASDUS`]).
    pub const TOO_MANY_ASDUS: &str = "too_many_asdus";
    /// The sample counter skipped values: samples lost (`smp_cnt_missed`).
    pub const SMP_CNT_GAP: &str = "smp_cnt_gap";
    /// The sample counter went back other than at its wrap.
    pub const SMP_CNT_RESET: &str = "smp_cnt_reset";
    /// The same sample counter again (a duplicate).
    pub const SMP_CNT_REPEATED: &str = "smp_cnt_repeated";
    /// `smpSynch` went from synchronised to 0 (none): the merging unit lost
    /// its time source, which protection comparing several units relies on.
    pub const SMP_SYNCH_LOST: &str = "smp_synch_lost";
    /// More streams in one flow than are tracked.
    pub const STREAM_TABLE_FULL: &str = "stream_table_full";

    /// Every anomaly name of SV events, for rule validation.
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
        NO_ASDU_MISMATCH,
        TOO_MANY_ASDUS,
        SMP_CNT_GAP,
        SMP_CNT_RESET,
        SMP_CNT_REPEATED,
        CONF_REV_CHANGED,
        SMP_SYNCH_LOST,
        STREAM_TABLE_FULL,
    ];
}
use anomaly::*;

/// `function` of an SV frame.
pub const SAMPLE: &str = "sample";

/// Every `function` name SV events carry.
pub fn function_names() -> Vec<&'static str> {
    vec![super::INVALID, SAMPLE, super::UNKNOWN]
}

/// Does this decoder take frames of `ether_type`?
pub fn matches(ether_type: u16, _payload: &[u8]) -> bool {
    ether_type == super::ETHERTYPE_SV
}

/// One ASDU: one sample of one stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Asdu {
    /// Wireshark `sv.svID`.
    pub sv_id: Option<String>,
    /// Wireshark `sv.datSet`.
    pub dat_set: Option<String>,
    /// Wireshark `sv.smpCnt`.
    pub smp_cnt: Option<u64>,
    /// Wireshark `sv.confRev`.
    pub conf_rev: Option<u64>,
    /// Wireshark `sv.refrTm`.
    pub refr_tm: Option<UtcTime>,
    /// Wireshark `sv.smpSynch`: 0 none, 1 local, 2 global, 5–254 a time source id.
    pub smp_synch: Option<u64>,
    /// Wireshark `sv.smpRate`.
    pub smp_rate: Option<u64>,
    /// Octets of `seqData` (the samples and their qualities).
    pub seq_data_length: Option<u64>,
    /// Wireshark `sv.smpMod`: 0 samples per nominal period, 1 per second, 2 seconds per sample.
    pub smp_mod: Option<u64>,
    /// `gmIdentity` (Ed. 2.1): the grandmaster clock the samples are synchronised to.
    pub gm_identity: Option<[u8; 8]>,
}

const REFR_TM_NAMES: TimeNames = TimeNames {
    time: "refr_tm",
    leap_seconds_known: "refr_tm_leap_seconds_known",
    clock_failure: "refr_tm_clock_failure",
    clock_not_synchronized: "refr_tm_clock_not_synchronized",
    time_accuracy: "refr_tm_time_accuracy",
};

impl Asdu {
    fn visit_fields(&self, v: &mut dyn Visitor) {
        let u = |v: &mut dyn Visitor, name: &str, value: Option<u64>| {
            if let Some(value) = value {
                v.field(name, Value::U64(value));
            }
        };
        let s = |v: &mut dyn Visitor, name: &str, value: &Option<String>| {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        };
        s(v, "sv_id", &self.sv_id);
        s(v, "dat_set", &self.dat_set);
        u(v, "smp_cnt", self.smp_cnt);
        u(v, "conf_rev", self.conf_rev);
        if let Some(t) = self.refr_tm {
            visit_time(v, &REFR_TM_NAMES, t);
        }
        u(v, "smp_synch", self.smp_synch);
        u(v, "smp_rate", self.smp_rate);
        u(v, "smp_mod", self.smp_mod);
        u(v, "seq_data_length", self.seq_data_length);
        if let Some(id) = &self.gm_identity {
            v.field("gm_identity", Value::Hex(id));
        }
    }
}

/// The SV fields of one event. Absent (`None`) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SvFields {
    pub header: Option<Header>,
    /// Wireshark `sv.noASDU`.
    pub no_asdu: Option<u64>,
    /// The first [`MAX_ASDUS`] ASDUs.
    pub asdus: Vec<Asdu>,
    /// Mandatory fields absent (of the PDU, or of any ASDU).
    pub missing_fields: Vec<&'static str>,
    /// Tracking: samples missed before the first ASDU that skipped some.
    pub smp_cnt_missed: Option<u64>,
    /// Tracking: the counter before the first ASDU that broke the sequence.
    pub previous_smp_cnt: Option<u64>,
    pub previous_conf_rev: Option<u64>,
}

impl SvFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        if let Some(header) = self.header {
            header.visit(v);
        }
        let mut u = |name: &str, value: Option<u64>| {
            if let Some(value) = value {
                v.field(name, Value::U64(value));
            }
        };
        u("no_asdu", self.no_asdu);
        if let Some(first) = self.asdus.first() {
            first.visit_fields(v);
        }
        if self.asdus.len() > 1 {
            v.begin("asdus", Nest::List);
            for asdu in &self.asdus {
                v.begin("", Nest::Object);
                asdu.visit_fields(v);
                v.end();
            }
            v.end();
        }
        for (name, value) in [
            ("smp_cnt_missed", self.smp_cnt_missed),
            ("previous_smp_cnt", self.previous_smp_cnt),
            ("previous_conf_rev", self.previous_conf_rev),
        ] {
            if let Some(value) = value {
                v.field(name, Value::U64(value));
            }
        }
        visit_missing(v, &self.missing_fields);
    }
}

/// One SV frame, decoded without state.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// `sample`, or `invalid` (no PDU) or `unknown` (another PDU tag).
    pub function: &'static str,
    pub fields: SvFields,
    pub anomalies: Anomalies,
}

/// Tag of `savPdu`: [APPLICATION 0], constructed.
const SAV_PDU_TAG: u32 = 0;

/// A fixed-size unsigned field (INT8U, INT16U, INT32U in 9-2 are sent as
/// plain big-endian octets, not as minimal BER INTEGERs).
fn octets_unsigned(value: &[u8], a: &mut Anomalies) -> Option<u64> {
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let number = if value.is_empty() || value.len() - start > 8 {
        None
    } else {
        Some(
            value[start..]
                .iter()
                .fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
        )
    };
    if number.is_none() {
        a.add(INVALID_FIELD_VALUE);
    }
    number
}

/// Decodes one frame payload (what follows the ethertype).
pub fn decode(payload: &[u8]) -> Decoded {
    let mut d = Decoded {
        function: super::INVALID,
        fields: SvFields::default(),
        anomalies: Anomalies::new(),
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
    if !(tlv.tag.class == Class::Application
        && tlv.tag.number == SAV_PDU_TAG
        && tlv.tag.constructed)
    {
        a.add(UNKNOWN_PDU_TYPE);
        d.function = super::UNKNOWN;
        return d;
    }
    d.function = SAMPLE;
    sav_pdu(tlv.value, tlv.truncated, &mut d.fields, a);
    d
}

/// `savPdu`: noASDU [0], security [1] (optional, not interpreted), seqASDU
/// [2]. `cut`: the frame ends inside it.
fn sav_pdu(content: &[u8], cut: bool, f: &mut SvFields, a: &mut Anomalies) {
    let mut last = None;
    let mut seq_asdu = None;
    let mut complete = true;
    let mut fields = Tlvs::new(content);
    for tlv in &mut fields {
        if tlv.truncated {
            a.add(cut_short(cut));
            complete = false;
        }
        let n = tlv.tag.number;
        if tlv.tag.class != Class::Context || n > 2 {
            a.add(UNEXPECTED_FIELD);
            continue;
        }
        if last.is_some_and(|l| n <= l) {
            a.add(FIELD_OUT_OF_ORDER);
        }
        last = Some(n);
        match (n, tlv.tag.constructed) {
            (0, false) if !tlv.truncated => f.no_asdu = octets_unsigned(tlv.value, a),
            (2, true) => seq_asdu = Some((tlv.value, tlv.truncated && cut)),
            (1, _) | (0, false) => {}
            _ => a.add(INVALID_FIELD_VALUE),
        }
    }
    if let Some(error) = fields.error {
        a.add(walk_error(error, cut));
        complete = false;
    }
    let mut count = 0u64;
    if let Some((seq, cut)) = seq_asdu {
        let mut asdus = Tlvs::new(seq);
        for tlv in &mut asdus {
            count += 1;
            if tlv.truncated {
                a.add(cut_short(cut));
                complete = false;
            }
            if !(tlv.tag.class == Class::Universal && tlv.tag.number == 16 && tlv.tag.constructed) {
                a.add(UNEXPECTED_FIELD);
                continue;
            }
            let mut asdu = Asdu::default();
            let cut = tlv.truncated && cut;
            complete &= self::asdu(tlv.value, cut, &mut asdu, &mut f.missing_fields, a);
            if f.asdus.len() < MAX_ASDUS {
                f.asdus.push(asdu);
            } else {
                a.add(TOO_MANY_ASDUS);
            }
        }
        if let Some(error) = asdus.error {
            a.add(walk_error(error, cut));
            complete = false;
        }
    }
    if complete {
        for (present, name) in [
            (f.no_asdu.is_some(), "no_asdu"),
            (seq_asdu.is_some(), "seq_asdu"),
        ] {
            if !present {
                add_missing(&mut f.missing_fields, name, a);
            }
        }
        if f.no_asdu.is_some_and(|n| n != count) && seq_asdu.is_some() {
            a.add(NO_ASDU_MISMATCH);
        }
    }
}

fn add_missing(missing: &mut Vec<&'static str>, name: &'static str, a: &mut Anomalies) {
    if !missing.contains(&name) {
        missing.push(name);
    }
    a.add(MISSING_MANDATORY_FIELD);
}

/// One ASDU's fields, by context tag (`cut`: the frame ends inside it);
/// returns whether it was read whole.
fn asdu(
    content: &[u8],
    cut: bool,
    asdu: &mut Asdu,
    missing: &mut Vec<&'static str>,
    a: &mut Anomalies,
) -> bool {
    let mut last = None;
    let mut fields = Tlvs::new(content);
    let mut seq_data = false;
    let mut complete = !cut;
    for tlv in &mut fields {
        if tlv.truncated {
            a.add(cut_short(cut));
            complete = false;
        }
        let n = tlv.tag.number;
        if tlv.tag.class != Class::Context || tlv.tag.constructed || n > 9 {
            a.add(UNEXPECTED_FIELD);
            continue;
        }
        if last.is_some_and(|l| n <= l) {
            a.add(FIELD_OUT_OF_ORDER);
        }
        last = Some(n);
        let v = tlv.value;
        if n == 7 {
            // seqData: its length, even when the frame cuts it short.
            seq_data = true;
            asdu.seq_data_length = Some(v.len() as u64);
            continue;
        }
        if tlv.truncated {
            continue;
        }
        match n {
            0 => asdu.sv_id = Some(text(v, MAX_TEXT, a)),
            1 => asdu.dat_set = Some(text(v, MAX_TEXT, a)),
            2 => asdu.smp_cnt = octets_unsigned(v, a),
            3 => asdu.conf_rev = octets_unsigned(v, a),
            4 => {
                asdu.refr_tm = UtcTime::read(v);
                if asdu.refr_tm.is_none() {
                    a.add(INVALID_FIELD_VALUE);
                }
            }
            5 => asdu.smp_synch = octets_unsigned(v, a),
            6 => asdu.smp_rate = octets_unsigned(v, a),
            8 => asdu.smp_mod = octets_unsigned(v, a),
            9 => {
                asdu.gm_identity = v.try_into().ok();
                if asdu.gm_identity.is_none() {
                    a.add(INVALID_FIELD_VALUE);
                }
            }
            _ => {}
        }
    }
    if let Some(error) = fields.error {
        a.add(walk_error(error, cut));
        complete = false;
    }
    if complete {
        for (present, name) in [
            (asdu.sv_id.is_some(), "sv_id"),
            (asdu.smp_cnt.is_some(), "smp_cnt"),
            (asdu.conf_rev.is_some(), "conf_rev"),
            (seq_data, "seq_data"),
        ] {
            if !present {
                add_missing(missing, name, a);
            }
        }
    }
    complete
}

/// What a flow has said per SV stream.
#[derive(Debug)]
struct Stream {
    sv_id: String,
    smp_cnt: u64,
    conf_rev: Option<u64>,
    smp_synch: Option<u64>,
    /// The counter's modulus, once seen wrapping (or known from smpRate).
    wrap: Option<u64>,
}

/// Counters of sample rates per nominal period, per second, for 50 and 60 Hz.
const NOMINAL_HZ: [u64; 2] = [50, 60];
/// smpCnt is an INT16U.
const COUNTER_MODULUS: u64 = 1 << 16;
/// A wrap below this is taken for a reset, whatever it divides.
const MIN_WRAP: u64 = 100;

impl Stream {
    /// Whether the counter going from `next - 1` to 0 is its wrap: at the
    /// modulus seen before or given by the ASDU's sample rate, at the INT16U
    /// limit, or, when unknown yet (or above what was taken for the wrap),
    /// at a number of samples per second a 50 or 60 Hz rate gives.
    fn is_wrap(&self, next: u64, asdu: &Asdu) -> bool {
        let from_rate = match (asdu.smp_rate, asdu.smp_mod.unwrap_or(0)) {
            (Some(rate), 0) => NOMINAL_HZ.iter().any(|hz| rate.saturating_mul(*hz) == next),
            (Some(rate), 1) => rate == next,
            _ => false,
        };
        let plausible = next >= MIN_WRAP && NOMINAL_HZ.iter().any(|hz| next.is_multiple_of(*hz));
        from_rate
            || next == COUNTER_MODULUS
            || self.wrap == Some(next)
            || (plausible && self.wrap.is_none_or(|w| next > w))
    }
}

/// The per-flow state of SV decoding.
#[derive(Debug, Default)]
pub struct SvParser {
    streams: Vec<Stream>,
}

impl SvParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Judges each ASDU against the previous sample of its stream.
    fn track(&mut self, f: &mut SvFields, a: &mut Anomalies) {
        // The first break in the sequence: the counter before it, samples missed.
        let mut first_break: Option<(u64, Option<u64>)> = None;
        let mut previous_conf_rev = None;
        for asdu in &f.asdus {
            let (Some(id), Some(cnt)) = (asdu.sv_id.as_deref(), asdu.smp_cnt) else {
                continue;
            };
            let Some(s) = self.streams.iter_mut().find(|s| s.sv_id == id) else {
                if self.streams.len() >= MAX_STREAMS {
                    self.streams.remove(0);
                    a.add(STREAM_TABLE_FULL);
                }
                self.streams.push(Stream {
                    sv_id: id.to_string(),
                    smp_cnt: cnt,
                    conf_rev: asdu.conf_rev,
                    smp_synch: asdu.smp_synch,
                    wrap: None,
                });
                continue;
            };
            let prev = s.smp_cnt;
            let next = prev.saturating_add(1);
            let broken = if cnt == next && s.wrap.is_none_or(|w| cnt < w) {
                None
            } else if cnt == 0 && s.is_wrap(next, asdu) {
                s.wrap = Some(next);
                None
            } else if cnt == prev {
                Some((SMP_CNT_REPEATED, None))
            } else if cnt > prev {
                Some((SMP_CNT_GAP, Some(cnt - next)))
            } else if let Some(missed) = s
                .wrap
                .filter(|&w| prev < w && cnt < w)
                .map(|w| (w - next).saturating_add(cnt))
                .filter(|&missed| Some(missed) < s.wrap.map(|w| w / 2))
            {
                // Samples lost across the wrap (less than half a cycle of
                // them: a longer jump back is a reset).
                Some((SMP_CNT_GAP, Some(missed)))
            } else {
                Some((SMP_CNT_RESET, None))
            };
            if let Some((name, missed)) = broken {
                a.add(name);
                first_break.get_or_insert((prev, missed));
            }
            if let (Some(old), Some(new)) = (s.conf_rev, asdu.conf_rev)
                && old != new
            {
                a.add(CONF_REV_CHANGED);
                previous_conf_rev.get_or_insert(old);
            }
            if s.smp_synch.is_some_and(|x| x != 0) && asdu.smp_synch == Some(0) {
                a.add(SMP_SYNCH_LOST);
            }
            s.smp_cnt = cnt;
            s.conf_rev = asdu.conf_rev.or(s.conf_rev);
            s.smp_synch = asdu.smp_synch.or(s.smp_synch);
        }
        if let Some((prev, missed)) = first_break {
            f.previous_smp_cnt = Some(prev);
            f.smp_cnt_missed = missed;
        }
        f.previous_conf_rev = previous_conf_rev;
    }
}

impl FrameParser for SvParser {
    fn parse(&mut self, payload: &[u8], out: &mut Emitter<'_>) {
        let mut d = decode(payload);
        if d.function == SAMPLE {
            self.track(&mut d.fields, &mut d.anomalies);
        }
        let class = if d.function == SAMPLE {
            FunctionClass::Read
        } else {
            FunctionClass::Other
        };
        out.emit(Pdu {
            protocol: Protocol::Sv,
            is_response: false,
            function_code: None,
            function: d.function,
            class,
            anomalies: d.anomalies,
            fields: Fields::Sv(Box::new(d.fields)),
            identity: None,
        });
    }
}
