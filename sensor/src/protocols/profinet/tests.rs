//! Unit tests: inline frames, one comment per field. DCP frames quoted whole
//! are those of `../shared/pcaps/profinet/profinet_dcp_change_ip.pcap`
//! (after the ethertype), as Wireshark decodes them; the others are built
//! from the standard's layouts.

use super::*;
use crate::event::{Event, FunctionClass, Header, Pdu, Transport};
use crate::protocols::{DatagramDecoder, DatagramParser, Detection, Direction, Probe};
use crate::time::Timestamp;

use Direction::{ToClient, ToServer};

const MS: i64 = 1_000_000;

fn header(packet: u64, ts_ms: i64, transport: Transport) -> Header {
    Header {
        ts: Timestamp(1_700_000_000_000 * MS + ts_ms * MS),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: None,
        dst_port: None,
        transport,
    }
}

/// A layer-2 PROFINET conversation: the parser and what it emitted.
struct L2 {
    parser: ProfinetParser,
    events: Vec<Event>,
    packet: u64,
}

impl L2 {
    fn new() -> Self {
        L2 {
            parser: ProfinetParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    /// Presents one frame's payload at `ts_ms`; returns the events it gave.
    fn frame(&mut self, dir: Direction, ts_ms: i64, payload: &[u8]) -> Vec<Pdu> {
        self.packet += 1;
        let before = self.events.len();
        let mut out = Emitter::new(
            header(self.packet, ts_ms, Transport::Ethernet),
            dir,
            &mut self.events,
        );
        self.parser.parse(payload, &mut out);
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }

    fn finish(&mut self) -> Vec<Event> {
        let before = self.events.len();
        self.parser.finish(&mut self.events);
        self.events[before..].to_vec()
    }
}

fn one(mut pdus: Vec<Pdu>) -> Pdu {
    assert_eq!(pdus.len(), 1, "{pdus:#?}");
    pdus.remove(0)
}

fn dcp(pdu: &Pdu) -> &dcp::DcpFields {
    match &pdu.fields {
        Fields::Profinet(ProfinetFields::Dcp(f)) => f,
        other => panic!("not DCP: {other:?}"),
    }
}

fn rt(pdu: &Pdu) -> &rt::RtFields {
    match &pdu.fields {
        Fields::Profinet(ProfinetFields::Rt(f)) => f,
        other => panic!("not RT: {other:?}"),
    }
}

fn io(pdu: &Pdu) -> &blocks::IoFields {
    match &pdu.fields {
        Fields::Profinet(ProfinetFields::Io(f)) => f,
        other => panic!("not PN-IO: {other:?}"),
    }
}

// ---------------------------------------------------------------- DCP

/// profinet_dcp_change_ip.pcap frame 1: identify all.
const IDENTIFY_ALL: &[u8] = &[
    0xfe, 0xfe, // frame id: identify request
    0x05, // service id: identify
    0x00, // service type: request
    0x01, 0x00, 0x00, 0x01, // xid
    0x00, 0x01, // response delay
    0x00, 0x04, // data length
    0xff, 0xff, // option all selector, suboption all
    0x00, 0x00, // block length 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Ethernet padding
];

#[test]
fn dcp_identify_request() {
    let pdu = one(L2::new().frame(ToServer, 0, IDENTIFY_ALL));
    assert_eq!(pdu.protocol, Protocol::ProfinetDcp);
    assert_eq!((pdu.function, pdu.function_code), ("identify", Some(5)));
    assert_eq!(pdu.class, FunctionClass::Discovery);
    assert!(!pdu.is_response && pdu.anomalies.is_empty());
    assert!(pdu.identity.is_none());
    let f = dcp(&pdu);
    assert_eq!(f.xid, 0x0100_0001);
    assert_eq!(f.response_delay, Some(1));
    assert_eq!(f.blocks.len(), 1);
    assert_eq!((f.blocks[0].option, f.blocks[0].suboption), (0xff, 0xff));
}

/// profinet_dcp_change_ip.pcap frame 2: the device answers.
const IDENTIFY_RESPONSE: &[u8] = &[
    0xfe, 0xff, // frame id: identify response
    0x05, 0x01, // identify, response success
    0x01, 0x00, 0x00, 0x01, // xid
    0x00, 0x00, // reserved
    0x00, 0x5e, // data length 94
    0x02, 0x05, 0x00, 0x1c, // device options, length 28
    0x00, 0x00, // block info
    0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x02, 0x02, 0x02, 0x03, 0x02, 0x04, // 6 options
    0x02, 0x05, 0x03, 0x3d, 0x05, 0x01, 0x05, 0x02, 0x05, 0x03, 0x05, 0x04, // 6 options
    0xff, 0xff, // all selector
    0x02, 0x01, 0x00, 0x05, // type of station, length 5
    0x00, 0x00, // block info
    b'I', b'N', b'C', // "INC"
    0x00, // padding
    0x02, 0x02, 0x00, 0x0b, // name of station, length 11
    0x00, 0x00, // block info
    b'X', b'2', b'0', b'8', b'-', b'B', b'O', b'R', b'D', // "X208-BORD"
    0x00, // padding
    0x02, 0x03, 0x00, 0x06, // device id, length 6
    0x00, 0x00, // block info
    0x00, 0x2a, // vendor id
    0x0a, 0x01, // device id
    0x02, 0x04, 0x00, 0x04, // device role, length 4
    0x00, 0x00, // block info
    0x01, 0x00, // IO device, reserved
    0x01, 0x02, 0x00, 0x0e, // IP parameter, length 14
    0x00, 0x01, // block info: IP set
    0xc0, 0xa8, 0x00, 0x06, // 192.168.0.6
    0xff, 0xff, 0xff, 0x00, // 255.255.255.0
    0xc0, 0xa8, 0x00, 0x01, // 192.168.0.1
];

#[test]
fn dcp_identify_response_describes_the_device() {
    let pdu = one(L2::new().frame(ToClient, 0, IDENTIFY_RESPONSE));
    assert_eq!(
        (pdu.function, pdu.class),
        ("identify", FunctionClass::Discovery)
    );
    assert!(
        pdu.is_response && pdu.anomalies.is_empty(),
        "{:?}",
        pdu.anomalies
    );
    let f = dcp(&pdu);
    assert_eq!(f.name_of_station.as_deref(), Some("X208-BORD"));
    assert_eq!(f.type_of_station.as_deref(), Some("INC"));
    assert_eq!((f.vendor_id, f.device_id), (Some(0x2a), Some(0x0a01)));
    assert_eq!(f.device_role, Some(1));
    assert_eq!(f.ip, Some([192, 168, 0, 6]));
    assert_eq!(f.netmask, Some([255, 255, 255, 0]));
    assert_eq!(f.gateway, Some([192, 168, 0, 1]));
    assert_eq!(f.ip_block_info, Some(1));
    assert_eq!(f.blocks.len(), 6);
    assert_eq!(f.blocks[0].options.len(), 13);
    assert_eq!(f.blocks[0].options[7], (3, 61));
    let id = pdu.identity.expect("identity");
    assert_eq!(id.station_name.as_deref(), Some("X208-BORD"));
    assert_eq!(id.product.as_deref(), Some("INC"));
    assert_eq!(id.vendor_id, Some(0x2a));
    assert_eq!(id.product_code.as_deref(), Some("0x0a01"));
    assert_eq!(id.device_type.as_deref(), Some("PROFINET IO device"));
}

/// profinet_dcp_change_ip.pcap frame 3: set IP, permanently.
const SET_IP: &[u8] = &[
    0xfe, 0xfd, // frame id: get/set
    0x04, 0x00, // set, request
    0x01, 0x00, 0x00, 0x01, // xid
    0x00, 0x00, // reserved
    0x00, 0x12, // data length 18
    0x01, 0x02, 0x00, 0x0e, // IP parameter, length 14
    0x00, 0x01, // block qualifier: permanent
    0xc0, 0xa8, 0x00, 0x0a, // 192.168.0.10
    0xff, 0xff, 0xff, 0x00, // 255.255.255.0
    0xc0, 0xa8, 0x00, 0x01, // 192.168.0.1
];

/// profinet_dcp_change_ip.pcap frame 4: the device confirms.
const SET_RESPONSE: &[u8] = &[
    0xfe, 0xfd, // frame id: get/set
    0x04, 0x01, // set, response success
    0x01, 0x00, 0x00, 0x01, // xid
    0x00, 0x00, // reserved
    0x00, 0x08, // data length 8
    0x05, 0x04, 0x00, 0x03, // control/response, length 3
    0x01, 0x02, // for IP parameter
    0x00, // block error: ok
    0x00, // padding
];

#[test]
fn dcp_set_ip_is_control_and_keeps_the_new_address() {
    let mut l2 = L2::new();
    let set = one(l2.frame(ToServer, 0, SET_IP));
    assert_eq!((set.function, set.class), ("set", FunctionClass::Control));
    let f = dcp(&set);
    assert!(f.readdress);
    assert_eq!(f.ip, Some([192, 168, 0, 10]));
    assert_eq!(f.blocks[0].qualifier, Some(1));
    assert!(
        set.identity.is_none(),
        "a set describes the target, not the sender"
    );
    let answer = one(l2.frame(ToClient, 20, SET_RESPONSE));
    assert_eq!(
        (answer.function, answer.class),
        ("set", FunctionClass::Control)
    );
    assert!(answer.is_response);
    let f = dcp(&answer);
    assert!(!f.readdress);
    assert_eq!(f.blocks[0].result, Some((1, 2, 0)));
}

#[test]
fn dcp_set_name_and_signal() {
    let frame = [
        0xfe, 0xfd, // get/set
        0x04, 0x00, // set request
        0x00, 0x00, 0x00, 0x07, // xid
        0x00, 0x00, // reserved
        0x00, 0x1a, // data length 26
        0x02, 0x02, 0x00, 0x07, // name of station, length 7
        0x00, 0x00, // qualifier: temporary
        b'p', b'l', b'c', b'-', b'1', // "plc-1"
        0x00, // padding
        0x05, 0x03, 0x00, 0x04, // control/signal, length 4
        0x00, 0x00, // qualifier
        0x01, 0x00, // flash once
        0x05, 0x02, 0x00, 0x02, // control/end transaction, length 2
        0x00, 0x00, // qualifier
    ];
    let pdu = one(L2::new().frame(ToServer, 0, &frame));
    assert!(pdu.anomalies.is_empty(), "{:?}", pdu.anomalies);
    let f = dcp(&pdu);
    assert!(f.readdress);
    assert_eq!(f.name_of_station.as_deref(), Some("plc-1"));
    assert_eq!(f.signal_value, Some(0x0100));
    assert_eq!(f.blocks.len(), 3);
}

#[test]
fn dcp_get_request_selectors_and_response() {
    let request = [
        0xfe, 0xfd, // get/set
        0x03, 0x00, // get request
        0x00, 0x00, 0x00, 0x09, // xid
        0x00, 0x00, // reserved
        0x00, 0x04, // data length 4
        0x02, 0x02, // name of station
        0x01, 0x02, // IP parameter
    ];
    let pdu = one(L2::new().frame(ToServer, 0, &request));
    assert_eq!((pdu.function, pdu.class), ("get", FunctionClass::Read));
    let f = dcp(&pdu);
    assert_eq!(f.blocks.len(), 2);
    assert_eq!((f.blocks[1].option, f.blocks[1].suboption), (1, 2));
    let response = [
        0xfe, 0xfd, // get/set
        0x03, 0x01, // get response
        0x00, 0x00, 0x00, 0x09, // xid
        0x00, 0x00, // reserved
        0x00, 0x0a, // data length 10
        0x02, 0x02, 0x00, 0x06, // name of station, length 6
        0x00, 0x00, // block info
        b'i', b'o', b'-', b'1', // "io-1"
        0x05, 0x04, 0x00, 0x03, // beyond the data length: padding
    ];
    let pdu = one(L2::new().frame(ToClient, 0, &response));
    assert!(pdu.is_response);
    let f = dcp(&pdu);
    assert_eq!(f.name_of_station.as_deref(), Some("io-1"));
    assert_eq!(f.blocks.len(), 1);
    assert_eq!(
        pdu.identity.and_then(|i| i.station_name).as_deref(),
        Some("io-1")
    );
}

#[test]
fn dcp_hello_describes_the_sender() {
    let frame = [
        0xfe, 0xfc, // hello
        0x06, 0x00, // hello, request
        0x00, 0x00, 0x00, 0x02, // xid
        0x00, 0x00, // reserved
        0x00, 0x18, // data length 24
        0x02, 0x02, 0x00, 0x06, // name of station, length 6
        0x00, 0x00, // block info
        b'd', b'e', b'v', b'1', // "dev1"
        0x02, 0x06, 0x00, 0x0a, // alias name, length 10
        0x00, 0x00, // block info
        b'p', b'o', b'r', b't', b'.', b'x', b'y', b'z', // "port.xyz"
    ];
    let pdu = one(L2::new().frame(ToServer, 0, &frame));
    assert_eq!(
        (pdu.function, pdu.class),
        ("hello", FunctionClass::Discovery)
    );
    assert!(
        !pdu.is_response && pdu.anomalies.is_empty(),
        "{:?}",
        pdu.anomalies
    );
    assert_eq!(dcp(&pdu).alias_name.as_deref(), Some("port.xyz"));
    assert_eq!(
        pdu.identity.and_then(|i| i.station_name).as_deref(),
        Some("dev1")
    );
}

#[test]
fn dcp_malformed_frames_are_events_with_anomalies() {
    // Too short for the header.
    let pdu = one(L2::new().frame(ToServer, 0, &[0xfe, 0xfe, 0x05, 0x00, 0x01]));
    assert_eq!(pdu.function, "identify");
    assert!(pdu.anomalies.contains(anomaly::TRUNCATED_FRAME));
    let pdu = one(L2::new().frame(ToServer, 0, &[0xfe, 0xfe, 0x05]));
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    // A data length past the frame, a block length past the data.
    let frame = [
        0xfe, 0xfe, 0x05, 0x00, 0, 0, 0, 1, 0, 0, // identify request
        0x00, 0x40, // data length 64: more than there is
        0x02, 0x02, 0x00, 0x20, // name of station, length 32: more than there is
        b'a', b'b',
    ];
    let pdu = one(L2::new().frame(ToServer, 0, &frame));
    assert!(pdu.anomalies.contains(anomaly::TRUNCATED_PDU));
    assert_eq!(dcp(&pdu).name_of_station.as_deref(), Some("ab"));
    // A service on the wrong frame id, an unknown service, a reserved option.
    let frame = [0xfe, 0xfe, 0x04, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
    let pdu = one(L2::new().frame(ToServer, 0, &frame));
    assert!(pdu.anomalies.contains(anomaly::FRAME_ID_MISMATCH));
    let frame = [0xfe, 0xfd, 0x09, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
    let pdu = one(L2::new().frame(ToServer, 0, &frame));
    assert_eq!(pdu.function, "unknown");
    assert!(pdu.anomalies.contains(anomaly::UNKNOWN_SERVICE_ID));
    let frame = [
        0xfe, 0xfe, 0x05, 0x00, 0, 0, 0, 1, 0, 0, 0, 4, // identify request
        0x07, 0x01, 0x00, 0x00, // option 7 (reserved), empty
    ];
    let pdu = one(L2::new().frame(ToServer, 0, &frame));
    assert!(pdu.anomalies.contains(anomaly::UNKNOWN_OPTION));
    // A device id block too short for its two ids.
    let frame = [
        0xfe, 0xff, 0x05, 0x01, 0, 0, 0, 1, 0, 0, 0, 6, // identify response
        0x02, 0x03, 0x00, 0x02, // device id, length 2
        0x00, 0x00, // block info only
    ];
    let pdu = one(L2::new().frame(ToClient, 0, &frame));
    assert!(pdu.anomalies.contains(anomaly::BAD_BLOCK_LENGTH));
}

// ---------------------------------------------------------------- RT

/// A cyclic RT class 1 frame: 40 bytes of C_SDU, then the APDU status.
fn cyclic(frame_id: u16, cycle: u16, data_status: u8) -> Vec<u8> {
    let mut frame = frame_id.to_be_bytes().to_vec(); // frame id
    frame.extend([0x80; 40]); // C_SDU (IO data and IOPS/IOCS)
    frame.extend(cycle.to_be_bytes()); // cycle counter
    frame.push(data_status); // data status
    frame.push(0x00); // transfer status
    frame
}

/// Primary, data valid, run, no problem.
const RUNNING: u8 = 0x35;

#[test]
fn rt_cyclic_frames_are_summarised_per_second() {
    let mut l2 = L2::new();
    // The first frame of a connection is reported at once.
    let first = one(l2.frame(ToServer, 0, &cyclic(0xc000, 1000, RUNNING)));
    assert_eq!(first.protocol, Protocol::ProfinetRt);
    assert_eq!(
        (first.function, first.function_code),
        ("rt_cyclic", Some(0xc000))
    );
    let f = rt(&first);
    assert_eq!(
        (f.frames, f.first_packet, f.cycle_counter),
        (Some(1), Some(1), Some(1000))
    );
    assert_eq!(f.rt_class, Some("rt_class_1"));
    assert_eq!(f.data_length, Some(40));
    // Then nothing for a second: frames every 8 ms, cycle step 256.
    let mut cycle = 1000u16;
    for i in 1..125 {
        cycle = cycle.wrapping_add(256);
        assert!(
            l2.frame(ToServer, i * 8, &cyclic(0xc000, cycle, RUNNING))
                .is_empty()
        );
    }
    // The other direction is another connection.
    assert_eq!(
        l2.frame(ToClient, 990, &cyclic(0xc001, 7, RUNNING)).len(),
        1
    );
    // A frame lost: the counter jumps two steps.
    cycle = cycle.wrapping_add(512);
    let summary = one(l2.frame(ToServer, 1000, &cyclic(0xc000, cycle, RUNNING)));
    let f = rt(&summary);
    assert_eq!(f.frames, Some(125));
    assert_eq!(f.first_packet, Some(2));
    assert_eq!(f.total_frames, Some(126));
    assert_eq!(f.cycle_counter_first, Some(1256));
    assert_eq!(f.cycle_counter, Some(cycle));
    assert_eq!(f.cycle_counter_gaps, Some(1));
    assert_eq!(f.bytes, Some(125 * 46));
    // What is left is reported when the flow ends, with its last frame's header.
    l2.frame(
        ToServer,
        1008,
        &cyclic(0xc000, cycle.wrapping_add(256), RUNNING),
    );
    let left = l2.finish();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].header.packet, l2.packet);
    assert_eq!(rt(&left[0].pdu).frames, Some(1));
}

#[test]
fn rt_provider_stop_is_a_control_event() {
    let mut l2 = L2::new();
    l2.frame(ToServer, 0, &cyclic(0x8001, 0, RUNNING));
    assert!(
        l2.frame(ToServer, 8, &cyclic(0x8001, 256, RUNNING))
            .is_empty()
    );
    // Provider state run → stop.
    let change = one(l2.frame(ToServer, 16, &cyclic(0x8001, 512, RUNNING & !0x10)));
    assert_eq!(
        (change.function, change.class),
        ("rt_status_change", FunctionClass::Control)
    );
    assert!(change.anomalies.is_empty());
    let f = rt(&change);
    assert_eq!(f.rt_class, Some("rt_class_2"));
    assert_eq!(
        (f.previous_data_status, f.data_status),
        (Some(RUNNING), Some(0x25))
    );
    assert_eq!((f.frames, f.data_status_changes), (Some(2), Some(1)));
    // Data invalid, provider still stopped: a diagnostic change.
    let change = one(l2.frame(ToServer, 24, &cyclic(0x8001, 768, 0x21)));
    assert_eq!(change.class, FunctionClass::Diagnostic);
    assert!(l2.finish().is_empty(), "every frame was reported");
}

#[test]
fn rt_short_cyclic_frames_are_counted_with_an_anomaly() {
    let pdu = one(L2::new().frame(ToServer, 0, &[0xc0, 0x00, 0x01, 0x02]));
    assert_eq!(pdu.function, "rt_cyclic");
    assert!(pdu.anomalies.contains(anomaly::TRUNCATED_FRAME));
    assert_eq!(rt(&pdu).cycle_counter, None);
    let pdu = one(L2::new().frame(ToServer, 0, &[0xc0]));
    assert_eq!(pdu.function, "invalid");
}

#[test]
fn ptcp_and_reserved_frame_ids_are_summarised() {
    let mut l2 = L2::new();
    let delay_req = [
        0xff, 0x40, // frame id: PTCP delay request
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // PTCP header (not decoded)
    ];
    let pdu = one(l2.frame(ToServer, 0, &delay_req));
    assert_eq!((pdu.function, pdu.function_code), ("ptcp", Some(0xff40)));
    assert_eq!(rt(&pdu).cycle_counter, None);
    assert!(l2.frame(ToServer, 100, &delay_req).is_empty());
    assert_eq!(
        rt(&one(l2.frame(ToServer, 1100, &delay_req))).frames,
        Some(2)
    );
    let pdu = one(l2.frame(ToServer, 0, &[0xfd, 0x00, 0x00]));
    assert_eq!(pdu.function, "reserved");
    assert!(pdu.anomalies.contains(anomaly::RESERVED_FRAME_ID));
}

#[test]
fn rt_connections_are_bounded() {
    let mut l2 = L2::new();
    for id in 0..(rt::MAX_CONNECTIONS as u16 + 10) {
        let pdus = l2.frame(ToServer, i64::from(id), &cyclic(0xc000 + id, 0, RUNNING));
        assert_eq!(pdus.len(), 1, "one event for each new connection");
    }
    assert!(l2.finish().is_empty());
}

#[test]
fn alarm_notification() {
    let frame = [
        0xfe, 0x01, // frame id: alarm low
        0x00, 0x01, // alarm destination endpoint
        0x80, 0x01, // alarm source endpoint
        0x11, // PDU type: data, version 1
        0x01, // add flags: window size 1
        0x00, 0x05, // send sequence number
        0xff, 0xfe, // ack sequence number
        0x00, 0x1e, // var part length 30
        0x00, 0x02, // block type: alarm notification low
        0x00, 0x1a, // block length 26
        0x01, 0x00, // block version 1.0
        0x00, 0x01, // alarm type: diagnosis
        0x00, 0x00, 0x00, 0x00, // API 0
        0x00, 0x01, // slot 1
        0x00, 0x01, // subslot 1
        0x00, 0x00, 0x00, 0x30, // module ident number
        0x00, 0x00, 0x00, 0x01, // submodule ident number
        0x08, 0x01, // alarm specifier
        0x00, 0x00, 0x00, 0x00, // (user data)
    ];
    let pdu = one(L2::new().frame(ToServer, 0, &frame));
    assert_eq!(
        (pdu.function, pdu.class),
        ("alarm_notification", FunctionClass::Diagnostic)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", pdu.anomalies);
    let a = rt(&pdu).alarm.clone().unwrap();
    assert_eq!((a.pdu_type, a.pdu_version, a.send_seq), (1, 1, 5));
    assert_eq!(
        (a.alarm_type, a.slot, a.subslot),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(a.module_ident_number, Some(0x30));
    assert!(!a.high_priority);
}

#[test]
fn alarm_error_and_ack() {
    // profinet_io_cm_mixed_2.pcapng frame 558: the AR is aborted.
    let err = [
        0xfe, 0x01, // alarm low
        0x80, 0x01, // destination endpoint
        0x80, 0x01, // source endpoint
        0x14, // ERR-RTA, version 1
        0x01, // window size 1
        0xff, 0xff, // send sequence
        0xff, 0xfe, // ack sequence
        0x00, 0x04, // var part length
        0xcf, 0x81, 0xfd, 0x0f, // PNIO status: RTA error, abort
    ];
    let pdu = one(L2::new().frame(ToServer, 0, &err));
    assert_eq!(
        (pdu.function, pdu.class),
        ("rta_error", FunctionClass::Session)
    );
    assert_eq!(
        rt(&pdu).alarm.as_ref().unwrap().pnio_status,
        Some(0xcf81_fd0f)
    );
    let ack = [0xfc, 0x01, 0, 1, 0, 2, 0x13, 0x01, 0, 6, 0, 5, 0, 0];
    let pdu = one(L2::new().frame(ToClient, 0, &ack));
    assert_eq!(pdu.function, "rta_ack");
    assert!(pdu.is_response && rt(&pdu).alarm.as_ref().unwrap().high_priority);
    let short = [0xfc, 0x01, 0, 1, 0, 2];
    assert!(
        one(L2::new().frame(ToClient, 0, &short))
            .anomalies
            .contains(anomaly::TRUNCATED_FRAME)
    );
    let odd = [0xfc, 0x01, 0, 1, 0, 2, 0x17, 0x01, 0, 6, 0, 5, 0, 9, 1];
    let pdu = one(L2::new().frame(ToClient, 0, &odd));
    assert!(pdu.anomalies.contains(anomaly::UNKNOWN_PDU_TYPE));
    assert!(pdu.anomalies.contains(anomaly::TRUNCATED_PDU));
}

#[test]
fn flow_protocol_follows_what_was_seen() {
    let mut l2 = L2::new();
    l2.frame(ToServer, 0, IDENTIFY_ALL);
    assert_eq!(l2.parser.protocol(), Protocol::ProfinetDcp);
    l2.frame(ToServer, 0, &cyclic(0xc000, 0, RUNNING));
    assert_eq!(l2.parser.protocol(), Protocol::ProfinetRt);
    assert!(matches_frame(0x8892, &[]) && !matches_frame(0x88b8, &[]));
}

// ---------------------------------------------------------------- PN-IO CM

/// A connect request of the IO controller "plc" to the device interface,
/// big-endian, with one AR block.
const CONNECT: &[u8] = &[
    // DCE/RPC connectionless header
    0x04, // version 4
    0x00, // packet type: request
    0x20, // flags1: idempotent
    0x00, // flags2
    0x00, 0x00, 0x00, // data representation: big-endian, ASCII, IEEE
    0x00, // serial high
    0xde, 0xa0, 0x00, 0x00, 0x6c, 0x97, 0x11, 0xd1, // object UUID: PNIO object…
    0x82, 0x71, 0x00, 0x01, 0x00, 0x03, 0x01, 0x5a, // …instance 1, device 3, vendor 0x015a
    0xde, 0xa0, 0x00, 0x01, 0x6c, 0x97, 0x11, 0xd1, // interface: PNIO device…
    0x82, 0x71, 0x00, 0xa0, 0x24, 0x42, 0xdf, 0x7d, // …interface
    0x13, 0x14, 0x2f, 0x90, 0x00, 0x00, 0x10, 0x00, // activity UUID
    0xa9, 0x94, 0xd2, 0x10, 0x68, 0x90, 0xca, 0x5a, // …
    0x00, 0x00, 0x00, 0x00, // server boot time
    0x00, 0x00, 0x00, 0x01, // interface version 1
    0x00, 0x00, 0x00, 0x00, // sequence number 0
    0x00, 0x00, // opnum 0: connect
    0xff, 0xff, // interface hint
    0xff, 0xff, // activity hint
    0x00, 0x51, // fragment length 81
    0x00, 0x00, // fragment number
    0x00, // auth protocol: none
    0x00, // serial low
    // PNIO NDR header
    0x00, 0x00, 0x10, 0x00, // args maximum 4096
    0x00, 0x00, 0x00, 0x3d, // args length 61
    0x00, 0x00, 0x10, 0x00, // maximum count
    0x00, 0x00, 0x00, 0x00, // offset
    0x00, 0x00, 0x00, 0x3d, // actual count 61
    // ARBlockReq
    0x01, 0x01, // block type: ARBlockReq
    0x00, 0x39, // block length 57
    0x01, 0x00, // version 1.0
    0x00, 0x01, // AR type: IOCAR single
    0x7c, 0x74, 0x22, 0x4e, 0x16, 0x6c, 0x4a, 0x58, // AR UUID
    0xbf, 0x6b, 0x6c, 0x25, 0xa7, 0x58, 0x70, 0xf0, // …
    0x00, 0x01, // session key
    0x00, 0xa0, 0x45, 0x6d, 0xd3, 0x43, // CM initiator MAC
    0xde, 0xa0, 0x00, 0x00, 0x6c, 0x97, 0x11, 0xd1, // CM initiator object UUID…
    0x82, 0x71, 0x00, 0x01, 0x00, 0x3c, 0x00, 0xb0, // …device 0x3c, vendor 0xb0
    0x00, 0x00, 0x00, 0x11, // AR properties
    0x02, 0x58, // activity timeout factor 600
    0x88, 0x92, // UDP RT port
    0x00, 0x03, // station name length 3
    b'p', b'l', b'c', // "plc"
];

/// A UDP conversation of PN-IO CM.
struct Udp {
    parser: cm::PnioCmParser,
    events: Vec<Event>,
    packet: u64,
}

impl Udp {
    fn new() -> Self {
        Udp {
            parser: cm::PnioCmParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    fn datagram(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        self.packet += 1;
        let before = self.events.len();
        let mut out = Emitter::new(
            header(self.packet, 0, Transport::Udp),
            dir,
            &mut self.events,
        );
        self.parser.parse(data, &mut out);
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }
}

#[test]
fn pnio_connect_request() {
    let pdu = one(Udp::new().datagram(ToServer, CONNECT));
    assert_eq!(pdu.protocol, Protocol::ProfinetIo);
    assert_eq!((pdu.function, pdu.function_code), ("connect", Some(0)));
    assert_eq!(pdu.class, FunctionClass::Session);
    assert!(
        !pdu.is_response && pdu.anomalies.is_empty(),
        "{:?}",
        pdu.anomalies
    );
    let f = io(&pdu);
    assert_eq!(f.interface, Some("pnio_device"));
    assert_eq!(f.object_uuid.text(), "dea00000-6c97-11d1-8271-00010003015a");
    assert_eq!(
        f.activity_uuid.text(),
        "13142f90-0000-1000-a994-d2106890ca5a"
    );
    assert_eq!((f.args_maximum, f.args_length), (Some(4096), Some(61)));
    assert_eq!(f.ar_type, Some(1));
    assert_eq!(
        f.ar_uuid.map(|u| u.text()).as_deref(),
        Some("7c74224e-166c-4a58-bf6b-6c25a75870f0")
    );
    assert_eq!(f.station_name.as_deref(), Some("plc"));
    assert_eq!(f.blocks.len(), 1);
    // The initiator describes itself.
    let id = pdu.identity.unwrap();
    assert_eq!(id.station_name.as_deref(), Some("plc"));
    assert_eq!(
        (id.vendor_id, id.product_code.as_deref()),
        (Some(0xb0), Some("0x003c"))
    );
    assert_eq!(id.device_type.as_deref(), Some("PROFINET IO controller"));
}

/// Builds a DCE/RPC connectionless PDU around `body`.
fn rpc(ptype: u8, flags1: u8, opnum: u16, fragment: u16, body: &[u8], little: bool) -> Vec<u8> {
    let mut h = CONNECT[..cm::HEADER_LEN].to_vec();
    h[1] = ptype;
    h[2] = flags1;
    let put16 = |h: &mut Vec<u8>, at: usize, v: u16| {
        let b = if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        h[at..at + 2].copy_from_slice(&b);
    };
    if little {
        h[4] = 0x10;
        // The first three fields of each UUID are little-endian.
        for at in [8, 24, 40] {
            h[at..at + 4].reverse();
            h[at + 4..at + 6].reverse();
            h[at + 6..at + 8].reverse();
        }
        h[60..64].reverse();
    }
    put16(&mut h, 68, opnum);
    put16(&mut h, 74, body.len() as u16);
    put16(&mut h, 76, fragment);
    h.extend_from_slice(body);
    h
}

/// A control response body: PNIO status ok, NDR header, IODControlRes.
fn control_res(little: bool) -> Vec<u8> {
    let n = |v: u32| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let mut b = vec![0, 0, 0, 0]; // PNIO status: ok
    b.extend(n(32)); // args length
    b.extend(n(32)); // maximum count
    b.extend(n(0)); // offset
    b.extend(n(32)); // actual count
    b.extend([
        0x81, 0x10, // IODControlRes prm end
        0x00, 0x1c, // block length 28
        0x01, 0x00, // version
        0x00, 0x00, // reserved
    ]);
    b.extend(&CONNECT[108..124]); // AR UUID
    b.extend([
        0x00, 0x01, // session key
        0x00, 0x00, // reserved
        0x00, 0x08, // control command: done
        0x00, 0x00, // control block properties
    ]);
    b
}

#[test]
fn pnio_little_endian_control_response() {
    let pdu = one(Udp::new().datagram(ToClient, &rpc(2, 0x08, 4, 0, &control_res(true), true)));
    assert_eq!(
        (pdu.function, pdu.class),
        ("control", FunctionClass::Control)
    );
    assert!(
        pdu.is_response && pdu.anomalies.is_empty(),
        "{:?}",
        pdu.anomalies
    );
    let f = io(&pdu);
    assert_eq!(f.interface, Some("pnio_device"));
    assert_eq!(f.object_uuid.text(), "dea00000-6c97-11d1-8271-00010003015a");
    assert_eq!((f.pnio_status, f.control_command), (Some(0), Some(8)));
    assert_eq!(f.session_key, Some(1));
    // A response's object UUID is the responder's.
    let id = pdu.identity.unwrap();
    assert_eq!(
        (id.vendor_id, id.product_code.as_deref()),
        (Some(0x15a), Some("0x0003"))
    );
}

#[test]
fn pnio_fragments_are_reassembled() {
    let body = control_res(false);
    let (a, b) = body.split_at(20);
    let mut udp = Udp::new();
    let first = rpc(2, cm::FLAG_FRAGMENT, 4, 0, a, false);
    assert!(udp.datagram(ToClient, &first).is_empty());
    let last = rpc(
        2,
        cm::FLAG_FRAGMENT | cm::FLAG_LAST_FRAGMENT,
        4,
        1,
        b,
        false,
    );
    let pdu = one(udp.datagram(ToClient, &last));
    assert!(pdu.anomalies.is_empty(), "{:?}", pdu.anomalies);
    let f = io(&pdu);
    assert_eq!(f.fragments, Some(2));
    assert_eq!(f.control_command, Some(8));
    // A fragment out of order is reported alone.
    let pdu = one(udp.datagram(ToClient, &last));
    assert!(pdu.anomalies.contains(anomaly::FRAGMENT_OUT_OF_ORDER));
}

#[test]
fn pnio_other_packet_types_and_anomalies() {
    let mut udp = Udp::new();
    let ping = one(udp.datagram(ToServer, &rpc(1, 0, 0, 0, &[], false)));
    assert_eq!(
        (ping.function, ping.class, ping.function_code),
        ("ping", FunctionClass::Session, None)
    );
    let fault = one(udp.datagram(ToClient, &rpc(3, 0, 0, 0, &[0x1c, 0x01, 0x00, 0x03], false)));
    assert_eq!(fault.function, "fault");
    assert!(fault.is_response);
    assert_eq!(io(&fault).nca_status, Some(0x1c01_0003));
    let unknown_op = one(udp.datagram(ToServer, &rpc(0, 0, 9, 0, &[], false)));
    assert_eq!(unknown_op.function, "unknown");
    assert!(unknown_op.anomalies.contains(anomaly::UNKNOWN_OPERATION));
    let short = one(udp.datagram(ToServer, &CONNECT[..40]));
    assert_eq!(short.function, "invalid");
    assert!(short.anomalies.contains(anomaly::TRUNCATED_FRAME));
    // The NDR header promises more than there is.
    let cut = &CONNECT[..CONNECT.len() - 10];
    let pdu = one(udp.datagram(ToServer, cut));
    assert!(pdu.anomalies.contains(anomaly::TRUNCATED_PDU));
}

#[test]
fn pnio_probe() {
    // On the CM port a DCE/RPC connectionless header is enough.
    assert_eq!(cm::probe(CONNECT, ToServer, true), Probe::Match);
    // Elsewhere the interface must be a PNIO one.
    assert_eq!(cm::probe(CONNECT, ToServer, false), Probe::Match);
    let mut epm = CONNECT.to_vec();
    epm[24..40].copy_from_slice(&cm::INTERFACES[4].0);
    assert_eq!(cm::probe(&epm, ToServer, false), Probe::NoMatch);
    assert_eq!(cm::probe(&epm, ToServer, true), Probe::Match);
    // Other protocols on port 34964.
    let mut http = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n".to_vec();
    http.resize(120, b' ');
    let mut tls = vec![0x16, 0x03, 0x01, 0x00, 0x70, 0x01];
    tls.resize(120, 0);
    let mut modbus = vec![0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0, 0, 0, 10];
    modbus.resize(120, 0);
    let mut tpkt = vec![0x03, 0x00, 0x00, 0x16, 0x11, 0xe0];
    tpkt.resize(120, 0);
    let mut dnp3 = vec![0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x00, 0x04];
    dnp3.resize(120, 0);
    for other in [&http, &tls, &modbus, &tpkt, &dnp3] {
        assert_eq!(
            cm::probe(other, ToServer, true),
            Probe::NoMatch,
            "{other:02x?}"
        );
    }
    // The fragment length must fit the datagram.
    assert_eq!(cm::probe(&CONNECT[..90], ToServer, true), Probe::NoMatch);
    match crate::protocols::detect_datagram(CM_PORT, ToServer, CONNECT) {
        Detection::Found(DatagramDecoder::PnioCm(_)) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        crate::protocols::detect_datagram(CM_PORT, ToServer, &http),
        Detection::Unknown
    ));
}

#[test]
fn function_and_anomaly_names_are_listed() {
    let dcp_names = dcp_function_names();
    for name in [
        "identify",
        "hello",
        "get",
        "set",
        "manufacturer_specific",
        "unknown",
        "invalid",
    ] {
        assert!(dcp_names.contains(&name), "{name}");
    }
    assert!(rt_function_names().contains(&"rt_status_change"));
    assert!(io_function_names().contains(&"connect"));
    assert!(anomaly::ALL.contains(&anomaly::LIST_TRUNCATED));
}

/// xorshift64: deterministic pseudo-random bytes without a dependency.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut l2 = L2::new();
    let mut udp = Udp::new();
    for round in 0..20_000 {
        let len = (xorshift(&mut state) % 160) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
        // Steer some frames into DCP, alarms and DCE/RPC to reach the decoders.
        match round % 4 {
            0 if len >= 2 => {
                bytes[..2].copy_from_slice(&[0xfe, 0xfc + (xorshift(&mut state) % 4) as u8])
            }
            1 if len >= 2 => bytes[..2].copy_from_slice(&[0xfe, 0x01]),
            2 if len >= cm::HEADER_LEN => {
                bytes[..cm::HEADER_LEN].copy_from_slice(&CONNECT[..cm::HEADER_LEN]);
                bytes[1] = (round % 11) as u8;
                bytes[2] = (xorshift(&mut state) & 0x06) as u8;
            }
            _ => {}
        }
        let before = l2.events.len() + udp.events.len();
        let dir = if round % 2 == 0 { ToServer } else { ToClient };
        l2.frame(dir, round, &bytes);
        udp.datagram(dir, &bytes);
        let _ = cm::probe(&bytes, dir, round % 3 == 0);
        // Bounded output: at most one event per input (plus an eviction).
        assert!(l2.events.len() + udp.events.len() <= before + 3);
    }
    // Every PDU of a CONNECT with random block bodies decodes without panic.
    for _ in 0..5_000 {
        let mut bytes = CONNECT.to_vec();
        for b in bytes.iter_mut().skip(cm::HEADER_LEN + 20) {
            if xorshift(&mut state).is_multiple_of(4) {
                *b = xorshift(&mut state) as u8;
            }
        }
        udp.datagram(ToServer, &bytes);
    }
    l2.finish();
    assert!(!udp.events.is_empty() && !l2.events.is_empty());
}
