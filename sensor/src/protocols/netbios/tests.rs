//! Unit tests: name service and datagram messages of
//! `../shared/pcaps/netbios/`, the PROFINET capture and the IEC 104 capture
//! (queries, node status, registrations, host, local master and domain
//! announcements), with one comment per field where built, malformed
//! messages and probes.

use super::*;
use crate::event::{Fields, FunctionClass, Pdu, Protocol};
use crate::protocols::itwire::testing::{Rng, anomalies, datagram, hex, json, one, udp};
use crate::protocols::{DatagramDecoder, Detection, Direction, Probe, detect_datagram};

const MAC: [u8; 6] = [0x00, 0x1c, 0xc4, 0x10, 0x79, 0x0f];

/// The first-level encoding of a 16-byte name.
fn encode(name: &[u8; 16]) -> Vec<u8> {
    let mut v = vec![32];
    for b in name {
        v.push(b'A' + (b >> 4));
        v.push(b'A' + (b & 0x0f));
    }
    v
}

fn nbns(src: &str, msg: &[u8]) -> Pdu {
    one(datagram(
        &mut NbnsParser::new(),
        udp(src, "10.0.5.255", MAC),
        Direction::ToServer,
        msg,
    ))
}

fn nbdgm(src: &str, msg: &[u8]) -> Pdu {
    one(datagram(
        &mut NbdgmParser::new(),
        udp(src, "10.0.5.255", MAC),
        Direction::ToServer,
        msg,
    ))
}

fn nbns_fields(pdu: &Pdu) -> &NbnsFields {
    match &pdu.fields {
        Fields::Nbns(f) => f,
        other => panic!("not NBNS: {other:?}"),
    }
}

#[test]
fn first_level_names() {
    let (text, name) = name_text("FIFDFEFCEFEBENFPEIFJCACACACACAAA");
    assert_eq!(text, "XSTREAM_HY<00>");
    assert!(name.unwrap().is_host_name());
    let (text, name) = name_text("CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        text,
        "*<00><00><00><00><00><00><00><00><00><00><00><00><00><00><00>"
    );
    assert!(!name.unwrap().is_host_name(), "the wildcard");
    let (text, _) = name_text("ABACFPFPENFDECFCEPFHFDEFFPFPACAB");
    assert_eq!(text, "<01><02>__MSBROWSE__<02><01>");
    let (text, name) = name_text("EOFGEFEFFDEFDBCACACACACACACACACA.corp");
    assert_eq!(text, "NVEESE1<20>.corp");
    assert_eq!(name.unwrap().suffix(), 0x20);
    assert_eq!(name_text("not-encoded"), ("not-encoded".to_string(), None));
    // A long scope of multi-byte characters is cut on a character boundary.
    let long = format!("EOFGEFEFFDEFDBCACACACACACACACACA.{}", "é".repeat(100));
    assert!(name_text(&long).0.len() <= MAX_NAME_TEXT);
}

#[test]
fn name_query() {
    // Frame 1 of the nDPI capture: a broadcast query for XSTREAM_HY<00>.
    let mut msg = vec![
        0xa7, 0x49, // id
        0x01, 0x10, // flags: query, recursion desired, broadcast
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 1 question
    ];
    msg.extend(encode(b"XSTREAM_HY     \x00")); // name
    msg.extend_from_slice(&[0x00, 0x00, 0x20, 0x00, 0x01]); // root, type NB, class IN
    let pdu = nbns("10.0.4.131", &msg);
    assert_eq!(pdu.protocol, Protocol::Nbns);
    assert_eq!(
        (pdu.function_code, pdu.function, pdu.class, pdu.is_response),
        (Some(0), "query", FunctionClass::Discovery, false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert!(pdu.identity.is_none(), "a query names another host");
    assert_eq!(
        json(&pdu.fields),
        serde_json::json!({
            "id": 0xa749,
            "flags": 0x0110,
            "name": "XSTREAM_HY<00>",
            "questions": [{"name": "XSTREAM_HY<00>", "type": 32}],
        })
    );
}

#[test]
fn positive_answer_from_the_owner_names_it() {
    // Frame 69: GUNNAR<00> is at 10.0.4.24, answered by 10.0.4.24.
    let msg = hex(
        "8486850000000001000000002045484646454f454f4542464343414341434143414341434143414341434141\
         410000200001000493e0000600000a000418",
    );
    let pdu = nbns("10.0.4.24", &msg);
    assert_eq!((pdu.function, pdu.is_response), ("query", true));
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(
        j["records"],
        serde_json::json!([{"name": "GUNNAR<00>", "type": 32, "ttl": 300000}])
    );
    assert_eq!(j["addresses"], serde_json::json!(["10.0.4.24"]));
    assert_eq!(j["group"], false);
    assert_eq!(pdu.identity.unwrap().hostname.as_deref(), Some("GUNNAR"));
    // The same answer from a name server: about another host.
    assert!(nbns("10.0.0.2", &msg).identity.is_none());
}

#[test]
fn node_status_lists_the_names() {
    // Frame 55: GUNNAR's node status.
    let msg = hex(
        "20a88400000000010000000020434b4141414141414141414141414141414141414141414141414141414141\
         4100002100010000000000770447554e4e4152202020202020202020000400564947494c414e545f47524f55\
         502000840047554e4e4152202020202020202020200400564947494c414e545f47524f5550201e8400001cc4\
         10790f00000000000000000000000000000000000000000000000000000000000000000000000000000000",
    );
    let pdu = nbns("10.0.4.24", &msg);
    assert_eq!((pdu.function, pdu.is_response), ("node_status", true));
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let f = nbns_fields(&pdu);
    let names: Vec<(&str, bool)> = f
        .node_names
        .iter()
        .map(|n| (n.name.as_str(), n.group))
        .collect();
    assert_eq!(
        names,
        [
            ("GUNNAR<00>", false),
            ("VIGILANT_GROUP<00>", true),
            ("GUNNAR<20>", false),
            ("VIGILANT_GROUP<1e>", true)
        ]
    );
    assert_eq!(f.unit_id, Some(MAC));
    assert_eq!(pdu.identity.unwrap().hostname.as_deref(), Some("GUNNAR"));
}

#[test]
fn registration_names_the_registrant() {
    // Frame 94 of the PROFINET capture: KW-VLIPC<00> registers 192.168.1.1;
    // the additional record's name points back at the question's.
    let msg = hex(
        "92f92910000100000000000120454c4648434e4647454d454a46414544434143414341434143414341434141\
         410000200001c00c00200001000493e000066000c0a80101",
    );
    let pdu = nbns("192.168.1.1", &msg);
    assert_eq!((pdu.function, pdu.function_code), ("registration", Some(5)));
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let f = nbns_fields(&pdu);
    assert_eq!(f.records[0].name, "KW-VLIPC<00>");
    assert_eq!(pdu.identity.unwrap().hostname.as_deref(), Some("KW-VLIPC"));
    // A group registration (the workgroup) names nothing.
    let mut group = msg.clone();
    let flags = group.len() - 6;
    group[flags] = 0x80;
    assert!(nbns("192.168.1.1", &group).identity.is_none());
    // Other opcodes.
    for (opcode, function) in [
        (6, "release"),
        (7, "wait_for_ack"),
        (8, "refresh"),
        (15, "multihomed_registration"),
    ] {
        let mut m = msg.clone();
        m[2] = (m[2] & 0x87) | (opcode << 3);
        assert_eq!(nbns("192.168.1.1", &m).function, function);
    }
}

#[test]
fn malformed_name_service_messages() {
    let pdu = nbns("10.0.0.1", &[0xa7, 0x49, 0x01]);
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED]);
    // A name that is not first-level encoded.
    let mut msg = vec![0, 1, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(&[4, b'w', b'p', b'a', b'd', 0, 0, 0x20, 0, 1]);
    let pdu = nbns("10.0.0.1", &msg);
    assert_eq!(anomalies(&pdu), [anomaly::BAD_NETBIOS_NAME]);
    assert_eq!(nbns_fields(&pdu).questions[0].name, "wpad");
    // An NB record of 5 bytes; an unknown opcode.
    let mut msg = vec![0, 1, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
    msg.extend(encode(b"PLC1           \x00"));
    msg.extend_from_slice(&[0, 0, 0x20, 0, 1, 0, 0, 0, 0, 0, 5, 0, 0, 10, 0, 0]);
    assert_eq!(anomalies(&nbns("10.0.0.1", &msg)), [anomaly::BAD_RDATA]);
    msg[2] = 0x80 | (3 << 3);
    assert!(anomalies(&nbns("10.0.0.1", &msg)).contains(&anomaly::UNKNOWN_OPCODE));
    // Counts beyond the message.
    let mut msg = vec![0, 1, 0x01, 0x10, 0, 2, 0, 0, 0, 0, 0, 0];
    msg.extend(encode(b"PLC1           \x00"));
    msg.extend_from_slice(&[0, 0, 0x20, 0, 1]);
    assert_eq!(anomalies(&nbns("10.0.0.1", &msg)), [anomaly::TRUNCATED]);
}

#[test]
fn host_announcement_names_and_versions_the_sender() {
    // Frame 20 of the nDPI capture: NVR9 announces itself (OS 6.1).
    let msg = hex(
        "110ec2f40a000509008a00bb000020454f46474643444a434143414341434143414341434143414341434143\
         41434100204647454a4548454a454d4542454f46454650454846434550464646414341424e00ff534d422500\
         000000000000000000000000000000000000000000000000000011000021000000000000000000e803000000\
         000000000021005600030001000000020032005c4d41494c534c4f545c42524f57534500010080fc0a004e56\
         52390000000000000000000000000601071001000f0155aa00",
    );
    let pdu = nbdgm("10.0.5.9", &msg);
    assert_eq!(pdu.protocol, Protocol::Nbdgm);
    assert_eq!(
        (pdu.function_code, pdu.function, pdu.is_response),
        (Some(17), "direct_group", false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["source_ip"], "10.0.5.9");
    assert_eq!(j["source_port"], 138);
    assert_eq!(j["source_name"], "NVR9<20>");
    assert_eq!(j["destination_name"], "VIGILANT_GROUP<1d>");
    assert_eq!(j["mailslot"], "\\MAILSLOT\\BROWSE");
    assert_eq!(
        j["browser"],
        serde_json::json!({
            "command": 1,
            "command_name": "host_announcement",
            "server_name": "NVR9",
            "os_version": "6.1",
            "server_type": 0x0001_1007,
        })
    );
    let identity = pdu.identity.unwrap();
    assert_eq!(identity.hostname.as_deref(), Some("NVR9"));
    assert_eq!(identity.firmware.as_deref(), Some("6.1"));
}

#[test]
fn local_master_and_domain_announcements() {
    // Frame 143 of the IEC 104 capture: EVON, local master of ARBETSGRUPP.
    let msg = hex(
        "110280a10a00000a008a00bb000020454646474550454f434143414341434143414341434143414341434143\
         4143410020454246434543454646454644454846434646464146414341434143414341424f00ff534d422500\
         000000000000000000000000000000000000000000000000000011000021000000000000000000e803000000\
         000000000021005600030001000000020032005c4d41494c534c4f545c42524f575345000f0080fc0a004556\
         4f4e00000000000064f00d0302000501031005000f0155aa00",
    );
    let pdu = nbdgm("10.0.0.10", &msg);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert_eq!(
        json(&pdu.fields)["browser"]["command_name"],
        "local_master_announcement"
    );
    assert_eq!(pdu.identity.unwrap().hostname.as_deref(), Some("EVON"));
    // Frame 1193 of the PROFINET capture: a domain announcement for AMERICAS;
    // the host is the source name, not the domain.
    let msg = hex(
        "110ed5c3a9fed82b008a00c9000020454d4645434e46464644434e4545464446484542454f46444550454f43\
         41414100204142414346504650454e4644454346434550464846444546465046504143414200ff534d422500\
         00000000000000000000000000000000000000000000000000001100002f000000000000000000e803000000\
         00000000002f005600030001000100020040005c4d41494c534c4f545c42524f575345000c00e0930400414d\
         4552494341530000000000000000030a00100080fe0700004c542d55532d445357414e534f4e00",
    );
    let pdu = nbdgm("169.254.216.43", &msg);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["destination_name"], "<01><02>__MSBROWSE__<02><01>");
    assert_eq!(j["browser"]["server_name"], "AMERICAS");
    assert_eq!(j["browser"]["comment"], "LT-US-DSWANSON");
    let identity = pdu.identity.unwrap();
    assert_eq!(identity.hostname.as_deref(), Some("LT-US-DSWANSON"));
    assert_eq!(identity.firmware, None);
}

#[test]
fn datagram_kinds_and_malformed_datagrams() {
    // A positive query response: type 0x15, id, source, destination name.
    let mut msg = vec![
        0x15, 0x02, 0x12, 0x34, // type, flags, id
        10, 0, 0, 9, 0x00, 0x8a, // source 10.0.0.9:138
    ];
    msg.extend(encode(b"EVON           \x20"));
    msg.push(0);
    let pdu = nbdgm("10.0.0.9", &msg);
    assert_eq!(
        (pdu.function, pdu.is_response),
        ("positive_query_response", true)
    );
    assert_eq!(json(&pdu.fields)["destination_name"], "EVON<20>");
    // An error datagram.
    let pdu = nbdgm("10.0.0.9", &[0x13, 0x02, 0, 1, 10, 0, 0, 9, 0, 0x8a, 0x82]);
    assert_eq!(
        (pdu.function, json(&pdu.fields)["error_code"].clone()),
        ("error", 0x82.into())
    );
    // Truncated; an unknown type; a source address that is not the sender's.
    assert_eq!(
        anomalies(&nbdgm("10.0.0.9", &[0x11, 0x02])),
        [anomaly::TRUNCATED]
    );
    let pdu = nbdgm("10.0.0.9", &[0x42, 0x02, 0, 1, 10, 0, 0, 9, 0, 0x8a]);
    assert_eq!(
        (pdu.function, anomalies(&pdu)),
        ("unknown", vec![anomaly::UNKNOWN_MESSAGE_TYPE])
    );
    let pdu = nbdgm("10.0.0.7", &[0x13, 0x02, 0, 1, 10, 0, 0, 9, 0, 0x8a, 0x82]);
    assert_eq!(anomalies(&pdu), [anomaly::SOURCE_IP_MISMATCH]);
    // A direct datagram whose SMB transaction is cut.
    let mut msg = vec![0x11, 0x02, 0, 1, 10, 0, 0, 9, 0, 0x8a, 0, 0x50, 0, 0];
    msg.extend(encode(b"EVON           \x20"));
    msg.push(0);
    msg.extend(encode(b"ARBETSGRUPP    \x1e"));
    msg.push(0);
    msg.extend_from_slice(b"\xffSMB\x25");
    let pdu = nbdgm("10.0.0.9", &msg);
    assert_eq!(anomalies(&pdu), [anomaly::BAD_MAILSLOT]);
    assert_eq!(
        pdu.identity.unwrap().hostname.as_deref(),
        Some("EVON"),
        "from the source name"
    );
}

#[test]
fn probes() {
    let dir = Direction::ToServer;
    let mut query = vec![0xa7, 0x49, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend(encode(b"XSTREAM_HY     \x00"));
    query.extend_from_slice(&[0, 0, 0x20, 0, 1]);
    assert_eq!(probe_nbns(&query, dir, true), Probe::Match);
    assert_eq!(
        probe_nbns(&query, dir, false),
        Probe::NoMatch,
        "port 137 only"
    );
    let dns = [
        0x2a, 0x5d, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'0', 0, 0, 1, 0, 1,
    ];
    let http = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    for other in [&dns[..], http] {
        assert_eq!(probe_nbns(other, dir, true), Probe::NoMatch, "{other:02x?}");
        assert_eq!(
            probe_nbdgm(other, dir, true),
            Probe::NoMatch,
            "{other:02x?}"
        );
    }
    assert!(matches!(
        detect_datagram(NBNS_PORT, dir, &query),
        Detection::Found(DatagramDecoder::Nbns(_))
    ));
    let error = [0x13, 0x02, 0, 1, 10, 0, 0, 9, 0, 0x8a, 0x82];
    assert!(matches!(
        detect_datagram(NBDGM_PORT, dir, &error),
        Detection::Found(DatagramDecoder::Nbdgm(_))
    ));
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x4e42);
    let mut ns = NbnsParser::new();
    let mut dgm = NbdgmParser::new();
    let mut query = vec![0xa7, 0x49, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
    query.extend(encode(b"XSTREAM_HY     \x00"));
    query.extend_from_slice(&[
        0, 0, 0x21, 0, 1, 0xc0, 0x0c, 0, 0x21, 0, 1, 0, 0, 0, 0, 0, 20, 1,
    ]);
    query.extend(rng.bytes(19));
    let mut announcement = vec![0x11, 0x02, 0, 1, 10, 0, 0, 9, 0, 0x8a, 0, 0x50, 0, 0];
    announcement.extend(encode(b"EVON           \x20"));
    announcement.push(0);
    announcement.extend(encode(b"ARBETSGRUPP    \x1e"));
    announcement.push(0);
    announcement.extend_from_slice(b"\xffSMB\x25");
    announcement.extend(rng.bytes(80));
    for _ in 0..4000 {
        let m = rng.mutate(&query);
        assert_eq!(
            datagram(
                &mut ns,
                udp("10.0.0.1", "10.0.0.255", MAC),
                Direction::ToServer,
                &m
            )
            .len(),
            1
        );
        let m = rng.mutate(&announcement);
        assert_eq!(
            datagram(
                &mut dgm,
                udp("10.0.0.9", "10.0.0.255", MAC),
                Direction::ToServer,
                &m
            )
            .len(),
            1
        );
    }
}
