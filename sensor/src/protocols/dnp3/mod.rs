//! DNP3 (IEEE 1815) over TCP and UDP: data link frames with their CRCs,
//! transport reassembly of application fragments, and the application layer
//! (function, internal indications, every object header), with requests
//! paired to their responses and responses to their confirms.
//!
//! One event per **application fragment**, when its last transport segment
//! arrives (stamped with that packet). Link frames that complete no fragment
//! are reported only when they carry no transport segment at all (link
//! resets, status requests, acknowledgements: `function` `link_…`,
//! `function_code` null) or when their segment had to be dropped (bad CRC,
//! out of sequence, oversized fragment), with anomalies. Bytes that cannot
//! start a link frame are one `invalid` event per run.
//!
//! Layout: `link` frames and checks CRCs, `transport` reassembles, `app`
//! reads the application header, `objects` walks the object headers; this
//! file holds the event fields, the per-conversation state and the probe.
//! The parser entry points are pure functions of their input bytes:
//! [`link::framing`], [`app::decode`], and [`Dnp3Parser`] through
//! [`StreamParser`] (TCP) and [`DatagramParser`] (UDP), which share one
//! implementation.

pub mod app;
pub mod link;
pub mod objects;
mod transport;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::num::NonZeroU64;

use super::{DatagramParser, Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Nest, Pdu, Protocol, Value, Visitor};
use app::{FunctionCode, IIN_FLAGS};
use link::{Framing, LinkFunction, LinkHeader};
use objects::{Control, ControlKind, ObjectHeader, Objects};
use transport::{Reassembler, Segment, SegmentOutcome};

/// The IANA port of DNP3 over TCP and UDP.
pub const PORT: u16 = 20000;
/// Requests awaiting a response, and responses awaiting a confirm, per
/// conversation. Masters rarely have more than one of each outstanding per
/// outstation; the tables only grow to this under a flood.
pub const MAX_PENDING: usize = 16;

/// Stable anomaly names of this decoder.
/// Every `function` name DNP3 events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0xff_u8)
        .filter_map(|c| app::FunctionCode(c).name())
        .collect();
    for primary in [true, false] {
        names.extend((0..16).map(|code| link::LinkFunction { primary, code }.event_name()));
    }
    names.extend(["unknown", "invalid"]);
    names.sort_unstable();
    names.dedup();
    names
}

pub mod anomaly {
    /// Bytes where a frame should start are not `05 64`.
    pub const INVALID_START_BYTES: &str = "invalid_start_bytes";
    /// The header CRC is wrong: the length cannot be trusted.
    pub const HEADER_CRC_MISMATCH: &str = "header_crc_mismatch";
    /// The length byte is below 5 (control and addresses).
    pub const LINK_LENGTH_TOO_SHORT: &str = "link_length_too_short";
    /// A UDP datagram ends inside a frame.
    pub const TRUNCATED_LINK_FRAME: &str = "truncated_link_frame";
    /// A user data block has a wrong CRC: the frame is dropped, as a
    /// device would drop it (`crc_errors` counts the blocks).
    pub const DATA_CRC_MISMATCH: &str = "data_crc_mismatch";
    /// A link function the standard does not define.
    pub const UNKNOWN_LINK_FUNCTION: &str = "unknown_link_function";
    /// User data in a frame whose function carries none.
    pub const UNEXPECTED_USER_DATA: &str = "unexpected_user_data";
    /// A user data frame without even a transport header.
    pub const MISSING_USER_DATA: &str = "missing_user_data";
    /// A transport segment that continues a fragment nobody started.
    pub const TRANSPORT_SEGMENT_WITHOUT_FIR: &str = "transport_segment_without_fir";
    /// A transport segment out of sequence: the fragment is dropped.
    pub const TRANSPORT_SEQUENCE_ERROR: &str = "transport_sequence_error";
    /// A new fragment started before the previous one ended; the previous
    /// one was dropped.
    pub const INCOMPLETE_FRAGMENT_DISCARDED: &str = "incomplete_fragment_discarded";
    /// A fragment grew past the reassembly cap and was dropped.
    pub const FRAGMENT_TOO_LARGE: &str = "fragment_too_large";
    /// Too many fragments in progress at once: the oldest was dropped.
    pub const REASSEMBLY_TABLE_FULL: &str = "reassembly_table_full";
    /// The fragment is shorter than its application header (2 bytes, 4 for responses).
    pub const TRUNCATED_APPLICATION_HEADER: &str = "truncated_application_header";
    pub const UNKNOWN_FUNCTION_CODE: &str = "unknown_function_code";
    /// UNS set on anything but an unsolicited response (or its confirm), or
    /// missing on an unsolicited response.
    pub const UNSOLICITED_BIT_MISMATCH: &str = "unsolicited_bit_mismatch";
    /// An object header cut short (qualifier or range field missing).
    pub const TRUNCATED_OBJECT_HEADER: &str = "truncated_object_header";
    /// Object data runs past the end of the fragment.
    pub const TRUNCATED_OBJECT_DATA: &str = "truncated_object_data";
    /// An object whose size is unknown and not given by its qualifier:
    /// the headers after it cannot be found.
    pub const UNKNOWN_OBJECT_SIZE: &str = "unknown_object_size";
    /// A start–stop range whose stop is below its start.
    pub const INVALID_RANGE: &str = "invalid_range";
    /// A reserved qualifier: range code 10 or 12–15, prefix code 7, or bit 7 set.
    pub const RESERVED_QUALIFIER: &str = "reserved_qualifier";
    /// A device attribute (g0) with a data type code the standard does not define.
    pub const UNKNOWN_ATTRIBUTE_TYPE: &str = "unknown_attribute_type";
    /// One byte left after the last object header.
    pub const TRAILING_BYTES: &str = "trailing_bytes";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_START_BYTES,
        HEADER_CRC_MISMATCH,
        LINK_LENGTH_TOO_SHORT,
        TRUNCATED_LINK_FRAME,
        DATA_CRC_MISMATCH,
        UNKNOWN_LINK_FUNCTION,
        UNEXPECTED_USER_DATA,
        MISSING_USER_DATA,
        TRANSPORT_SEGMENT_WITHOUT_FIR,
        TRANSPORT_SEQUENCE_ERROR,
        INCOMPLETE_FRAGMENT_DISCARDED,
        FRAGMENT_TOO_LARGE,
        REASSEMBLY_TABLE_FULL,
        TRUNCATED_APPLICATION_HEADER,
        UNKNOWN_FUNCTION_CODE,
        UNSOLICITED_BIT_MISMATCH,
        TRUNCATED_OBJECT_HEADER,
        TRUNCATED_OBJECT_DATA,
        UNKNOWN_OBJECT_SIZE,
        INVALID_RANGE,
        RESERVED_QUALIFIER,
        UNKNOWN_ATTRIBUTE_TYPE,
        TRAILING_BYTES,
    ];
}
use anomaly::*;

/// DNP3 fields of one event. Absent (`None`) fields are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dnp3Fields {
    /// Link header of the (last) frame; `None` on bytes that are not a frame.
    pub link: Option<LinkHeader>,
    /// Link frames whose segments made the fragment.
    pub link_frames: Option<u16>,
    /// Packet of the first of several link frames of a fragment.
    pub first_packet: Option<NonZeroU64>,
    /// User data blocks with a wrong CRC.
    pub crc_errors: Option<u8>,
    /// Transport header of the (last) segment.
    pub transport: Option<u8>,
    /// Application control byte.
    pub app_control: Option<u8>,
    /// Internal indications of a response (Wireshark `dnp3.al.iin`).
    pub iin: Option<u16>,
    /// Bytes of the application fragment.
    pub fragment_length: Option<u16>,
    pub objects: Objects,
    /// Packet and function of the request a response answers.
    pub request_packet: Option<NonZeroU64>,
    pub request_function_code: Option<u8>,
    /// Bytes skipped as not DNP3 (on `invalid` events only).
    pub skipped_bytes: Option<u32>,
}

impl Dnp3Fields {
    /// Names of the internal indications that are set.
    pub fn iin_names(&self) -> impl Iterator<Item = &'static str> {
        let iin = self.iin.unwrap_or(0);
        IIN_FLAGS
            .iter()
            .filter(move |(bit, _)| iin & bit != 0)
            .map(|&(_, name)| name)
    }

    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value.into()));
            }
        }
        fn b(v: &mut dyn Visitor, name: &str, value: Option<bool>) {
            if let Some(value) = value {
                v.field(name, Value::Bool(value));
            }
        }
        if let Some(l) = &self.link {
            u(v, "source", Some(l.source));
            u(v, "destination", Some(l.destination));
            u(v, "link_length", Some(l.length));
            u(v, "link_control", Some(l.control));
            b(v, "link_dir", Some(l.from_master()));
            b(v, "link_primary", Some(l.primary()));
            u(v, "link_function_code", Some(l.function().code));
            if let Some(name) = l.function().name() {
                v.field("link_function", Value::Str(name));
            }
        }
        u(v, "link_frames", self.link_frames);
        u(v, "first_packet", self.first_packet.map(NonZeroU64::get));
        u(v, "crc_errors", self.crc_errors);
        if let Some(t) = self.transport {
            b(v, "transport_fir", Some(t & transport::FIR != 0));
            b(v, "transport_fin", Some(t & transport::FIN != 0));
            u(v, "transport_seq", Some(t & transport::SEQ));
        }
        if let Some(c) = self.app_control {
            b(v, "fir", Some(c & app::control::FIR != 0));
            b(v, "fin", Some(c & app::control::FIN != 0));
            b(v, "con", Some(c & app::control::CON != 0));
            b(v, "unsolicited", Some(c & app::control::UNS != 0));
            u(v, "app_seq", Some(c & app::control::SEQ));
        }
        if self.iin.is_some() {
            v.begin("iin", Nest::List);
            for name in self.iin_names() {
                v.field("", Value::Str(name));
            }
            v.end();
        }
        u(v, "iin_value", self.iin);
        u(v, "fragment_length", self.fragment_length);
        let objects = &self.objects;
        if !objects.headers.is_empty() {
            let mut buf = [0u8; 8];
            v.begin("objects", Nest::List);
            for h in &objects.headers {
                v.field("", Value::Str(h.name(&mut buf)));
            }
            v.end();
            v.begin("object_headers", Nest::List);
            for h in &objects.headers {
                visit_header(v, h);
            }
            v.end();
        }
        if usize::from(objects.count) > objects.headers.len() {
            u(v, "object_count", Some(objects.count));
        }
        if !objects.controls.is_empty() {
            v.begin("controls", Nest::List);
            for c in &objects.controls {
                visit_control(v, c);
            }
            v.end();
        }
        u(
            v,
            "request_packet",
            self.request_packet.map(NonZeroU64::get),
        );
        u(v, "request_function_code", self.request_function_code);
        if let Some(name) = self
            .request_function_code
            .and_then(|c| FunctionCode(c).name())
        {
            v.field("request_function", Value::Str(name));
        }
        u(v, "skipped_bytes", self.skipped_bytes);
    }
}

fn visit_header(v: &mut dyn Visitor, h: &ObjectHeader) {
    let u = |v: &mut dyn Visitor, name: &str, value: Option<u32>| {
        if let Some(value) = value {
            v.field(name, Value::U64(value.into()));
        }
    };
    v.begin("", Nest::Object);
    v.field("group", Value::U64(h.group.into()));
    v.field("variation", Value::U64(h.variation.into()));
    u(v, "qualifier", h.qualifier.map(u32::from));
    u(v, "prefix_code", h.prefix_code().map(u32::from));
    u(v, "range_code", h.range_code().map(u32::from));
    u(v, "start", h.start);
    u(v, "stop", h.stop);
    u(v, "quantity", h.quantity);
    u(v, "address", h.address);
    v.end();
}

fn visit_control(v: &mut dyn Visitor, c: &Control) {
    let mut buf = [0u8; 8];
    let name = ObjectHeader {
        group: c.group,
        variation: c.variation,
        ..ObjectHeader::default()
    };
    v.begin("", Nest::Object);
    v.field("object", Value::Str(name.name(&mut buf)));
    v.field("index", Value::U64(c.index.into()));
    match c.kind {
        ControlKind::Relay {
            code,
            count,
            on_time,
            off_time,
        } => {
            v.field("control_code", Value::U64(code.into()));
            v.field("operation", Value::Str(ControlKind::operation(code)));
            v.field("trip_close", Value::Str(ControlKind::trip_close(code)));
            v.field("count", Value::U64(count.into()));
            v.field("on_time", Value::U64(on_time.into()));
            v.field("off_time", Value::U64(off_time.into()));
        }
        ControlKind::AnalogInt(value) => v.field("value", Value::I64(value.into())),
        ControlKind::AnalogFloat(value) => {
            // The JSON writer has no float: the value is given as its text.
            let mut text = String::new();
            let _ = write!(text, "{value}");
            v.field("value", Value::Str(&text));
        }
    }
    v.field("status", Value::U64(c.status.into()));
    v.field(
        "status_name",
        Value::Str(objects::control_status_name(c.status)),
    );
    v.end();
}

/// A request awaiting its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    master: u16,
    outstation: u16,
    /// Application sequence the next response fragment will carry.
    seq: u8,
    function: FunctionCode,
    class: FunctionClass,
    packet: u64,
}

/// A response or unsolicited response that asked for a confirm.
#[derive(Clone, Copy, Debug)]
struct Confirmable {
    master: u16,
    outstation: u16,
    seq: u8,
    class: FunctionClass,
}

/// Per-conversation DNP3 state: the fragments being reassembled in each
/// direction, requests awaiting responses, responses awaiting confirms.
///
/// The parser keeps no partial link frames: an incomplete frame is left
/// unconsumed for the caller to present again (at most one frame, 292
/// bytes). Bytes that cannot start a frame are reported as one `invalid`
/// event and skipped up to the next `05 64` whose header CRC holds.
#[derive(Debug, Default)]
pub struct Dnp3Parser {
    reassembly: [Reassembler; 2],
    /// Oldest first.
    pending: VecDeque<Pending>,
    confirmable: VecDeque<Confirmable>,
}

impl Dnp3Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the frames at the start of `data`; with `whole` (a UDP
    /// datagram) an incomplete frame at the end is reported as truncated
    /// instead of being left for more bytes. Returns the bytes consumed.
    fn frames(&mut self, data: &[u8], whole: bool, out: &mut Emitter<'_>) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match link::framing(rest) {
                Framing::Frame(size, header) => {
                    self.frame(rest.get(..size).unwrap_or(rest), header, out);
                    consumed += size;
                }
                Framing::Incomplete if whole => {
                    let header = (rest.len() >= link::HEADER_LEN).then(|| LinkHeader::read(rest));
                    self.invalid(rest, TRUNCATED_LINK_FRAME, header, out);
                    consumed = data.len();
                }
                Framing::Incomplete => break,
                Framing::Invalid(reason, header) => {
                    let skip = (1..rest.len())
                        .find(|&at| rest.get(at..).is_some_and(link::plausible_start))
                        .unwrap_or(rest.len());
                    self.invalid(rest.get(..skip).unwrap_or(rest), reason, header, out);
                    consumed += skip;
                }
            }
        }
        consumed
    }

    /// One whole link frame.
    fn frame(&mut self, frame: &[u8], header: LinkHeader, out: &mut Emitter<'_>) {
        let mut data = [0u8; link::MAX_USER_DATA];
        let (len, crc_errors) = link::user_data(frame, &mut data);
        let data = data.get(..len).unwrap_or_default();
        let function = header.function();
        let mut a = Anomalies::new();
        if function.name().is_none() {
            a.add(UNKNOWN_LINK_FUNCTION);
        }
        if crc_errors > 0 {
            a.add(DATA_CRC_MISMATCH);
        }
        let mut f = Dnp3Fields {
            link: Some(header),
            crc_errors: (crc_errors > 0).then_some(crc_errors),
            ..Dnp3Fields::default()
        };
        if !function.carries_user_data() {
            if !data.is_empty() {
                a.add(UNEXPECTED_USER_DATA);
            }
            return self.link_event(f, a, out);
        }
        let Some((&transport_header, payload)) = data.split_first() else {
            a.add(MISSING_USER_DATA);
            return self.link_event(f, a, out);
        };
        f.transport = Some(transport_header);
        if crc_errors > 0 {
            // A device drops the frame; so does the reassembly.
            return self.link_event(f, a, out);
        }
        let segment = Segment {
            source: header.source,
            destination: header.destination,
            transport: transport_header,
            payload,
            packet: out.header().packet,
        };
        match self.reassembly[out.direction().index()].segment(segment) {
            SegmentOutcome::Buffered => {}
            SegmentOutcome::Dropped(reason) => {
                a.add(reason);
                self.link_event(f, a, out);
            }
            SegmentOutcome::Complete(done) => {
                for reason in done.anomalies.iter() {
                    a.add(reason);
                }
                f.link_frames = Some(done.frames);
                f.first_packet = NonZeroU64::new(done.first_packet).filter(|_| done.frames > 1);
                let fragment = done.bytes.as_deref().unwrap_or(payload);
                self.fragment(fragment, f, a, out);
            }
        }
    }

    /// A frame that completes no fragment.
    fn link_event(&mut self, f: Dnp3Fields, a: Anomalies, out: &mut Emitter<'_>) {
        let function = f.link.map(|l| l.function());
        out.emit(Pdu {
            protocol: Protocol::Dnp3,
            is_response: function.is_some_and(|l| !l.primary),
            function_code: None,
            function: function.map_or("invalid", LinkFunction::event_name),
            // Link resets, tests and status requests keep the link alive.
            class: if function.is_some_and(|l| !l.carries_user_data()) {
                FunctionClass::Session
            } else {
                FunctionClass::Other
            },
            anomalies: a,
            fields: Fields::Dnp3(f),
            identity: None,
        });
    }

    /// Bytes that are not a link frame.
    fn invalid(
        &mut self,
        skipped: &[u8],
        reason: &'static str,
        header: Option<LinkHeader>,
        out: &mut Emitter<'_>,
    ) {
        let mut a = Anomalies::new();
        a.add(reason);
        let f = Dnp3Fields {
            link: header,
            skipped_bytes: Some(u32::try_from(skipped.len()).unwrap_or(u32::MAX)),
            ..Dnp3Fields::default()
        };
        out.emit(Pdu {
            protocol: Protocol::Dnp3,
            is_response: out.direction() == Direction::ToClient,
            function_code: None,
            function: "invalid",
            class: FunctionClass::Other,
            anomalies: a,
            fields: Fields::Dnp3(f),
            identity: None,
        });
    }

    /// A complete application fragment.
    fn fragment(
        &mut self,
        fragment: &[u8],
        mut f: Dnp3Fields,
        mut a: Anomalies,
        out: &mut Emitter<'_>,
    ) {
        let decoded = app::decode(fragment, &mut a);
        f.app_control = decoded.control;
        f.iin = decoded.iin;
        f.fragment_length = Some(u16::try_from(fragment.len()).unwrap_or(u16::MAX));
        let identity = decoded.objects.identity.clone();
        f.objects = decoded.objects;
        let Some(function) = decoded.function else {
            return self.link_event(f, a, out);
        };
        let link = f.link.unwrap_or_default();
        let control = decoded.control.unwrap_or_default();
        let seq = control & app::control::SEQ;
        let class = match function {
            FunctionCode::RESPONSE | FunctionCode::AUTHENTICATE_RESPONSE => {
                let answered = self.answer(link.destination, link.source, seq, control, &mut f);
                answered.unwrap_or(function.class())
            }
            FunctionCode::CONFIRM => self
                .confirm(link.source, link.destination, seq)
                .unwrap_or(FunctionClass::Other),
            FunctionCode::UNSOLICITED_RESPONSE => FunctionClass::Other,
            _ => {
                let class = function.class();
                if function.name().is_some() && !function.expects_no_response() {
                    self.request(Pending {
                        master: link.source,
                        outstation: link.destination,
                        seq,
                        function,
                        class,
                        packet: out.header().packet,
                    });
                }
                class
            }
        };
        if function.is_response() && control & app::control::CON != 0 {
            if self.confirmable.len() >= MAX_PENDING {
                self.confirmable.pop_front();
            }
            self.confirmable.push_back(Confirmable {
                master: link.destination,
                outstation: link.source,
                seq,
                class,
            });
        }
        out.emit(Pdu {
            protocol: Protocol::Dnp3,
            is_response: function.is_response(),
            function_code: Some(function.0.into()),
            function: function.name().unwrap_or("unknown"),
            class,
            anomalies: a,
            identity: if function.is_response() {
                identity.filter(|id| !id.is_empty())
            } else {
                None
            },
            fields: Fields::Dnp3(f),
        });
    }

    /// Records a request; a retry with the same sequence replaces the first.
    fn request(&mut self, request: Pending) {
        self.pending.retain(|p| {
            (p.master, p.outstation, p.seq) != (request.master, request.outstation, request.seq)
        });
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(request);
    }

    /// Pairs a response fragment with its request: the first fragment carries
    /// the request's sequence, each further one the next. Returns the class
    /// of the request.
    fn answer(
        &mut self,
        master: u16,
        outstation: u16,
        seq: u8,
        control: u8,
        f: &mut Dnp3Fields,
    ) -> Option<FunctionClass> {
        let at = self
            .pending
            .iter()
            .position(|p| p.master == master && p.outstation == outstation && p.seq == seq)?;
        let p = self.pending.get_mut(at)?;
        f.request_packet = NonZeroU64::new(p.packet);
        f.request_function_code = Some(p.function.0);
        let class = p.class;
        if control & app::control::FIN != 0 {
            self.pending.remove(at);
        } else {
            p.seq = (seq + 1) & app::control::SEQ;
        }
        Some(class)
    }

    /// The class of the response a confirm acknowledges.
    fn confirm(&mut self, master: u16, outstation: u16, seq: u8) -> Option<FunctionClass> {
        let at = self
            .confirmable
            .iter()
            .rposition(|c| c.master == master && c.outstation == outstation && c.seq == seq)?;
        self.confirmable.remove(at).map(|c| c.class)
    }
}

impl StreamParser for Dnp3Parser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        self.frames(data, false, out)
    }

    /// Fragments being reassembled in `dir` lost a segment: they are dropped.
    /// Pairing state stays (the answers may still come).
    fn gap(&mut self, dir: Direction) {
        self.reassembly[dir.index()].clear();
    }
}

impl DatagramParser for Dnp3Parser {
    /// A datagram holds one or more whole link frames.
    fn parse(&mut self, datagram: &[u8], out: &mut Emitter<'_>) {
        self.frames(datagram, true, out);
    }
}

/// Recognises DNP3 by structure: the start bytes `05 64` and a header whose
/// CRC holds (a 16-bit CRC over 8 bytes: chance agreement is 1 in 65536).
/// Fewer than 10 bytes that start like a header give `NeedMore`.
///
/// On the well-known port that is enough, whatever the length says (fuzzers
/// send bad lengths, and they must be seen). Elsewhere the evidence must be
/// stronger: a length of at least 5, a defined link function, and the whole
/// first frame with every block CRC correct (`NeedMore` until it is whole).
/// HTTP, TLS, Modbus and TPKT never start with `05 64` and a valid CRC.
pub fn probe(data: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    match link::framing(data) {
        Framing::Invalid(_, header) => {
            if on_known_port && header.is_some() {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
        Framing::Incomplete => {
            if on_known_port && data.len() >= link::HEADER_LEN {
                Probe::Match
            } else {
                Probe::NeedMore
            }
        }
        Framing::Frame(size, header) => {
            if on_known_port {
                return Probe::Match;
            }
            let mut buf = [0u8; link::MAX_USER_DATA];
            let (_, crc_errors) = link::user_data(data.get(..size).unwrap_or(data), &mut buf);
            if crc_errors == 0 && header.function().name().is_some() {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
    }
}
