//! Unit tests: inline APDUs, one comment per field. Many are frames of the
//! public captures under `../shared/pcaps/iec104/` (the "diverse" capture and
//! Wireshark's dissector test capture), as Wireshark decodes them.

use super::*;
use crate::event::{Event, Header, Transport};
use crate::output::json::JsonWriter;
use crate::protocols::{Detection, StreamDecoder, detect_stream};
use crate::time::Timestamp;

use Direction::{ToClient, ToServer};

fn header(packet: u64) -> Header {
    Header {
        ts: Timestamp::from_secs(1_700_000_000),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: Some(40000),
        dst_port: Some(PORT),
        transport: Transport::Tcp,
    }
}

/// One connection: a parser, the events it emitted, a packet counter.
struct Conn {
    parser: Iec104Parser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: Iec104Parser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    /// Presents `data` as completed by the next packet; returns bytes consumed.
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    /// Presents whole APDUs and returns their events.
    fn all(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "not all consumed");
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }

    /// Presents one whole APDU and returns its one event.
    fn one(&mut self, dir: Direction, data: &[u8]) -> Pdu {
        let mut pdus = self.all(dir, data);
        assert_eq!(pdus.len(), 1, "not exactly one event");
        pdus.remove(0)
    }

    /// From the controlling station (the TCP client).
    fn master(&mut self, data: &[u8]) -> Pdu {
        self.one(ToServer, data)
    }

    /// From the controlled station (the TCP server on port 2404).
    fn outstation(&mut self, data: &[u8]) -> Pdu {
        self.one(ToClient, data)
    }
}

/// Decodes one APDU on a fresh connection, from the outstation.
fn decode(data: &[u8]) -> Pdu {
    Conn::new().outstation(data)
}

fn iec(pdu: &Pdu) -> &Iec104Fields {
    match &pdu.fields {
        Fields::Iec104(f) => f,
        _ => panic!("no IEC 104 fields"),
    }
}

/// The fields as `events.jsonl` writes them.
fn json(pdu: &Pdu) -> serde_json::Value {
    let mut out = Vec::new();
    let mut w = JsonWriter::object(&mut out);
    pdu.fields.visit(&mut w);
    w.finish();
    serde_json::from_slice(&out).expect("valid JSON")
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

// ---------------------------------------------------------------- APCI

#[test]
fn u_frames_startdt_stopdt_testfr() {
    let mut c = Conn::new();
    let cases: [(&[u8], Direction, u32, &str); 6] = [
        // start, length 4, control 0x07 (STARTDT act), three zero octets
        (
            &[0x68, 0x04, 0x07, 0x00, 0x00, 0x00],
            ToServer,
            0x01,
            "startdt_act",
        ),
        // control 0x0B: STARTDT con
        (
            &[0x68, 0x04, 0x0B, 0x00, 0x00, 0x00],
            ToClient,
            0x02,
            "startdt_con",
        ),
        // control 0x43: TESTFR act (from the outstation here)
        (
            &[0x68, 0x04, 0x43, 0x00, 0x00, 0x00],
            ToClient,
            0x10,
            "testfr_act",
        ),
        // control 0x83: TESTFR con
        (
            &[0x68, 0x04, 0x83, 0x00, 0x00, 0x00],
            ToServer,
            0x20,
            "testfr_con",
        ),
        // control 0x13: STOPDT act
        (
            &[0x68, 0x04, 0x13, 0x00, 0x00, 0x00],
            ToServer,
            0x04,
            "stopdt_act",
        ),
        // control 0x23: STOPDT con
        (
            &[0x68, 0x04, 0x23, 0x00, 0x00, 0x00],
            ToClient,
            0x08,
            "stopdt_con",
        ),
    ];
    for (bytes, dir, code, name) in cases {
        let pdu = c.one(dir, bytes);
        clean(&pdu);
        assert_eq!(pdu.protocol, Protocol::Iec104);
        assert_eq!(pdu.function_code, Some(code), "{name}");
        assert_eq!(pdu.function, name);
        assert_eq!(pdu.class, FunctionClass::Session);
        assert_eq!(pdu.is_response, dir == ToClient);
        let f = iec(&pdu);
        assert_eq!(f.apci_type, Some(ApciType::U));
        assert_eq!(f.apdu_length, Some(4));
        assert_eq!((f.tx, f.rx, f.type_id), (None, None, None));
        assert_eq!(json(&pdu)["utype"], name);
    }
}

#[test]
fn s_frame_acknowledges() {
    // diverse capture frame 7
    let pdu = Conn::new().master(&[
        0x68, 0x04, // start, length
        0x01, 0x00, // S format
        0x9C, 0x00, // N(R) 78, shifted left by one
    ]);
    clean(&pdu);
    assert_eq!(pdu.function, "supervisory");
    assert_eq!(pdu.function_code, Some(1));
    assert_eq!(pdu.class, FunctionClass::Session);
    let f = iec(&pdu);
    assert_eq!(
        (f.apci_type, f.tx, f.rx),
        (Some(ApciType::S), None, Some(78))
    );
    assert_eq!(
        json(&pdu),
        serde_json::json!({"apdu_length": 4, "apci_type": "S", "rx": 78})
    );
}

// ---------------------------------------------------------------- monitoring

#[test]
fn measured_short_floats() {
    // diverse capture frame 1
    let pdu = decode(&[
        0x68, 0x1A, // start, length 26
        0x9A, 0x00, // N(S) 77
        0x28, 0x00, // N(R) 20
        0x0D, // type 13: M_ME_NC_1
        0x02, // VSQ: SQ=0, two objects
        0x01, 0x00, // cause 1 (periodic), originator address 0
        0x03, 0x00, // common address 3
        0x14, 0x05, 0x00, // IOA 1300
        0x00, 0x00, 0xF0, 0x41, // 30.0
        0x00, // QDS
        0x15, 0x05, 0x00, // IOA 1301
        0x00, 0x00, 0x31, 0x44, // 708.0
        0x00, // QDS
    ]);
    clean(&pdu);
    assert!(pdu.is_response);
    assert_eq!(pdu.function_code, Some(13));
    assert_eq!(pdu.function, "measured_float");
    assert_eq!(pdu.class, FunctionClass::Read);
    let f = iec(&pdu);
    assert_eq!((f.tx, f.rx), (Some(77), Some(20)));
    assert_eq!(f.type_name(), Some("M_ME_NC_1"));
    assert_eq!((f.sq, f.num_objects), (Some(false), Some(2)));
    assert_eq!(f.cause_name(), Some("periodic"));
    assert_eq!(
        (f.negative, f.test, f.originator_address, f.common_address),
        (Some(false), Some(false), Some(0), Some(3))
    );
    assert_eq!(f.ioa, [1300, 1301]);
    assert_eq!(f.values[0].value, Some(ObjectValue::Short(30.0)));
    assert_eq!(f.values[1].value, Some(ObjectValue::Short(708.0)));
    let j = json(&pdu);
    assert_eq!(j["type"], "M_ME_NC_1");
    assert_eq!(
        j["values"],
        serde_json::json!([{"ioa": 1300, "value": 30.0}, {"ioa": 1301, "value": 708.0}])
    );
}

#[test]
fn short_floats_keep_their_shortest_decimal() {
    let pdu = decode(&[
        0x68, 0x12, // start, length 18
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x0D, 0x01, // M_ME_NC_1, one object
        0x03, 0x00, // spontaneous
        0x01, 0x00, // common address 1
        0x0A, 0x00, 0x00, // IOA 10
        0xCD, 0xCC, 0xCC, 0x3D, // 0.1f32
        0x81, // QDS: IV, OV
    ]);
    clean(&pdu);
    let j = json(&pdu);
    assert_eq!(j["values"][0]["value"], 0.1);
    assert_eq!(
        j["values"][0]["quality"],
        serde_json::json!(["overflow", "invalid"])
    );
    // A NaN on the wire is flagged, and its value left out (JSON has no NaN).
    let nan = Conn::new().outstation(&[
        0x68, 0x12, // start, length 18
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x0D, 0x01, // M_ME_NC_1, one object
        0x03, 0x00, // spontaneous
        0x01, 0x00, // common address 1
        0x0A, 0x00, 0x00, // IOA 10
        0xFF, 0xFF, 0xFF, 0x7F, // NaN
        0x00, // QDS
    ]);
    assert_eq!(anomalies(&nan), [NON_FINITE_VALUE]);
    let j = json(&nan);
    assert!(j["values"][0].get("value").is_none());
    assert_eq!(j["values"][0]["ioa"], 10);
}

#[test]
fn single_points_in_sequence() {
    // Wireshark test capture frame 110, third APDU
    let pdu = decode(&[
        0x68, 0x16, // start, length 22
        0x04, 0x00, // N(S) 2
        0x02, 0x00, // N(R) 1
        0x01, // M_SP_NA_1
        0x89, // VSQ: SQ=1, nine objects
        0x14, 0x00, // cause 20 (interrogated by station)
        0x0D, 0x91, // common address 37133
        0x1A, 0x27, 0x00, // IOA 10010, then consecutive
        0xD0, // off, blocked, not topical, invalid
        0x80, 0x80, 0x80, // off, invalid
        0xC0, // off, not topical, invalid
        0x80, 0x80, 0x80, 0x81, // off x3, then on, invalid
    ]);
    clean(&pdu);
    assert_eq!(pdu.function, "single_point");
    let f = iec(&pdu);
    assert_eq!((f.sq, f.num_objects), (Some(true), Some(9)));
    assert_eq!(f.cause_name(), Some("interrogated_by_station"));
    assert_eq!(f.common_address, Some(37133));
    assert_eq!(f.ioa, (10010..=10018).collect::<Vec<u32>>());
    assert_eq!(f.values.len(), 9);
    assert_eq!(f.values[8].value, Some(ObjectValue::Bool(true)));
    let j = json(&pdu);
    assert_eq!(
        j["values"][0],
        serde_json::json!({"ioa": 10010, "value": false, "quality": ["blocked", "not_topical", "invalid"]})
    );
    assert_eq!(
        j["values"][4]["quality"],
        serde_json::json!(["not_topical", "invalid"])
    );
}

#[test]
fn double_points_in_sequence() {
    // Wireshark test capture frame 110, fourth APDU
    let pdu = decode(&[
        0x68, 0x10, // start, length 16
        0x06, 0x00, 0x02, 0x00, // N(S) 3, N(R) 1
        0x03, // M_DP_NA_1
        0x83, // SQ=1, three objects
        0x14, 0x00, // interrogated by station
        0x0D, 0x91, // common address 37133
        0x2A, 0x4E, 0x00, // IOA 20010
        0x80, 0x81, 0x02, // intermediate/invalid, off/invalid, on
    ]);
    clean(&pdu);
    let f = iec(&pdu);
    assert_eq!(f.ioa, [20010, 20011, 20012]);
    let states: Vec<_> = f.values.iter().map(|o| o.state).collect();
    assert_eq!(states, [Some("intermediate"), Some("off"), Some("on")]);
    assert_eq!(f.values[2].value, Some(ObjectValue::Unsigned(2)));
    assert!(f.values[2].quality.is_empty());
}

#[test]
fn single_point_with_cp56_time() {
    // diverse capture frame 89
    let pdu = decode(&[
        0x68, 0x15, // start, length 21
        0xC8, 0x00, 0x3E, 0x00, // N(S) 100, N(R) 31
        0x1E, // M_SP_TB_1
        0x01, // one object
        0x03, 0x00, // spontaneous
        0x03, 0x00, // common address 3
        0x02, 0x00, 0x00, // IOA 2
        0x01, // SIQ: on
        0xAA, 0xC2, // 49834 ms
        0x29, // minute 41
        0x10, // hour 16
        0x8D, // day 13, day of week 4
        0x08, // August
        0x09, // 2009
    ]);
    clean(&pdu);
    assert_eq!(pdu.function, "single_point_cp56");
    let j = json(&pdu);
    assert_eq!(
        j["values"][0],
        serde_json::json!({"ioa": 2, "value": true, "time": "2009-08-13T16:41:49.834Z"})
    );
}

#[test]
fn single_point_with_cp24_time() {
    let pdu = decode(&[
        0x68, 0x11, // start, length 17
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x02, // M_SP_TA_1
        0x01, // one object
        0x03, 0x00, // spontaneous
        0x01, 0x00, // common address 1
        0x05, 0x00, 0x00, // IOA 5
        0x00, // off
        0x39, 0x30, // 12345 ms
        0x87, // minute 7, IV
    ]);
    clean(&pdu);
    let j = json(&pdu);
    assert_eq!(
        j["values"][0],
        serde_json::json!({"ioa": 5, "value": false, "time_of_hour": "07:12.345", "time_invalid": true})
    );
}

#[test]
fn normalized_scaled_step_bitstring_and_totals() {
    let pdu = |type_id: u8, element: &[u8]| {
        let mut apdu = vec![
            0x68, 0, // start, length (set below)
            0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
            type_id, 0x01, // one object
            0x05, 0x00, // request
            0x01, 0x00, // common address 1
            0x64, 0x00, 0x00, // IOA 100
        ];
        apdu.extend_from_slice(element);
        apdu[1] = (apdu.len() - 2) as u8;
        let pdu = decode(&apdu);
        clean(&pdu);
        pdu
    };
    // M_ME_NA_1: NVA 0x4000 = 0.5, QDS 0
    let p = pdu(9, &[0x00, 0x40, 0x00]);
    assert_eq!(iec(&p).values[0].value, Some(ObjectValue::Float(0.5)));
    // M_ME_ND_1: NVA -32768 = -1.0, no quality
    let p = pdu(21, &[0x00, 0x80]);
    assert_eq!(iec(&p).values[0].value, Some(ObjectValue::Float(-1.0)));
    // normalized values are exact multiples of 2^-15
    let p = pdu(21, &[0x01, 0x00]);
    assert_eq!(json(&p)["values"][0]["value"], 0.000030517578125);
    // M_ME_NB_1: SVA -2, QDS substituted
    let p = pdu(11, &[0xFE, 0xFF, 0x20]);
    let o = iec(&p).values[0];
    assert_eq!(o.value, Some(ObjectValue::Signed(-2)));
    assert!(o.quality.contains(Quality::SUBSTITUTED));
    // M_ST_NA_1: VTI 0xFF = -1, transient; QDS 0
    let p = pdu(5, &[0xFF, 0x00]);
    let o = iec(&p).values[0];
    assert_eq!(
        (o.value, o.transient),
        (Some(ObjectValue::Signed(-1)), Some(true))
    );
    // M_ST_NA_1: VTI 0x3F = 63, not transient
    let p = pdu(5, &[0x3F, 0x00]);
    assert_eq!(iec(&p).values[0].value, Some(ObjectValue::Signed(63)));
    // M_BO_NA_1: BSI 0x12345678, QDS 0
    let p = pdu(7, &[0x78, 0x56, 0x34, 0x12, 0x00]);
    assert_eq!(
        iec(&p).values[0].value,
        Some(ObjectValue::Unsigned(0x1234_5678))
    );
    // M_IT_NA_1: counter -5, sequence 3, carry and invalid
    let p = pdu(15, &[0xFB, 0xFF, 0xFF, 0xFF, 0xA3]);
    let j = json(&p);
    assert_eq!(
        j["values"][0],
        serde_json::json!({"ioa": 100, "value": -5, "quality": ["carry", "invalid"], "counter_sequence": 3})
    );
    // M_ME_TF_1: float -2.5, QDS 0, CP56 2021-02-28 23:59:59.999
    let p = pdu(
        36,
        &[
            0x00, 0x00, 0x20, 0xC0, // -2.5
            0x00, // QDS
            0x5F, 0xEA, // 59999 ms
            0x3B, // minute 59
            0x97, // hour 23, summer time
            0x1C, // day 28
            0x02, // February
            0x15, // 2021
        ],
    );
    let j = json(&p);
    assert_eq!(j["values"][0]["value"], -2.5);
    assert_eq!(j["values"][0]["time"], "2021-02-28T23:59:59.999Z");
    assert_eq!(j["values"][0]["summer_time"], true);
    // M_EP_TD_1: event state on, elapsed 300 ms, CP56
    let p = pdu(38, &[0x02, 0x2C, 0x01, 0, 0, 0, 0, 1, 1, 0]);
    let o = iec(&p).values[0];
    assert_eq!((o.state, o.elapsed_ms), (Some("on"), Some(300)));
}

#[test]
fn end_of_initialization() {
    // Wireshark test capture frame 107
    let pdu = decode(&[
        0x68, 0x0E, // start, length 14
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x46, // M_EI_NA_1
        0x01, // one object
        0x04, 0x00, // cause 4 (initialized)
        0x0D, 0x91, // common address 37133
        0x00, 0x00, 0x00, // IOA 0
        0x00, // COI: local power switch on
    ]);
    clean(&pdu);
    assert_eq!(pdu.function, "end_of_initialization");
    assert_eq!(pdu.class, FunctionClass::Other);
    assert_eq!(iec(&pdu).cause_name(), Some("initialized"));
    assert_eq!(iec(&pdu).values[0].qualifier, Some(0));
}

#[test]
fn many_objects_keep_every_address_and_the_first_values() {
    let mut apdu = vec![
        0x68, 0, // start, length (set below)
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x01, // M_SP_NA_1
        0xA8, // SQ=1, 40 objects
        0x14, 0x00, // interrogated by station
        0x01, 0x00, // common address 1
        0xE8, 0x03, 0x00, // IOA 1000
    ];
    apdu.extend([0x01; 40]); // on
    apdu[1] = (apdu.len() - 2) as u8;
    let pdu = decode(&apdu);
    clean(&pdu);
    let f = iec(&pdu);
    assert_eq!(f.ioa.len(), 40);
    assert_eq!(f.ioa[39], 1039);
    assert_eq!(f.values.len(), MAX_VALUES);
    assert!(f.objects_truncated);
    assert_eq!(json(&pdu)["objects_truncated"], true);
}

// ---------------------------------------------------------------- commands

#[test]
fn single_command_select_then_execute() {
    let mut c = Conn::new();
    // Wireshark test capture frame 124
    let select = c.master(&[
        0x68, 0x0E, // start, length 14
        0x04, 0x00, 0x0E, 0x00, // N(S) 2, N(R) 7
        0x2D, // C_SC_NA_1
        0x01, // one object
        0x06, // cause 6 (activation)
        0x01, // originator address 1
        0x0D, 0x91, // common address 37133
        0x1A, 0x27, 0x00, // IOA 10010
        0x81, // SCO: select, no pulse qualifier, on
    ]);
    clean(&select);
    assert!(!select.is_response);
    assert_eq!(select.function, "single_command");
    assert_eq!(select.function_code, Some(45));
    assert_eq!(select.class, FunctionClass::Control);
    let f = iec(&select);
    assert_eq!((f.select, f.originator_address), (Some(true), Some(1)));
    assert_eq!(
        json(&select)["values"],
        serde_json::json!([{"ioa": 10010, "value": true, "select": true, "qualifier": 0}])
    );
    // Wireshark test capture frame 126
    let execute = c.master(&[
        0x68, 0x0E, // start, length 14
        0x06, 0x00, 0x10, 0x00, // N(S) 3, N(R) 8
        0x2D, 0x01, // C_SC_NA_1, one object
        0x06, 0x01, // activation, originator 1
        0x0D, 0x91, // common address 37133
        0x1A, 0x27, 0x00, // IOA 10010
        0x01, // SCO: execute, on
    ]);
    clean(&execute);
    assert_eq!(iec(&execute).select, Some(false));
}

#[test]
fn negative_test_confirmation() {
    // Wireshark test capture frame 134, second APDU
    let pdu = decode(&[
        0x68, 0x0E, // start, length 14
        0x14, 0x00, 0x0A, 0x00, // N(S) 10, N(R) 5
        0x2D, 0x01, // C_SC_NA_1, one object
        0xC7, // cause 7 (activation con), P/N negative, T test
        0x02, // originator address 2
        0x0D, 0x91, // common address 37133
        0xCE, 0x56, 0x00, // IOA 22222
        0x81, // select, on
    ]);
    clean(&pdu);
    let f = iec(&pdu);
    assert_eq!(
        (f.cause, f.negative, f.test),
        (Some(7), Some(true), Some(true))
    );
    assert_eq!(json(&pdu)["cause_name"], "activation_con");
}

#[test]
fn double_command() {
    // Wireshark test capture frame 117
    let pdu = Conn::new().master(&[
        0x68, 0x0E, // start, length 14
        0x02, 0x00, 0x0A, 0x00, // N(S) 1, N(R) 5
        0x2E, 0x01, // C_DC_NA_1, one object
        0x06, 0x01, // activation, originator 1
        0x0D, 0x91, // common address 37133
        0x98, 0x3A, 0x00, // IOA 15000
        0x82, // DCO: select, on
    ]);
    clean(&pdu);
    assert_eq!(pdu.function, "double_command");
    assert_eq!(pdu.class, FunctionClass::Control);
    let o = iec(&pdu).values[0];
    assert_eq!((o.state, o.select), (Some("on"), Some(true)));
}

#[test]
fn regulating_step_command_with_long_pulse() {
    let pdu = decode(&[
        0x68, 0x0E, // start, length 14
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x2F, 0x01, // C_RC_NA_1, one object
        0x06, 0x00, // activation
        0x01, 0x00, // common address 1
        0x07, 0x00, 0x00, // IOA 7
        0x0A, // RCO: execute, qualifier 2 (long pulse), higher
    ]);
    clean(&pdu);
    assert_eq!(pdu.class, FunctionClass::Control);
    let o = iec(&pdu).values[0];
    assert_eq!(
        (o.state, o.select, o.qualifier),
        (Some("higher"), Some(false), Some(2))
    );
}

#[test]
fn setpoint_float_select() {
    // diverse capture frame 51
    let pdu = Conn::new().master(&[
        0x68, 0x12, // start, length 18
        0x34, 0x00, 0xB0, 0x00, // N(S) 26, N(R) 88
        0x32, 0x01, // C_SE_NC_1, one object
        0x06, 0x00, // activation
        0x03, 0x00, // common address 3
        0x9C, 0x13, 0x00, // IOA 5020
        0x00, 0x00, 0x40, 0x41, // 12.0
        0x80, // QOS: select, QL 0
    ]);
    clean(&pdu);
    assert_eq!(pdu.function, "setpoint_float");
    assert_eq!(pdu.class, FunctionClass::Control);
    assert_eq!(
        json(&pdu)["values"],
        serde_json::json!([{"ioa": 5020, "value": 12.0, "select": true, "qualifier": 0}])
    );
}

#[test]
fn setpoint_scaled_execute() {
    let pdu = decode(&[
        0x68, 0x10, // start, length 16
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x31, 0x01, // C_SE_NB_1, one object
        0x06, 0x00, // activation
        0x01, 0x00, // common address 1
        0x08, 0x00, 0x00, // IOA 8
        0x18, 0xFC, // -1000
        0x00, // QOS: execute
    ]);
    clean(&pdu);
    let f = iec(&pdu);
    assert_eq!(f.select, Some(false));
    assert_eq!(f.values[0].value, Some(ObjectValue::Signed(-1000)));
}

#[test]
fn setpoint_normalized_with_time_of_a_year_past_99() {
    // diverse capture frame 154: the client writes years since 1900
    let pdu = Conn::new().master(&[
        0x68, 0x17, // start, length 23
        0x4A, 0x00, 0xF6, 0x00, // N(S) 37, N(R) 123
        0x3D, 0x01, // C_SE_TA_1, one object
        0x06, 0x00, // activation
        0x03, 0x00, // common address 3
        0xD5, 0x12, 0x00, // IOA 4821
        0x74, 0x40, // NVA 16500
        0x80, // QOS: select
        0xC8, 0x00, // 200 ms
        0x1A, // minute 26
        0x13, // hour 19
        0x0D, // day 13
        0x08, // August
        0x6D, // year 109: out of range
    ]);
    assert_eq!(anomalies(&pdu), [INVALID_TIME]);
    assert_eq!(pdu.function, "setpoint_normalized_cp56");
    let j = json(&pdu);
    assert_eq!(j["values"][0]["value"], 16500.0 / 32768.0);
    assert_eq!(j["values"][0]["time"], "2109-08-13T19:26:00.200Z");
    assert_eq!(j["select"], true);
}

#[test]
fn bitstring_command_has_no_select() {
    let pdu = decode(&[
        0x68, 0x11, // start, length 17
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x33, 0x01, // C_BO_NA_1, one object
        0x06, 0x00, // activation
        0x01, 0x00, // common address 1
        0x09, 0x00, 0x00, // IOA 9
        0x01, 0x00, 0x00, 0x80, // bits
    ]);
    clean(&pdu);
    assert_eq!(pdu.class, FunctionClass::Control);
    let f = iec(&pdu);
    assert_eq!(f.select, None);
    assert_eq!(f.values[0].value, Some(ObjectValue::Unsigned(0x8000_0001)));
}

#[test]
fn system_commands() {
    let command = |type_id: u8, element: &[u8]| {
        let mut apdu = vec![
            0x68, 0, // start, length (set below)
            0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
            type_id, 0x01, // one object
            0x06, 0x00, // activation
            0xFF, 0xFF, // common address: global
            0x00, 0x00, 0x00, // IOA 0
        ];
        apdu.extend_from_slice(element);
        apdu[1] = (apdu.len() - 2) as u8;
        Conn::new().master(&apdu)
    };
    // C_IC_NA_1, QOI 20: station interrogation (diverse capture frame 73)
    let p = command(100, &[0x14]);
    clean(&p);
    assert_eq!(
        (p.function, p.class),
        ("interrogation", FunctionClass::Read)
    );
    assert_eq!(iec(&p).values[0].qualifier, Some(20));
    assert_eq!(iec(&p).common_address, Some(0xFFFF));
    // C_CI_NA_1, QCC 5: general counter request
    let p = command(101, &[0x05]);
    clean(&p);
    assert_eq!(
        (p.function, p.class),
        ("counter_interrogation", FunctionClass::Read)
    );
    // C_RD_NA_1: the address alone
    let p = command(102, &[]);
    clean(&p);
    assert_eq!((p.function, p.class), ("read", FunctionClass::Read));
    assert_eq!(iec(&p).ioa, [0]);
    // C_RP_NA_1, QRP 1: general reset
    let p = command(105, &[0x01]);
    clean(&p);
    assert_eq!(
        (p.function, p.class),
        ("reset_process", FunctionClass::Control)
    );
    // C_TS_NA_1 with its fixed pattern, then a wrong one
    let p = command(104, &[0xAA, 0x55]);
    clean(&p);
    assert_eq!(
        (p.function, p.class),
        ("test_command", FunctionClass::Diagnostic)
    );
    assert_eq!(
        anomalies(&command(104, &[0x00, 0x00])),
        [INVALID_TEST_PATTERN]
    );
    // P_ME_NB_1: a threshold, QPM 1
    let p = command(111, &[0x10, 0x00, 0x01]);
    clean(&p);
    assert_eq!(p.class, FunctionClass::Write);
}

#[test]
fn clock_synchronization() {
    // Wireshark test capture frame 139
    let pdu = Conn::new().master(&[
        0x68, 0x14, // start, length 20
        0x0C, 0x00, 0x16, 0x00, // N(S) 6, N(R) 11
        0x67, 0x01, // C_CS_NA_1, one object
        0x06, 0x04, // activation, originator 4
        0x0D, 0x91, // common address 37133
        0x00, 0x00, 0x00, // IOA 0
        0xC8, 0x32, // 13000 ms
        0x39, // minute 57
        0x08, // hour 8
        0x1D, // day 29
        0x08, // August
        0x08, // 2008
    ]);
    clean(&pdu);
    assert_eq!(pdu.function, "clock_synchronization");
    assert_eq!(pdu.class, FunctionClass::Control);
    assert_eq!(
        json(&pdu)["values"],
        serde_json::json!([{"ioa": 0, "time": "2008-08-29T08:57:13.000Z"}])
    );
}

#[test]
fn file_segment_is_walked_by_its_length() {
    let pdu = decode(&[
        0x68, 0x13, // start, length 19
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x7D, 0x01, // F_SG_NA_1, one object
        0x0D, 0x00, // file transfer
        0x01, 0x00, // common address 1
        0x10, 0x00, 0x00, // IOA 16
        0x01, 0x00, // name of file
        0x01, // name of section
        0x02, // length of segment
        0xAB, 0xCD, // segment
    ]);
    clean(&pdu);
    assert_eq!(
        (pdu.function, pdu.class),
        ("file_segment", FunctionClass::Program)
    );
    assert_eq!(iec(&pdu).ioa, [16]);
}

#[test]
fn security_types_read_the_first_address_only() {
    let pdu = decode(&[
        0x68, 0x10, // start, length 16
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x51, 0x01, // S_CH_NA_1, one object
        0x0E, 0x00, // cause 14 (authentication)
        0x01, 0x00, // common address 1
        0x00, 0x00, 0x00, // IOA 0
        0x01, 0x02, 0x03, // challenge data, not decoded
    ]);
    clean(&pdu);
    assert_eq!(
        (pdu.function, pdu.class),
        ("authentication_challenge", FunctionClass::Session)
    );
    assert_eq!(iec(&pdu).ioa, [0]);
    assert_eq!(iec(&pdu).cause_name(), Some("authentication"));
}

// ---------------------------------------------------------------- malformed

#[test]
fn apdu_length_below_four() {
    // Wireshark test capture frame 11: 68 02 then two octets
    let pdu = decode(&[0x68, 0x02, 0x02, 0x68]);
    assert_eq!(anomalies(&pdu), [APDU_LENGTH_TOO_SHORT]);
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    let f = iec(&pdu);
    assert_eq!((f.apdu_length, f.apci_type), (Some(2), None));
}

#[test]
fn apdu_length_above_253() {
    let mut apdu = vec![0x68, 0xFE, 0x01, 0x00, 0x00, 0x00]; // S-frame, length 254
    apdu.resize(256, 0);
    let pdu = decode(&apdu);
    assert_eq!(
        anomalies(&pdu),
        [APDU_LENGTH_TOO_LONG, APDU_LENGTH_MISMATCH]
    );
}

#[test]
fn i_frame_without_asdu() {
    // Wireshark test capture frame 25 (after its garbage prefix)
    let pdu = decode(&[0x68, 0x04, 0x16, 0x16, 0x16, 0x16]);
    assert_eq!(anomalies(&pdu), [MISSING_ASDU]);
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    let f = iec(&pdu);
    assert_eq!((f.tx, f.rx), (Some(2827), Some(2827)));
}

#[test]
fn truncated_asdu_header() {
    // Wireshark test capture frame 83: type 26 (unknown), VSQ, cause, OA
    let pdu = decode(&[0x68, 0x08, 0x1A, 0x1A, 0x1A, 0x1A, 0x1A, 0x1A, 0x1A, 0x1A]);
    assert_eq!(anomalies(&pdu), [UNKNOWN_TYPE_ID, TRUNCATED_ASDU]);
    assert_eq!((pdu.function, pdu.function_code), ("unknown", Some(26)));
    let f = iec(&pdu);
    assert_eq!(
        (f.type_id, f.num_objects, f.cause),
        (Some(26), Some(26), Some(26))
    );
    assert_eq!((f.originator_address, f.common_address), (Some(26), None));
}

#[test]
fn unknown_type_keeps_the_first_address() {
    let pdu = decode(&[
        0x68, 0x0F, // start, length 15
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x16, 0x01, // type 22: reserved
        0x03, 0x00, // spontaneous
        0x01, 0x00, // common address 1
        0x2A, 0x00, 0x00, // IOA 42
        0x01, 0x02, // elements of unknown size
    ]);
    assert_eq!(anomalies(&pdu), [UNKNOWN_TYPE_ID]);
    assert_eq!(pdu.class, FunctionClass::Other);
    assert_eq!(iec(&pdu).ioa, [42]);
    assert!(iec(&pdu).values.is_empty());
}

#[test]
fn objects_shorter_or_longer_than_the_asdu() {
    // Two M_SP_NA_1 objects announced, one present.
    let short = decode(&[
        0x68, 0x0E, // start, length 14
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x01, 0x02, // M_SP_NA_1, two objects
        0x03, 0x00, // spontaneous
        0x01, 0x00, // common address 1
        0x01, 0x00, 0x00, // IOA 1
        0x01, // on
    ]);
    assert_eq!(anomalies(&short), [ASDU_LENGTH_MISMATCH]);
    assert_eq!(iec(&short).ioa, [1]);
    assert_eq!(iec(&short).values.len(), 1);
    // One object announced, two octets too many.
    let long = decode(&[
        0x68, 0x10, // start, length 16
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x01, 0x01, // M_SP_NA_1, one object
        0x03, 0x00, // spontaneous
        0x01, 0x00, // common address 1
        0x01, 0x00, 0x00, // IOA 1
        0x01, // on
        0xEE, 0xEE, // trailing
    ]);
    assert_eq!(anomalies(&long), [ASDU_LENGTH_MISMATCH]);
    // A float cut inside its value: the object is not kept.
    let cut = decode(&[
        0x68, 0x0F, // start, length 15
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x0D, 0x01, // M_ME_NC_1, one object
        0x03, 0x00, // spontaneous
        0x01, 0x00, // common address 1
        0x01, 0x00, 0x00, // IOA 1
        0x00, 0x00, // half a float
    ]);
    assert_eq!(anomalies(&cut), [ASDU_LENGTH_MISMATCH]);
    assert_eq!(iec(&cut).ioa, [1]);
    assert!(iec(&cut).values.is_empty());
}

#[test]
fn undefined_cause_and_bad_date() {
    let pdu = decode(&[
        0x68, 0x15, // start, length 21
        0x00, 0x00, 0x00, 0x00, // N(S) 0, N(R) 0
        0x1E, 0x01, // M_SP_TB_1, one object
        0x00, 0x00, // cause 0: not used
        0x01, 0x00, // common address 1
        0x01, 0x00, 0x00, // IOA 1
        0x00, // off
        0x00, 0x00, 0x00, 0x00, // 0 ms, minute 0, hour 0
        0x1F, // day 31
        0x02, // February
        0x18, // 2024
    ]);
    assert_eq!(anomalies(&pdu), [UNKNOWN_CAUSE, INVALID_TIME]);
    let j = json(&pdu);
    assert!(j["cause_name"].is_null());
    assert!(j["values"][0]["time"].is_null(), "no date for 31 February");
}

#[test]
fn u_frame_with_two_functions_and_a_body() {
    // Wireshark test capture frame 36: control 0x17 (STARTDT act + STOPDT act), length 5
    let pdu = decode(&[0x68, 0x05, 0x17, 0x17, 0x17, 0x17, 0x17]);
    assert_eq!(
        anomalies(&pdu),
        [
            INVALID_U_FUNCTION,
            INVALID_CONTROL_FIELD,
            APDU_LENGTH_MISMATCH
        ]
    );
    assert_eq!((pdu.function, pdu.function_code), ("unknown", Some(5)));
    assert_eq!(pdu.class, FunctionClass::Session);
    assert!(json(&pdu)["utype"].is_null());
}

#[test]
fn s_frame_with_stray_bits_and_a_body() {
    // Wireshark test capture frame 71: control 0x19 x4, length 6
    let pdu = decode(&[0x68, 0x06, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19]);
    assert_eq!(
        anomalies(&pdu),
        [INVALID_CONTROL_FIELD, APDU_LENGTH_MISMATCH]
    );
    assert_eq!(iec(&pdu).rx, Some(3212));
}

// ---------------------------------------------------------------- framing

#[test]
fn several_apdus_in_one_segment() {
    // Wireshark test capture frame 110: S, then three I-frames
    let mut c = Conn::new();
    let data = [
        0x68, 0x04, 0x01, 0x00, 0x02, 0x00, // S, N(R) 1
        0x68, 0x0E, 0x02, 0x00, 0x02, 0x00, // I, N(S) 1, N(R) 1
        0x64, 0x01, 0x07, 0x00, 0x0D, 0x91, 0x00, 0x00, 0x00, 0x14, // C_IC_NA_1 con
        0x68, 0x04, 0x43, 0x00, 0x00, 0x00, // TESTFR act
    ];
    let pdus = c.all(ToClient, &data);
    let functions: Vec<_> = pdus.iter().map(|p| p.function).collect();
    assert_eq!(functions, ["supervisory", "interrogation", "testfr_act"]);
    assert!(c.events.iter().all(|e| e.header.packet == 1));
}

#[test]
fn apdu_split_over_segments_completes_on_the_last() {
    let mut c = Conn::new();
    let apdu = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00];
    assert_eq!(c.feed(ToServer, &apdu[..1]), 0, "start octet alone waits");
    assert_eq!(
        c.feed(ToServer, &apdu[..4]),
        0,
        "partial control field waits"
    );
    assert_eq!(c.feed(ToServer, &apdu), 6);
    assert_eq!(c.events.len(), 1);
    assert_eq!(c.events[0].header.packet, 3);
}

#[test]
fn bytes_before_a_start_are_reported_and_skipped() {
    let mut c = Conn::new();
    // Wireshark test capture frame 25: six 0x06, an APDU, then two stray octets
    let data = [
        0x06, 0x06, 0x06, 0x06, 0x06, 0x06, // garbage
        0x68, 0x04, 0x16, 0x16, 0x16, 0x16, // I-frame without ASDU
        0x16, 0x16, // garbage
    ];
    let pdus = c.all(ToServer, &data);
    assert_eq!(pdus.len(), 3);
    assert_eq!(anomalies(&pdus[0]), [INVALID_START]);
    assert_eq!(iec(&pdus[0]).skipped_bytes, Some(6));
    assert_eq!(pdus[0].function_code, None);
    assert_eq!(anomalies(&pdus[1]), [MISSING_ASDU]);
    assert_eq!(iec(&pdus[2]).skipped_bytes, Some(2));
    // Garbage ending in a start octet keeps the start for the next segment.
    let mut c = Conn::new();
    assert_eq!(c.feed(ToServer, &[0x01, 0x02, 0x68]), 2);
    assert_eq!(c.events.len(), 1);
}

// ---------------------------------------------------------------- session state

/// An I-frame from either side with these sequence numbers: C_IC_NA_1.
fn i_frame(tx: u16, rx: u16) -> Vec<u8> {
    let [t0, t1] = (tx << 1).to_le_bytes();
    let [r0, r1] = (rx << 1).to_le_bytes();
    vec![
        0x68, 0x0E, // start, length 14
        t0, t1, r0, r1, // N(S), N(R)
        0x64, 0x01, // C_IC_NA_1, one object
        0x06, 0x00, // activation
        0x01, 0x00, // common address 1
        0x00, 0x00, 0x00, // IOA 0
        0x14, // station interrogation
    ]
}

fn s_frame(rx: u16) -> Vec<u8> {
    let [r0, r1] = (rx << 1).to_le_bytes();
    vec![0x68, 0x04, 0x01, 0x00, r0, r1]
}

#[test]
fn in_order_sequences_are_clean_and_wrap() {
    let mut c = Conn::new();
    clean(&c.master(&i_frame(32766, 5)));
    clean(&c.outstation(&i_frame(5, 32767)));
    clean(&c.master(&i_frame(32767, 6)));
    // 32767 + 1 wraps to 0
    clean(&c.master(&i_frame(0, 6)));
    clean(&c.outstation(&s_frame(1)));
}

#[test]
fn missing_and_repeated_i_frames() {
    let mut c = Conn::new();
    clean(&c.master(&i_frame(10, 0)));
    clean(&c.master(&i_frame(11, 0)));
    // 12 and 13 are missing
    assert_eq!(anomalies(&c.master(&i_frame(14, 0))), [SEQUENCE_GAP]);
    clean(&c.master(&i_frame(15, 0)));
    // 12 again: already used
    assert_eq!(anomalies(&c.master(&i_frame(12, 0))), [DUPLICATE_SEQUENCE]);
    // the sender goes on as if nothing happened
    clean(&c.master(&i_frame(16, 0)));
    // the other direction counts on its own
    clean(&c.outstation(&i_frame(0, 17)));
}

#[test]
fn acknowledgements_beyond_sent_or_backwards() {
    let mut c = Conn::new();
    clean(&c.outstation(&i_frame(7, 0)));
    clean(&c.outstation(&i_frame(8, 0)));
    // The outstation sent 7 and 8: 9 is the most the master can acknowledge.
    clean(&c.master(&s_frame(9)));
    assert_eq!(anomalies(&c.master(&s_frame(12))), [ACK_BEYOND_SENT]);
    assert_eq!(anomalies(&c.master(&s_frame(8))), [ACK_WENT_BACKWARDS]);
    // An I-frame's N(R) is checked the same way.
    assert_eq!(anomalies(&c.master(&i_frame(0, 20))), [ACK_BEYOND_SENT]);
}

#[test]
fn a_gap_forgets_what_the_side_sent() {
    let mut c = Conn::new();
    clean(&c.master(&i_frame(1, 0)));
    c.parser.gap(ToServer);
    // After lost bytes, a jump is not a gap the peer caused.
    clean(&c.master(&i_frame(40, 0)));
    clean(&c.master(&i_frame(41, 0)));
}

#[test]
fn u_confirmations_need_activations() {
    let mut c = Conn::new();
    let startdt_act = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00];
    let startdt_con = [0x68, 0x04, 0x0B, 0x00, 0x00, 0x00];
    let testfr_con = [0x68, 0x04, 0x83, 0x00, 0x00, 0x00];
    clean(&c.master(&startdt_act));
    clean(&c.outstation(&startdt_con));
    // Confirmed once: a second confirmation has no activation.
    assert_eq!(
        anomalies(&c.outstation(&startdt_con)),
        [CONFIRMATION_WITHOUT_ACTIVATION]
    );
    // A confirmation must come from the peer of the activation.
    clean(&c.master(&[0x68, 0x04, 0x43, 0x00, 0x00, 0x00]));
    assert_eq!(
        anomalies(&c.master(&testfr_con)),
        [CONFIRMATION_WITHOUT_ACTIVATION]
    );
    clean(&c.outstation(&testfr_con));
    // After a gap in the master's bytes its activation may have been lost.
    c.parser.gap(ToServer);
    clean(&c.outstation(&startdt_con));
}

#[test]
fn data_after_stopdt_is_flagged_until_startdt() {
    let mut c = Conn::new();
    clean(&c.master(&[0x68, 0x04, 0x13, 0x00, 0x00, 0x00])); // STOPDT act
    clean(&c.outstation(&i_frame(0, 0))); // still allowed before the confirmation
    clean(&c.outstation(&[0x68, 0x04, 0x23, 0x00, 0x00, 0x00])); // STOPDT con
    assert_eq!(
        anomalies(&c.outstation(&i_frame(1, 0))),
        [DATA_WHILE_STOPPED]
    );
    clean(&c.master(&[0x68, 0x04, 0x07, 0x00, 0x00, 0x00])); // STARTDT act
    clean(&c.outstation(&i_frame(2, 0)));
}

// ---------------------------------------------------------------- probe

#[test]
fn probe_on_the_known_port() {
    let startdt = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00];
    assert_eq!(probe(&startdt, ToServer, true), Probe::Match);
    assert_eq!(probe(&startdt[..3], ToServer, true), Probe::NeedMore);
    assert_eq!(probe(&[], ToServer, true), Probe::NeedMore);
    // An I-frame's first segment, ASDU still to come.
    assert_eq!(probe(&i_frame(3, 4)[..8], ToClient, true), Probe::Match);
    // A fuzzer's U-frame with two functions is still IEC 104 on 2404.
    assert_eq!(
        probe(&[0x68, 0x04, 0x17, 0x00, 0x00, 0x00], ToServer, true),
        Probe::Match
    );
    match detect_stream(PORT, ToServer, &startdt) {
        Detection::Found(StreamDecoder::Iec104(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn probe_elsewhere_needs_clean_apdus() {
    let startdt = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00];
    assert_eq!(probe(&startdt, ToServer, false), Probe::Match);
    assert_eq!(probe(&i_frame(3, 4), ToServer, false), Probe::Match);
    let mut two = i_frame(3, 4);
    two.extend(s_frame(9));
    assert_eq!(probe(&two, ToServer, false), Probe::Match);
    assert_eq!(probe(&i_frame(3, 4)[..8], ToServer, false), Probe::NeedMore);
    // Two U functions at once, S with stray bits, a body on a U-frame.
    for bad in [
        &[0x68, 0x04, 0x17, 0x00, 0x00, 0x00][..],
        &[0x68, 0x04, 0x05, 0x00, 0x00, 0x00],
        &[0x68, 0x05, 0x07, 0x00, 0x00, 0x00, 0x00],
    ] {
        assert_eq!(probe(bad, ToServer, false), Probe::NoMatch, "{bad:02x?}");
    }
    // An I-frame whose objects do not fill the ASDU.
    let mut long = i_frame(0, 0);
    long.push(0);
    long[1] += 1;
    assert_eq!(probe(&long, ToServer, false), Probe::NoMatch);
    match detect_stream(12404, ToServer, &startdt) {
        Detection::Found(StreamDecoder::Iec104(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn probe_rejects_other_protocols_on_2404() {
    let others: [&[u8]; 6] = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        // TLS client hello record header
        &[
            0x16, 0x03, 0x01, 0x00, 0x2F, 0x01, 0x00, 0x00, 0x2B, 0x03, 0x03,
        ],
        // TPKT + COTP connection request (S7, MMS)
        &[
            0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00,
        ],
        // DNP3 link header
        &[0x05, 0x64, 0x05, 0xC9, 0x01, 0x00, 0x00, 0x04, 0xE9, 0x21],
        // Modbus read holding registers
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A,
        ],
        // Modbus whose transaction id 0x680A frames like an APDU of length 10:
        // its "ASDU" has cause 0
        &[
            0x68, 0x0A, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x01,
        ],
    ];
    for data in others {
        assert_eq!(probe(data, ToServer, true), Probe::NoMatch, "{data:02x?}");
        assert_eq!(probe(data, ToServer, false), Probe::NoMatch, "{data:02x?}");
    }
    // A length below 4 cannot be IEC 104.
    assert_eq!(
        probe(&[0x68, 0x02, 0x00, 0x00], ToServer, true),
        Probe::NoMatch
    );
}

// ---------------------------------------------------------------- robustness

/// xorshift64*: a deterministic stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Mostly APDU-shaped bytes: a start, a length, a random control field and
/// a random ASDU of a type that is often a known one.
fn random_apdu(rng: &mut Rng) -> Vec<u8> {
    if rng.below(6) == 0 {
        let n = rng.below(30) as usize;
        return rng.bytes(n);
    }
    let length = match rng.below(8) {
        0 => rng.below(256) as usize,
        1 => 4,
        _ => rng.below(60) as usize + 4,
    };
    let mut apdu = vec![START, length as u8];
    apdu.extend(rng.bytes(length));
    if length >= 5 && rng.below(2) == 0 {
        // An I-frame with a type id from a list of known ones.
        const TYPES: &[u8] = &[
            1, 3, 9, 13, 30, 36, 45, 46, 50, 58, 63, 100, 103, 125, 0, 200,
        ];
        apdu[2] &= 0xFE;
        apdu[6] = TYPES[rng.below(TYPES.len() as u64) as usize];
        if let Some(vsq) = apdu.get_mut(7) {
            *vsq &= 0x87;
        }
    }
    apdu
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut c = Conn::new();
    for _ in 0..20_000 {
        let dir = if rng.below(2) == 0 {
            ToServer
        } else {
            ToClient
        };
        let mut data = random_apdu(&mut rng);
        data.extend(random_apdu(&mut rng));
        let used = c.feed(dir, &data);
        assert!(used <= data.len());
        // What is left is the start of one APDU: at most 2 + 255 octets.
        let rest = &data[used..];
        assert!(rest.is_empty() || (rest[0] == START && rest.len() < 257));
        let _ = probe(&data, dir, rng.below(2) == 0);
        let mut f = Iec104Fields::default();
        let mut a = Anomalies::new();
        decode_apdu(&data, &mut f, &mut a);
        assert!(f.ioa.len() <= 127 && f.values.len() <= MAX_VALUES);
        let mut out = Vec::new();
        let mut w = JsonWriter::object(&mut out);
        f.visit(&mut w);
        w.finish();
        serde_json::from_slice::<serde_json::Value>(&out).expect("valid JSON");
        if rng.below(50) == 0 {
            c.parser.gap(dir);
        }
    }
}

#[test]
fn random_streams_in_random_segments_decode_as_a_whole() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..200 {
        let mut stream = Vec::new();
        for _ in 0..30 {
            stream.extend(random_apdu(&mut rng));
        }
        // Whole at once.
        let mut whole = Conn::new();
        let used = whole.feed(ToServer, &stream);
        // In segments, keeping what was not consumed, as the pipeline does.
        let mut split = Conn::new();
        let mut kept: Vec<u8> = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let take = (rng.below(40) as usize + 1).min(rest.len());
            kept.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            let n = split.feed(ToServer, &kept);
            kept.drain(..n);
        }
        assert_eq!(stream.len() - used, kept.len());
        // The same APDUs, in the same order (garbage may be reported in more pieces).
        // Compared as text: random floats include NaN, which equals nothing.
        let apdus = |c: &Conn| -> Vec<String> {
            c.events
                .iter()
                .filter(|e| iec(&e.pdu).skipped_bytes.is_none())
                .map(|e| format!("{:?}", e.pdu))
                .collect()
        };
        assert_eq!(apdus(&whole), apdus(&split));
    }
}

#[test]
fn cp56_rendering_edges() {
    let t = |bytes: [u8; 7]| {
        let mut buf = [0; 24];
        Cp56Time::read(&bytes).render(&mut buf).map(str::to_string)
    };
    // 29 February of a leap year, and of a year that is not
    assert_eq!(
        t([0x00, 0x00, 0x00, 0x00, 0x1D, 0x02, 0x18]).as_deref(),
        Some("2024-02-29T00:00:00.000Z")
    );
    assert_eq!(t([0x00, 0x00, 0x00, 0x00, 0x1D, 0x02, 0x19]), None);
    // 60000 ms, hour 24, month 13, day 0
    assert_eq!(t([0x60, 0xEA, 0x00, 0x00, 0x01, 0x01, 0x00]), None);
    assert_eq!(t([0x00, 0x00, 0x00, 0x18, 0x01, 0x01, 0x00]), None);
    assert_eq!(t([0x00, 0x00, 0x00, 0x00, 0x01, 0x0D, 0x00]), None);
    assert_eq!(t([0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00]), None);
}
