//! BACnet/IP against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/bacnet/`, through the whole pipeline: which frames carry
//! BACnet and, per frame, every field Wireshark's reading has.
//!
//! A datagram is one BVLC message and one event, so each frame's values are
//! one event's. Wireshark lists every object identifier and property
//! identifier of a service in wire order (`bacapp.objectType`,
//! `bacapp.instance_number`, `bacapp.property_identifier`); the event has
//! the first in `object_type`/`instance`/`property` and, when there are
//! several, all of them in `objects`/`properties`.

mod common;

use common::*;

use serde_json::Value;

/// Wireshark fields compared; values are compared as numbers (Wireshark
/// writes `bvlc.function` and `bacnet.control` in hex).
const COMPARED: &[&str] = &[
    "bvlc.function",
    "bacnet.control",
    "bacapp.type",
    "bacapp.invoke_id",
    "bacapp.confirmed_service",
    "bacapp.unconfirmed_service",
    "bacapp.objectType",
    "bacapp.instance_number",
    "bacapp.property_identifier",
    "bacapp.vendor_identifier",
    "bacapp.error_class",
    "bacapp.error_code",
    "bacapp.reject_reason",
    "bacapp.abort_reason",
];

/// Frames where the sensor's reading differs from Wireshark's by design,
/// with the fields concerned and why.
const BY_DESIGN: &[(&str, u64, &[&str], &str)] = &[
    (
        "icsnpp_bacnet_error_reject_abort.pcap",
        41,
        &["bacapp.vendor_identifier"],
        "Who-Am-I: Wireshark 4.0 shows the vendor id as a plain Unsigned, \
         not as bacapp.vendor_identifier; the sensor reports it in vendor_id",
    ),
    (
        "icsnpp_bacnet_error_reject_abort.pcap",
        42,
        &["bacapp.vendor_identifier"],
        "You-Are: Wireshark 4.0 shows the vendor id as a plain Unsigned, as for Who-Am-I",
    ),
];

/// The event's values of a Wireshark field.
fn ours(event: &Value, wireshark: &str) -> Vec<u64> {
    let num = |name: &str| event[name].as_u64().into_iter().collect::<Vec<u64>>();
    let listed = |list: &str, single: &str, key: Option<&str>| match event[list].as_array() {
        Some(items) => items
            .iter()
            .filter_map(|item| match key {
                Some(key) => item[key].as_u64(),
                None => item.as_u64(),
            })
            .collect(),
        None => num(single),
    };
    let unconfirmed = event["apdu_type"] == 1;
    match wireshark {
        "bvlc.function" => num("bvlc_function"),
        "bacnet.control" => num("control"),
        "bacapp.type" => num("apdu_type"),
        "bacapp.invoke_id" => num("invoke_id"),
        "bacapp.confirmed_service" if !unconfirmed => num("service"),
        "bacapp.unconfirmed_service" if unconfirmed => num("service"),
        "bacapp.confirmed_service" | "bacapp.unconfirmed_service" => Vec::new(),
        "bacapp.objectType" => listed("objects", "object_type", Some("object_type")),
        "bacapp.instance_number" => listed("objects", "instance", Some("instance")),
        "bacapp.property_identifier" => listed("properties", "property", None),
        "bacapp.vendor_identifier" => num("vendor_id"),
        "bacapp.error_class" => num("error_class"),
        "bacapp.error_code" => num("error_code"),
        "bacapp.reject_reason" => num("reject_reason"),
        "bacapp.abort_reason" => num("abort_reason"),
        other => panic!("no mapping for {other}"),
    }
}

fn has_oracle(capture: &std::path::Path) -> bool {
    let stem = capture.file_stem().unwrap().to_str().unwrap();
    capture
        .with_file_name(format!("{stem}.tshark.json"))
        .is_file()
}

fn number(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

#[test]
fn bacnet_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("bacnet") else {
        return;
    };
    let mut agreement = Agreement::new("bacnet");
    let mut frames_compared = 0;
    for capture in captures_in(&dir) {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        if !has_oracle(&capture) {
            // No Wireshark reading to compare with: it must replay cleanly.
            let events = replay(&[&capture], &[]).events();
            assert!(events.iter().any(|e| e["protocol"] == "bacnet"), "{name}");
            continue;
        }
        agreement.capture(&capture);
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        let by_packet = events_by_packet(&events, "bacnet");
        let theirs = oracle.records("bacnet");
        let malformed: Vec<u64> = oracle.json["malformed_frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap())
            .collect();
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            let decoded = by_packet.get(&frame).map_or(&[][..], Vec::as_slice);
            assert!(
                decoded.len() <= 1,
                "{name} frame {frame}: one event per datagram"
            );
            let both = (record.is_some(), !decoded.is_empty());
            mismatches.extend(decoded_by_one(frame, "BACnet", both.0, both.1));
            frames_compared += usize::from(both == (true, true));
            for field in COMPARED {
                let expected: Vec<u64> = record
                    .map_or(Vec::new(), |r| field_values(r, field))
                    .iter()
                    .map(|v| number(v))
                    .collect();
                let got: Vec<u64> = decoded.iter().flat_map(|e| ours(e, field)).collect();
                let by_design = BY_DESIGN
                    .iter()
                    .find(|(c, f, fields, _)| *c == name && *f == frame && fields.contains(field))
                    .map(|(.., why)| *why);
                mismatches.extend(agreement.compare(frame, field, &expected, &got, by_design));
            }
            // A frame Wireshark finds malformed is an event with anomalies.
            if let (true, [event]) = (malformed.contains(&frame), decoded) {
                assert!(
                    event.get("anomalies").is_some(),
                    "{name} frame {frame}: malformed for Wireshark, no anomaly: {event}"
                );
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    assert!(
        frames_compared >= 3325,
        "only {frames_compared} frames compared"
    );
}

/// The devices of `icsnpp_bacnet_example.pcap` announce themselves with
/// I-Am: (address, device instance, ASHRAE vendor id, vendor name).
const I_AM: &[(&str, u64, u64, &str)] = &[
    (
        "172.20.32.100",
        416,
        138,
        "PowerCold Comfort Air Solutions, Inc.",
    ),
    ("172.20.32.101", 276, 167, "Duksan Mecasys Co., Ltd."),
    ("172.20.32.102", 440, 215, "Lighting Control & Design, Inc."),
    ("172.20.32.103", 840, 65, "Reliance Electric"),
    ("172.20.32.104", 165, 212, "TSC21 Association of Japan"),
    ("172.20.32.105", 674, 165, "Smart Temp Australia Pty. Ltd."),
    ("172.20.32.106", 322, 53, "DAIKIN Industries Ltd."),
    ("172.20.32.107", 456, 123, "Scada Engine"),
    ("172.20.32.108", 721, 15, "Cornell University"),
    (
        "172.20.32.109",
        501,
        85,
        "Yamatake Building Systems Co., Ltd.",
    ),
    ("172.20.32.110", 136, 134, "Centaurus Prime"),
    (
        "172.20.32.111",
        771,
        230,
        "Integrated Control Technology Limited",
    ),
    ("172.20.32.112", 329, 240, "Aricent Ltd."),
    ("172.20.32.113", 696, 26, "Phoenix Controls Corporation"),
    ("172.20.32.114", 394, 251, "WILO SE"),
    ("172.20.32.115", 199, 206, "Onicon Incorporated"),
    (
        "172.20.32.116",
        661,
        22,
        "Siemens Schweiz AG (Formerly: Cerberus AG)",
    ),
    ("172.20.32.117", 663, 221, "OpenGeneral Pty., Ltd."),
    ("172.20.32.118", 278, 46, "ESS Engineering"),
    ("172.20.32.119", 303, 103, "D-Tek Controls"),
    (
        "172.20.32.120",
        489,
        100,
        "Custom Mechanical Equipment, LLC",
    ),
    ("172.20.32.121", 777, 51, "SAMSON AG"),
    ("172.20.32.122", 652, 133, "Veris Industries"),
    ("172.20.32.123", 508, 139, "I Controls"),
    (
        "172.20.32.124",
        565,
        107,
        "JCI Systems Integration Services",
    ),
    ("172.20.32.125", 850, 162, "ASI Controls"),
    ("172.20.32.126", 407, 181, "Micro Control Systems, Inc."),
    (
        "172.20.32.127",
        203,
        173,
        "Mitsubishi Electric Building Techno-Service Co., Ltd.",
    ),
    (
        "172.20.32.128",
        439,
        130,
        "Shenzhen Junzhi Hi-Tech Co., Ltd.",
    ),
    ("172.20.32.129", 788, 116, "M&M Systems, Inc."),
];

/// Every I-Am of the example capture gives its device's identity: the
/// instance in the event, vendor id and registered name in `identity`.
#[test]
fn i_am_identities_of_the_example_capture() {
    let Some(dir) = shared_pcaps("bacnet") else {
        return;
    };
    let events = replay(&[&dir.join("icsnpp_bacnet_example.pcap")], &[]).events();
    let i_ams: Vec<&Value> = events.iter().filter(|e| e["function"] == "i_am").collect();
    assert_eq!(i_ams.len(), 210);
    let mut seen = std::collections::BTreeSet::new();
    for e in &i_ams {
        let identity = &e["identity"];
        assert_eq!(identity["device_type"], "bacnet_device");
        assert_eq!(identity["vendor_id"], e["vendor_id"]);
        // What the I-Am says of the device's capabilities is its identity too.
        assert_eq!(
            identity["max_apdu"].as_str(),
            Some(&*e["max_apdu"].to_string())
        );
        assert_eq!(identity["segmentation"], e["segmentation"]);
        seen.insert((
            e["src_ip"].as_str().unwrap().to_string(),
            identity["device_instance"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
            identity["vendor_id"].as_u64().unwrap(),
            identity["vendor"].as_str().unwrap().to_string(),
        ));
    }
    let expected: std::collections::BTreeSet<(String, u64, u64, String)> = I_AM
        .iter()
        .map(|&(ip, instance, id, vendor)| (ip.to_string(), instance, id, vendor.to_string()))
        .collect();
    assert_eq!(seen, expected);
    // The device object's properties read back describe the same devices.
    let ack = |property: &str| {
        events
            .iter()
            .find(|e| {
                e["src_ip"] == "172.20.32.109"
                    && e["apdu_type"] == 3
                    && e["property_name"] == property
            })
            .unwrap_or_else(|| panic!("no {property} ACK"))
    };
    assert_eq!(ack("object_name")["identity"]["station_name"], "PLC_28");
    assert_eq!(ack("model_name")["identity"]["product"], "HIY-054");
    assert_eq!(ack("firmware_revision")["identity"]["firmware"], "4.2.1");
}

/// The example capture holds a password guessing run against
/// ReinitializeDevice: 120 requests with a password, 90 password
/// failures, 30 accepted.
#[test]
fn reinitialize_device_passwords_of_the_example_capture() {
    let Some(dir) = shared_pcaps("bacnet") else {
        return;
    };
    let events = replay(&[&dir.join("icsnpp_bacnet_example.pcap")], &[]).events();
    let reinit = |apdu_type: u64| {
        events
            .iter()
            .filter(move |e| e["function"] == "reinitialize_device" && e["apdu_type"] == apdu_type)
    };
    assert!(reinit(0).all(|e| e["password_present"] == true
        && e["password"] == "<redacted>"
        && e["class"] == "control"));
    assert_eq!(reinit(0).count(), 120);
    assert_eq!(
        reinit(5)
            .filter(|e| e["error_code_name"] == "password_failure")
            .count(),
        90
    );
    assert_eq!(reinit(2).count(), 30);
}
