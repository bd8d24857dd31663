//! Unit tests: the SNMPv2c exchange of `../shared/pcaps/snmp/` (one comment
//! per element), messages built element by element (system group
//! responses, set, bulk, traps, informs, v3), malformed messages, probes.

use super::*;
use crate::event::Header;
use crate::protocols::itwire::testing::{Rng, anomalies, datagram, json, one, udp};
use crate::protocols::{DatagramDecoder, Detection, detect_datagram};

const MANAGER: [u8; 6] = [0x00, 0x1d, 0x60, 0xb3, 0x0a, 0xdd];
const AGENT: [u8; 6] = [0x00, 0x0e, 0x83, 0x16, 0xf5, 0x00];

/// Frame 3 of the capture: GetRequest sysUpTime.0, community `[R0_C@cti!]`.
const GET: &[u8] = &[
    0x30, 0x2e, // message
    0x02, 0x01, 0x01, // version: v2c
    0x04, 0x0b, b'[', b'R', b'0', b'_', b'C', b'@', b'c', b't', b'i', b'!', b']', // community
    0xa0, 0x1c, // GetRequest
    0x02, 0x04, 0x21, 0x18, 0x2c, 0xd7, // request id 555232471
    0x02, 0x01, 0x00, // error status 0
    0x02, 0x01, 0x00, // error index 0
    0x30, 0x0e, // varbind list
    0x30, 0x0c, // varbind
    0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00, // 1.3.6.1.2.1.1.3.0
    0x05, 0x00, // NULL
];

/// Frame 4: its response, sysUpTime.0 = 76705700 ticks.
const RESPONSE: &[u8] = &[
    0x30, 0x32, // message
    0x02, 0x01, 0x01, // v2c
    0x04, 0x0b, b'[', b'R', b'0', b'_', b'C', b'@', b'c', b't', b'i', b'!', b']', // community
    0xa2, 0x20, // Response
    0x02, 0x04, 0x21, 0x18, 0x2c, 0xd7, // request id
    0x02, 0x01, 0x00, 0x02, 0x01, 0x00, // no error
    0x30, 0x12, 0x30, 0x10, // varbind list, varbind
    0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00, // sysUpTime.0
    0x43, 0x04, 0x04, 0x92, 0x6f, 0xa4, // TimeTicks 76705700
];

/// An element with its tag and length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match content.len() {
        n @ 0..=0x7f => v.push(n as u8),
        n @ 0x80..=0xff => v.extend_from_slice(&[0x81, n as u8]),
        n => v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend_from_slice(content);
    v
}

fn int(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = (0..7)
        .take_while(|&i| {
            (bytes[i] == 0 && bytes[i + 1] & 0x80 == 0)
                || (bytes[i] == 0xff && bytes[i + 1] & 0x80 != 0)
        })
        .count();
    tlv(0x02, &bytes[skip..])
}

fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.insert(0, (rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        body.extend(chunk);
    }
    tlv(0x06, &body)
}

fn varbinds(items: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let list: Vec<u8> = items
        .iter()
        .flat_map(|(name, value)| tlv(0x30, &[oid(name), value.clone()].concat()))
        .collect();
    tlv(0x30, &list)
}

/// A v1/v2c message with a PDU of `tag`.
fn message(version: i64, community: &str, tag: u8, id: i64, binds: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let pdu = tlv(tag, &[int(id), int(0), int(0), varbinds(binds)].concat());
    tlv(
        0x30,
        &[int(version), tlv(0x04, community.as_bytes()), pdu].concat(),
    )
}

fn to_agent() -> Header {
    udp("10.144.246.184", "10.144.246.161", MANAGER)
}

fn to_manager() -> Header {
    udp("10.144.246.161", "10.144.246.184", AGENT)
}

fn snmp(pdu: &Pdu) -> &SnmpFields {
    match &pdu.fields {
        Fields::Snmp(f) => f,
        other => panic!("not SNMP: {other:?}"),
    }
}

#[test]
fn v2c_get_and_its_response() {
    let mut parser = SnmpParser::new();
    let get = one(datagram(&mut parser, to_agent(), Direction::ToServer, GET));
    assert_eq!(get.protocol, Protocol::Snmp);
    assert_eq!(
        (get.function_code, get.function, get.class, get.is_response),
        (Some(0), "get_request", FunctionClass::Read, false)
    );
    assert!(get.anomalies.is_empty(), "{:?}", anomalies(&get));
    assert_eq!(
        json(&get.fields),
        serde_json::json!({
            "version": 1,
            "community": "[R0_C@cti!]",
            "community_present": true,
            "request_id": 555_232_471,
            "error_status": 0,
            "error_index": 0,
            "varbind_count": 1,
            "varbinds": [{"oid": "1.3.6.1.2.1.1.3.0", "type": "null"}],
        })
    );
    let mut h = to_manager();
    h.packet = 4;
    let response = one(datagram(&mut parser, h, Direction::ToClient, RESPONSE));
    assert_eq!(
        (response.function, response.class, response.is_response),
        ("get_response", FunctionClass::Read, true)
    );
    assert!(response.anomalies.is_empty(), "{:?}", anomalies(&response));
    let j = json(&response.fields);
    assert_eq!(j["request_packet"], 1);
    assert_eq!(
        j["varbinds"],
        serde_json::json!([{"oid": "1.3.6.1.2.1.1.3.0", "type": "timeticks", "value": 76_705_700}])
    );
    assert!(response.identity.is_none(), "sysUpTime identifies nothing");
}

#[test]
fn the_community_is_a_secret() {
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_agent(),
        Direction::ToServer,
        GET,
    ));
    let mut out = Vec::new();
    let mut w = crate::output::json::JsonWriter::object(&mut out);
    pdu.fields.visit(&mut w);
    w.finish();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\"community\":\"<redacted>\""), "{text}");
    assert!(!text.contains("R0_C"), "{text}");
}

#[test]
fn system_group_response_identifies_the_agent() {
    let descr = "Siemens, SIMATIC NET, SCALANCE X308-2, 6GK5 308-2FL00-2AA3, HW: 7, FW: V4.1.4";
    let binds = [
        (SYS_DESCR, tlv(0x04, descr.as_bytes())),
        (SYS_OBJECT_ID, oid("1.3.6.1.4.1.4329.20.1.1.1.1.79.3.1.9")),
        ("1.3.6.1.2.1.1.4.0", tlv(0x04, b"ot-team@plant")),
        (SYS_NAME, tlv(0x04, b"scalance-cell1")),
        ("1.3.6.1.2.1.1.6.0", tlv(0x04, b"Hall 3, cabinet 12")),
    ];
    let mut parser = SnmpParser::new();
    let request = message(1, "public", 0xa0, 7, &[(SYS_DESCR, tlv(0x05, &[]))]);
    let get = one(datagram(
        &mut parser,
        to_agent(),
        Direction::ToServer,
        &request,
    ));
    assert_eq!(anomalies(&get), [anomaly::DEFAULT_COMMUNITY]);
    let response = message(1, "public", 0xa2, 7, &binds);
    let pdu = one(datagram(
        &mut parser,
        to_manager(),
        Direction::ToClient,
        &response,
    ));
    let identity = pdu.identity.expect("the agent describes itself");
    assert_eq!(identity.product.as_deref(), Some(descr));
    assert_eq!(identity.firmware.as_deref(), Some("V4.1.4"));
    assert_eq!(identity.vendor_id, Some(4329));
    assert_eq!(identity.hostname.as_deref(), Some("scalance-cell1"));
    let j = json(&pdu.fields);
    assert_eq!(j["varbinds"][1]["type"], "oid");
    assert_eq!(j["varbinds"][4]["value"], "Hall 3, cabinet 12");
    // A request carrying the same objects (a set) identifies nothing.
    let set = message(1, "private", 0xa3, 8, &binds[3..4]);
    let pdu = one(datagram(&mut parser, to_agent(), Direction::ToServer, &set));
    assert_eq!(
        (pdu.function, pdu.class),
        ("set_request", FunctionClass::Write)
    );
    assert!(pdu.identity.is_none());
}

#[test]
fn responses_take_their_requests_class() {
    let mut parser = SnmpParser::new();
    let set = message(1, "rw", 0xa3, 42, &[("1.3.6.1.2.1.1.5.0", tlv(0x04, b"x"))]);
    one(datagram(&mut parser, to_agent(), Direction::ToServer, &set));
    let reply = message(1, "rw", 0xa2, 42, &[("1.3.6.1.2.1.1.5.0", tlv(0x04, b"x"))]);
    let pdu = one(datagram(
        &mut parser,
        to_manager(),
        Direction::ToClient,
        &reply,
    ));
    assert_eq!(pdu.class, FunctionClass::Write);
    // Unpaired: read, and flagged.
    let pdu = one(datagram(
        &mut parser,
        to_manager(),
        Direction::ToClient,
        &reply,
    ));
    assert_eq!(pdu.class, FunctionClass::Read);
    assert_eq!(anomalies(&pdu), [anomaly::RESPONSE_WITHOUT_REQUEST]);
    // An inform's acknowledgement.
    let inform = message(1, "c", 0xa6, 9, &[]);
    let pdu = one(datagram(
        &mut parser,
        to_agent(),
        Direction::ToServer,
        &inform,
    ));
    assert_eq!(
        (pdu.function, pdu.class),
        ("inform_request", FunctionClass::Other)
    );
    let ack = message(1, "c", 0xa2, 9, &[]);
    let pdu = one(datagram(
        &mut parser,
        to_manager(),
        Direction::ToClient,
        &ack,
    ));
    assert_eq!(pdu.class, FunctionClass::Other);
}

#[test]
fn get_bulk_and_traps() {
    let bulk = tlv(
        0xa5,
        &[
            int(5),
            int(1),
            int(10),
            varbinds(&[("1.3.6.1.2.1.2.2", tlv(0x05, &[]))]),
        ]
        .concat(),
    );
    let msg = tlv(0x30, &[int(1), tlv(0x04, b"c"), bulk].concat());
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_agent(),
        Direction::ToServer,
        &msg,
    ));
    assert_eq!(
        (pdu.function, pdu.class),
        ("get_bulk_request", FunctionClass::Read)
    );
    let j = json(&pdu.fields);
    assert_eq!(
        (j["non_repeaters"].clone(), j["max_repetitions"].clone()),
        (1.into(), 10.into())
    );
    assert!(j.get("error_status").is_none());
    // SNMPv1 trap: linkDown from 10.0.0.7.
    let trap = tlv(
        0xa4,
        &[
            oid("1.3.6.1.4.1.9.1.1"),  // enterprise
            tlv(0x40, &[10, 0, 0, 7]), // agent address
            int(2),                    // generic trap: linkDown
            int(0),                    // specific trap
            tlv(0x43, &[0x01, 0x00]),  // time stamp 256
            varbinds(&[("1.3.6.1.2.1.2.2.1.1.3", int(3))]),
        ]
        .concat(),
    );
    let msg = tlv(0x30, &[int(0), tlv(0x04, b"traps"), trap].concat());
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_manager(),
        Direction::ToServer,
        &msg,
    ));
    assert_eq!(
        (pdu.function, pdu.class, pdu.is_response),
        ("trap", FunctionClass::Other, false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["version"], 0);
    assert_eq!(j["enterprise"], "1.3.6.1.4.1.9.1.1");
    assert_eq!(j["agent_address"], "10.0.0.7");
    assert_eq!(j["generic_trap"], 2);
    assert_eq!(j["timestamp"], 256);
    assert_eq!(j["varbinds"][0]["value"], 3);
    // SNMPv2 trap.
    let msg = message(
        1,
        "traps",
        0xa7,
        77,
        &[("1.3.6.1.6.3.1.1.4.1.0", oid("1.3.6.1.6.3.1.1.5.3"))],
    );
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_manager(),
        Direction::ToServer,
        &msg,
    ));
    assert_eq!((pdu.function, pdu.function_code), ("snmpv2_trap", Some(7)));
}

#[test]
fn varbind_value_types() {
    let binds = [
        (
            "1.3.6.1.2.1.2.2.1.10.1",
            tlv(0x41, &[0x00, 0xff, 0xff, 0xff, 0xff]),
        ), // Counter32
        (
            "1.3.6.1.2.1.2.2.1.5.1",
            tlv(0x42, &[0x3b, 0x9a, 0xca, 0x00]),
        ), // Gauge32
        (
            "1.3.6.1.2.1.31.1.1.1.6.1",
            tlv(0x46, &[0x01, 0, 0, 0, 0, 0]),
        ), // Counter64
        ("1.3.6.1.2.1.4.20.1.1.1", tlv(0x40, &[192, 168, 0, 1])), // IpAddress
        (
            "1.3.6.1.2.1.2.2.1.6.1",
            tlv(0x04, &[0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03]),
        ), // MAC as octets
        ("1.3.6.1.2.1.1.9.0", tlv(0x81, &[])),                    // noSuchInstance
        ("1.3.6.1.2.1.1.8.0", int(-5)),                           // negative integer
    ];
    let msg = message(1, "c", 0xa2, 1, &binds);
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_manager(),
        Direction::ToClient,
        &msg,
    ));
    let j = json(&pdu.fields);
    let vb = |i: usize| {
        (
            j["varbinds"][i]["type"].clone(),
            j["varbinds"][i]["value"].clone(),
        )
    };
    assert_eq!(vb(0), ("counter32".into(), 0xffff_ffffu64.into()));
    assert_eq!(vb(1), ("gauge32".into(), 1_000_000_000.into()));
    assert_eq!(vb(2), ("counter64".into(), (1u64 << 40).into()));
    assert_eq!(vb(3), ("ip_address".into(), "192.168.0.1".into()));
    assert_eq!(vb(4), ("octet_string".into(), "000e8c010203".into()));
    assert_eq!(vb(5), ("no_such_instance".into(), serde_json::Value::Null));
    assert_eq!(vb(6), ("integer".into(), (-5).into()));
}

#[test]
fn varbinds_are_bounded_and_counted() {
    let binds: Vec<(&str, Vec<u8>)> = (0..100)
        .map(|_| ("1.3.6.1.2.1.1.3.0", tlv(0x05, &[])))
        .collect();
    let msg = message(1, "c", 0xa0, 1, &binds);
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_agent(),
        Direction::ToServer,
        &msg,
    ));
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert_eq!(snmp(&pdu).varbinds.len(), MAX_VARBINDS);
    assert_eq!(snmp(&pdu).varbind_count, 100);
}

/// An SNMPv3 message: header, USM parameters for `user`, then `data`.
fn v3(flags: u8, user: &str, data: Vec<u8>) -> Vec<u8> {
    let global = tlv(
        0x30,
        &[int(91), int(65507), tlv(0x04, &[flags]), int(3)].concat(),
    );
    let usm = tlv(
        0x30,
        &[
            tlv(0x04, &[0x80, 0x00, 0x1f, 0x88, 0x04]), // engine id
            int(3),                                     // boots
            int(1200),                                  // time
            tlv(0x04, user.as_bytes()),                 // user name
            tlv(0x04, &[0; 12]),                        // auth parameters
            tlv(0x04, &[0; 8]),                         // priv parameters
        ]
        .concat(),
    );
    tlv(0x30, &[int(3), global, tlv(0x04, &usm), data].concat())
}

#[test]
fn v3_user_and_encrypted_pdu() {
    let scoped = tlv(
        0x30,
        &[
            tlv(0x04, &[0x80, 0x00, 0x1f, 0x88, 0x04]),
            tlv(0x04, b""),
            tlv(
                0xa0,
                &[
                    int(5),
                    int(0),
                    int(0),
                    varbinds(&[(SYS_DESCR, tlv(0x05, &[]))]),
                ]
                .concat(),
            ),
        ]
        .concat(),
    );
    let msg = v3(0x05, "opsadmin", scoped);
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_agent(),
        Direction::ToServer,
        &msg,
    ));
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert_eq!(pdu.function, "get_request");
    let j = json(&pdu.fields);
    assert_eq!(j["version"], 3);
    assert_eq!(j["user_name"], "opsadmin");
    assert_eq!(j["msg_flags"], 5);
    assert_eq!(j["security_model"], 3);
    assert_eq!(j["engine_id"], "80001f8804");
    assert!(j.get("community").is_none() && j.get("community_present").is_none());
    let msg = v3(0x07, "opsadmin", tlv(0x04, &[0xde, 0xad, 0xbe, 0xef]));
    let pdu = one(datagram(
        &mut SnmpParser::new(),
        to_agent(),
        Direction::ToServer,
        &msg,
    ));
    assert_eq!((pdu.function, pdu.function_code), ("encrypted_pdu", None));
    assert_eq!(json(&pdu.fields)["encrypted"], true);
    assert_eq!(json(&pdu.fields)["user_name"], "opsadmin");
}

#[test]
fn malformed_messages_are_events_with_anomalies() {
    let one_of = |msg: &[u8]| {
        one(datagram(
            &mut SnmpParser::new(),
            to_agent(),
            Direction::ToServer,
            msg,
        ))
    };
    let pdu = one_of(&GET[..12]);
    assert_eq!(pdu.function, "invalid", "cut inside the community");
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED]);
    assert_eq!(json(&pdu.fields)["version"], 1);
    let pdu = one_of(&GET[..40]);
    assert_eq!(pdu.function, "get_request", "the PDU type was read");
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED]);
    let mut bad = GET.to_vec();
    bad[4] = 2; // version 2
    assert_eq!(anomalies(&one_of(&bad)), [anomaly::UNKNOWN_VERSION]);
    let mut bad = GET.to_vec();
    bad[18] = 0xa9; // PDU tag 9
    let pdu = one_of(&bad);
    assert_eq!(
        (pdu.function, anomalies(&pdu)),
        ("unknown", vec![anomaly::UNKNOWN_PDU_TYPE])
    );
    let mut bad = GET.to_vec();
    bad[36] = 0x04; // the OID tagged as an octet string
    assert_eq!(anomalies(&one_of(&bad)), [anomaly::BAD_BER]);
    let mut trailing = GET.to_vec();
    trailing.extend_from_slice(&[0, 0]);
    assert_eq!(anomalies(&one_of(&trailing)), [anomaly::TRAILING_BYTES]);
}

#[test]
fn probes() {
    let dir = Direction::ToServer;
    assert_eq!(probe(GET, dir, true), Probe::Match);
    assert_eq!(
        probe(GET, dir, false),
        Probe::Match,
        "a clean message anywhere"
    );
    assert_eq!(
        probe(&GET[..10], dir, true),
        Probe::Match,
        "cut short on 161"
    );
    assert_eq!(probe(&GET[..10], dir, false), Probe::NoMatch);
    let mut v9 = GET.to_vec();
    v9[4] = 9;
    assert_eq!(probe(&v9, dir, true), Probe::NoMatch);
    let http = b"GET / HTTP/1.1\r\n\r\n";
    let tls = [0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4];
    let ldap = [
        0x30, 0x0c, 0x02, 0x01, 0x05, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
    ];
    for other in [&http[..], &tls, &ldap] {
        assert_eq!(probe(other, dir, true), Probe::NoMatch, "{other:02x?}");
    }
    assert!(matches!(
        detect_datagram(TRAP_PORT, dir, GET),
        Detection::Found(DatagramDecoder::Snmp(_))
    ));
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x5a4e);
    let mut parser = SnmpParser::new();
    let base = message(
        1,
        "public",
        0xa2,
        3,
        &[
            (SYS_DESCR, tlv(0x04, b"x")),
            (SYS_OBJECT_ID, oid("1.3.6.1.4.1.9.1")),
        ],
    );
    for i in 0..5000 {
        let msg = if i % 2 == 0 {
            rng.mutate(&base)
        } else {
            let mut m = vec![0x30, rng.below(256) as u8];
            let len = rng.below(80) as usize;
            m.extend(rng.bytes(len));
            m
        };
        let pdus = datagram(&mut parser, to_manager(), Direction::ToClient, &msg);
        assert_eq!(pdus.len(), 1);
    }
}
