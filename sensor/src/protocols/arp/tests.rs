//! Unit tests: ARP packets of `../shared/pcaps/lldp_cdp/` and
//! `../shared/pcaps/mixed/` (what follows the ethertype, padding included),
//! one comment per field, and malformed variants.

use super::*;
use crate::protocols::itwire::testing::{Rng, anomalies, frame, json, l2, one};
use crate::protocols::{FrameDecoder, detect_frame};

const INTEL: Mac = [0x00, 0x15, 0x17, 0x68, 0x39, 0xf4];

/// Frame 1 of the LLDP/CDP capture: "Who has 192.168.10.120? Tell 192.168.10.1".
const REQUEST: &[u8] = &[
    0x00, 0x01, // hardware type: Ethernet
    0x08, 0x00, // protocol type: IPv4
    0x06, 0x04, // sizes: 6, 4
    0x00, 0x01, // opcode: request
    0x00, 0x15, 0x17, 0x68, 0x39, 0xf4, // sender MAC
    0xc0, 0xa8, 0x0a, 0x01, // sender IP 192.168.10.1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC (unknown)
    0xc0, 0xa8, 0x0a, 0x78, // target IP 192.168.10.120
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Ethernet padding
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Ethernet padding
];

fn decoded(payload: &[u8], src: Mac) -> Pdu {
    one(frame(&mut ArpParser::new(), l2(src), payload))
}

fn arp(pdu: &Pdu) -> &ArpFields {
    match &pdu.fields {
        Fields::Arp(f) => f,
        other => panic!("not ARP: {other:?}"),
    }
}

#[test]
fn request_gives_the_sender_binding() {
    let pdu = decoded(REQUEST, INTEL);
    assert_eq!(pdu.protocol, Protocol::Arp);
    assert_eq!(
        (pdu.function_code, pdu.function, pdu.class, pdu.is_response),
        (Some(1), "request", FunctionClass::Discovery, false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert!(pdu.identity.is_none(), "ARP says nothing about identity");
    assert_eq!(
        json(&pdu.fields),
        serde_json::json!({
            "hardware_type": 1,
            "protocol_type": 2048,
            "opcode": 1,
            "sender_mac": "00:15:17:68:39:f4",
            "sender_ip": "192.168.10.1",
            "target_mac": "00:00:00:00:00:00",
            "target_ip": "192.168.10.120",
        })
    );
}

#[test]
fn reply_is_a_response() {
    // Frame 10 of the mixed capture: 192.168.0.18 is at 74:86:7a:07:28:94.
    let reply = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, // Ethernet, IPv4, 6, 4
        0x00, 0x02, // opcode: reply
        0x74, 0x86, 0x7a, 0x07, 0x28, 0x94, // sender MAC
        0xc0, 0xa8, 0x00, 0x12, // sender IP 192.168.0.18
        0x20, 0x89, 0x84, 0xfe, 0xdc, 0x71, // target MAC
        0xc0, 0xa8, 0x00, 0x15, // target IP 192.168.0.21
    ];
    let pdu = decoded(&reply, [0x74, 0x86, 0x7a, 0x07, 0x28, 0x94]);
    assert_eq!((pdu.function, pdu.is_response), ("reply", true));
    assert_eq!(arp(&pdu).sender_ip, Some(Ipv4Addr::new(192, 168, 0, 18)));
    assert_eq!(
        arp(&pdu).target_mac,
        Some([0x20, 0x89, 0x84, 0xfe, 0xdc, 0x71])
    );
}

#[test]
fn announcements_probes_and_gratuitous_replies() {
    // Frame 40: "ARP Announcement for 192.168.10.136" (sender IP = target IP).
    let mut announcement = REQUEST.to_vec();
    announcement[8..14].copy_from_slice(&[0x00, 0xe0, 0x62, 0x60, 0x35, 0xd0]);
    announcement[14..18].copy_from_slice(&[192, 168, 10, 136]);
    announcement[24..28].copy_from_slice(&[192, 168, 10, 136]);
    let pdu = decoded(&announcement, [0x00, 0xe0, 0x62, 0x60, 0x35, 0xd0]);
    assert_eq!(pdu.function, "announcement");
    assert_eq!(json(&pdu.fields)["gratuitous"], true);
    // Frame 84: a probe from a host without an address (sender IP 0.0.0.0).
    let mut probe = REQUEST.to_vec();
    probe[14..18].copy_from_slice(&[0, 0, 0, 0]);
    let pdu = decoded(&probe, INTEL);
    assert_eq!(pdu.function, "probe");
    assert_eq!(json(&pdu.fields)["probe"], true);
    assert!(json(&pdu.fields).get("gratuitous").is_none());
    // A reply announcing the sender's own address (profinet frame 6).
    let mut reply = announcement.clone();
    reply[7] = 2;
    assert_eq!(
        decoded(&reply, [0x00, 0xe0, 0x62, 0x60, 0x35, 0xd0]).function,
        "gratuitous_reply"
    );
}

#[test]
fn rarp_inarp_and_unknown_opcodes() {
    for (opcode, function, response) in [
        (3, "rarp_request", false),
        (4, "rarp_reply", true),
        (8, "inarp_request", false),
        (9, "inarp_reply", true),
    ] {
        let mut p = REQUEST.to_vec();
        p[7] = opcode;
        let pdu = decoded(&p, INTEL);
        assert_eq!((pdu.function, pdu.is_response), (function, response));
        assert!(pdu.anomalies.is_empty());
    }
    let mut p = REQUEST.to_vec();
    p[7] = 42;
    let pdu = decoded(&p, INTEL);
    assert_eq!((pdu.function, pdu.function_code), ("unknown", Some(42)));
    assert_eq!(anomalies(&pdu), [anomaly::UNKNOWN_OPCODE]);
}

#[test]
fn spoofing_signs_are_flagged() {
    // The sender MAC is not the frame's source.
    let pdu = decoded(REQUEST, [0x02, 0, 0, 0, 0, 1]);
    assert_eq!(anomalies(&pdu), [anomaly::SENDER_MAC_MISMATCH]);
    // A broadcast sender MAC.
    let mut p = REQUEST.to_vec();
    p[8..14].copy_from_slice(&[0xff; 6]);
    let pdu = decoded(&p, [0xff; 6]);
    assert_eq!(anomalies(&pdu), [anomaly::GROUP_SENDER_MAC]);
}

#[test]
fn truncated_and_unusual_packets_are_events_with_anomalies() {
    // Cut inside the fixed header: no opcode, an invalid event.
    let pdu = decoded(&REQUEST[..5], INTEL);
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED]);
    // Cut inside the addresses: the opcode is known.
    let pdu = decoded(&REQUEST[..20], INTEL);
    assert_eq!((pdu.function, pdu.function_code), ("request", Some(1)));
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED]);
    assert_eq!(arp(&pdu).sender_mac, None);
    // IPv6-sized protocol addresses (not ARP's business): addresses left out.
    let odd = [
        0x00, 0x01, 0x86, 0xdd, 0x06, 0x10, 0x00, 0x01, // Ethernet, IPv6, 6, 16, request
        1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // sender
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // target
    ];
    let pdu = decoded(&odd, [1, 2, 3, 4, 5, 6]);
    assert_eq!(anomalies(&pdu), [anomaly::UNUSUAL_ADDRESS_SIZES]);
    assert_eq!(arp(&pdu).sender_ip, None);
}

#[test]
fn recognised_by_ethertype() {
    assert!(matches!(
        detect_frame(ETHER_TYPE, REQUEST),
        Some(FrameDecoder::Arp(_))
    ));
    assert!(!matches(0x88cc, REQUEST));
}

#[test]
fn function_names_cover_every_function() {
    let names = function_names();
    for name in [
        "request",
        "reply",
        "probe",
        "announcement",
        "gratuitous_reply",
        "invalid",
    ] {
        assert!(names.contains(&name), "{name}");
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x5eed_a9f0);
    let mut parser = ArpParser::new();
    for i in 0..5000 {
        let payload = if i % 2 == 0 {
            rng.mutate(REQUEST)
        } else {
            let len = rng.below(64) as usize;
            rng.bytes(len)
        };
        let pdus = frame(&mut parser, l2(INTEL), &payload);
        assert_eq!(pdus.len(), 1, "one event per packet");
    }
}
