//! PROFINET RT: cyclic data summarised per connection, RTA alarms one by one.
//!
//! Cyclic frames end with a 4-byte APDU status: cycle counter (units of
//! 31.25 µs), data status, transfer status. They come every few
//! milliseconds, so instead of one event per frame the decoder keeps, per
//! connection (direction and frame id), counters of the frames since its last
//! event, and emits a `profinet_rt` event:
//!
//! - `rt_cyclic` for a connection's first frame (a new connection is news),
//!   then for the frame that arrives a second or more (packet time) after the
//!   connection's previous event;
//! - `rt_status_change` for a frame whose data status differs from the
//!   previous frame's (class `control` when the provider state switches
//!   between run and stop, `diagnostic` otherwise);
//! - `rt_cyclic` when the flow ends, for the frames not yet reported.
//!
//! Each event counts the frames since the previous one of its connection,
//! this frame included (`frames`, `bytes`, `first_packet`), and carries the
//! first and last cycle counters, the cycle counter gaps and repeats, the
//! last data and transfer status. So every frame is counted in exactly one
//! event. PTCP frames (`ptcp`), RT fragments (`rt_fragment`) and frames with
//! a reserved id (`reserved`) are counted the same way, without the status.

use super::anomaly::*;
use super::names::alarm_type_name;
use super::{FrameKind, ProfinetFields, Reader};
use crate::event::{Anomalies, Event, FunctionClass, Header, Nest, Pdu, Protocol, Value, Visitor};
use crate::protocols::{Direction, Emitter};
use crate::time::Timestamp;

/// Every `function` name `profinet_rt` events carry.
pub const FUNCTIONS: &[&str] = &[
    "rt_cyclic",
    "rt_status_change",
    "ptcp",
    "rt_fragment",
    "reserved",
    "alarm_notification",
    "alarm_ack",
    "rta_data",
    "rta_ack",
    "rta_nack",
    "rta_error",
    "rta_unknown",
    "invalid",
];

/// Connections (direction and frame id) counted per flow. A flow is one MAC
/// pair, so this is generous; past it the least recently seen connection is
/// reported and forgotten.
pub const MAX_CONNECTIONS: usize = 64;
/// Packet time between two summaries of one connection.
pub const SUMMARY_INTERVAL_NS: i64 = 1_000_000_000;
/// Cycle counter, data status, transfer status.
const TRAILER_LEN: usize = 4;

/// Data status bits (IEC 61158-6-10 APDU status).
pub mod data_status {
    /// 1: primary, 0: backup.
    pub const STATE: u8 = 0x01;
    pub const REDUNDANCY: u8 = 0x02;
    /// 1: valid.
    pub const DATA_VALID: u8 = 0x04;
    /// 1: run, 0: stop.
    pub const PROVIDER_STATE: u8 = 0x10;
    /// 1: normal, 0: problem detected.
    pub const STATION_PROBLEM_INDICATOR: u8 = 0x20;
    pub const IGNORE: u8 = 0x80;

    pub const NAMED: &[(u8, &str)] = &[
        (STATE, "state"),
        (REDUNDANCY, "redundancy"),
        (DATA_VALID, "data_valid"),
        (PROVIDER_STATE, "provider_state"),
        (STATION_PROBLEM_INDICATOR, "station_problem_indicator"),
        (IGNORE, "ignore"),
    ];
}

/// An RTA alarm PDU (frame ids 0xFC01, 0xFE01).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alarm {
    pub high_priority: bool,
    pub dst_endpoint: u16,
    pub src_endpoint: u16,
    /// 1 data, 2 nack, 3 ack, 4 err.
    pub pdu_type: u8,
    pub pdu_version: u8,
    pub window_size: u8,
    pub tack: bool,
    pub send_seq: u16,
    pub ack_seq: u16,
    pub var_part_len: u16,
    /// The block of a data PDU: alarm notification (0x0001/0x0002) or ack
    /// (0x8001/0x8002).
    pub block_type: Option<u16>,
    pub alarm_type: Option<u16>,
    pub api: Option<u32>,
    pub slot: Option<u16>,
    pub subslot: Option<u16>,
    pub module_ident_number: Option<u32>,
    pub submodule_ident_number: Option<u32>,
    pub alarm_specifier: Option<u16>,
    /// The PNIO status of an alarm ack or of an ERR PDU.
    pub pnio_status: Option<u32>,
}

/// RT fields of one event: a summary of cyclic (or PTCP…) frames, or an alarm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RtFields {
    /// `pn_rt.frame_id` (absent when the frame is too short to hold one).
    pub frame_id: Option<u16>,
    pub rt_class: Option<&'static str>,
    /// Frames this event counts (since the connection's previous event).
    pub frames: Option<u64>,
    pub bytes: Option<u64>,
    /// Packet of the first frame counted (the event's `packet` is the last).
    pub first_packet: Option<u64>,
    /// Frames of the connection so far, this event's included.
    pub total_frames: Option<u64>,
    /// `pn_rt.cycle_counter` of the first and the last frame counted.
    pub cycle_counter_first: Option<u16>,
    pub cycle_counter: Option<u16>,
    /// Steps of the cycle counter larger than 1.5 times the connection's
    /// smallest step (frames lost or late).
    pub cycle_counter_gaps: Option<u64>,
    /// Frames repeating the previous cycle counter.
    pub cycle_counter_repeats: Option<u64>,
    /// Data status of the last frame counted (`pn_rt.ds`).
    pub data_status: Option<u8>,
    /// On `rt_status_change`: the data status of the frame before.
    pub previous_data_status: Option<u8>,
    /// Data status changes of the connection so far.
    pub data_status_changes: Option<u64>,
    /// `pn_rt.transfer_status` of the last frame counted.
    pub transfer_status: Option<u8>,
    /// Frames counted with a non-zero transfer status.
    pub transfer_status_errors: Option<u64>,
    /// C_SDU length of the last frame (between the frame id and the status).
    pub data_length: Option<u16>,
    pub alarm: Option<Alarm>,
}

impl RtFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value.into()));
            }
        }
        u(v, "frame_id", self.frame_id);
        if let Some(class) = self.rt_class {
            v.field("rt_class", Value::Str(class));
        }
        u(v, "frames", self.frames);
        u(v, "bytes", self.bytes);
        u(v, "first_packet", self.first_packet);
        u(v, "total_frames", self.total_frames);
        u(v, "cycle_counter_first", self.cycle_counter_first);
        u(v, "cycle_counter", self.cycle_counter);
        u(v, "cycle_counter_gaps", self.cycle_counter_gaps);
        u(v, "cycle_counter_repeats", self.cycle_counter_repeats);
        if let Some(ds) = self.data_status {
            v.field("data_status", Value::U64(ds.into()));
            let bit = |b: u8| ds & b != 0;
            v.field(
                "state",
                Value::Str(if bit(data_status::STATE) {
                    "primary"
                } else {
                    "backup"
                }),
            );
            v.field("redundancy", Value::Bool(bit(data_status::REDUNDANCY)));
            v.field("data_valid", Value::Bool(bit(data_status::DATA_VALID)));
            v.field(
                "provider_state",
                Value::Str(if bit(data_status::PROVIDER_STATE) {
                    "run"
                } else {
                    "stop"
                }),
            );
            v.field(
                "station_problem",
                Value::Bool(!bit(data_status::STATION_PROBLEM_INDICATOR)),
            );
        }
        if let (Some(before), Some(now)) = (self.previous_data_status, self.data_status) {
            v.field("previous_data_status", Value::U64(before.into()));
            v.begin("changed", Nest::List);
            for &(bit, name) in data_status::NAMED {
                if (before ^ now) & bit != 0 {
                    v.field("", Value::Str(name));
                }
            }
            v.end();
        }
        u(v, "data_status_changes", self.data_status_changes);
        u(v, "transfer_status", self.transfer_status);
        u(v, "transfer_status_errors", self.transfer_status_errors);
        u(v, "data_length", self.data_length);
        if let Some(a) = &self.alarm {
            v.field(
                "alarm_priority",
                Value::Str(if a.high_priority { "high" } else { "low" }),
            );
            u(v, "alarm_dst_endpoint", Some(a.dst_endpoint));
            u(v, "alarm_src_endpoint", Some(a.src_endpoint));
            u(v, "pdu_type", Some(a.pdu_type));
            u(v, "pdu_version", Some(a.pdu_version));
            u(v, "window_size", Some(a.window_size));
            v.field("tack", Value::Bool(a.tack));
            u(v, "send_seq", Some(a.send_seq));
            u(v, "ack_seq", Some(a.ack_seq));
            u(v, "var_part_len", Some(a.var_part_len));
            u(v, "block_type", a.block_type);
            u(v, "alarm_type", a.alarm_type);
            if let Some(name) = a.alarm_type.and_then(alarm_type_name) {
                v.field("alarm_type_name", Value::Str(name));
            }
            u(v, "api", a.api);
            u(v, "slot", a.slot);
            u(v, "subslot", a.subslot);
            u(v, "module_ident_number", a.module_ident_number);
            u(v, "submodule_ident_number", a.submodule_ident_number);
            u(v, "alarm_specifier", a.alarm_specifier);
            u(v, "pnio_status", a.pnio_status);
        }
    }
}

/// The event for a frame too short to hold a frame id.
pub fn invalid(_len: usize) -> Pdu {
    let mut anomalies = Anomalies::new();
    anomalies.add(TRUNCATED_FRAME);
    Pdu {
        protocol: Protocol::ProfinetRt,
        is_response: false,
        function_code: None,
        function: "invalid",
        class: FunctionClass::Other,
        anomalies,
        fields: ProfinetFields::Rt(Box::default()).into(),
        identity: None,
    }
}

/// Decodes an RTA PDU (what follows the frame id of an alarm frame).
pub fn parse_alarm(high_priority: bool, data: &[u8]) -> (Alarm, Anomalies) {
    let mut anomalies = Anomalies::new();
    let mut a = Alarm {
        high_priority,
        ..Alarm::default()
    };
    let mut r = Reader::new(data);
    let header = (|| {
        a.dst_endpoint = r.u16()?;
        a.src_endpoint = r.u16()?;
        let pdu_type = r.u8()?;
        a.pdu_type = pdu_type & 0x0F;
        a.pdu_version = pdu_type >> 4;
        let flags = r.u8()?;
        a.window_size = flags & 0x0F;
        a.tack = flags & 0x10 != 0;
        a.send_seq = r.u16()?;
        a.ack_seq = r.u16()?;
        a.var_part_len = r.u16()?;
        Some(())
    })();
    if header.is_none() {
        anomalies.add(TRUNCATED_FRAME);
        return (a, anomalies);
    }
    if !(1..=4).contains(&a.pdu_type) {
        anomalies.add(UNKNOWN_PDU_TYPE);
    }
    let var = match r.bytes(usize::from(a.var_part_len)) {
        Some(var) => var,
        None => {
            anomalies.add(TRUNCATED_PDU);
            r.rest()
        }
    };
    let mut r = Reader::new(var);
    let decoded = match a.pdu_type {
        1 => (|| {
            let block_type = r.u16()?;
            a.block_type = Some(block_type);
            let _length = r.u16()?;
            let _version = r.u16()?;
            match block_type {
                0x0001 | 0x0002 => {
                    a.alarm_type = Some(r.u16()?);
                    a.api = Some(r.u32()?);
                    a.slot = Some(r.u16()?);
                    a.subslot = Some(r.u16()?);
                    a.module_ident_number = Some(r.u32()?);
                    a.submodule_ident_number = Some(r.u32()?);
                    a.alarm_specifier = Some(r.u16()?);
                }
                0x8001 | 0x8002 => {
                    a.alarm_type = Some(r.u16()?);
                    a.api = Some(r.u32()?);
                    a.slot = Some(r.u16()?);
                    a.subslot = Some(r.u16()?);
                    a.alarm_specifier = Some(r.u16()?);
                    a.pnio_status = Some(r.u32()?);
                }
                _ => {}
            }
            Some(())
        })(),
        4 => r.u32().map(|status| a.pnio_status = Some(status)),
        _ => Some(()),
    };
    if decoded.is_none() {
        anomalies.add(BAD_BLOCK_LENGTH);
    }
    (a, anomalies)
}

/// The event of an alarm frame (payload after the frame id).
pub fn alarm_pdu(frame_id: u16, high_priority: bool, data: &[u8]) -> Pdu {
    let (alarm, anomalies) = parse_alarm(high_priority, data);
    let (function, class, is_response) = match (alarm.pdu_type, alarm.block_type) {
        (1, Some(0x0001 | 0x0002)) => ("alarm_notification", FunctionClass::Diagnostic, false),
        (1, Some(0x8001 | 0x8002)) => ("alarm_ack", FunctionClass::Diagnostic, true),
        (1, _) => ("rta_data", FunctionClass::Diagnostic, false),
        (2, _) => ("rta_nack", FunctionClass::Diagnostic, true),
        (3, _) => ("rta_ack", FunctionClass::Diagnostic, true),
        // An ERR-RTA PDU aborts the alarm channel, and with it the AR.
        (4, _) => ("rta_error", FunctionClass::Session, false),
        _ => ("rta_unknown", FunctionClass::Other, false),
    };
    let fields = RtFields {
        frame_id: Some(frame_id),
        alarm: Some(alarm),
        ..RtFields::default()
    };
    Pdu {
        protocol: Protocol::ProfinetRt,
        is_response,
        function_code: Some(u32::from(frame_id)),
        function,
        class,
        anomalies,
        fields: ProfinetFields::Rt(Box::new(fields)).into(),
        identity: None,
    }
}

/// The counters of one connection.
#[derive(Debug)]
struct Conn {
    direction: Direction,
    frame_id: u16,
    kind: FrameKind,
    /// Time of the connection's last event.
    last_event: Timestamp,
    last_seen: Timestamp,
    /// The header of the last frame counted.
    header: Header,
    total_frames: u64,
    changes: u64,
    /// The previous frame's cycle counter and data status.
    prev_cycle: Option<u16>,
    prev_status: Option<u8>,
    /// Smallest non-zero cycle counter step seen.
    step: Option<u16>,
    window: Window,
}

/// What one event counts.
#[derive(Debug, Default)]
struct Window {
    frames: u64,
    bytes: u64,
    first_packet: u64,
    first_cycle: Option<u16>,
    last_cycle: Option<u16>,
    gaps: u64,
    repeats: u64,
    data_status: Option<u8>,
    transfer_status: Option<u8>,
    transfer_errors: u64,
    data_length: Option<u16>,
    truncated: u64,
}

impl Conn {
    /// Counts a frame; returns the data status it changed from, if it did.
    fn count(&mut self, payload: &[u8], header: Header) -> Option<u8> {
        let w = &mut self.window;
        if w.frames == 0 {
            w.first_packet = header.packet;
        }
        w.frames += 1;
        w.bytes += payload.len() as u64;
        self.total_frames += 1;
        self.header = header;
        self.last_seen = header.ts;
        if !matches!(self.kind, FrameKind::Cyclic(_)) {
            return None;
        }
        let trailer = payload
            .len()
            .checked_sub(TRAILER_LEN)
            .filter(|&at| at >= 2)
            .and_then(|at| payload.get(at..));
        let Some(&[c0, c1, ds, ts]) = trailer.and_then(|t| <&[u8; 4]>::try_from(t).ok()) else {
            w.truncated += 1;
            return None;
        };
        let cycle = u16::from_be_bytes([c0, c1]);
        w.first_cycle.get_or_insert(cycle);
        w.last_cycle = Some(cycle);
        w.data_status = Some(ds);
        w.transfer_status = Some(ts);
        w.transfer_errors += u64::from(ts != 0);
        w.data_length = u16::try_from(payload.len() - 2 - TRAILER_LEN).ok();
        if let Some(prev) = self.prev_cycle {
            let delta = cycle.wrapping_sub(prev);
            if delta == 0 {
                w.repeats += 1;
            } else {
                let step = self.step.map_or(delta, |s| s.min(delta));
                if u32::from(delta) * 2 > u32::from(step) * 3 {
                    w.gaps += 1;
                }
                self.step = Some(step);
            }
        }
        self.prev_cycle = Some(cycle);
        let changed = self.prev_status.filter(|&before| before != ds);
        self.prev_status = Some(ds);
        if changed.is_some() {
            self.changes += 1;
        }
        changed
    }

    /// The event for the frames counted since the last one, and a new window.
    fn report(&mut self, previous_status: Option<u8>) -> Pdu {
        let w = std::mem::take(&mut self.window);
        self.last_event = self.header.ts;
        let cyclic = matches!(self.kind, FrameKind::Cyclic(_));
        let mut anomalies = Anomalies::new();
        if w.truncated > 0 {
            anomalies.add(TRUNCATED_FRAME);
        }
        let (function, class) = match (self.kind, previous_status) {
            (FrameKind::Cyclic(_), Some(before)) => {
                let now = w.data_status.unwrap_or_default();
                if (before ^ now) & data_status::PROVIDER_STATE != 0 {
                    ("rt_status_change", FunctionClass::Control)
                } else {
                    ("rt_status_change", FunctionClass::Diagnostic)
                }
            }
            (FrameKind::Cyclic(_), None) => ("rt_cyclic", FunctionClass::Other),
            (FrameKind::Ptcp, _) => ("ptcp", FunctionClass::Other),
            (FrameKind::Fragment, _) => ("rt_fragment", FunctionClass::Other),
            _ => {
                anomalies.add(RESERVED_FRAME_ID);
                ("reserved", FunctionClass::Other)
            }
        };
        let fields = RtFields {
            frame_id: Some(self.frame_id),
            rt_class: match self.kind {
                FrameKind::Cyclic(class) => Some(class.name()),
                _ => None,
            },
            frames: Some(w.frames),
            bytes: Some(w.bytes),
            first_packet: Some(w.first_packet),
            total_frames: Some(self.total_frames),
            cycle_counter_first: w.first_cycle,
            cycle_counter: w.last_cycle,
            cycle_counter_gaps: cyclic.then_some(w.gaps),
            cycle_counter_repeats: cyclic.then_some(w.repeats),
            data_status: w.data_status,
            previous_data_status: previous_status,
            data_status_changes: cyclic.then_some(self.changes),
            transfer_status: w.transfer_status,
            transfer_status_errors: cyclic.then_some(w.transfer_errors),
            data_length: w.data_length,
            alarm: None,
        };
        Pdu {
            protocol: Protocol::ProfinetRt,
            is_response: false,
            function_code: Some(u32::from(self.frame_id)),
            function,
            class,
            anomalies,
            fields: ProfinetFields::Rt(Box::new(fields)).into(),
            identity: None,
        }
    }
}

/// The connections of one flow and their counters.
#[derive(Debug, Default)]
pub struct Summaries {
    conns: Vec<Conn>,
}

impl Summaries {
    /// Counts one frame (cyclic, PTCP, fragment or reserved id), emitting
    /// the connection's event when one is due.
    pub fn frame(&mut self, frame_id: u16, kind: FrameKind, payload: &[u8], out: &mut Emitter<'_>) {
        let header = *out.header();
        let direction = out.direction();
        let at = match self
            .conns
            .iter()
            .position(|c| c.direction == direction && c.frame_id == frame_id)
        {
            Some(at) => at,
            None => {
                if self.conns.len() >= MAX_CONNECTIONS {
                    self.evict(out);
                }
                self.conns.push(Conn {
                    direction,
                    frame_id,
                    kind,
                    last_event: header.ts,
                    last_seen: header.ts,
                    header,
                    total_frames: 0,
                    changes: 0,
                    prev_cycle: None,
                    prev_status: None,
                    step: None,
                    window: Window::default(),
                });
                self.conns.len() - 1
            }
        };
        let conn = &mut self.conns[at];
        let first = conn.total_frames == 0;
        let changed = conn.count(payload, header);
        let due = header.ts.0.saturating_sub(conn.last_event.0) >= SUMMARY_INTERVAL_NS;
        if first || changed.is_some() || due {
            out.emit(conn.report(changed));
        }
    }

    /// Reports and forgets the least recently seen connection. Its event is
    /// stamped with the packet that displaced it.
    fn evict(&mut self, out: &mut Emitter<'_>) {
        let Some(at) = (0..self.conns.len()).min_by_key(|&i| self.conns[i].last_seen) else {
            return;
        };
        let mut conn = self.conns.swap_remove(at);
        if conn.window.frames > 0 {
            out.emit(conn.report(None));
        }
    }

    /// Reports the frames not yet counted in an event (the flow ended).
    pub fn flush_all(&mut self, events: &mut Vec<Event>) {
        for conn in &mut self.conns {
            if conn.window.frames > 0 {
                events.push(Event {
                    header: conn.header,
                    pdu: conn.report(None),
                });
            }
        }
    }
}
