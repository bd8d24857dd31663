//! Unit tests: queries of `../shared/pcaps/mixed/` and the PROFINET capture
//! (LLMNR), the malformed responses of `../shared/pcaps/dns/`, responses
//! built record by record with one comment per field, mDNS and LLMNR
//! identities, DNS over TCP, malformed names and probes.

use super::*;
use crate::event::Transport;
use crate::protocols::itwire::testing::{
    Rng, anomalies, datagram, header, hex, json, one, stream, udp,
};
use crate::protocols::{DatagramDecoder, Detection, StreamDecoder, detect_datagram, detect_stream};

const HOST: [u8; 6] = [0x20, 0x89, 0x84, 0xfe, 0xdc, 0x71];

/// Frame 2 of the mixed capture: A? 0.client-channel.google.com.
const QUERY: &[u8] = &[
    0x2a, 0x5d, // id
    0x01, 0x00, // flags: standard query, recursion desired
    0x00, 0x01, // questions
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // answers, authorities, additionals
    0x01, b'0', // "0"
    0x0e, b'c', b'l', b'i', b'e', b'n', b't', b'-', b'c', b'h', b'a', b'n', b'n', b'e', b'l', 0x06,
    b'g', b'o', b'o', b'g', b'l', b'e', // "google"
    0x03, b'c', b'o', b'm', 0x00, // "com", root
    0x00, 0x01, // type A
    0x00, 0x01, // class IN
];

/// A response to a query for plc.example.com with one record of each kept
/// type, names compressed against the question (offset 12).
fn response() -> Vec<u8> {
    let mut m = vec![
        0x12, 0x34, // id
        0x85, 0x80, // flags: response, authoritative, RD, RA, no error
        0x00, 0x01, // questions
        0x00, 0x07, // answers
        0x00, 0x00, 0x00, 0x00, // authorities, additionals
        0x03, b'p', b'l', b'c', 0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0x03, b'c', b'o',
        b'm', 0x00, // plc.example.com
        0x00, 0x01, 0x00, 0x01, // A, IN
    ];
    let rr = |m: &mut Vec<u8>, rtype: u16, ttl: u32, data: &[u8]| {
        m.extend_from_slice(&[0xc0, 0x0c]); // name: pointer to plc.example.com
        m.extend_from_slice(&rtype.to_be_bytes()); // type
        m.extend_from_slice(&[0x00, 0x01]); // class IN
        m.extend_from_slice(&ttl.to_be_bytes()); // TTL
        m.extend_from_slice(&(data.len() as u16).to_be_bytes()); // data length
        m.extend_from_slice(data);
    };
    rr(&mut m, 1, 300, &[10, 10, 2, 1]); // A 10.10.2.1
    rr(
        &mut m,
        28,
        300,
        &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ); // AAAA
    rr(&mut m, 5, 60, &[0x03, b'p', b'l', b'c', 0xc0, 0x10]); // CNAME plc.example.com ("plc" + ptr to example.com)
    rr(&mut m, 12, 60, &[0xc0, 0x10]); // PTR example.com
    rr(
        &mut m,
        15,
        60,
        &[0x00, 0x0a, 0x04, b'm', b'a', b'i', b'l', 0xc0, 0x10],
    ); // MX 10 mail.example.com
    rr(
        &mut m,
        33,
        60,
        &[
            0x00, 0x00, 0x00, 0x05, 0x01, 0xf6, 0x03, b's', b'i', b'p', 0xc0, 0x10,
        ],
    ); // SRV 0 5 502 sip.example.com
    rr(&mut m, 16, 60, &[0x04, b'v', b'=', b'o', b'k']); // TXT (data not kept)
    m
}

fn dns(header: crate::event::Header, protocol: Protocol, msg: &[u8]) -> Pdu {
    one(datagram(
        &mut DnsParser::new(protocol),
        header,
        Direction::ToServer,
        msg,
    ))
}

fn fields(pdu: &Pdu) -> &DnsFields {
    match &pdu.fields {
        Fields::Dns(f) => f,
        other => panic!("not DNS: {other:?}"),
    }
}

#[test]
fn query_from_the_mixed_capture() {
    let pdu = dns(
        udp("192.168.0.21", "192.168.0.1", HOST),
        Protocol::Dns,
        QUERY,
    );
    assert_eq!(pdu.protocol, Protocol::Dns);
    assert_eq!(
        (pdu.function_code, pdu.function, pdu.class, pdu.is_response),
        (Some(0), "query", FunctionClass::Discovery, false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert!(pdu.identity.is_none());
    assert_eq!(
        json(&pdu.fields),
        serde_json::json!({
            "id": 0x2a5d,
            "flags": 0x0100,
            "question_count": 1,
            "answer_count": 0,
            "authority_count": 0,
            "additional_count": 0,
            "questions": [{"name": "0.client-channel.google.com", "type": "A"}],
        })
    );
}

#[test]
fn response_records_and_their_data() {
    let pdu = dns(
        udp("10.0.0.53", "10.0.0.5", HOST),
        Protocol::Dns,
        &response(),
    );
    assert!(pdu.is_response);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert!(pdu.identity.is_none(), "a DNS server answers about others");
    let j = json(&pdu.fields);
    assert_eq!(j["rcode"], 0);
    assert_eq!(j["rcode_name"], "no_error");
    assert_eq!(j["authoritative"], true);
    let answers: Vec<(String, String, u64, Option<String>)> = j["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["type"].as_str().unwrap().to_string(),
                a["ttl"].as_u64().unwrap(),
                a["data"].as_str().map(str::to_string),
            )
        })
        .collect();
    let plc = "plc.example.com".to_string();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        answers,
        [
            (plc.clone(), "A".into(), 300, s("10.10.2.1")),
            (plc.clone(), "AAAA".into(), 300, s("2001:db8::1")),
            (plc.clone(), "CNAME".into(), 60, s("plc.example.com")),
            (plc.clone(), "PTR".into(), 60, s("example.com")),
            (plc.clone(), "MX".into(), 60, s("10 mail.example.com")),
            (plc.clone(), "SRV".into(), 60, s("0 5 502 sip.example.com")),
            (plc, "TXT".into(), 60, None),
        ]
    );
}

#[test]
fn error_responses_and_other_opcodes() {
    let mut m = QUERY.to_vec();
    m[2] = 0x81;
    m[3] = 0x83; // response, RD, RA, rcode 3 (name error)
    let pdu = dns(udp("192.168.0.1", "192.168.0.21", HOST), Protocol::Dns, &m);
    assert_eq!(json(&pdu.fields)["rcode_name"], "name_error");
    for (opcode, function, class) in [
        (1, "inverse_query", FunctionClass::Discovery),
        (2, "status", FunctionClass::Discovery),
        (4, "notify", FunctionClass::Other),
        (5, "update", FunctionClass::Write),
        (6, "dso", FunctionClass::Session),
    ] {
        let mut m = QUERY.to_vec();
        m[2] = opcode << 3;
        let pdu = dns(udp("10.0.0.5", "10.0.0.53", HOST), Protocol::Dns, &m);
        assert_eq!((pdu.function, pdu.class), (function, class));
        assert_eq!(pdu.function_code, Some(u32::from(opcode)));
    }
    let mut m = QUERY.to_vec();
    m[2] = 9 << 3;
    let pdu = dns(udp("10.0.0.5", "10.0.0.53", HOST), Protocol::Dns, &m);
    assert_eq!(pdu.function, "unknown");
    assert_eq!(anomalies(&pdu), [anomaly::UNKNOWN_OPCODE]);
}

#[test]
fn mdns_announcement_names_the_sender() {
    let announcement = [
        0x00, 0x00, // id 0
        0x84, 0x00, // flags: response, authoritative
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // 0 questions, 2 answers
        0x07, b'h', b'm', b'i', b'-', b'o', b'p', b'1', 0x05, b'l', b'o', b'c', b'a', b'l', 0x00,
        0x00, 0x01, 0x80, 0x01, // A, cache flush + IN
        0x00, 0x00, 0x00, 0x78, // TTL 120
        0x00, 0x04, 192, 168, 1, 20, // 192.168.1.20
        0x03, b'_', b'x', b'y', 0xc0, 0x14, // _xy.local
        0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x11, 0x94, // PTR, IN, TTL 4500
        0x00, 0x02, 0xc0, 0x0c, // hmi-op1.local
    ];
    let pdu = dns(
        udp("192.168.1.20", "224.0.0.251", HOST),
        Protocol::Mdns,
        &announcement,
    );
    assert_eq!(pdu.protocol, Protocol::Mdns);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert_eq!(pdu.identity.unwrap().hostname.as_deref(), Some("hmi-op1"));
    // The same records sent by another address: not the sender's own name.
    let pdu = dns(
        udp("192.168.1.99", "224.0.0.251", HOST),
        Protocol::Mdns,
        &announcement,
    );
    assert!(pdu.identity.is_none());
    // A unicast DNS server saying the same names nothing.
    let pdu = dns(
        udp("192.168.1.20", "192.168.1.5", HOST),
        Protocol::Dns,
        &announcement,
    );
    assert!(pdu.identity.is_none());
}

#[test]
fn llmnr_response_in_the_additional_section_names_the_sender() {
    // A response whose own AAAA record is an additional record (not kept as
    // an answer, but walked for the identity).
    let mut m = vec![
        0xbe, 0x50, // id
        0x80, 0x00, // response
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // 1 question, 1 additional
        0x08, b'k', b'w', b'-', b'V', b'L', b'I', b'P', b'C', 0x00, 0x00, 0x1c, 0x00, 0x01, 0xc0,
        0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x10, // AAAA, TTL 30
    ];
    m.extend_from_slice(&[
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x14, 0xea, 0x38, 0x51, 0x82, 0x43, 0x38, 0x93,
    ]);
    let pdu = dns(
        udp("fe80::14ea:3851:8243:3893", "fe80::1", HOST),
        Protocol::Llmnr,
        &m,
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert!(fields(&pdu).answers.is_empty());
    assert_eq!(pdu.identity.unwrap().hostname.as_deref(), Some("kw-VLIPC"));
}

#[test]
fn malformed_names_are_reported() {
    // Frame 2 of the malformed capture (`malformed_frame2.hex`, its UDP
    // payload): the second question's name runs past 255 bytes of text; so
    // does the CNAME's.
    let frame2 = hex(include_str!("malformed_frame2.hex"));
    let pdu = dns(
        udp("127.0.0.1", "127.0.0.1", [0; 6]),
        Protocol::Dns,
        &frame2,
    );
    assert_eq!(anomalies(&pdu), [anomaly::NAME_TOO_LONG]);
    let f = fields(&pdu);
    assert_eq!(f.questions.len(), 2);
    assert_eq!(f.questions[0].name, "www.xt.com");
    assert_eq!(f.questions[1].name.len(), message::MAX_NAME_TEXT);
    assert_eq!(
        f.answers[0].data,
        Some(Data::Address("66.66.66.66".parse().unwrap()))
    );
    assert_eq!(f.answers[1].rtype, 5);
    // A pointer to itself: a loop.
    let mut m = QUERY[..12].to_vec();
    m.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]);
    let pdu = dns(udp("10.0.0.5", "10.0.0.53", HOST), Protocol::Dns, &m);
    assert_eq!(anomalies(&pdu), [anomaly::NAME_POINTER_LOOP]);
    // A pointer past the end; a label type 0x40.
    let mut m = QUERY[..12].to_vec();
    m.extend_from_slice(&[0xc1, 0x00, 0x00, 0x01, 0x00, 0x01]);
    assert_eq!(
        anomalies(&dns(udp("10.0.0.5", "10.0.0.53", HOST), Protocol::Dns, &m)),
        [anomaly::BAD_NAME_POINTER]
    );
    let mut m = QUERY[..12].to_vec();
    m.extend_from_slice(&[0x41, 0x00, 0x00, 0x01, 0x00, 0x01]);
    assert_eq!(
        anomalies(&dns(udp("10.0.0.5", "10.0.0.53", HOST), Protocol::Dns, &m)),
        [anomaly::BAD_LABEL_TYPE, anomaly::TRUNCATED_QUESTION]
    );
}

#[test]
fn truncated_and_trailing_bytes() {
    let pdu = dns(
        udp("10.0.0.5", "10.0.0.53", HOST),
        Protocol::Dns,
        &QUERY[..7],
    );
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED_HEADER]);
    assert_eq!(json(&pdu.fields), serde_json::json!({}));
    let pdu = dns(
        udp("10.0.0.5", "10.0.0.53", HOST),
        Protocol::Dns,
        &QUERY[..30],
    );
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED_QUESTION]);
    let r = response();
    let pdu = dns(
        udp("10.0.0.53", "10.0.0.5", HOST),
        Protocol::Dns,
        &r[..r.len() - 3],
    );
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED_RECORD]);
    assert_eq!(fields(&pdu).answers.len(), 6, "the whole records are kept");
    let mut m = QUERY.to_vec();
    m.extend_from_slice(&[0, 0, 0]);
    let pdu = dns(udp("10.0.0.5", "10.0.0.53", HOST), Protocol::Dns, &m);
    assert_eq!(anomalies(&pdu), [anomaly::TRAILING_BYTES]);
    // An A record of 3 bytes.
    let mut r = response();
    let a = r
        .windows(4)
        .position(|w| w == [0x00, 0x04, 10, 10])
        .unwrap();
    r[a + 1] = 3;
    r.remove(a + 5);
    let pdu = dns(udp("10.0.0.53", "10.0.0.5", HOST), Protocol::Dns, &r);
    assert!(anomalies(&pdu).contains(&anomaly::BAD_RDATA));
}

#[test]
fn lists_are_bounded_and_counts_kept() {
    let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0x01, 0x00, 0, 0, 0, 0]; // 256 answers
    m.extend_from_slice(&[0x01, b'a', 0x00, 0x00, 0x01, 0x00, 0x01]);
    for i in 0..256u16 {
        m.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x04]);
        m.extend_from_slice(&[10, 0, (i >> 8) as u8, i as u8]);
    }
    let pdu = dns(udp("10.0.0.53", "10.0.0.5", HOST), Protocol::Dns, &m);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert_eq!(fields(&pdu).answers.len(), MAX_ANSWERS);
    assert_eq!(json(&pdu.fields)["answer_count"], 256);
}

#[test]
fn dns_over_tcp_is_framed_by_length() {
    let tcp = |_dir: Direction| {
        header(
            (Some("10.0.0.5"), None),
            (Some("10.0.0.53"), None),
            Transport::Tcp,
        )
    };
    let mut parser = DnsParser::new(Protocol::Dns);
    let mut data = (QUERY.len() as u16).to_be_bytes().to_vec();
    data.extend_from_slice(QUERY);
    let r = response();
    data.extend_from_slice(&(r.len() as u16).to_be_bytes());
    data.extend_from_slice(&r[..20]);
    let (pdus, consumed) = stream(
        &mut parser,
        tcp(Direction::ToServer),
        Direction::ToServer,
        &data,
    );
    assert_eq!(pdus.len(), 1, "the second message is incomplete");
    assert_eq!(consumed, 2 + QUERY.len());
    let mut rest = data[consumed..].to_vec();
    rest.extend_from_slice(&r[20..]);
    let (pdus, consumed) = stream(
        &mut parser,
        tcp(Direction::ToClient),
        Direction::ToClient,
        &rest,
    );
    assert_eq!(consumed, rest.len());
    assert!(one(pdus).is_response);
    // A zero length is an event (no header), consumed.
    let (pdus, consumed) = stream(
        &mut parser,
        tcp(Direction::ToServer),
        Direction::ToServer,
        &[0, 0, 0],
    );
    assert_eq!((consumed, one(pdus).function), (2, "invalid"));
}

#[test]
fn probes() {
    let dir = Direction::ToServer;
    assert_eq!(probe(QUERY, dir, true), Probe::Match);
    assert_eq!(
        probe(QUERY, dir, false),
        Probe::Match,
        "a clean query anywhere"
    );
    assert_eq!(probe(&response(), dir, false), Probe::Match);
    assert_eq!(
        probe(&QUERY[..5], dir, true),
        Probe::Match,
        "malformed on 53 is seen"
    );
    let mut sloppy = QUERY.to_vec();
    sloppy.push(0);
    assert_eq!(probe(&sloppy, dir, true), Probe::Match);
    assert_eq!(
        probe(&sloppy, dir, false),
        Probe::NoMatch,
        "trailing byte off-port"
    );
    let http = b"GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n";
    let tls = [
        0x16, 0x03, 0x01, 0x00, 0xc8, // record: handshake, TLS 1.0, length 200
        0x01, 0x00, 0x00, 0xc4, 0x03, 0x03, // client hello, TLS 1.2
        0x5f, 0x1a, 0x2b, 0x3c, 0x4d, // random…
    ];
    let modbus = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
    ];
    for other in [&http[..], &tls, &modbus] {
        assert_eq!(probe(other, dir, true), Probe::NoMatch, "{other:02x?}");
        assert_eq!(probe_mdns(other, dir, true), Probe::NoMatch, "{other:02x?}");
        assert_eq!(
            probe_stream(other, dir, true),
            Probe::NoMatch,
            "{other:02x?}"
        );
    }
    assert_eq!(
        probe_mdns(QUERY, dir, false),
        Probe::NoMatch,
        "mDNS only on 5353"
    );
    assert_eq!(probe_llmnr(QUERY, dir, true), Probe::Match);
    assert_eq!(probe_stream(&[0x00], dir, true), Probe::NeedMore);
    assert!(matches!(
        detect_datagram(PORT, dir, QUERY),
        Detection::Found(DatagramDecoder::Dns(p)) if p.protocol() == Protocol::Dns
    ));
    assert!(matches!(
        detect_datagram(MDNS_PORT, dir, QUERY),
        Detection::Found(DatagramDecoder::Dns(p)) if p.protocol() == Protocol::Mdns
    ));
    let mut tcp = (QUERY.len() as u16).to_be_bytes().to_vec();
    tcp.extend_from_slice(QUERY);
    assert!(matches!(
        detect_stream(PORT, dir, &tcp),
        Detection::Found(StreamDecoder::Dns(_))
    ));
    assert!(matches!(detect_stream(8080, dir, &tcp), Detection::Unknown));
}

#[test]
fn type_names_round_trip() {
    for t in [1, 28, 33, 255, 65, 4242] {
        assert_eq!(type_number(type_name(t).as_str()), Some(t));
    }
    assert_eq!(type_name(4242).as_str(), "TYPE4242");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xd115);
    let mut parser = DnsParser::new(Protocol::Mdns);
    let base = response();
    for i in 0..5000 {
        let msg = if i % 2 == 0 {
            rng.mutate(&base)
        } else {
            let mut m = rng.bytes(12);
            let len = rng.below(120) as usize;
            // Plenty of compression pointers.
            m.extend((0..len).map(|_| {
                if rng.below(4) == 0 {
                    0xc0
                } else {
                    rng.next_u64() as u8
                }
            }));
            m
        };
        let pdus = datagram(
            &mut parser,
            udp("192.168.1.20", "224.0.0.251", HOST),
            Direction::ToServer,
            &msg,
        );
        assert_eq!(pdus.len(), 1);
    }
    // Streams in random pieces always progress.
    let mut parser = DnsParser::new(Protocol::Dns);
    let h = header(
        (Some("10.0.0.5"), None),
        (Some("10.0.0.53"), None),
        Transport::Tcp,
    );
    let mut pending = Vec::new();
    for _ in 0..2000 {
        let len = rng.below(40) as usize;
        pending.extend(rng.bytes(len));
        let (_, consumed) = stream(&mut parser, h, Direction::ToServer, &pending);
        assert!(consumed <= pending.len());
        pending.drain(..consumed);
        if pending.len() > 70_000 {
            pending.clear();
        }
    }
}
