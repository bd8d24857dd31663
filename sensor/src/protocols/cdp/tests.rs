//! Unit tests: the CDP packet of `../shared/pcaps/lldp_cdp/` (a Cisco CE500
//! switch) whole, built variants with one comment per field, and malformed
//! packets.

use super::*;
use crate::event::Mac;
use crate::protocols::itwire::testing::{Rng, anomalies, frame, hex, json, l2, one};
use crate::protocols::{FrameDecoder, detect_frame};

const CISCO: Mac = [0x00, 0x1e, 0xf6, 0x73, 0x59, 0x81];

/// Frame 38 of the LLDP/CDP capture, from the LLC header on.
fn ce500() -> Vec<u8> {
    hex(
        "aaaa0300000c200002b40ab0000100094e73356774000500bc436973636f20494f5320536f6674776172652c\
         20434535303020536f667477617265202843453530302d4c414e424153452d4d292c2056657273696f6e2031\
         322e3228323529534547342c2052454c4541534520534f4654574152452028666331290a436f707972696768\
         742028632920313938362d3230303720627920436973636f2053797374656d732c20496e632e0a436f6d7069\
         6c6564204d6f6e2031332d4175672d30372031373a33342062792079656e616e6800060017636973636f2057\
         532d43453530302d3234545400020011000000010101cc0004c0a80afd000300144769676162697445746865\
         726e657431000400080000002800090004000a00060003000b0005010012000500001300050000160011000000\
         010101cc0004c0a80afd001a00100000000100000000ffffffff",
    )
}

/// A small packet: header and the given TLVs.
fn packet(tlvs: &[u8]) -> Vec<u8> {
    let mut p = LLC_SNAP.to_vec();
    p.extend_from_slice(&[
        0x02, // version 2
        0xb4, // TTL 180 s
        0x00, 0x00, // checksum (not checked)
    ]);
    p.extend_from_slice(tlvs);
    p
}

fn decoded(payload: &[u8]) -> Pdu {
    one(frame(&mut CdpParser::new(), l2(CISCO), payload))
}

#[test]
fn ce500_switch_advertisement() {
    let pdu = decoded(&ce500());
    assert_eq!(pdu.protocol, Protocol::Cdp);
    assert_eq!(
        (pdu.function_code, pdu.function, pdu.class, pdu.is_response),
        (None, "advertisement", FunctionClass::Discovery, false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["version"], 2);
    assert_eq!(j["ttl"], 180);
    assert_eq!(j["device_id"], "Ns5gt");
    assert_eq!(j["platform"], "cisco WS-CE500-24TT");
    assert_eq!(j["port_id"], "GigabitEthernet1");
    assert_eq!(j["addresses"], serde_json::json!(["192.168.10.253"]));
    assert_eq!(
        j["management_addresses"],
        serde_json::json!(["192.168.10.253"])
    );
    assert_eq!(
        j["capabilities"],
        serde_json::json!(["switch", "igmp_capable"])
    );
    assert_eq!(j["capability_bits"], 0x28);
    assert_eq!(j["native_vlan"], 3);
    assert_eq!(j["vtp_domain"], "");
    assert_eq!(j["duplex"], "full");
    assert_eq!(
        j["software_version"]
            .as_str()
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        [
            "Cisco IOS Software, CE500 Software (CE500-LANBASE-M), Version 12.2(25)SEG4, RELEASE SOFTWARE (fc1)",
            "Copyright (c) 1986-2007 by Cisco Systems, Inc.",
            "Compiled Mon 13-Aug-07 17:34 by yenanh",
        ]
    );
    let identity = pdu.identity.expect("identity");
    assert_eq!(identity.hostname.as_deref(), Some("Ns5gt"));
    assert_eq!(identity.product.as_deref(), Some("cisco WS-CE500-24TT"));
    assert_eq!(identity.firmware.as_deref(), Some("12.2(25)SEG4"));
    assert_eq!(identity.device_type.as_deref(), Some("switch"));
}

#[test]
fn router_phone_ipv6_and_half_duplex() {
    let p = packet(&[
        0x00, 0x01, 0x00, 0x07, b'r', b't', b'1', // device id "rt1"
        0x00, 0x04, 0x00, 0x08, 0x00, 0x00, 0x00, 0x81, // capabilities: router, phone
        0x00, 0x02, 0x00, 0x24, // addresses, length 36
        0x00, 0x00, 0x00, 0x01, // one address
        0x02, 0x08, // protocol type 802.2, length 8
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd, // SNAP, ethertype IPv6
        0x00, 0x10, // address length 16
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
        0x00, 0x0b, 0x00, 0x05, 0x00, // duplex: half
        0x00, 0x05, 0x00, 0x0b, b'I', b'O', b'S', b' ', b'1', b'5',
        b'.', // software "IOS 15."
    ]);
    let pdu = decoded(&p);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["addresses"], serde_json::json!(["2001:db8::1"]));
    assert_eq!(j["duplex"], "half");
    assert_eq!(
        j["capabilities"],
        serde_json::json!(["router", "voip_phone"])
    );
    let identity = pdu.identity.unwrap();
    assert_eq!(identity.device_type.as_deref(), Some("router"));
    // No "Version" word: the first line is the firmware.
    assert_eq!(identity.firmware.as_deref(), Some("IOS 15."));
}

#[test]
fn malformed_packets_are_events_with_anomalies() {
    // Only the LLC header: no CDP header.
    let pdu = decoded(&LLC_SNAP);
    assert_eq!(pdu.function, "invalid");
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED]);
    // A TLV running past the end.
    let cut = ce500();
    let pdu = decoded(&cut[..40]);
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED_TLV]);
    assert_eq!(json(&pdu.fields)["device_id"], "Ns5gt");
    // A TLV length below its header, a native VLAN of 3 bytes, version 9.
    let mut p = packet(&[0x00, 0x0a, 0x00, 0x07, 0, 0, 3, 0x00, 0x01, 0x00, 0x02]);
    p[8] = 9;
    assert_eq!(
        anomalies(&decoded(&p)),
        [anomaly::UNKNOWN_VERSION, anomaly::BAD_TLV_LENGTH]
    );
    // An address count that the TLV does not hold.
    let p = packet(&[0x00, 0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x05]);
    assert_eq!(anomalies(&decoded(&p)), [anomaly::BAD_TLV_LENGTH]);
}

#[test]
fn padding_after_the_packet_is_ignored() {
    let mut p = packet(&[0x00, 0x01, 0x00, 0x06, b'a', b'b']);
    p.extend_from_slice(&[0; 12]);
    let pdu = decoded(&p);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
}

#[test]
fn recognised_by_llc_snap_under_an_8023_length() {
    let p = ce500();
    assert!(matches!(
        detect_frame(0x014f, &p),
        Some(FrameDecoder::Cdp(_))
    ));
    assert!(!matches(0x0800, &p), "an ethertype, not a length");
    let mut other_pid = p.clone();
    other_pid[7] = 0x03; // PID 0x2003: VTP
    assert!(!matches(0x014f, &other_pid));
    assert!(detect_frame(0x014f, &other_pid).is_none());
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xcd9);
    let mut parser = CdpParser::new();
    let base = ce500();
    for i in 0..5000 {
        let payload = if i % 2 == 0 {
            rng.mutate(&base)
        } else {
            let mut p = LLC_SNAP.to_vec();
            let len = rng.below(200) as usize;
            p.extend(rng.bytes(len));
            p
        };
        assert_eq!(frame(&mut parser, l2(CISCO), &payload).len(), 1);
    }
}
