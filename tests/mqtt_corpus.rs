//! MQTT against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/mqtt/`, through the whole pipeline: which frames carry
//! MQTT and, per packet, every field the oracle has (message type, protocol
//! level, client id, user name, topics, QoS, retain and duplicate flags,
//! packet id, CONNACK return code, keep alive, will topic).

mod common;

use common::*;
use serde_json::Value;

/// Wireshark fields compared, each with the event field holding the same value.
const COMPARED: &[(&str, &str)] = &[
    ("mqtt.msgtype", "function_code"),
    ("mqtt.ver", "version"),
    ("mqtt.clientid", "client_id"),
    ("mqtt.username", "username"),
    ("mqtt.topic", "topic"),
    ("mqtt.qos", "qos"),
    ("mqtt.retain", "retain"),
    ("mqtt.dupflag", "dup"),
    ("mqtt.msgid", "packet_id"),
    ("mqtt.conack.val", "return_code"),
    ("mqtt.kalive", "keep_alive"),
    ("mqtt.willtopic", "will_topic"),
];

/// An event value as tshark prints it: numbers in decimal, booleans as 0/1,
/// lists element by element. The oracle leaves out empty strings
/// (`tshark-oracle` skips empty values), so an empty client id, which MQTT
/// allows and the sensor reports as `""`, has no oracle counterpart.
fn tshark_values(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Bool(b) => vec![u8::from(*b).to_string()],
        Value::Number(n) => vec![n.to_string()],
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(tshark_values).collect(),
        Value::Object(_) => panic!("unexpected object {value}"),
    }
}

#[test]
fn mqtt_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("mqtt") else {
        return;
    };
    let mut agreement = Agreement::new("mqtt");
    for capture in captures_in(&dir) {
        agreement.capture(&capture);
        let oracle = Oracle::for_capture(&capture);
        assert_eq!(oracle.json["malformed_frames"], serde_json::json!([]));
        let events = replay(&[&capture], &["--show-secrets"]).events();
        let by_packet = events_by_packet(&events, "mqtt");
        let theirs = oracle.records("mqtt");
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            let ours = by_packet.get(&frame).map_or(&[][..], Vec::as_slice);
            mismatches.extend(decoded_by_one(
                frame,
                "MQTT",
                record.is_some(),
                !ours.is_empty(),
            ));
            for (wireshark, field) in COMPARED {
                let expected = record.map_or(Vec::new(), |r| field_values(r, wireshark));
                let got: Vec<String> = ours
                    .iter()
                    .flat_map(|e| tshark_values(&e[*field]))
                    .collect();
                mismatches.extend(agreement.compare(frame, wireshark, &expected, &got, None));
            }
            // Wireshark finds nothing malformed in these captures; neither may we.
            for event in ours {
                if let Some(anomalies) = event.get("anomalies") {
                    mismatches.push(format!("frame {frame}: anomalies {anomalies}"));
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    let compared: usize = COMPARED.iter().map(|(w, _)| agreement.tally(w).1).sum();
    assert!(compared >= 34, "only {compared} field values compared");
}

#[test]
fn credentials_are_redacted_unless_asked_for() {
    let Some(dir) = shared_pcaps("mqtt") else {
        return;
    };
    let capture = dir.join("mqtt311_sub_userpass.pcap");
    let events = replay(&[&capture], &[]).events();
    let connect = events.iter().find(|e| e["function"] == "connect").unwrap();
    assert_eq!(connect["username"], "user");
    assert_eq!(connect["password_present"], true);
    assert_eq!(connect["password"], "<redacted>");
    let events = replay(&[&capture], &["--show-secrets"]).events();
    let connect = events.iter().find(|e| e["function"] == "connect").unwrap();
    assert_eq!(connect["password"], "pass");
}

/// The contract field `message_type` is Wireshark's `mqtt.msgtype`, frame by
/// frame: the same numbers, in the same order, for every MQTT packet of every
/// capture, and nowhere Wireshark has none.
#[test]
fn message_type_is_wiresharks_msgtype() {
    let Some(dir) = shared_pcaps("mqtt") else {
        return;
    };
    let mut compared = 0;
    for capture in captures_in(&dir) {
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        let by_packet = events_by_packet(&events, "mqtt");
        let theirs = oracle.records("mqtt");
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let frames: std::collections::BTreeSet<u64> =
            theirs.keys().chain(by_packet.keys()).copied().collect();
        for frame in frames {
            let expected = theirs
                .get(&frame)
                .map(|record| field_values(record, "mqtt.msgtype"))
                .unwrap_or_default();
            let got: Vec<String> = by_packet
                .get(&frame)
                .into_iter()
                .flatten()
                .flat_map(|e| tshark_values(&e["message_type"]))
                .collect();
            assert_eq!(got, expected, "{name} frame {frame}: message_type");
            compared += expected.len();
        }
    }
    assert!(compared >= 12, "only {compared} message types compared");
}
