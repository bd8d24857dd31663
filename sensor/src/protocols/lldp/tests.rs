//! Unit tests: LLDPDUs of `../shared/pcaps/lldp_cdp/` (D-Link switch),
//! `../shared/pcaps/profinet/` (SCALANCE X208) and `../shared/pcaps/enip/`,
//! one comment per TLV, a switch's full advertisement, and malformed ones.

use super::*;
use crate::event::Mac;
use crate::protocols::itwire::testing::{Rng, anomalies, frame, hex, json, l2, one};
use crate::protocols::{FrameDecoder, detect_frame};

const DLINK: Mac = [0x00, 0x21, 0x91, 0x06, 0xf1, 0x66];

/// Frame 15 of the LLDP/CDP capture (padding and trailer included).
const DLINK_LLDPDU: &[u8] = &[
    0x02, 0x07, // chassis id TLV, length 7
    0x04, 0x00, 0x21, 0x91, 0x06, 0xf1, 0x66, // subtype MAC, 00:21:91:06:f1:66
    0x04, 0x03, // port id TLV, length 3
    0x01, 0x31, 0x39, // subtype interface alias, "19"
    0x06, 0x02, // TTL TLV, length 2
    0x00, 0x78, // 120 s
    0x10, 0x0c, // management address TLV, length 12
    0x05, 0x01, 0xd0, 0x49, 0xd9, 0x8e, // address length 5, IPv4, 208.73.217.142
    0x02, 0x00, 0x00, 0x00, 0x00, // ifIndex numbering, interface 0
    0x00, // OID length 0
    0x00, 0x00, // end of LLDPDU
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, // padding, trailer
];

/// A switch with every TLV the decoder keeps.
fn switch_lldpdu() -> Vec<u8> {
    let mut p = vec![
        0x02, 0x07, 0x04, 0x00, 0x1b, 0x1b, 0x00, 0x00,
        0x01, // chassis id: MAC 00:1b:1b:00:00:01
        0x04, 0x06, 0x05, b'P', b'1', b'.', b'2', b'3', // port id: interface name "P1.23"
        0x06, 0x02, 0x00, 0x78, // TTL 120
        0x08, 0x08, b'u', b'p', b'l', b'i', b'n', b'k', b' ', b'A', // port description
        0x0a, 0x08, b's', b'w', b'-', b'c', b'e', b'l', b'l', b'1', // system name "sw-cell1"
    ];
    let description = b"Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, HW: Version 1, FW: Version V4.1.3";
    p.extend_from_slice(&[0x0c, description.len() as u8]); // system description
    p.extend_from_slice(description);
    p.extend_from_slice(&[
        0x0e, 0x04, 0x00, 0x14, 0x00,
        0x04, // capabilities: bridge+router supported, bridge enabled
        0x10, 0x18, 0x11, 0x02, // management address: length 17, IPv6
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // fe80::1
        0x02, 0x00, 0x00, 0x00, 0x01, 0x00, // ifIndex 1, no OID
        0xfe, 0x06, 0x00, 0x80, 0xc2, 0x01, 0x00, 0x01, // 802.1 port VLAN id 1 (skipped)
        0x00, 0x00, // end
    ]);
    p
}

fn decoded(payload: &[u8], src: Mac) -> Pdu {
    one(frame(&mut LldpParser::new(), l2(src), payload))
}

#[test]
fn dlink_advertisement() {
    let pdu = decoded(DLINK_LLDPDU, DLINK);
    assert_eq!(pdu.protocol, Protocol::Lldp);
    assert_eq!(
        (pdu.function_code, pdu.function, pdu.class, pdu.is_response),
        (None, "advertisement", FunctionClass::Discovery, false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert!(
        pdu.identity.is_none(),
        "no name, description or capabilities"
    );
    assert_eq!(
        json(&pdu.fields),
        serde_json::json!({
            "chassis_id_subtype": 4,
            "chassis_id": "00:21:91:06:f1:66",
            "port_id_subtype": 1,
            "port_id": "19",
            "ttl": 120,
            "management_address": "208.73.217.142",
        })
    );
}

#[test]
fn scalance_with_profinet_tlvs() {
    // Frame 3 of the PROFINET capture: locally assigned ids, a system
    // description, station-only capabilities, three organisational TLVs.
    let payload = hex(
        "0214077369656d656e732d783230382d737769746368040907706f72742d30303406020014\
         0c325369656d656e732041472053494d41544943205337204d554c5449504f5254205343414c414e43452058\
         203230302046414d0e040080008010140501000000000200000004082b0601040181c06efe08000ecf020000\
         0000fe0a000ecf05000e8cef75c5fe0900120f01036c0000100000",
    );
    let pdu = decoded(&payload, [0x00, 0x0e, 0x8c, 0xef, 0x75, 0xc9]);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["chassis_id"], "siemens-x208-switch");
    assert_eq!(j["port_id"], "port-004");
    assert_eq!(j["ttl"], 20);
    assert_eq!(j["capabilities"], serde_json::json!(["station_only"]));
    assert_eq!(j["management_address"], "0.0.0.0");
    assert_eq!(j["org_tlvs"], 3);
    let identity = pdu.identity.expect("a description");
    assert_eq!(
        identity.product.as_deref(),
        Some("Siemens AG SIMATIC S7 MULTIPORT SCALANCE X 200 FAM")
    );
    assert_eq!(
        identity.device_type, None,
        "a station says nothing of its kind"
    );
}

#[test]
fn switch_identity_from_name_description_and_capabilities() {
    let pdu = decoded(&switch_lldpdu(), [0x00, 0x1b, 0x1b, 0x00, 0x00, 0x01]);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["port_id_subtype"], 5);
    assert_eq!(j["port_id"], "P1.23");
    assert_eq!(j["port_description"], "uplink A");
    assert_eq!(j["system_name"], "sw-cell1");
    assert_eq!(
        j["supported_capabilities"],
        serde_json::json!(["bridge", "router"])
    );
    assert_eq!(j["capabilities"], serde_json::json!(["bridge"]));
    assert_eq!(j["management_address"], "fe80::1");
    assert_eq!(j["org_tlvs"], 1);
    let identity = pdu.identity.expect("identity");
    assert_eq!(identity.hostname.as_deref(), Some("sw-cell1"));
    assert_eq!(identity.firmware.as_deref(), Some("V4.1.3"));
    assert_eq!(identity.device_type.as_deref(), Some("switch"));
    assert!(
        identity
            .product
            .unwrap()
            .starts_with("Siemens, SIMATIC NET, SCALANCE XC208")
    );
}

#[test]
fn port_id_mac_and_router_capability() {
    // Frame 623 of the icsnpp EtherNet/IP capture: port id subtype MAC.
    let payload = hex(
        "020704644bf02b3171040703644bf02b317106020e11fe0900120f010300010000fe070012bb0100010100000000",
    );
    let pdu = decoded(&payload, [0x64, 0x4b, 0xf0, 0x2b, 0x31, 0x71]);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["port_id"], "64:4b:f0:2b:31:71");
    assert_eq!(j["ttl"], 3601);
    // Router beats bridge as what the device is.
    let mut p = switch_lldpdu();
    let caps = p
        .windows(4)
        .position(|w| w == [0x00, 0x14, 0x00, 0x04])
        .unwrap();
    p[caps + 3] = 0x14;
    let pdu = decoded(&p, [0; 6]);
    assert_eq!(pdu.identity.unwrap().device_type.as_deref(), Some("router"));
}

#[test]
fn shutdown_has_ttl_zero() {
    let mut p = DLINK_LLDPDU.to_vec();
    p[17] = 0;
    assert_eq!(decoded(&p, DLINK).function, "shutdown");
}

#[test]
fn malformed_lldpdus_are_events_with_anomalies() {
    // Cut inside the management address TLV.
    let pdu = decoded(&DLINK_LLDPDU[..24], DLINK);
    assert_eq!(
        anomalies(&pdu),
        [anomaly::TRUNCATED_TLV, anomaly::MISSING_END_TLV]
    );
    assert_eq!(json(&pdu.fields)["ttl"], 120, "what was whole is kept");
    // No End TLV, frame ends cleanly after the TTL.
    let pdu = decoded(&DLINK_LLDPDU[..18], DLINK);
    assert_eq!(anomalies(&pdu), [anomaly::MISSING_END_TLV]);
    // Port id first: mandatory order broken.
    let mut swapped = DLINK_LLDPDU[9..14].to_vec();
    swapped.extend_from_slice(&DLINK_LLDPDU[..9]);
    swapped.extend_from_slice(&DLINK_LLDPDU[14..]);
    assert!(anomalies(&decoded(&swapped, DLINK)).contains(&anomaly::MISSING_MANDATORY_TLV));
    // A TTL of three bytes, a reserved TLV type, a second chassis id.
    let odd = [
        0x02, 0x07, 0x04, 0, 0x21, 0x91, 6, 0xf1, 0x66, // chassis id
        0x04, 0x03, 0x01, b'1', b'9', // port id
        0x06, 0x03, 0, 0x78, 0, // TTL, length 3
        0x12, 0x01, 0xaa, // type 9: reserved
        0x02, 0x07, 0x04, 0, 0x21, 0x91, 6, 0xf1, 0x66, // chassis id again
        0x00, 0x00, // end
    ];
    assert_eq!(
        anomalies(&decoded(&odd, DLINK)),
        [
            anomaly::BAD_TLV_LENGTH,
            anomaly::RESERVED_TLV_TYPE,
            anomaly::DUPLICATE_TLV
        ]
    );
    // Nothing at all.
    let pdu = decoded(&[], DLINK);
    assert_eq!(
        anomalies(&pdu),
        [anomaly::MISSING_END_TLV, anomaly::MISSING_MANDATORY_TLV]
    );
}

#[test]
fn long_texts_are_bounded() {
    let mut p = DLINK_LLDPDU[..18].to_vec();
    p.extend_from_slice(&[0x0b, 0xff]); // system name, length 511
    p.extend(std::iter::repeat_n(b'x', 511));
    p.extend_from_slice(&[0, 0]);
    let pdu = decoded(&p, DLINK);
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert_eq!(pdu.identity.unwrap().hostname.unwrap().len(), MAX_TEXT);
}

#[test]
fn recognised_by_ethertype() {
    assert!(matches!(
        detect_frame(ETHER_TYPE, DLINK_LLDPDU),
        Some(FrameDecoder::Lldp(_))
    ));
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x11d9);
    let mut parser = LldpParser::new();
    let base = switch_lldpdu();
    for i in 0..5000 {
        let payload = if i % 2 == 0 {
            rng.mutate(&base)
        } else {
            let len = rng.below(300) as usize;
            rng.bytes(len)
        };
        assert_eq!(frame(&mut parser, l2(DLINK), &payload).len(), 1);
    }
}
