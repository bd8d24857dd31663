//! Unit tests: inline frames (what follows the ethertype), one comment per
//! field. The SV frame and the two malformed GOOSE frames are those of the
//! public captures under `../shared/pcaps/goose/` and `../shared/pcaps/sv/`,
//! as Wireshark decodes them; the others are written for the case, the
//! tracking sequences with a small BER builder.

use super::data::{Content, DataType};
use super::sv::{SvFields, SvParser};
use super::*;
use crate::event::{Event, Header as EventHeader, Transport};
use crate::protocols::{Direction, detect_frame};
use crate::time::Timestamp;

const T0: i64 = 1_700_000_000;

fn event_header(packet: u64, ts: Timestamp) -> EventHeader {
    EventHeader {
        ts,
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: Some([0x00, 0x0a, 0xdc, 0x00, 0x00, 0x01]),
        dst_mac: Some([0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01]),
        src_ip: None,
        dst_ip: None,
        src_port: None,
        dst_port: None,
        transport: Transport::Ethernet,
    }
}

/// Frames of one flow through one parser, each at a given time.
struct Flow<P: FrameParser> {
    parser: P,
    events: Vec<Event>,
}

impl<P: FrameParser> Flow<P> {
    fn new(parser: P) -> Self {
        Flow {
            parser,
            events: Vec::new(),
        }
    }

    /// Presents one frame at `ms` milliseconds past T0; returns its one event.
    fn frame(&mut self, ms: i64, payload: &[u8]) -> Pdu {
        let ts = Timestamp(T0 * 1_000_000_000 + ms * 1_000_000);
        let packet = self.events.len() as u64 + 1;
        let before = self.events.len();
        let mut out = Emitter::new(
            event_header(packet, ts),
            Direction::ToServer,
            &mut self.events,
        );
        self.parser.parse(payload, &mut out);
        assert_eq!(self.events.len(), before + 1, "one event per frame");
        self.events[before].pdu.clone()
    }
}

fn goose(pdu: &Pdu) -> &GooseFields {
    match &pdu.fields {
        Fields::Goose(f) => f,
        other => panic!("not GOOSE fields: {other:?}"),
    }
}

fn sv_fields(pdu: &Pdu) -> &SvFields {
    match &pdu.fields {
        Fields::Sv(f) => f,
        other => panic!("not SV fields: {other:?}"),
    }
}

fn names(a: &Anomalies) -> Vec<&'static str> {
    a.iter().collect()
}

// ------------------------------------------------------------ BER builder

/// A TLV with a definite length (short or long form).
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match value.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// A minimal BER INTEGER for a non-negative value.
fn int(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    let mut out = bytes[start..].to_vec();
    if out[0] & 0x80 != 0 {
        out.insert(0, 0);
    }
    out
}

/// The 8-octet header followed by `pdu`, with the length filled in.
fn frame(appid: u16, reserved1: u16, pdu: &[u8]) -> Vec<u8> {
    let mut out = appid.to_be_bytes().to_vec();
    out.extend(((pdu.len() + 8) as u16).to_be_bytes());
    out.extend(reserved1.to_be_bytes());
    out.extend([0, 0]);
    out.extend_from_slice(pdu);
    out
}

/// What a GOOSE frame of the tracking tests varies.
#[derive(Clone)]
struct G {
    gocb: &'static str,
    ttl: u64,
    st: u64,
    sq: u64,
    conf_rev: u64,
    data: Vec<u8>,
    simulation: bool,
    s_bit: bool,
}

impl G {
    fn new(st: u64, sq: u64) -> G {
        G {
            gocb: "IED1LD0/LLN0$GO$gcb1",
            ttl: 2000,
            st,
            sq,
            conf_rev: 1,
            data: [tlv(0x83, &[0x00]), tlv(0x84, &[0x03, 0x00, 0x00])].concat(),
            simulation: false,
            s_bit: false,
        }
    }

    fn data(mut self, data: Vec<u8>) -> G {
        self.data = data;
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut pdu = tlv(0x80, self.gocb.as_bytes());
        pdu.extend(tlv(0x81, &int(self.ttl)));
        pdu.extend(tlv(0x82, b"IED1LD0/LLN0$DS1"));
        pdu.extend(tlv(0x83, b"goose1"));
        pdu.extend(tlv(0x84, &[0x65, 0x53, 0xf1, 0x00, 0x80, 0x00, 0x00, 0x0a]));
        pdu.extend(tlv(0x85, &int(self.st)));
        pdu.extend(tlv(0x86, &int(self.sq)));
        pdu.extend(tlv(0x87, &[u8::from(self.simulation)]));
        pdu.extend(tlv(0x88, &int(self.conf_rev)));
        pdu.extend(tlv(0x89, &[0x00]));
        let entries = super::data::walk(&self.data, false).entries;
        pdu.extend(tlv(0x8a, &int(entries.into())));
        pdu.extend(tlv(0xab, &self.data));
        let reserved1 = if self.s_bit { 0x8000 } else { 0 };
        frame(0x0001, reserved1, &tlv(0x61, &pdu))
    }
}

// ------------------------------------------------------------------ GOOSE

/// A complete GOOSE frame with one value of each common type.
const GOOSE_FRAME: [u8; 123] = [
    0x10, 0x01, // APPID 0x1001
    0x00, 0x7b, // length 123
    0x00, 0x00, // reserved 1: no simulation bit
    0x00, 0x00, // reserved 2
    0x61, 0x71, // goosePdu, 113 octets
    0x80, 0x0e, b'L', b'D', b'1', b'/', b'L', b'L', b'N', b'0', b'$', b'G', b'O', b'$', b'g',
    b'1', // gocbRef "LD1/LLN0$GO$g1"
    0x81, 0x02, 0x07, 0xd0, // timeAllowedtoLive 2000 ms
    0x82, 0x0c, b'L', b'D', b'1', b'/', b'L', b'L', b'N', b'0', b'$', b'd', b's',
    b'1', // datSet "LD1/LLN0$ds1"
    0x83, 0x03, b'i', b'd', b'1', // goID "id1"
    0x84, 0x08, 0x38, 0x6e, 0xbb, 0xf3, // t: seconds 946781171 (2000-01-02 02:46:11)
    0x42, 0x17, 0x28, // fraction 0x421728 / 2^24
    0x0a, // quality: accuracy 10 bits
    0x85, 0x01, 0x05, // stNum 5
    0x86, 0x01, 0x02, // sqNum 2
    0x87, 0x01, 0x00, // simulation false
    0x88, 0x01, 0x01, // confRev 1
    0x89, 0x01, 0x00, // ndsCom false
    0x8a, 0x01, 0x07, // numDatSetEntries 7
    0xab, 0x2c, // allData, 44 octets
    0x83, 0x01, 0xff, // boolean true
    0x84, 0x02, 0x06, 0x40, // bit-string, 6 unused: "01" (Dbpos off)
    0x84, 0x03, 0x03, 0x00, 0x00, // bit-string of 13 bits: a quality, good
    0x85, 0x02, 0xff, 0x38, // integer -200
    0x86, 0x03, 0x00, 0x80, 0x00, // unsigned 32768
    0x87, 0x05, 0x08, 0x42, 0x48, 0x00, 0x00, // floating-point, single: 50.0
    0xa2, 0x0e, // structure of two:
    0x8a, 0x02, b'o', b'k', // visible-string "ok"
    0x91, 0x08, 0x38, 0x6e, 0xbb, 0xf3, 0x42, 0x17, 0x28, 0x0a, // utc-time
];

#[test]
fn goose_frame_decodes_every_field() {
    let d = decode(&GOOSE_FRAME);
    assert_eq!(d.kind, Kind::Goose);
    assert!(d.anomalies.is_empty(), "{:?}", names(&d.anomalies));
    let f = &d.fields;
    let h = f.header.unwrap();
    assert_eq!((h.appid, h.length, h.simulation()), (0x1001, 123, false));
    assert_eq!(f.gocb_ref.as_deref(), Some("LD1/LLN0$GO$g1"));
    assert_eq!(f.time_allowed_to_live, Some(2000));
    assert_eq!(f.dat_set.as_deref(), Some("LD1/LLN0$ds1"));
    assert_eq!(f.go_id.as_deref(), Some("id1"));
    let t = f.t.unwrap();
    let mut buf = [0u8; 30];
    // Wireshark: "Jan  2, 2000 02:46:11.258165836 UTC".
    assert_eq!(t.render(&mut buf), "2000-01-02T02:46:11.258165836Z");
    assert_eq!(t.time_accuracy(), 10);
    assert!(!t.clock_failure() && !t.clock_not_synchronized() && !t.leap_seconds_known());
    assert_eq!(
        (f.st_num, f.sq_num, f.conf_rev),
        (Some(5), Some(2), Some(1))
    );
    assert_eq!((f.simulation, f.nds_com), (Some(false), Some(false)));
    assert_eq!(f.num_dat_set_entries, Some(7));
    let all = f.all_data.as_ref().unwrap();
    assert_eq!(all.entries, 7);
    assert_eq!(all.test, Some(false));
    let values: Vec<(u32, DataType, &Content)> = all
        .values
        .iter()
        .map(|v| (v.entry, v.kind, &v.content))
        .collect();
    assert_eq!(
        values,
        [
            (0, DataType::Boolean, &Content::Bool(true)),
            (
                1,
                DataType::BitString,
                &Content::Bits {
                    bits: 0x40 << 56,
                    len: 2
                }
            ),
            (2, DataType::BitString, &Content::Bits { bits: 0, len: 13 }),
            (3, DataType::Integer, &Content::Int(-200)),
            (4, DataType::Unsigned, &Content::Uint(32768)),
            (5, DataType::FloatingPoint, &Content::Float(50.0)),
            (6, DataType::VisibleString, &Content::Text("ok".into())),
            (6, DataType::UtcTime, &Content::Time(t)),
        ]
    );
    assert!(d.data_hash.is_some());
}

/// Records what a visitor is given, nesting included.
#[derive(Default)]
struct Written(Vec<String>);

impl Visitor for Written {
    fn field(&mut self, name: &str, value: Value<'_>) {
        self.0.push(format!("{name}={value:?}"));
    }
    fn begin(&mut self, name: &str, nest: Nest) {
        let open = if nest == Nest::List { "[" } else { "{" };
        self.0.push(format!("{name}{open}"));
    }
    fn end(&mut self) {
        self.0.push("}".into());
    }
}

#[test]
fn goose_fields_are_written_in_order() {
    let mut flow = Flow::new(GooseParser::new());
    let pdu = flow.frame(0, &GOOSE_FRAME);
    assert_eq!(
        (pdu.protocol, pdu.function, pdu.class, pdu.function_code),
        (Protocol::Goose, PUBLISH, FunctionClass::Control, None)
    );
    assert!(!pdu.is_response);
    let mut w = Written::default();
    pdu.fields.visit(&mut w);
    let head: Vec<&str> = w.0.iter().take(22).map(String::as_str).collect();
    assert_eq!(
        head,
        [
            "appid=U64(4097)",
            "length=U64(123)",
            "simulation_bit=Bool(false)",
            "gocb_ref=Str(\"LD1/LLN0$GO$g1\")",
            "time_allowed_to_live=U64(2000)",
            "dat_set=Str(\"LD1/LLN0$ds1\")",
            "go_id=Str(\"id1\")",
            "t=Str(\"2000-01-02T02:46:11.258165836Z\")",
            "t_leap_seconds_known=Bool(false)",
            "t_clock_failure=Bool(false)",
            "t_clock_not_synchronized=Bool(false)",
            "t_time_accuracy=U64(10)",
            "st_num=U64(5)",
            "sq_num=U64(2)",
            "simulation=Bool(false)",
            "conf_rev=U64(1)",
            "nds_com=Bool(false)",
            "num_dat_set_entries=U64(7)",
            "all_data_entries=U64(7)",
            "test=Bool(false)",
            "values[",
            "{",
        ]
    );
    assert!(w.0.contains(&"value=Str(\"01\")".to_string()));
    assert!(w.0.contains(&"value=F64(50.0)".to_string()));
    assert!(w.0.contains(&"type=Str(\"utc_time\")".to_string()));
}

/// The frame of `goose_truncated.pcap`: its header says 145 octets, the
/// capture holds 133; allData is cut inside its sixth entry.
const TRUNCATED_FRAME: [u8; 133] = [
    0x00, 0x01, // APPID 1
    0x00, 0x91, // length 145 (more than the frame)
    0x00, 0x00, 0x00, 0x00, // reserved 1, reserved 2
    0x61, 0x81, 0x86, // goosePdu, 134 octets
    0x80, 0x1a, b'G', b'E', b'D', b'e', b'v', b'i', b'c', b'e', b'F', b'6', b'5', b'0', b'/', b'L',
    b'L', b'N', b'0', b'$', b'G', b'O', b'$', b'g', b'c', b'b', b'0',
    b'1', // gocbRef "GEDeviceF650/LLN0$GO$gcb01"
    0x81, 0x03, 0x00, 0x9c, 0x40, // timeAllowedtoLive 40000
    0x82, 0x18, b'G', b'E', b'D', b'e', b'v', b'i', b'c', b'e', b'F', b'6', b'5', b'0', b'/', b'L',
    b'L', b'N', b'0', b'$', b'G', b'O', b'O', b'S', b'E',
    b'1', // datSet "GEDeviceF650/LLN0$GOOSE1"
    0x83, 0x0b, b'F', b'6', b'5', b'0', b'_', b'G', b'O', b'O', b'S', b'E',
    b'1', // goID "F650_GOOSE1"
    0x84, 0x08, 0x38, 0x6e, 0xbb, 0xf3, 0x42, 0x17, 0x28, 0x0a, // t
    0x85, 0x01, 0x01, // stNum 1
    0x86, 0x01, 0x0a, // sqNum 10
    0x87, 0x01, 0x00, // simulation false
    0x88, 0x01, 0x01, // confRev 1
    0x89, 0x01, 0x00, // ndsCom false
    0x8a, 0x01, 0x08, // numDatSetEntries 8
    0xab, 0x20, // allData, 32 octets (17 present)
    0x83, 0x01, 0x00, // boolean false
    0x84, 0x03, 0x03, 0x00, 0x00, // quality
    0x83, 0x01, 0x00, // boolean false
    0x84, 0x03, 0x03, 0x00, 0x00, // quality
    0x83, 0x01, 0x00, // boolean false
    0x84, // the frame ends in the next identifier
];

#[test]
fn truncated_goose_keeps_the_fields_before_the_cut() {
    let d = decode(&TRUNCATED_FRAME);
    assert_eq!(d.kind, Kind::Goose);
    assert_eq!(names(&d.anomalies), [TRUNCATED_PDU]);
    let f = &d.fields;
    assert_eq!(f.gocb_ref.as_deref(), Some("GEDeviceF650/LLN0$GO$gcb01"));
    assert_eq!(f.time_allowed_to_live, Some(40000));
    assert_eq!(f.go_id.as_deref(), Some("F650_GOOSE1"));
    assert_eq!(
        (f.st_num, f.sq_num, f.num_dat_set_entries),
        (Some(1), Some(10), Some(8))
    );
    let all = f.all_data.as_ref().unwrap();
    assert_eq!((all.entries, all.values.len()), (5, 5));
    // Fields cut off are not reported as missing.
    assert!(f.missing_fields.is_empty());
}

/// The frame of `goose_missing_gocb_ref.pcap`: the PDU starts at
/// timeAllowedtoLive.
const MISSING_GOCB_REF_FRAME: [u8; 117] = [
    0x00, 0x01, // APPID 1
    0x00, 0x75, // length 117
    0x00, 0x00, 0x00, 0x00, // reserved 1, reserved 2
    0x61, 0x81, 0x6a, // goosePdu, 106 octets
    0x81, 0x03, 0x00, 0x9c, 0x40, // timeAllowedtoLive 40000 (no gocbRef before it)
    0x82, 0x18, b'G', b'E', b'D', b'e', b'v', b'i', b'c', b'e', b'F', b'6', b'5', b'0', b'/', b'L',
    b'L', b'N', b'0', b'$', b'G', b'O', b'O', b'S', b'E', b'1', // datSet
    0x83, 0x0b, b'F', b'6', b'5', b'0', b'_', b'G', b'O', b'O', b'S', b'E', b'1', // goID
    0x84, 0x08, 0x38, 0x6e, 0xbb, 0xf3, 0x42, 0x17, 0x28, 0x0a, // t
    0x85, 0x01, 0x01, // stNum 1
    0x86, 0x01, 0x0a, // sqNum 10
    0x87, 0x01, 0x00, // simulation false
    0x88, 0x01, 0x01, // confRev 1
    0x89, 0x01, 0x00, // ndsCom false
    0x8a, 0x01, 0x08, // numDatSetEntries 8
    0xab, 0x20, // allData, 32 octets: four (boolean, quality) pairs
    0x83, 0x01, 0x00, 0x84, 0x03, 0x03, 0x00, 0x00, //
    0x83, 0x01, 0x00, 0x84, 0x03, 0x03, 0x00, 0x00, //
    0x83, 0x01, 0x00, 0x84, 0x03, 0x03, 0x00, 0x00, //
    0x83, 0x01, 0x00, 0x84, 0x03, 0x03, 0x00, 0x00, //
];

#[test]
fn goose_without_gocb_ref_is_reported_and_not_tracked() {
    let mut flow = Flow::new(GooseParser::new());
    let pdu = flow.frame(0, &MISSING_GOCB_REF_FRAME);
    assert_eq!(names(&pdu.anomalies), [MISSING_MANDATORY_FIELD]);
    let f = goose(&pdu);
    assert_eq!(f.missing_fields, ["gocb_ref"]);
    assert_eq!(f.gocb_ref, None);
    assert_eq!(f.dat_set.as_deref(), Some("GEDeviceF650/LLN0$GOOSE1"));
    assert_eq!(f.all_data.as_ref().unwrap().entries, 8);
    // Without a control block reference there is nothing to track it by.
    let again = flow.frame(10_000_000, &MISSING_GOCB_REF_FRAME);
    assert_eq!(names(&again.anomalies), [MISSING_MANDATORY_FIELD]);
    assert_eq!(goose(&again).state_change, None);
}

#[test]
fn frames_without_a_readable_pdu_are_invalid_events() {
    let mut flow = Flow::new(GooseParser::new());
    // Shorter than the header.
    let pdu = flow.frame(0, &[0x00, 0x01, 0x00]);
    assert_eq!((pdu.function, pdu.class), (INVALID, FunctionClass::Other));
    assert_eq!(names(&pdu.anomalies), [TRUNCATED_HEADER]);
    // A length below the header's own 8 octets, and no BER after it.
    let pdu = flow.frame(1, &[0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(pdu.function, INVALID);
    assert_eq!(names(&pdu.anomalies), [INVALID_LENGTH, INVALID_BER]);
    // An indefinite length.
    let pdu = flow.frame(2, &frame(1, 0, &[0x61, 0x80, 0x80, 0x01, 0x41, 0x00, 0x00]));
    assert_eq!(pdu.function, INVALID);
    assert_eq!(names(&pdu.anomalies), [INVALID_BER]);
    // A PDU of another type ([APPLICATION 2]).
    let pdu = flow.frame(3, &frame(1, 0, &tlv(0x62, &[0x80, 0x01, 0x00])));
    assert_eq!((pdu.function, pdu.class), (UNKNOWN, FunctionClass::Other));
    assert_eq!(names(&pdu.anomalies), [UNKNOWN_PDU_TYPE]);
}

#[test]
fn trailing_bytes_beyond_padding_and_fcs_are_reported() {
    let mut bytes = GOOSE_FRAME.to_vec();
    bytes.extend([0u8; 4]); // a frame check sequence left in the capture
    assert!(decode(&bytes).anomalies.is_empty());
    bytes.extend([0u8; 8]);
    assert_eq!(names(&decode(&bytes).anomalies), [TRAILING_BYTES]);
    // A short PDU padded to the Ethernet minimum of 46 octets is fine.
    let short = frame(1, 0, &tlv(0x62, &[]));
    let mut padded = short.clone();
    padded.resize(46, 0);
    assert_eq!(names(&decode(&padded).anomalies), [UNKNOWN_PDU_TYPE]);
}

#[test]
fn bad_field_encodings_are_anomalies() {
    // stNum negative, sqNum nine octets, simulation two octets, t seven octets,
    // an unknown tag [13], then fields out of order (goID after t).
    let mut pdu = tlv(0x80, b"LD/LLN0$GO$g");
    pdu.extend(tlv(0x81, &int(1000)));
    pdu.extend(tlv(0x82, b"LD/LLN0$ds"));
    pdu.extend(tlv(0x84, &[0; 7]));
    pdu.extend(tlv(0x83, b"id"));
    pdu.extend(tlv(0x85, &[0xff]));
    pdu.extend(tlv(0x86, &[0x01; 9]));
    pdu.extend(tlv(0x87, &[0, 0]));
    pdu.extend(tlv(0x88, &int(1)));
    pdu.extend(tlv(0x8a, &int(0)));
    pdu.extend(tlv(0xab, &[]));
    pdu.extend(tlv(0x8d, &[0]));
    let d = decode(&frame(1, 0, &tlv(0x61, &pdu)));
    let f = &d.fields;
    assert_eq!(
        (f.t, f.st_num, f.sq_num, f.simulation),
        (None, None, None, None)
    );
    assert_eq!(f.go_id.as_deref(), Some("id"));
    assert_eq!(
        names(&d.anomalies),
        [INVALID_FIELD_VALUE, FIELD_OUT_OF_ORDER, UNEXPECTED_FIELD]
    );
}

#[test]
fn strings_out_of_the_visible_set_or_too_long_are_anomalies() {
    let mut g = G::new(1, 0);
    g.gocb = "LD/LLN0$GO$\u{7}bell";
    let d = decode(&g.bytes());
    assert_eq!(names(&d.anomalies), [INVALID_STRING]);
    assert_eq!(d.fields.gocb_ref.as_deref(), Some("LD/LLN0$GO$\u{7}bell"));
    let long: &'static str = "L".repeat(130).leak();
    g.gocb = long;
    assert_eq!(names(&decode(&g.bytes()).anomalies), [STRING_TOO_LONG]);
}

#[test]
fn simulation_test_and_commissioning_flags() {
    // The Ed. 2 simulation bit with the PDU's simulation attribute.
    let mut g = G::new(1, 0);
    g.s_bit = true;
    g.simulation = true;
    let d = decode(&g.bytes());
    assert!(d.fields.header.unwrap().simulation());
    assert_eq!(names(&d.anomalies), [SIMULATION_FLAG]);
    // The bit without the attribute: Wireshark's "invalid GOOSE".
    g.simulation = false;
    assert_eq!(
        names(&decode(&g.bytes()).anomalies),
        [SIMULATION_FLAG, SIMULATION_BIT_MISMATCH]
    );
    // A quality with its test bit (bit 11): the publisher is in test mode.
    let g = G::new(1, 0).data(
        [
            tlv(0x83, &[0x01]),
            tlv(0x84, &[0x03, 0x00, 0x10]), // quality: test
        ]
        .concat(),
    );
    let d = decode(&g.bytes());
    assert_eq!(d.fields.all_data.as_ref().unwrap().test, Some(true));
    assert_eq!(names(&d.anomalies), [TEST_FLAG]);
    // ndsCom, and numDatSetEntries disagreeing with allData.
    let mut pdu = tlv(0x80, b"LD/LLN0$GO$g");
    for (tag, value) in [(0x81, 1000), (0x85, 1), (0x86, 0), (0x88, 1)] {
        pdu.extend(tlv(tag, &int(value)));
        if tag == 0x81 {
            pdu.extend(tlv(0x82, b"LD/LLN0$ds"));
            pdu.extend(tlv(0x84, &[0; 8]));
        }
    }
    pdu.extend(tlv(0x89, &[0x01]));
    pdu.extend(tlv(0x8a, &int(3)));
    pdu.extend(tlv(0xab, &tlv(0x83, &[0])));
    let d = decode(&frame(1, 0, &tlv(0x61, &pdu)));
    assert_eq!(
        names(&d.anomalies),
        [NUM_DAT_SET_ENTRIES_MISMATCH, NEEDS_COMMISSIONING]
    );
}

#[test]
fn all_data_nesting_is_bounded_and_unknown_tags_invalid() {
    // Structures nested 12 deep around one boolean: the walk stops at 8.
    let mut value = tlv(0x83, &[0x01]);
    for _ in 0..12 {
        value = tlv(0xa2, &value);
    }
    let all = super::data::walk(&value, false);
    assert!(all.too_deep);
    assert_eq!((all.entries, all.values.len()), (1, 0));
    // Tag [11] is not a Data alternative; a boolean of two octets is invalid.
    let all = super::data::walk(&[0x8b, 0x01, 0x00, 0x83, 0x02, 0x00, 0x00], false);
    assert!(all.invalid);
    assert_eq!(all.entries, 2);
    // More than 32 leaves: the first 32 are kept.
    let many: Vec<u8> = (0..40).flat_map(|_| tlv(0x83, &[0x00])).collect();
    let all = super::data::walk(&many, false);
    assert_eq!((all.entries, all.values.len()), (40, 32));
    assert!(all.values_truncated);
    // Arrays, a double, a long bit string, an octet string.
    let value = tlv(
        0xa1,
        &[
            tlv(
                0x87,
                &[0x0b, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18],
            ),
            tlv(0x84, &[0x00; 10]),
            tlv(0x89, &[0xde, 0xad]),
        ]
        .concat(),
    );
    let all = super::data::walk(&value, false);
    let contents: Vec<&Content> = all.values.iter().map(|v| &v.content).collect();
    assert_eq!(
        contents,
        [
            &Content::Float(std::f64::consts::PI),
            &Content::Hex(vec![0; 9]),
            &Content::Hex(vec![0xde, 0xad]),
        ]
    );
    assert!(!all.invalid);
}

// --------------------------------------------------------------- tracking

#[test]
fn retransmissions_and_state_changes() {
    let mut flow = Flow::new(GooseParser::new());
    let first = flow.frame(0, &G::new(7, 0).bytes());
    assert_eq!(first.function, PUBLISH);
    assert_eq!(goose(&first).state_change, None, "nothing to compare with");
    let next = flow.frame(10, &G::new(7, 1).bytes());
    assert!(next.anomalies.is_empty());
    assert_eq!(goose(&next).state_change, Some(false));
    // A new state: new data, stNum + 1, sqNum back to 0.
    let changed = G::new(8, 0).data(tlv(0x83, &[0x01]));
    let pdu = flow.frame(20, &changed.bytes());
    assert_eq!(pdu.function, STATE_CHANGE);
    assert!(pdu.anomalies.is_empty());
    let f = goose(&pdu);
    assert_eq!((f.state_change, f.previous_st_num), (Some(true), Some(7)));
    // Retransmissions of the new state go on quietly.
    let pdu = flow.frame(30, &G { sq: 1, ..changed }.bytes());
    assert_eq!(pdu.function, PUBLISH);
    assert!(pdu.anomalies.is_empty());
}

#[test]
fn sequence_gaps_resets_and_regressions() {
    let mut flow = Flow::new(GooseParser::new());
    let mut ms = 0;
    let mut send = |g: G| {
        ms += 10;
        flow.frame(ms, &g.bytes())
    };
    send(G::new(5, 3));
    let pdu = send(G::new(5, 6));
    assert_eq!(names(&pdu.anomalies), [SQ_NUM_GAP]);
    assert_eq!(goose(&pdu).previous_sq_num, Some(3));
    let pdu = send(G::new(5, 0));
    assert_eq!(names(&pdu.anomalies), [SQ_NUM_RESET_WITHOUT_STATE_CHANGE]);
    let pdu = send(G::new(5, 0));
    assert_eq!(names(&pdu.anomalies), [SQ_NUM_REPEATED]);
    // The same numbers with other data: injected or replayed with changes.
    let pdu = send(G::new(5, 1).data(tlv(0x83, &[0x01])));
    assert_eq!(names(&pdu.anomalies), [DATA_CHANGED_WITHOUT_STATE_CHANGE]);
    let pdu = send(G::new(4, 2));
    assert_eq!(names(&pdu.anomalies), [ST_NUM_REGRESSED]);
    assert_eq!(pdu.function, PUBLISH);
    assert_eq!(goose(&pdu).previous_st_num, Some(5));
    // A jump of three states, whose first frames were lost as well.
    let pdu = send(G::new(7, 4));
    assert_eq!(pdu.function, STATE_CHANGE);
    assert_eq!(names(&pdu.anomalies), [ST_NUM_GAP, SQ_NUM_GAP]);
}

#[test]
fn counters_roll_over_without_anomalies() {
    let mut flow = Flow::new(GooseParser::new());
    let max = u64::from(u32::MAX);
    flow.frame(0, &G::new(9, max).bytes());
    // sqNum rolls over to 1 (0 marks the first frame of a state).
    let pdu = flow.frame(10, &G::new(9, 1).bytes());
    assert!(pdu.anomalies.is_empty(), "{:?}", names(&pdu.anomalies));
    flow.frame(20, &G::new(max, 5).bytes());
    let pdu = flow.frame(30, &G::new(1, 0).data(tlv(0x83, &[1])).bytes());
    assert_eq!(pdu.function, STATE_CHANGE);
    assert!(pdu.anomalies.is_empty(), "{:?}", names(&pdu.anomalies));
}

#[test]
fn ttl_expiry_in_packet_time() {
    let mut flow = Flow::new(GooseParser::new());
    flow.frame(0, &G::new(1, 0).bytes()); // time allowed to live: 2000 ms
    let pdu = flow.frame(2000, &G::new(1, 1).bytes());
    assert!(pdu.anomalies.is_empty(), "exactly on time is in time");
    let pdu = flow.frame(4350, &G::new(1, 2).bytes());
    assert_eq!(names(&pdu.anomalies), [TTL_EXPIRED]);
    assert_eq!(goose(&pdu).ttl_late_ms, Some(350));
    // The TTL that counts is the previous frame's.
    let mut long = G::new(1, 3);
    long.ttl = 60_000;
    flow.frame(4400, &long.bytes());
    let pdu = flow.frame(30_000, &G::new(1, 4).bytes());
    assert!(pdu.anomalies.is_empty());
}

#[test]
fn control_blocks_are_tracked_apart_and_conf_rev_changes_noted() {
    let mut flow = Flow::new(GooseParser::new());
    let mut other = G::new(100, 0);
    other.gocb = "IED1LD0/LLN0$GO$gcb2";
    flow.frame(0, &G::new(1, 0).bytes());
    flow.frame(1, &other.bytes());
    let pdu = flow.frame(2, &G::new(1, 1).bytes());
    assert!(pdu.anomalies.is_empty());
    let mut g = G::new(1, 2);
    g.conf_rev = 2;
    let pdu = flow.frame(3, &g.bytes());
    assert_eq!(names(&pdu.anomalies), [CONF_REV_CHANGED]);
    assert_eq!(goose(&pdu).previous_conf_rev, Some(1));
}

#[test]
fn the_publisher_table_is_bounded() {
    let mut flow = Flow::new(GooseParser::new());
    let refs: Vec<&'static str> = (0..=publisher::MAX_PUBLISHERS)
        .map(|i| &*format!("LD/LLN0$GO$g{i}").leak())
        .collect();
    for (i, gocb) in refs.iter().enumerate() {
        let mut g = G::new(1, 0);
        g.gocb = gocb;
        let pdu = flow.frame(i as i64, &g.bytes());
        let full = i == publisher::MAX_PUBLISHERS;
        assert_eq!(pdu.anomalies.contains(PUBLISHER_TABLE_FULL), full);
    }
    // The least recently seen (the first) was forgotten: it starts afresh.
    let mut g = G::new(1, 5);
    g.gocb = refs[0];
    let pdu = flow.frame(100, &g.bytes());
    assert_eq!(goose(&pdu).state_change, None);
}

// --------------------------------------------------------- GSE management

#[test]
fn gse_management_request_and_response() {
    let request = [
        0x00, 0x01, // APPID 1
        0x00, 0x24, // length 36
        0x00, 0x00, 0x00, 0x00, // reserved 1, reserved 2
        0x60, 0x1a, // gseMngtPdu, 26 octets
        0x80, 0x01, 0x01, // stateID 1
        0xa1, 0x15, // requests
        0xa1, 0x13, // getGoReference
        0x80, 0x0c, b'I', b'E', b'D', b'1', b'L', b'D', b'0', b'/', b'L', b'L', b'N',
        b'0', // ident "IED1LD0/LLN0"
        0xa1, 0x03, 0x02, 0x01, 0x03, // offset: [3]
    ];
    let mut flow = Flow::new(GooseParser::new());
    let pdu = flow.frame(0, &request);
    assert!(pdu.anomalies.is_empty(), "{:?}", names(&pdu.anomalies));
    assert_eq!(
        (pdu.function, pdu.class, pdu.is_response),
        ("get_go_reference", FunctionClass::Discovery, false)
    );
    let f = goose(&pdu);
    assert_eq!((f.state_id, f.items), (Some(1), Some(1)));
    assert_eq!(f.ident.as_deref(), Some("IED1LD0/LLN0"));

    let response = [
        0x00, 0x01, // APPID 1
        0x00, 0x27, // length 39
        0x00, 0x00, 0x00, 0x00, // reserved 1, reserved 2
        0x60, 0x1d, // gseMngtPdu, 29 octets
        0x80, 0x01, 0x01, // stateID 1
        0xa2, 0x18, // responses
        0xa1, 0x16, // getGoReference
        0x80, 0x0c, b'I', b'E', b'D', b'1', b'L', b'D', b'0', b'/', b'L', b'L', b'N',
        b'0', // ident
        0x81, 0x01, 0x02, // confRev 2
        0xa2, 0x03, // responsePositive
        0xa1, 0x01, 0x00, // result: empty list
    ];
    let pdu = flow.frame(1, &response);
    assert!(pdu.anomalies.is_empty(), "{:?}", names(&pdu.anomalies));
    assert_eq!((pdu.function, pdu.is_response), ("get_go_reference", true));
    let f = goose(&pdu);
    assert_eq!((f.conf_rev, f.items), (Some(2), Some(0)));

    // Not supported, and an unknown service.
    let pdu = flow.frame(
        2,
        &frame(
            1,
            0,
            &tlv(0x60, &[0x80, 0x01, 0x02, 0xa2, 0x02, 0x80, 0x00]),
        ),
    );
    assert_eq!((pdu.function, pdu.is_response), ("not_supported", true));
    let pdu = flow.frame(3, &frame(1, 0, &tlv(0x60, &[0xa1, 0x02, 0x89, 0x00])));
    assert_eq!(pdu.function, "gse_management");
    assert_eq!(names(&pdu.anomalies), [UNKNOWN_SERVICE]);
}

// --------------------------------------------------------------------- SV

/// Frame 1 of `sv_normal_traffic.pcap`: one 9-2LE ASDU (8 channels).
const SV_FRAME: [u8; 102] = [
    0x40, 0x01, // APPID 0x4001
    0x00, 0x66, // length 102
    0x00, 0x00, 0x00, 0x00, // reserved 1, reserved 2
    0x60, 0x5c, // savPdu, 92 octets
    0x80, 0x01, 0x01, // noASDU 1
    0xa2, 0x57, // seqASDU, 87 octets
    0x30, 0x55, // ASDU, 85 octets
    0x80, 0x04, b'4', b'0', b'0', b'1', // svID "4001"
    0x82, 0x02, 0x01, 0x18, // smpCnt 280
    0x83, 0x04, 0x00, 0x00, 0x00, 0x01, // confRev 1
    0x85, 0x01, 0x02, // smpSynch 2 (global)
    0x87, 0x40, // seqData, 64 octets: 8 × (value, quality)
    0xff, 0xfe, 0x59, 0x82, 0x00, 0x00, 0x00, 0x00, //
    0x00, 0x04, 0x3d, 0xdc, 0x00, 0x00, 0x00, 0x00, //
    0xff, 0xfd, 0x6f, 0x5c, 0x00, 0x00, 0x00, 0x00, //
    0x00, 0x00, 0x06, 0xba, 0x00, 0x00, 0x20, 0x00, //
    0xff, 0x8d, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, //
    0x01, 0x1d, 0xfb, 0xc2, 0x00, 0x00, 0x00, 0x00, //
    0xff, 0x55, 0x60, 0x0c, 0x00, 0x00, 0x00, 0x00, //
    0x00, 0x01, 0x4f, 0xce, 0x00, 0x00, 0x20, 0x00, //
];

#[test]
fn sv_frame_decodes() {
    let d = sv::decode(&SV_FRAME);
    assert_eq!(d.function, sv::SAMPLE);
    assert!(d.anomalies.is_empty(), "{:?}", names(&d.anomalies));
    let f = &d.fields;
    assert_eq!(f.header.unwrap().appid, 0x4001);
    assert_eq!(f.no_asdu, Some(1));
    let a = &f.asdus[0];
    assert_eq!(a.sv_id.as_deref(), Some("4001"));
    assert_eq!(
        (a.smp_cnt, a.conf_rev, a.smp_synch),
        (Some(280), Some(1), Some(2))
    );
    assert_eq!(
        (a.dat_set.as_deref(), a.smp_rate, a.refr_tm),
        (None, None, None)
    );
    assert_eq!(a.seq_data_length, Some(64));

    let mut flow = Flow::new(SvParser::new());
    let pdu = flow.frame(0, &SV_FRAME);
    assert_eq!(
        (pdu.protocol, pdu.function, pdu.class, pdu.is_response),
        (Protocol::Sv, "sample", FunctionClass::Read, false)
    );
    let mut w = Written::default();
    pdu.fields.visit(&mut w);
    assert_eq!(
        w.0,
        [
            "appid=U64(16385)",
            "length=U64(102)",
            "simulation_bit=Bool(false)",
            "no_asdu=U64(1)",
            "sv_id=Str(\"4001\")",
            "smp_cnt=U64(280)",
            "conf_rev=U64(1)",
            "smp_synch=U64(2)",
            "seq_data_length=U64(64)",
        ]
    );
}

/// An ASDU with every optional field, built.
fn asdu(sv_id: &str, smp_cnt: u16, conf_rev: u32, smp_synch: u8) -> Vec<u8> {
    let mut a = tlv(0x80, sv_id.as_bytes());
    a.extend(tlv(0x81, b"MU01LD0/LLN0$PhsMeas1"));
    a.extend(tlv(0x82, &smp_cnt.to_be_bytes()));
    a.extend(tlv(0x83, &conf_rev.to_be_bytes()));
    a.extend(tlv(0x84, &[0x38, 0x6e, 0xbb, 0xf3, 0x42, 0x17, 0x28, 0x0a]));
    a.extend(tlv(0x85, &[smp_synch]));
    a.extend(tlv(0x86, &80u16.to_be_bytes())); // 80 samples per period
    a.extend(tlv(0x87, &[0; 64]));
    a.extend(tlv(0x88, &0u16.to_be_bytes())); // smpMod: per nominal period
    tlv(0x30, &a)
}

fn sav(asdus: &[Vec<u8>]) -> Vec<u8> {
    let mut pdu = tlv(0x80, &[asdus.len() as u8]);
    pdu.extend(tlv(0xa2, &asdus.concat()));
    frame(0x4000, 0, &tlv(0x60, &pdu))
}

#[test]
fn several_asdus_are_one_event_with_a_list() {
    let bytes = sav(&[asdu("MU01", 10, 1, 2), asdu("MU01", 11, 1, 2)]);
    let mut flow = Flow::new(SvParser::new());
    let pdu = flow.frame(0, &bytes);
    assert!(pdu.anomalies.is_empty(), "{:?}", names(&pdu.anomalies));
    let f = sv_fields(&pdu);
    assert_eq!(f.asdus.len(), 2);
    assert_eq!(f.asdus[1].smp_cnt, Some(11));
    assert_eq!(f.asdus[0].smp_rate, Some(80));
    assert_eq!(f.asdus[0].smp_mod, Some(0));
    assert_eq!(f.asdus[0].dat_set.as_deref(), Some("MU01LD0/LLN0$PhsMeas1"));
    let mut w = Written::default();
    pdu.fields.visit(&mut w);
    assert!(w.0.contains(&"refr_tm=Str(\"2000-01-02T02:46:11.258165836Z\")".into()));
    assert_eq!(w.0.iter().filter(|s| *s == "smp_cnt=U64(10)").count(), 2);
    assert!(w.0.contains(&"asdus[".into()));
}

#[test]
fn sv_malformed_frames_are_events_with_anomalies() {
    // noASDU says 2, one ASDU follows.
    let mut pdu = tlv(0x80, &[2]);
    pdu.extend(tlv(0xa2, &asdu("MU01", 1, 1, 2)));
    let d = sv::decode(&frame(0x4000, 0, &tlv(0x60, &pdu)));
    assert_eq!(names(&d.anomalies), [sv::anomaly::NO_ASDU_MISMATCH]);
    // An ASDU without svID and seqData.
    let asdu_body = [tlv(0x82, &[0, 1]), tlv(0x83, &[0, 0, 0, 1])].concat();
    let mut pdu = tlv(0x80, &[1]);
    pdu.extend(tlv(0xa2, &tlv(0x30, &asdu_body)));
    let d = sv::decode(&frame(0x4000, 0, &tlv(0x60, &pdu)));
    assert_eq!(names(&d.anomalies), [MISSING_MANDATORY_FIELD]);
    assert_eq!(d.fields.missing_fields, ["sv_id", "seq_data"]);
    // The corpus frame cut in its samples.
    let d = sv::decode(&SV_FRAME[..60]);
    assert_eq!(names(&d.anomalies), [TRUNCATED_PDU]);
    assert_eq!(d.fields.asdus[0].smp_cnt, Some(280));
    assert_eq!(d.fields.asdus[0].seq_data_length, Some(22));
    // Simulation bit; another PDU tag; no header.
    let mut sim = SV_FRAME;
    sim[4] = 0x80;
    assert_eq!(names(&sv::decode(&sim).anomalies), [SIMULATION_FLAG]);
    let d = sv::decode(&frame(0x4000, 0, &tlv(0x61, &[])));
    assert_eq!(
        (d.function, names(&d.anomalies)),
        ("unknown", vec![UNKNOWN_PDU_TYPE])
    );
    let d = sv::decode(&SV_FRAME[..5]);
    assert_eq!(
        (d.function, names(&d.anomalies)),
        ("invalid", vec![TRUNCATED_HEADER])
    );
}

#[test]
fn sample_counter_wraps_gaps_and_resets() {
    use sv::anomaly::*;
    let mut flow = Flow::new(SvParser::new());
    let mut ms = 0;
    let mut send = |cnt: u16, conf_rev: u32, synch: u8| {
        ms += 1;
        let mut a = tlv(0x80, b"MU01");
        a.extend(tlv(0x82, &cnt.to_be_bytes()));
        a.extend(tlv(0x83, &conf_rev.to_be_bytes()));
        a.extend(tlv(0x85, &[synch]));
        a.extend(tlv(0x87, &[0; 64]));
        flow.frame(ms, &sav(&[tlv(0x30, &a)]))
    };
    send(3998, 1, 2);
    send(3999, 1, 2);
    // 4000 samples a second (80 per period at 50 Hz): the wrap, learned.
    let pdu = send(0, 1, 2);
    assert!(pdu.anomalies.is_empty(), "{:?}", names(&pdu.anomalies));
    let pdu = send(5, 1, 2);
    assert_eq!(names(&pdu.anomalies), [SMP_CNT_GAP]);
    let f = sv_fields(&pdu);
    assert_eq!((f.previous_smp_cnt, f.smp_cnt_missed), (Some(0), Some(4)));
    let pdu = send(5, 1, 2);
    assert_eq!(names(&pdu.anomalies), [SMP_CNT_REPEATED]);
    send(3998, 1, 2);
    // Samples lost across the wrap: 3999 and 0.
    let pdu = send(1, 1, 2);
    assert_eq!(names(&pdu.anomalies), [SMP_CNT_GAP]);
    assert_eq!(sv_fields(&pdu).smp_cnt_missed, Some(2));
    // Back to 0 elsewhere than at the wrap.
    let pdu = send(0, 1, 2);
    assert_eq!(names(&pdu.anomalies), [SMP_CNT_RESET]);
    // A new configuration revision; losing synchronisation.
    let pdu = send(1, 2, 0);
    assert_eq!(names(&pdu.anomalies), [CONF_REV_CHANGED, SMP_SYNCH_LOST]);
    assert_eq!(sv_fields(&pdu).previous_conf_rev, Some(1));
}

#[test]
fn sample_rate_gives_the_wrap_and_asdus_of_a_frame_follow_each_other() {
    use sv::anomaly::*;
    let mut flow = Flow::new(SvParser::new());
    // 80 samples per period: a wrap at 4000 (50 Hz) or 4800 (60 Hz).
    let pdu = flow.frame(
        0,
        &sav(&[asdu("MU01", 4798, 1, 2), asdu("MU01", 4799, 1, 2)]),
    );
    assert!(pdu.anomalies.is_empty());
    let pdu = flow.frame(1, &sav(&[asdu("MU01", 0, 1, 2), asdu("MU01", 1, 1, 2)]));
    assert!(pdu.anomalies.is_empty(), "{:?}", names(&pdu.anomalies));
    // The second ASDU repeats the first.
    let pdu = flow.frame(2, &sav(&[asdu("MU01", 2, 1, 2), asdu("MU01", 2, 1, 2)]));
    assert_eq!(names(&pdu.anomalies), [SMP_CNT_REPEATED]);
    // Another stream in the same flow is tracked apart.
    let pdu = flow.frame(3, &sav(&[asdu("MU02", 900, 1, 2)]));
    assert!(pdu.anomalies.is_empty());
    // A wrap at a count no rate explains is a reset.
    let pdu = flow.frame(4, &sav(&[asdu("MU02", 0, 1, 2)]));
    assert_eq!(names(&pdu.anomalies), [SMP_CNT_RESET]);
}

// ------------------------------------------------------------ registry

#[test]
fn frames_are_taken_by_ethertype() {
    assert!(matches(ETHERTYPE_GOOSE, &GOOSE_FRAME));
    assert!(matches(ETHERTYPE_GSE_MANAGEMENT, &[]));
    assert!(!matches(ETHERTYPE_SV, &SV_FRAME));
    assert!(sv::matches(ETHERTYPE_SV, &SV_FRAME));
    // PROFINET, LLDP, ARP, IPv4 are not, whatever the payload.
    for other in [0x8892, 0x88cc, 0x0806, 0x0800] {
        let taken = detect_frame(other, &GOOSE_FRAME).map(|d| d.protocol());
        assert!(
            !matches!(taken, Some(Protocol::Goose | Protocol::Sv)),
            "{other:#x}"
        );
        assert!(!matches(other, &GOOSE_FRAME) && !sv::matches(other, &SV_FRAME));
    }
    let decoder = detect_frame(ETHERTYPE_GOOSE, &GOOSE_FRAME).unwrap();
    assert_eq!(decoder.protocol(), Protocol::Goose);
    let decoder = detect_frame(ETHERTYPE_GSE_MANAGEMENT, &[]).unwrap();
    assert_eq!(decoder.protocol(), Protocol::Goose);
    let decoder = detect_frame(ETHERTYPE_SV, &SV_FRAME).unwrap();
    assert_eq!(decoder.protocol(), Protocol::Sv);
}

#[test]
fn names_for_rules_cover_what_events_carry() {
    let functions = function_names();
    for name in [
        PUBLISH,
        STATE_CHANGE,
        INVALID,
        UNKNOWN,
        "get_go_reference",
        "not_supported",
    ] {
        assert!(functions.contains(&name), "{name}");
    }
    assert_eq!(sv::function_names(), ["invalid", "sample", "unknown"]);
    for name in [
        TTL_EXPIRED,
        ST_NUM_REGRESSED,
        TEST_FLAG,
        SIMULATION_FLAG,
        SQ_NUM_GAP,
    ] {
        assert!(anomaly::ALL.contains(&name), "{name}");
    }
    for name in [sv::anomaly::SMP_CNT_GAP, TRUNCATED_PDU, CONF_REV_CHANGED] {
        assert!(sv::anomaly::ALL.contains(&name), "{name}");
    }
}

// ------------------------------------------------------------------- BER

#[test]
fn ber_lengths_tags_and_integers() {
    // Long-form length, high tag number.
    let (tlv, rest) = ber::read(&[0x9f, 0x81, 0x00, 0x81, 0x02, 0xaa, 0xbb, 0xcc]).unwrap();
    assert_eq!(tlv.tag.number, 128);
    assert_eq!(tlv.tag.class, ber::Class::Context);
    assert_eq!(
        (tlv.value, rest, tlv.truncated),
        (&[0xaa, 0xbb][..], &[0xcc][..], false)
    );
    // Cut short: the value is what there is.
    let (tlv, rest) = ber::read(&[0x04, 0x05, 0x01]).unwrap();
    assert_eq!(
        (tlv.value, rest, tlv.truncated),
        (&[0x01][..], &[][..], true)
    );
    assert_eq!(ber::read(&[0x04, 0x80]), Err(ber::Error::IndefiniteLength));
    assert_eq!(
        ber::read(&[0x04, 0x85, 1, 1, 1, 1, 1]),
        Err(ber::Error::LengthTooLong)
    );
    assert_eq!(
        ber::read(&[0x04, 0x82, 0x01]),
        Err(ber::Error::TruncatedHeader)
    );
    assert_eq!(
        ber::read(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]),
        Err(ber::Error::TagTooLong)
    );
    assert_eq!(ber::read(&[]), Err(ber::Error::TruncatedHeader));
    // Unsigned values up to 2^32 - 1 need a leading zero octet.
    assert_eq!(
        ber::unsigned(&[0x00, 0xff, 0xff, 0xff, 0xff]),
        Some(u64::from(u32::MAX))
    );
    assert_eq!(ber::unsigned(&[0x80]), None);
    assert_eq!(ber::unsigned(&[]), None);
    assert_eq!(ber::unsigned(&[0x01; 9]), None);
    assert_eq!(ber::signed(&[0xff, 0x38]), Some(-200));
    assert_eq!(ber::signed(&[0x7f]), Some(127));
    assert_eq!(ber::boolean(&[0x00, 0x00]), None);
}

// ---------------------------------------------------------- robustness

/// xorshift64: deterministic pseudo-random bytes without a dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_and_mutated_frames_never_panic_and_give_one_event_each() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let seeds: [&[u8]; 5] = [
        &GOOSE_FRAME,
        &TRUNCATED_FRAME,
        &SV_FRAME,
        &sav(&[asdu("MU01", 1, 1, 2), asdu("MU01", 2, 1, 2)]),
        &G::new(1, 0)
            .data(tlv(0xa2, &tlv(0xa1, &tlv(0xa2, &tlv(0x83, &[1])))))
            .bytes(),
    ];
    let mut goose_flow = Flow::new(GooseParser::new());
    let mut sv_flow = Flow::new(SvParser::new());
    for round in 0..4000 {
        let r = rng.next();
        let mut bytes = if round % 4 == 0 {
            // Pure noise, sometimes with a plausible header.
            let len = (r % 300) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if r & 0x100 != 0 && b.len() > 9 {
                b[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                b[8] = if r & 0x200 != 0 { 0x61 } else { 0x60 };
            }
            b
        } else {
            seeds[(r % seeds.len() as u64) as usize].to_vec()
        };
        // Flip, cut or stretch.
        for _ in 0..(r >> 8) % 6 {
            if bytes.is_empty() {
                break;
            }
            let at = (rng.next() % bytes.len() as u64) as usize;
            match rng.next() % 3 {
                0 => bytes[at] = rng.next() as u8,
                1 => bytes.truncate(at),
                _ => bytes.insert(at, rng.next() as u8),
            }
        }
        let ms = i64::from(round) * 7;
        goose_flow.frame(ms, &bytes);
        sv_flow.frame(ms, &bytes);
    }
}

// ------------------------------------------------------ silent publishers

impl<P: FrameParser> Flow<P> {
    /// Packet time reaches `ms` past T0 with no frame: the events it brings.
    fn sweep(&mut self, ms: i64) -> Vec<Event> {
        let before = self.events.len();
        let now = Timestamp(T0 * 1_000_000_000 + ms * 1_000_000);
        self.parser.sweep(now, &mut self.events);
        self.events.split_off(before)
    }
}

#[test]
fn a_silent_publisher_is_reported_once_when_its_ttl_runs_out() {
    let mut flow = Flow::new(GooseParser::new());
    flow.frame(0, &G::new(1, 0).bytes()); // time allowed to live: 2000 ms
    flow.frame(1000, &G::new(1, 1).bytes()); // packet 2
    assert!(flow.sweep(2500).is_empty(), "within the last frame's TTL");
    assert!(flow.sweep(3000).is_empty(), "exactly on time is in time");
    let reported = flow.sweep(3001);
    assert_eq!(reported.len(), 1);
    let e = &reported[0];
    assert_eq!(e.header.packet, 2, "stamped with the last frame");
    assert_eq!(e.pdu.function, PUBLISHER_SILENT);
    assert_eq!(e.pdu.class, FunctionClass::Control);
    assert_eq!(names(&e.pdu.anomalies), [TTL_EXPIRED]);
    let f = goose(&e.pdu);
    assert_eq!(f.gocb_ref.as_deref(), Some("IED1LD0/LLN0$GO$gcb1"));
    assert_eq!((f.st_num, f.sq_num), (Some(1), Some(1)));
    assert_eq!(f.time_allowed_to_live, Some(2000));
    assert_eq!(
        f.ttl_expired_at,
        Some(Timestamp(T0 * 1_000_000_000 + 3000 * 1_000_000))
    );
    // Once per silence: later sweeps, and the frame that ends it, say nothing more.
    assert!(flow.sweep(10_000).is_empty());
    let back = flow.frame(12_000, &G::new(1, 2).bytes());
    assert!(back.anomalies.is_empty(), "{:?}", names(&back.anomalies));
    assert_eq!(goose(&back).ttl_late_ms, None);
    // A new silence is a new report.
    assert!(flow.sweep(14_000).is_empty());
    assert_eq!(flow.sweep(14_001).len(), 1);
}

#[test]
fn a_late_frame_before_any_sweep_reports_the_silence_itself() {
    let mut flow = Flow::new(GooseParser::new());
    flow.frame(0, &G::new(1, 0).bytes());
    let late = flow.frame(2500, &G::new(1, 1).bytes());
    assert_eq!(names(&late.anomalies), [TTL_EXPIRED]);
    assert_eq!(goose(&late).ttl_late_ms, Some(500));
    // That silence is over; the sweep judges the new frame's TTL only.
    assert!(flow.sweep(4500).is_empty());
    assert_eq!(flow.sweep(4501).len(), 1);
}

#[test]
fn control_blocks_fall_silent_apart() {
    let mut flow = Flow::new(GooseParser::new());
    let mut quick = G::new(1, 0);
    quick.gocb = "IED1LD0/LLN0$GO$fast";
    quick.ttl = 100;
    flow.frame(0, &quick.bytes());
    flow.frame(0, &G::new(1, 0).bytes()); // 2000 ms
    let reported = flow.sweep(500);
    let refs: Vec<_> = reported
        .iter()
        .map(|e| goose(&e.pdu).gocb_ref.clone().unwrap())
        .collect();
    assert_eq!(refs, ["IED1LD0/LLN0$GO$fast"]);
    let reported = flow.sweep(2500);
    assert_eq!(reported.len(), 1);
    assert_eq!(
        goose(&reported[0].pdu).gocb_ref.as_deref(),
        Some("IED1LD0/LLN0$GO$gcb1")
    );
}
