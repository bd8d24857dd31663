//! The stacked decoder: TPKT/COTP carrying S7comm and S7comm-plus, the probe,
//! and a pseudo-random input loop.

use super::*;
use crate::event::{Event, Fields, Header, Pdu, Transport};
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

#[derive(Default)]
struct Conn {
    parser: IsoOnTcpParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    fn all(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len());
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }
}

/// icsnpp_s7ident frame 4.
const CR: &[u8] = &[
    0x03, 0x00, 0x00, 0x16, // TPKT, length 22
    0x11, 0xe0, // LI 17, CR
    0x00, 0x00, 0x00, 0x01, 0x00, // dst-ref, src-ref, class 0
    0xc0, 0x01, 0x0a, // TPDU size 1024
    0xc1, 0x02, 0x01, 0x00, // calling TSAP
    0xc2, 0x02, 0x01, 0x01, // called TSAP: PG, rack 0, slot 1
];

/// icsnpp_s7ident frame 8: setup communication in one DT.
const SETUP: &[u8] = &[
    0x03, 0x00, 0x00, 0x19, // TPKT, length 25
    0x02, 0xf0, 0x80, // LI 2, DT, EOT
    0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, // S7 job header
    0xf0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xe0, // setup communication, PDU size 480
];

/// s7_1511_db2_var1_hmi frame 10: an S7comm-plus V2 response in one DT.
const PLUS_RESPONSE: &[u8] = &[
    0x03, 0x00, 0x00, 0x20, // TPKT, length 32
    0x02, 0xf0, 0x80, // DT, EOT
    0x72, 0x02, 0x00, 0x11, // S7comm-plus V2, data length 17
    0x32, 0x00, 0x00, 0x05, 0x42, 0x00, 0x00, // response, SetMultiVariables
    0x00, 0x02, 0x34, // sequence 2, transport flags
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // (response set)
    0x72, 0x02, 0x00, 0x00, // trailer
];

#[test]
fn one_connection_carries_cotp_then_s7comm() {
    let mut c = Conn::default();
    let mut data = CR.to_vec();
    data.extend_from_slice(SETUP);
    let events = c.all(ToServer, &data);
    let protocols: Vec<_> = events.iter().map(|e| e.protocol).collect();
    assert_eq!(protocols, [Protocol::Cotp, Protocol::S7comm]);
    assert_eq!(events[1].function, "setup_communication");
    assert_eq!(c.parser.protocol(), Protocol::S7comm);
}

#[test]
fn s7commplus_telegrams_are_dispatched_by_their_first_octet() {
    let mut c = Conn::default();
    assert_eq!(c.parser.protocol(), Protocol::Cotp);
    let events = c.all(ToClient, PLUS_RESPONSE);
    assert_eq!(events[0].protocol, Protocol::S7commPlus);
    assert_eq!(events[0].function, "set_multi_variables");
    assert_eq!(c.parser.protocol(), Protocol::S7commPlus);
}

#[test]
fn other_user_data_is_a_cotp_data_event() {
    let mut c = Conn::default();
    // User data whose first octet names no decoded protocol, in one DT.
    let events = c.all(
        ToServer,
        &[
            0x03, 0x00, 0x00, 0x0b, 0x02, 0xf0, 0x80, 0x99, 0x02, 0x05, 0x06,
        ],
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].protocol, Protocol::Cotp);
    assert_eq!(events[0].function, "data");
    match &events[0].fields {
        Fields::Cotp(f) => assert_eq!(f.data_length, Some(4)),
        _ => panic!("no COTP fields"),
    }
}

#[test]
fn iso_session_spdus_go_to_the_mms_decoder() {
    let mut c = Conn::default();
    // An ISO session CONNECT SPDU (as MMS starts), in one DT; its parameter
    // runs past the SPDU, and it carries no user data.
    let events = c.all(
        ToServer,
        &[
            0x03, 0x00, 0x00, 0x0b, 0x02, 0xf0, 0x80, 0x0d, 0x02, 0x05, 0x06,
        ],
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].protocol, Protocol::Mms);
    assert_eq!(events[0].function, "associate_request");
    assert!(events[0].anomalies.contains("invalid_session_parameter"));
    assert_eq!(c.parser.protocol(), Protocol::Mms);
}

#[test]
fn a_pdu_split_over_tcp_segments_completes_in_the_last_packet() {
    let mut c = Conn::default();
    assert_eq!(c.feed(ToServer, &SETUP[..10]), 0);
    assert_eq!(c.feed(ToServer, SETUP), SETUP.len());
    assert_eq!(c.events.len(), 1);
    assert_eq!(c.events[0].header.packet, 2);
}

#[test]
fn registered_as_the_stream_decoder_of_port_102() {
    match detect_stream(PORT, ToServer, CR) {
        Detection::Found(StreamDecoder::IsoOnTcp(_)) => {}
        other => panic!("not detected: {other:?}"),
    }
    assert!(crate::protocols::is_known_server_port(PORT));
}

// ---------------------------------------------------------------- probe

#[test]
fn probe_accepts_tpkt_with_cotp_on_port_102() {
    assert_eq!(probe(CR, ToServer, true), Probe::Match);
    assert_eq!(probe(SETUP, ToServer, true), Probe::Match);
    // A TPKT not complete yet is enough on the known port.
    assert_eq!(probe(&SETUP[..8], ToServer, true), Probe::Match);
    assert_eq!(probe(&SETUP[..4], ToServer, true), Probe::NeedMore);
    assert_eq!(probe(&[0x03], ToServer, true), Probe::NeedMore);
}

#[test]
fn probe_demands_tsaps_or_an_s7_header_elsewhere() {
    assert_eq!(probe(CR, ToServer, false), Probe::Match);
    assert_eq!(probe(SETUP, ToServer, false), Probe::Match);
    assert_eq!(probe(PLUS_RESPONSE, ToClient, false), Probe::Match);
    // S7 header seen, TPKT incomplete: enough.
    assert_eq!(probe(&SETUP[..20], ToServer, false), Probe::Match);
    // Too little of the DT to see the header.
    assert_eq!(probe(&SETUP[..9], ToServer, false), Probe::NeedMore);
    assert_eq!(probe(&CR[..10], ToServer, false), Probe::NoMatch);
    // A DT whose lengths disagree with the TPKT.
    let mut bad = SETUP.to_vec();
    bad[15] = 0x09;
    assert_eq!(probe(&bad, ToServer, false), Probe::NoMatch);
    // A DT carrying something else.
    let other = [
        0x03, 0x00, 0x00, 0x0b, 0x02, 0xf0, 0x80, 0x0d, 0x02, 0x05, 0x06,
    ];
    assert_eq!(probe(&other, ToServer, false), Probe::NoMatch);
    assert_eq!(probe(&other, ToServer, true), Probe::Match);
}

#[test]
fn probe_rejects_rdp_on_another_port() {
    // RDP connection request: TPKT + COTP CR with a cookie, no TSAPs.
    let mut rdp = vec![
        0x03, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    rdp.extend_from_slice(b"Cookie: mstshash=admin\r\n");
    rdp.extend_from_slice(&[0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]);
    rdp[4] = 6; // LI: the fixed part only
    let len = rdp.len() as u16;
    rdp[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(probe(&rdp, ToServer, false), Probe::NoMatch);
}

#[test]
fn probe_rejects_other_protocols_on_port_102() {
    let others: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n",
        &[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ], // TLS ClientHello
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x01,
        ], // Modbus
        &[0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21], // DNP3
        // H.225 over TPKT: Q.931 after the header, not COTP.
        &[
            0x03, 0x00, 0x00, 0x10, 0x08, 0x02, 0x00, 0x01, 0x05, 0x04, 0x03, 0x80, 0x90, 0xa2,
            0x00, 0x00,
        ],
        // TPKT with a nonzero reserved octet.
        &[0x03, 0x01, 0x00, 0x16, 0x11, 0xe0],
    ];
    for data in others {
        assert_eq!(probe(data, ToServer, true), Probe::NoMatch, "{data:02x?}");
        assert_eq!(probe(data, ToServer, false), Probe::NoMatch, "{data:02x?}");
    }
}

// ---------------------------------------------------------------- robustness

/// xorshift64: deterministic pseudo-random bytes without a dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }
}

/// Pseudo-random input, biased towards what the decoders look at: TPKT
/// headers, DT TPDUs and S7 / S7comm-plus headers with random bodies.
fn random_input(rng: &mut XorShift) -> Vec<u8> {
    let len = (rng.next() % 300) as usize;
    let mut data: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
    if !rng.next().is_multiple_of(4) && data.len() >= 12 {
        let tpkt_len = if rng.next().is_multiple_of(2) {
            data.len() as u16
        } else {
            (rng.next() % 400) as u16
        };
        data[0] = 3;
        data[1] = 0;
        data[2..4].copy_from_slice(&tpkt_len.to_be_bytes());
        if rng.next().is_multiple_of(2) {
            data[4] = 2;
            data[5] = 0xf0;
            data[6] = if rng.next().is_multiple_of(3) {
                0x00
            } else {
                0x80
            };
            data[7] = [0x32, 0x72, 0x0d][(rng.next() % 3) as usize];
            data[8] = [1, 2, 3, 7, 0xff][(rng.next() % 5) as usize];
        }
    }
    data
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let mut c = Conn::default();
    for round in 0..20_000 {
        let dir = if rng.next().is_multiple_of(2) {
            ToServer
        } else {
            ToClient
        };
        let data = random_input(&mut rng);
        let used = c.feed(dir, &data);
        assert!(used <= data.len());
        if used == 0 && !data.is_empty() {
            assert_eq!(
                cotp::tpkt_framing(&data),
                TpktFraming::Incomplete,
                "round {round}: nothing consumed from {data:02x?}"
            );
        }
        if round % 97 == 0 {
            c.parser.gap(dir);
        }
        let _ = probe(&data, dir, round % 2 == 0);
        // Pure entry points, as a fuzzer would call them.
        let _ = s7comm::decode(data.get(7..).unwrap_or_default());
        let _ = s7commplus::decode(data.get(7..).unwrap_or_default(), round % 5 == 0);
    }
    assert!(c.events.len() > 1000, "only {} events", c.events.len());
}

#[test]
fn a_tsdu_starting_with_0x32_that_is_not_s7comm_is_cotp_data() {
    let mut c = Conn::default();
    // ROSCTR 8: Wireshark shows COTP data, not S7comm.
    let events = c.all(
        ToServer,
        &[
            0x03, 0x00, 0x00, 0x11, 0x02, 0xf0, 0x80, // TPKT, DT
            0x32, 0x08, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
            0x00, // "S7" header, ROSCTR 8
        ],
    );
    assert_eq!(events[0].protocol, Protocol::Cotp);
    assert_eq!(events[0].function, "data");
    let names: Vec<_> = events[0].anomalies.iter().collect();
    assert_eq!(names, [s7comm::anomaly::INVALID_S7COMM_HEADER]);
    // Found by fuzzing: rules on `cotp` could not name the anomaly its events carry.
    assert!(
        crate::protocols::anomaly_names(Protocol::Cotp)
            .contains(&s7comm::anomaly::INVALID_S7COMM_HEADER)
    );
}
