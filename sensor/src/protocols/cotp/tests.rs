//! Unit tests of the TPKT/COTP layer: inline TPDUs with a comment per field.
//! The connection request and confirm are those of `icsnpp_s7ident.pcap`
//! (frames 4 and 6) and `s7_1511_db2_var1_hmi.pcapng` (frame 4), as
//! Wireshark decodes them.

use super::*;
use crate::event::{Event, Header, Transport};
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

/// A COTP user that records the TSDUs it is given.
#[derive(Default)]
struct Recorder {
    tsdus: Vec<(Vec<u8>, u16, Vec<&'static str>)>,
    connections: usize,
}

impl CotpUser for Recorder {
    fn tsdu(&mut self, tsdu: &Tsdu<'_>, _out: &mut Emitter<'_>) {
        self.tsdus.push((
            tsdu.data.to_vec(),
            tsdu.segments,
            tsdu.anomalies.iter().collect(),
        ));
    }

    fn connection(&mut self, _tpdu: &Tpdu<'_>, _direction: Direction) {
        self.connections += 1;
    }
}

/// One connection: the COTP state, a recording user, the events.
#[derive(Default)]
struct Conn {
    cotp: CotpStream,
    user: Recorder,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        self.cotp.parse(data, &mut out, &mut self.user)
    }

    /// Feeds whole TPKTs; returns the events they produced.
    fn all(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "not all consumed");
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }
}

fn cotp(pdu: &Pdu) -> &CotpFields {
    match &pdu.fields {
        Fields::Cotp(f) => f,
        _ => panic!("no COTP fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

/// icsnpp_s7ident frame 4.
const CR: &[u8] = &[
    0x03, 0x00, 0x00, 0x16, // TPKT: version 3, reserved, length 22
    0x11, // LI 17
    0xe0, // CR, credit 0
    0x00, 0x00, // dst-ref
    0x00, 0x01, // src-ref
    0x00, // class 0, options 0
    0xc0, 0x01, 0x0a, // TPDU size 2^10
    0xc1, 0x02, 0x01, 0x00, // calling TSAP 0x0100
    0xc2, 0x02, 0x01, 0x01, // called TSAP 0x0101: PG, rack 0, slot 1
];

/// icsnpp_s7ident frame 6.
const CC: &[u8] = &[
    0x03, 0x00, 0x00, 0x16, // TPKT, length 22
    0x11, // LI 17
    0xd0, // CC
    0x00, 0x01, // dst-ref
    0x00, 0x01, // src-ref
    0x00, // class 0
    0xc0, 0x01, 0x0a, // TPDU size 2^10
    0xc1, 0x02, 0x01, 0x00, // calling TSAP
    0xc2, 0x02, 0x01, 0x01, // called TSAP
];

#[test]
fn connection_request_names_tsaps_rack_and_slot() {
    let mut c = Conn::default();
    let events = c.all(ToServer, CR);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.protocol, Protocol::Cotp);
    assert_eq!(e.function, "connection_request");
    assert_eq!(e.function_code, Some(0x0e));
    assert_eq!(e.class, FunctionClass::Session);
    assert!(!e.is_response);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
    let f = cotp(e);
    assert_eq!(f.tpdu_type, Some(0x0e));
    assert_eq!((f.dst_ref, f.src_ref), (Some(0), Some(1)));
    assert_eq!(f.transport_class, Some(0));
    assert_eq!(f.calling_tsap.as_deref(), Some(&[0x01, 0x00][..]));
    assert_eq!(f.called_tsap.as_deref(), Some(&[0x01, 0x01][..]));
    assert_eq!(
        f.s7_tsap,
        Some(S7Tsap {
            connection_type: 1,
            rack: 0,
            slot: 1
        })
    );
    assert_eq!(f.tpdu_size, Some(1024));
    assert_eq!(c.user.connections, 1);
    assert!(c.user.tsdus.is_empty());
}

#[test]
fn connection_confirm_is_a_response() {
    let mut c = Conn::default();
    let events = c.all(ToClient, CC);
    let e = &events[0];
    assert_eq!(e.function, "connection_confirm");
    assert_eq!(e.function_code, Some(0x0d));
    assert!(e.is_response);
    let f = cotp(e);
    assert_eq!((f.dst_ref, f.src_ref), (Some(1), Some(1)));
    assert_eq!(f.s7_tsap.map(|t| (t.rack, t.slot)), Some((0, 1)));
}

#[test]
fn rack_and_slot_come_from_the_second_tsap_octet() {
    // OP connection to rack 2, slot 3: 0x02, 2 << 5 | 3
    let t = S7Tsap::of(&[0x02, 0x43]).unwrap();
    assert_eq!((t.connection_type, t.rack, t.slot), (2, 2, 3));
    assert_eq!(t.connection_type_name(), "op");
    assert_eq!(
        S7Tsap::of(&[0x03, 0x01]).unwrap().connection_type_name(),
        "s7_basic"
    );
    // Not an S7 TSAP: other connection types, other lengths.
    assert_eq!(S7Tsap::of(&[0x10, 0x00]), None);
    assert_eq!(S7Tsap::of(b"SIMATIC-ROOT-HMI"), None);
}

#[test]
fn string_tsap_of_an_s7_1500_is_kept() {
    // s7_1511_db2_var1_hmi frame 4
    let cr = [
        0x03, 0x00, 0x00, 0x24, // TPKT, length 36
        0x1f, // LI 31
        0xe0, // CR
        0x00, 0x00, // dst-ref
        0x00, 0x1b, // src-ref
        0x00, // class 0
        0xc0, 0x01, 0x0a, // TPDU size 1024
        0xc1, 0x02, 0x06, 0x20, // calling TSAP 0x0620
        0xc2, 0x10, // called TSAP, 16 octets:
        b'S', b'I', b'M', b'A', b'T', b'I', b'C', b'-', b'R', b'O', b'O', b'T', b'-', b'H', b'M',
        b'I',
    ];
    let mut c = Conn::default();
    let events = c.all(ToServer, &cr);
    let f = cotp(&events[0]);
    assert_eq!(f.called_tsap.as_deref(), Some(&b"SIMATIC-ROOT-HMI"[..]));
    assert_eq!(f.s7_tsap, None);
    assert!(events[0].anomalies.is_empty());
}

#[test]
fn disconnect_request_and_confirm() {
    let dr = [
        0x03, 0x00, 0x00, 0x0b, // TPKT, length 11
        0x06, // LI 6
        0x80, // DR
        0x00, 0x01, // dst-ref
        0x00, 0x02, // src-ref
        0x80, // reason: normal disconnect
    ];
    let dc = [
        0x03, 0x00, 0x00, 0x0a, // TPKT, length 10
        0x05, // LI 5
        0xc0, // DC
        0x00, 0x02, // dst-ref
        0x00, 0x01, // src-ref
    ];
    let mut c = Conn::default();
    let dr = c.all(ToServer, &dr);
    assert_eq!(dr[0].function, "disconnect_request");
    assert_eq!(dr[0].class, FunctionClass::Session);
    assert_eq!(cotp(&dr[0]).disconnect_reason, Some(0x80));
    let dc = c.all(ToClient, &dc);
    assert_eq!(dc[0].function, "disconnect_confirm");
    assert_eq!(cotp(&dc[0]).disconnect_reason, None);
    assert_eq!(cotp(&dc[0]).dst_ref, Some(2));
}

#[test]
fn tpdu_error_reports_its_cause() {
    let er = [
        0x03, 0x00, 0x00, 0x0b, // TPKT, length 11
        0x06, // LI 6
        0x70, // ER
        0x00, 0x05, // dst-ref
        0x02, // cause: invalid parameter code
        0xc1, 0x00, // invalid TPDU parameter, empty
    ];
    let mut c = Conn::default();
    let e = &c.all(ToClient, &er)[0];
    assert_eq!(e.function, "tpdu_error");
    assert_eq!(e.class, FunctionClass::Other);
    assert_eq!(cotp(e).reject_cause, Some(2));
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
}

#[test]
fn data_tpdu_with_eot_is_a_tsdu_for_the_user() {
    let dt = [
        0x03, 0x00, 0x00, 0x0a, // TPKT, length 10
        0x02, // LI 2
        0xf0, // DT
        0x80, // EOT, TPDU number 0
        0xaa, 0xbb, 0xcc, // user data
    ];
    let mut c = Conn::default();
    assert!(c.all(ToServer, &dt).is_empty(), "DT is not an event itself");
    assert_eq!(c.user.tsdus, vec![(vec![0xaa, 0xbb, 0xcc], 1, vec![])]);
}

#[test]
fn segmented_data_is_reassembled_up_to_eot() {
    let first = [
        0x03, 0x00, 0x00, 0x09, // TPKT, length 9
        0x02, // LI 2
        0xf0, // DT
        0x00, // no EOT, TPDU number 0
        0x01, 0x02, // user data
    ];
    let empty = [
        0x03, 0x00, 0x00, 0x07, // TPKT, length 7
        0x02, 0xf0, 0x01, // DT, no EOT, number 1, no data
    ];
    let last = [
        0x03, 0x00, 0x00, 0x08, // TPKT, length 8
        0x02, 0xf0, 0x82, // DT, EOT, number 2
        0x03, // user data
    ];
    let mut c = Conn::default();
    c.all(ToServer, &first);
    c.all(ToServer, &empty);
    assert!(c.user.tsdus.is_empty());
    // The other direction's TSDUs are independent.
    c.all(ToClient, &[0x03, 0x00, 0x00, 0x08, 0x02, 0xf0, 0x80, 0x09]);
    c.all(ToServer, &last);
    assert_eq!(
        c.user.tsdus,
        vec![(vec![0x09], 1, vec![]), (vec![0x01, 0x02, 0x03], 3, vec![])]
    );
}

#[test]
fn an_empty_segment_before_the_data_is_what_s7_clients_send() {
    // s7comm_reading_plc_status frames 12-13: a 7-octet DT without EOT, then the PDU.
    let mut c = Conn::default();
    c.all(ToServer, &[0x03, 0x00, 0x00, 0x07, 0x02, 0xf0, 0x00]);
    c.all(
        ToServer,
        &[0x03, 0x00, 0x00, 0x09, 0x02, 0xf0, 0x80, 0x32, 0x07],
    );
    assert_eq!(c.user.tsdus, vec![(vec![0x32, 0x07], 2, vec![])]);
}

#[test]
fn an_oversized_tsdu_is_dropped_and_reported() {
    let mut c = Conn::default();
    let chunk = 8000;
    let mut segment = vec![0x03, 0x00, 0, 0, 0x02, 0xf0, 0x00];
    segment.extend(std::iter::repeat_n(0x55, chunk));
    let len = segment.len() as u16;
    segment[2..4].copy_from_slice(&len.to_be_bytes());
    for _ in 0..(MAX_TSDU / chunk + 1) {
        assert!(c.all(ToServer, &segment).is_empty());
    }
    let events = c.all(ToServer, &[0x03, 0x00, 0x00, 0x08, 0x02, 0xf0, 0x80, 0x01]);
    assert!(c.user.tsdus.is_empty());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].function, "data");
    assert_eq!(anomalies(&events[0]), [TSDU_TOO_LONG]);
    assert_eq!(cotp(&events[0]).segments, Some(10));
    // The next TSDU is fine again.
    c.all(ToServer, &[0x03, 0x00, 0x00, 0x08, 0x02, 0xf0, 0x80, 0x02]);
    assert_eq!(c.user.tsdus, vec![(vec![0x02], 1, vec![])]);
}

#[test]
fn a_gap_abandons_the_tsdu_in_progress() {
    let mut c = Conn::default();
    c.all(ToServer, &[0x03, 0x00, 0x00, 0x08, 0x02, 0xf0, 0x00, 0x01]);
    c.cotp.gap(ToServer);
    c.all(ToServer, &[0x03, 0x00, 0x00, 0x08, 0x02, 0xf0, 0x80, 0x02]);
    assert_eq!(c.user.tsdus, vec![(vec![0x02], 1, vec![])]);
}

#[test]
fn an_incomplete_tpkt_is_left_for_later() {
    let mut c = Conn::default();
    let mut two = CR.to_vec();
    two.extend_from_slice(&CC[..10]);
    assert_eq!(c.feed(ToServer, &two), CR.len());
    assert_eq!(c.feed(ToServer, &CR[..3]), 0);
    assert_eq!(c.events.len(), 1);
}

#[test]
fn garbage_is_skipped_to_the_next_tpkt_and_reported_once() {
    let mut data = b"GET / HTTP/1.1\r\n".to_vec();
    data.extend_from_slice(CR);
    let mut c = Conn::default();
    let events = c.all(ToServer, &data);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].function, "invalid");
    assert_eq!(events[0].function_code, None);
    assert_eq!(
        anomalies(&events[0]),
        [INVALID_TPKT_HEADER, INVALID_TPKT_VERSION]
    );
    assert_eq!(cotp(&events[0]).skipped_bytes, Some(16));
    assert_eq!(events[1].function, "connection_request");
}

#[test]
fn tpkt_shorter_than_seven_octets_is_invalid() {
    let mut c = Conn::default();
    let events = c.all(ToServer, &[0x03, 0x00, 0x00, 0x04]);
    assert_eq!(
        anomalies(&events[0]),
        [INVALID_TPKT_HEADER, TPKT_LENGTH_TOO_SHORT]
    );
}

#[test]
fn malformed_tpdus_are_events_with_anomalies() {
    let mut c = Conn::default();
    // LI beyond the TPKT.
    let e = &c.all(ToServer, &[0x03, 0x00, 0x00, 0x07, 0x09, 0xe0, 0x00])[0];
    assert_eq!(e.function, "invalid");
    assert_eq!(anomalies(e), [INVALID_LENGTH_INDICATOR]);
    // Unknown TPDU code 0x3.
    let e = &c.all(ToServer, &[0x03, 0x00, 0x00, 0x07, 0x02, 0x30, 0x00])[0];
    assert_eq!(e.function, "unknown");
    assert_eq!(e.function_code, Some(3));
    assert_eq!(anomalies(e), [UNKNOWN_TPDU_TYPE]);
    // CR whose fixed part is cut by its LI.
    let e = &c.all(ToServer, &[0x03, 0x00, 0x00, 0x08, 0x03, 0xe0, 0x00, 0x00])[0];
    assert_eq!(e.function, "connection_request");
    assert_eq!(anomalies(e), [TRUNCATED_TPDU]);
    // CR with a parameter running past the header, a bad TPDU size and reserved octet set.
    let cr = [
        0x03, 0x01, 0x00, 0x0f, // TPKT, reserved 1, length 15
        0x0a, // LI 10
        0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, // CR fixed part
        0xc0, 0x01, 0x05, // TPDU size 2^5: below the minimum
        0xc1, // calling TSAP without its length
    ];
    let e = &c.all(ToServer, &cr)[0];
    assert_eq!(
        anomalies(e),
        [TPKT_RESERVED_NONZERO, INVALID_PARAMETER, INVALID_TPDU_SIZE]
    );
    assert_eq!(cotp(e).tpdu_size, None);
}

#[test]
fn dt_framing_anomalies_travel_with_the_tsdu() {
    let mut c = Conn::default();
    c.all(ToServer, &[0x03, 0x01, 0x00, 0x08, 0x02, 0xf0, 0x80, 0x32]);
    assert_eq!(
        c.user.tsdus,
        vec![(vec![0x32], 1, vec![TPKT_RESERVED_NONZERO])]
    );
}

#[test]
fn data_event_reports_unclaimed_tsdus() {
    let mut events = Vec::new();
    let mut out = Emitter::new(header(1), ToServer, &mut events);
    let tsdu = Tsdu {
        data: &[0x0d, 0x01, 0x02],
        segments: 2,
        anomalies: Anomalies::new(),
    };
    data_event(&tsdu, None, &mut out);
    let e = &events[0].pdu;
    assert_eq!(e.function, "data");
    assert_eq!(e.function_code, Some(0x0f));
    assert_eq!(cotp(e).data_length, Some(3));
    assert_eq!(cotp(e).segments, Some(2));
}

#[test]
fn class_2_data_and_acks_are_read() {
    let mut a = Anomalies::new();
    // DT in class 2-4 normal format: dst-ref before the number.
    let dt = [0x04, 0xf0, 0x00, 0x07, 0x81, 0xee];
    let t = parse_tpdu(&dt, &mut a).unwrap();
    assert_eq!(
        t.kind,
        TpduKind::Data {
            dst_ref: Some(7),
            eot: true,
            number: 1
        }
    );
    assert_eq!(t.user_data, [0xee]);
    // AK with credit 3.
    let ak = [0x04, 0x63, 0x00, 0x07, 0x02];
    let t = parse_tpdu(&ak, &mut a).unwrap();
    assert_eq!(t.code, TpduCode::AK);
    assert_eq!(
        t.kind,
        TpduKind::Ack {
            dst_ref: 7,
            number: 2
        }
    );
    assert!(a.is_empty());
}

#[test]
fn plausible_start_needs_a_tpkt_and_a_known_tpdu() {
    assert!(plausible_start(CR));
    assert!(plausible_start(&CR[..4]));
    assert!(!plausible_start(&[0x03, 0x00, 0x00, 0x16, 0x11, 0x30]));
    assert!(!plausible_start(&[0x03, 0x00, 0x00, 0x08, 0x11, 0xe0]));
    assert!(!plausible_start(b"\x16\x03\x01\x00"));
}
