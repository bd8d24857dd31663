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
use std::collections::BTreeMap;

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
        "You-Are: as for Who-Am-I",
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

fn number(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

/// Frames agreeing and frames compared, per capture and field.
type Agreement = BTreeMap<(String, &'static str), (usize, usize)>;

#[test]
fn bacnet_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("bacnet") else {
        return;
    };
    let mut agreement = Agreement::new();
    let mut frames_compared = 0;
    for capture in captures_in(&dir) {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
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
        for (frame, record) in &theirs {
            let Some(decoded) = by_packet.get(frame) else {
                mismatches.push(format!(
                    "frame {frame}: Wireshark decodes BACnet, otsensor does not"
                ));
                continue;
            };
            assert_eq!(
                decoded.len(),
                1,
                "{name} frame {frame}: one event per datagram"
            );
            let event = decoded[0];
            frames_compared += 1;
            for field in COMPARED {
                let expected: Vec<u64> = field_values(record, field)
                    .iter()
                    .map(|v| number(v))
                    .collect();
                let got = ours(event, field);
                if expected.is_empty() && got.is_empty() {
                    continue;
                }
                let entry = agreement.entry((name.clone(), field)).or_default();
                entry.0 += usize::from(got == expected);
                entry.1 += 1;
                let by_design = BY_DESIGN
                    .iter()
                    .any(|(c, f, fields, _)| *c == name && f == frame && fields.contains(field));
                if got != expected && !by_design {
                    mismatches.push(format!(
                        "frame {frame}: {field} wireshark {expected:?}, otsensor {got:?}"
                    ));
                }
            }
            // A frame Wireshark finds malformed is an event with anomalies.
            if malformed.contains(frame) {
                assert!(
                    event.get("anomalies").is_some(),
                    "{name} frame {frame}: malformed for Wireshark, no anomaly: {event}"
                );
            }
        }
        for frame in by_packet.keys().filter(|f| !theirs.contains_key(f)) {
            mismatches.push(format!(
                "frame {frame}: otsensor decodes BACnet where Wireshark does not"
            ));
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    for ((capture, field), (agree, total)) in &agreement {
        eprintln!("{capture}: {field}: {agree}/{total} frames agree");
    }
    assert!(
        frames_compared >= 3325,
        "only {frames_compared} frames compared"
    );
}
