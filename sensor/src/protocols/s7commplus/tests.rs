//! Unit tests: S7comm-plus telegrams inline, a comment per field. Versions 1
//! and 2 are those of `s7_1511_db2_var1_hmi.pcapng`, version 3 those of
//! `icsnpp_s7comm_plus_linux_sll.pcap` (frame numbers given), shortened
//! where their payload does not matter.

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
        dst_port: Some(102),
        transport: Transport::Tcp,
    }
}

#[derive(Default)]
struct Conn {
    state: S7commPlusState,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn telegram(&mut self, dir: Direction, t: &[u8]) -> Pdu {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        let tsdu = Tsdu {
            data: t,
            segments: 1,
            anomalies: Anomalies::new(),
        };
        self.state.telegram(&tsdu, &mut out);
        self.events.last().unwrap().pdu.clone()
    }
}

fn plus(pdu: &Pdu) -> &S7commPlusFields {
    match &pdu.fields {
        Fields::S7commPlus(f) => f,
        _ => panic!("no S7comm-plus fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

/// A telegram: header, `data`, trailer.
fn telegram(version: u8, data: &[u8]) -> Vec<u8> {
    let mut t = vec![0x72, version];
    t.extend_from_slice(&(data.len() as u16).to_be_bytes());
    t.extend_from_slice(data);
    t.extend_from_slice(&[0x72, version, 0x00, 0x00]);
    t
}

#[test]
fn v1_create_object_opens_a_session() {
    let mut c = Conn::default();
    // frame 6, data cut after the request header
    let req = c.telegram(
        ToServer,
        &telegram(
            1,
            &[
                0x31, // opcode: request
                0x00, 0x00, // reserved
                0x04, 0xca, // function: CreateObject
                0x00, 0x00, // reserved
                0x00, 0x01, // sequence 1
                0x00, 0x00, 0x01, 0x20, // session id 0x120
                0x36, // transport flags
                0x00, 0x00, 0x01, 0x1d, // (request set)
            ],
        ),
    );
    assert!(req.anomalies.is_empty(), "{:?}", anomalies(&req));
    assert_eq!(req.protocol, Protocol::S7commPlus);
    assert_eq!(req.function, "create_object");
    assert_eq!(req.function_code, Some(0x04ca));
    assert_eq!(req.class, FunctionClass::Session);
    let f = plus(&req);
    assert_eq!((f.version, f.data_length), (1, Some(18)));
    assert_eq!(
        (f.opcode, f.sequence, f.session_id),
        (Some(0x31), Some(1), Some(0x120))
    );
    assert!(!f.integrity);
    // frame 7
    let resp = c.telegram(
        ToClient,
        &telegram(
            1,
            &[
                0x32, // opcode: response
                0x00, 0x00, 0x04, 0xca, 0x00, 0x00, // reserved, CreateObject, reserved
                0x00, 0x01, // sequence 1
                0x36, // transport flags
                0x00, // (response set)
            ],
        ),
    );
    assert!(resp.anomalies.is_empty(), "{:?}", anomalies(&resp));
    assert!(resp.is_response);
    assert_eq!(resp.function, "create_object");
    let f = plus(&resp);
    // The response carries its request's session id.
    assert_eq!(
        (f.opcode, f.session_id, f.request_packet),
        (Some(0x32), Some(0x120), Some(1))
    );
}

#[test]
fn v2_get_and_set_multi_variables() {
    let mut c = Conn::default();
    // frame 12
    let get = c.telegram(
        ToServer,
        &telegram(
            2,
            &[
                0x31, 0x00, 0x00, 0x05, 0x4c, 0x00, 0x00, // request, GetMultiVariables
                0x00, 0x03, // sequence 3
                0x00, 0x00, 0x03, 0x88, // session id 0x388
                0x34, // transport flags
            ],
        ),
    );
    assert_eq!(
        (get.function, get.class),
        ("get_multi_variables", FunctionClass::Read)
    );
    assert_eq!(plus(&get).session_id, Some(0x388));
    // frame 9
    let set = c.telegram(
        ToServer,
        &telegram(
            2,
            &[
                0x31, 0x00, 0x00, 0x05, 0x42, 0x00, 0x00, // request, SetMultiVariables
                0x00, 0x02, 0x00, 0x00, 0x03, 0x88, 0x34, // sequence 2, session, flags
            ],
        ),
    );
    assert_eq!(
        (set.function, set.class),
        ("set_multi_variables", FunctionClass::Write)
    );
    assert_eq!(set.function_code, Some(0x0542));
}

/// frame 7: a SetVariable request after a 32-octet digest.
fn v3_set_variable() -> Vec<u8> {
    let mut data = vec![0x20]; // digest length 32
    data.extend_from_slice(&[0x5a; 32]); // digest
    data.extend_from_slice(&[
        0x31, 0x00, 0x00, 0x04, 0xf2, 0x00, 0x00, // request, SetVariable
        0x83, 0x1a, // sequence 0x831a
        0x70, 0x00, 0x0e, 0x4d, // session id
        0x74, // transport flags
    ]);
    telegram(3, &data)
}

#[test]
fn v3_reports_integrity_and_reads_the_function_after_the_digest() {
    let mut c = Conn::default();
    let e = c.telegram(ToServer, &v3_set_variable());
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    let f = plus(&e);
    assert_eq!(f.version, 3);
    assert!(f.integrity);
    assert_eq!(f.digest_length, Some(32));
    assert_eq!((f.opcode, f.function_code), (Some(0x31), Some(0x04f2)));
    assert_eq!(
        (f.sequence, f.session_id),
        (Some(0x831a), Some(0x7000_0e4d))
    );
    assert_eq!(
        (e.function, e.class),
        ("set_variable", FunctionClass::Write)
    );
}

#[test]
fn v3_response_carries_its_requests_session_id() {
    let mut c = Conn::default();
    c.telegram(ToServer, &v3_set_variable());
    let mut data = vec![0x20]; // digest length 32
    data.extend_from_slice(&[0x6b; 32]); // digest
    data.extend_from_slice(&[
        0x32, 0x00, 0x00, 0x04, 0xf2, 0x00, 0x00, // response, SetVariable
        0x83, 0x1a, // sequence 0x831a
        0x74, // transport flags (no session id in a response)
        0x00, // (return value)
    ]);
    let e = c.telegram(ToClient, &telegram(3, &data));
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    let f = plus(&e);
    assert_eq!(
        (f.opcode, f.request_packet, f.session_id),
        (Some(0x32), Some(1), Some(0x7000_0e4d))
    );
    // An unpaired response has none to carry.
    let e = c.telegram(ToClient, &telegram(3, &data));
    assert_eq!(anomalies(&e), [RESPONSE_WITHOUT_REQUEST]);
    assert_eq!(plus(&e).session_id, None);
}

#[test]
fn a_fragmented_response_carries_the_session_id_on_every_fragment() {
    let mut c = Conn::default();
    c.telegram(
        ToServer,
        &telegram(
            2,
            &[
                0x31, 0x00, 0x00, 0x04, 0xbb, 0x00, 0x00, // request, Explore
                0x00, 0x09, // sequence 9
                0x00, 0x00, 0x03, 0x88, // session id 0x388
                0x34, // transport flags
            ],
        ),
    );
    let first = [
        0x72, 0x02, 0x00, 0x0e, // header, data length 14, no trailer follows
        0x32, 0x00, 0x00, 0x04, 0xbb, 0x00, 0x00, // response, Explore
        0x00, 0x09, 0x34, // sequence 9, flags
        0xa1, 0x00, 0x00, 0x00, // (object)
    ];
    let last = [0x72, 0x02, 0x00, 0x02, 0xa2, 0x00, 0x72, 0x02, 0x00, 0x00];
    let e = c.telegram(ToClient, &first);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    assert_eq!(
        (plus(&e).fragment, plus(&e).session_id),
        (Some(Fragment::First), Some(0x388))
    );
    let e = c.telegram(ToClient, &last);
    assert_eq!(
        (plus(&e).fragment, plus(&e).session_id),
        (Some(Fragment::Last), Some(0x388))
    );
}

#[test]
fn v3_notification_has_no_function() {
    let mut data = vec![0x20];
    data.extend_from_slice(&[0x11; 32]);
    data.extend_from_slice(&[
        0x33, // opcode: notification
        0x70, 0x00, 0x0e, 0x51, // subscription object id
        0x04, 0x00, 0x00, 0x00, // (notification)
    ]);
    let mut c = Conn::default();
    let e = c.telegram(ToClient, &telegram(3, &data));
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    assert_eq!(
        (e.function, e.class, e.function_code),
        ("notification", FunctionClass::Read, None)
    );
    assert_eq!(plus(&e).subscription_id, Some(0x7000_0e51));
    assert_eq!(plus(&e).opcode, Some(0x33));
    assert_eq!(
        plus(&e).session_id,
        None,
        "notifications name a subscription"
    );
}

#[test]
fn keep_alives() {
    let mut c = Conn::default();
    let e = c.telegram(ToServer, &[0x72, 0xff, 0x05, 0x00]);
    assert!(e.anomalies.is_empty());
    assert_eq!(
        (e.function, e.class),
        ("keep_alive", FunctionClass::Session)
    );
    assert_eq!(plus(&e).keep_alive_sequence, Some(5));
    assert_eq!(plus(&e).data_length, None);
    let mut ext = vec![0; 16];
    ext.extend_from_slice(b"LOGOUT");
    let e = c.telegram(ToClient, &telegram(0xfe, &ext));
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    assert_eq!(e.function, "extended_keep_alive");
    assert_eq!(plus(&e).data_length, Some(22));
}

#[test]
fn fragments_inherit_the_first_ones_function() {
    let mut c = Conn::default();
    let first = [
        0x72, 0x02, 0x00, 0x0e, // header, data length 14, no trailer follows
        0x32, 0x00, 0x00, 0x04, 0xbb, 0x00, 0x00, // response, Explore
        0x00, 0x09, 0x34, // sequence 9, flags
        0xa1, 0x00, 0x00, 0x00, // (object)
    ];
    let inner = [0x72, 0x02, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef];
    let last = [0x72, 0x02, 0x00, 0x02, 0xa2, 0x00, 0x72, 0x02, 0x00, 0x00];
    let e = c.telegram(ToClient, &first);
    assert_eq!(plus(&e).fragment, Some(Fragment::First));
    assert_eq!((e.function, e.class), ("explore", FunctionClass::Discovery));
    assert_eq!(anomalies(&e), [RESPONSE_WITHOUT_REQUEST]);
    let e = c.telegram(ToClient, &inner);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    assert_eq!(plus(&e).fragment, Some(Fragment::Inner));
    assert_eq!((e.function, plus(&e).sequence), ("explore", Some(9)));
    let e = c.telegram(ToClient, &last);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    assert_eq!(plus(&e).fragment, Some(Fragment::Last));
    assert_eq!(e.function, "explore");
    // The next telegram stands alone again.
    let e = c.telegram(ToClient, &v3_set_variable());
    assert_eq!(plus(&e).fragment, None);
    assert_eq!(e.function, "set_variable");
}

#[test]
fn a_gap_ends_a_fragmented_telegram() {
    let mut c = Conn::default();
    c.telegram(ToClient, &[0x72, 0x02, 0x00, 0x04, 0x32, 0x00, 0x00, 0x05]);
    c.state.gap(ToClient);
    let e = c.telegram(ToClient, &v3_set_variable());
    assert_eq!(plus(&e).fragment, None);
    assert_eq!(e.function, "set_variable");
}

#[test]
fn malformed_telegrams() {
    let mut c = Conn::default();
    let e = c.telegram(ToServer, &[0x72, 0x01]);
    assert_eq!(
        (e.function, anomalies(&e)),
        ("invalid", vec![TRUNCATED_HEADER])
    );

    let e = c.telegram(
        ToServer,
        &[0x72, 0x09, 0x00, 0x02, 0x31, 0x00, 0x72, 0x09, 0x00, 0x00],
    );
    assert!(anomalies(&e).contains(&UNKNOWN_VERSION));

    // Data length beyond the TSDU: no trailer, truncated.
    let e = c.telegram(ToServer, &[0x72, 0x01, 0x01, 0x00, 0x31]);
    assert!(anomalies(&e).contains(&TRUNCATED_PDU));
    c.state.gap(ToServer);

    // A trailer that is not one, and bytes after it.
    let mut bad = telegram(
        1,
        &[
            0x31, 0x00, 0x00, 0x05, 0x4c, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0x34,
        ],
    );
    let at = bad.len() - 3;
    bad[at] = 0x02;
    bad.push(0x00);
    let e = c.telegram(ToServer, &bad);
    assert_eq!(anomalies(&e), [INVALID_TRAILER, TRAILING_BYTES]);

    // Unknown opcode; unknown function; data ending in the header.
    let e = c.telegram(ToServer, &telegram(1, &[0x44, 0x00]));
    assert_eq!(
        (e.function, anomalies(&e)),
        ("unknown", vec![UNKNOWN_OPCODE])
    );
    let e = c.telegram(
        ToServer,
        &telegram(1, &[0x31, 0, 0, 0x09, 0x99, 0, 0, 0, 2, 0, 0, 0, 1, 0x34]),
    );
    assert_eq!(
        (e.function, anomalies(&e)),
        ("unknown", vec![UNKNOWN_FUNCTION_CODE])
    );
    assert_eq!(e.function_code, Some(0x0999));
    let e = c.telegram(ToServer, &telegram(2, &[0x31, 0x00, 0x00, 0x04]));
    assert!(anomalies(&e).contains(&TRUNCATED_DATA));

    // Version 3 whose digest runs past the data.
    let e = c.telegram(ToServer, &telegram(3, &[0x20, 0x01, 0x02]));
    assert_eq!(anomalies(&e), [INVALID_INTEGRITY_PART]);
    assert!(plus(&e).integrity);
}

#[test]
fn response_pairs_with_its_request_by_sequence() {
    let mut c = Conn::default();
    let req = |seq: u8, func: u8| {
        telegram(
            2,
            &[0x31, 0, 0, 0x05, func, 0, 0, 0, seq, 0, 0, 3, 0x88, 0x34],
        )
    };
    let resp = |seq: u8, func: u8| telegram(2, &[0x32, 0, 0, 0x05, func, 0, 0, 0, seq, 0x34]);
    c.telegram(ToServer, &req(1, 0x4c));
    c.telegram(ToServer, &req(2, 0x42));
    let e = c.telegram(ToClient, &resp(2, 0x42));
    assert!(e.anomalies.is_empty());
    assert_eq!(plus(&e).request_packet, Some(2));
    let e = c.telegram(ToClient, &resp(1, 0x42));
    assert_eq!(anomalies(&e), [FUNCTION_MISMATCH]);
    let e = c.telegram(ToClient, &resp(1, 0x4c));
    assert_eq!(anomalies(&e), [RESPONSE_WITHOUT_REQUEST]);
    // Unanswered requests are forgotten quietly beyond the bound.
    for seq in 0..=MAX_PENDING as u16 {
        let mut t = req(0, 0x4c);
        t[11..13].copy_from_slice(&seq.to_be_bytes());
        assert!(c.telegram(ToServer, &t).anomalies.is_empty());
    }
}

// Found by fuzzing: an S7comm-plus event carries the TPKT/COTP framing
// anomalies of its TPDU, and rules on `s7commplus` could not name them.
#[test]
fn framing_anomalies_of_the_tpdu_can_be_named_by_rules() {
    let mut c = Conn::default();
    let mut tsdu_anomalies = Anomalies::new();
    tsdu_anomalies.add(crate::protocols::cotp::anomaly::TPKT_RESERVED_NONZERO);
    let t = telegram(1, &[0x31, 0x00, 0x00, 0x04, 0xca]); // request, CreateObject
    let mut out = Emitter::new(header(1), ToServer, &mut c.events);
    let tsdu = Tsdu {
        data: &t,
        segments: 1,
        anomalies: tsdu_anomalies,
    };
    c.state.telegram(&tsdu, &mut out);
    let pdu = &c.events.last().unwrap().pdu;
    assert_eq!(pdu.protocol, Protocol::S7commPlus);
    assert!(anomalies(pdu).contains(&"tpkt_reserved_nonzero"));
    let declared = crate::protocols::anomaly_names(Protocol::S7commPlus);
    for name in anomalies(pdu) {
        assert!(declared.contains(&name), "{name} not declared");
    }
}
