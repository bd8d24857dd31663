//! `otsensor replay` on the bundled demo capture, as an auditor runs it.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

const DEMO_PACKETS: u64 = 13_465;

/// The event contract (docs/events.md): fields every event carries.
const COMMON_FIELDS: &[&str] = &[
    "ts",
    "packet",
    "flow",
    "src_ip",
    "dst_ip",
    "src_port",
    "dst_port",
    "src_mac",
    "dst_mac",
    "transport",
    "protocol",
    "is_response",
    "function_code",
    "function",
    "class",
];

fn counts<'a>(values: impl Iterator<Item = &'a Value>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for v in values.filter(|v| !v.is_null()) {
        *counts
            .entry(v.to_string().trim_matches('"').to_string())
            .or_default() += 1;
    }
    counts
}

fn oracle_counts(summary: &Value) -> BTreeMap<String, u64> {
    summary
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

#[test]
fn the_summary_names_packets_protocols_talkers_and_anomalies() {
    let out = run(&["replay", demo_capture().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("13,465 packets"), "{text}");
    let modbus = text
        .lines()
        .find(|l| l.trim_start().starts_with("modbus"))
        .expect("a modbus line");
    assert!(modbus.contains("11,136 PDUs"), "{modbus}");
    assert!(text.contains("Top talkers"), "{text}");
    assert!(text.contains("10.10."), "talkers are listed by IP: {text}");
    assert!(text.contains("Decode anomalies"), "{text}");
}

#[test]
fn events_follow_the_contract_and_agree_with_wireshark() {
    let demo = demo_capture();
    let run = replay(&[&demo], &[]);
    let events = run.events();
    for event in &events {
        for field in COMMON_FIELDS {
            assert!(event.get(field).is_some(), "{field} missing in {event}");
        }
        let ts = event["ts"].as_str().unwrap();
        assert!(
            ts.len() == 27 && ts.ends_with('Z') && ts.starts_with("2024-01-15T"),
            "{ts}"
        );
        assert!(
            event.get("capture").is_none(),
            "one capture: no capture field"
        );
    }
    let modbus: Vec<&Value> = events
        .iter()
        .filter(|e| e["protocol"] == "modbus")
        .collect();
    let oracle = Oracle::for_capture(&demo);
    let summary = &oracle.json["protocols"]["modbus"]["summary"];
    assert_eq!(
        modbus.len() as u64,
        oracle.json["protocols"]["modbus"]["frames"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(
        counts(modbus.iter().map(|e| &e["function_code"])),
        oracle_counts(&summary["modbus.func_code"])
    );
    assert_eq!(
        counts(modbus.iter().map(|e| &e["exception_code"])),
        oracle_counts(&summary["modbus.exception_code"])
    );
    assert_eq!(
        counts(modbus.iter().map(|e| &e["unit_id"])),
        oracle_counts(&summary["mbtcp.unit_id"])
    );

    let stats = run.stats();
    assert_eq!(stats["traffic"]["packets"], DEMO_PACKETS);
    assert_eq!(stats["events"], events.len() as u64);
    assert_eq!(stats["protocols"]["modbus"]["pdus"], modbus.len() as u64);
    assert!(stats["captures"][0]["damage"].is_null());
}

#[test]
fn responses_carry_the_request_they_answer() {
    let run = replay(&[&demo_capture()], &[]);
    let events = run.events();
    let by_packet: BTreeMap<u64, &Value> = events
        .iter()
        .filter(|e| e["protocol"] == "modbus" && e["is_response"] == false)
        .map(|e| (e["packet"].as_u64().unwrap(), e))
        .collect();
    let mut paired = 0;
    for response in events
        .iter()
        .filter(|e| e["protocol"] == "modbus" && e["is_response"] == true)
    {
        let Some(request_packet) = response["request_packet"].as_u64() else {
            continue;
        };
        let request = by_packet[&request_packet];
        assert_eq!(request["transaction_id"], response["transaction_id"]);
        assert_eq!(request["function_code"], response["function_code"]);
        assert_eq!(request["address"], response["address"]);
        assert_eq!(request["quantity"], response["quantity"]);
        assert_eq!(request["src_ip"], response["dst_ip"]);
        paired += 1;
    }
    assert!(paired > 5000, "only {paired} responses paired");
}

#[test]
fn device_identification_responses_carry_the_server_identity() {
    let run = replay(&[&demo_capture()], &[]);
    let events = run.events();
    let identities: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["function"] == "read_device_identification" && e["is_response"] == true)
        .map(|e| {
            (
                e["src_ip"].as_str().unwrap().to_string(),
                e["identity"].to_string(),
            )
        })
        .collect();
    // The demo's controllers, as their FC 43/14 objects describe them (Wireshark shows the same strings).
    let expected = [
        (
            "10.10.2.1",
            r#"{"firmware":"v5.1.9","product_code":"TM241CE40R","vendor":"Schneider Electric"}"#,
        ),
        (
            "10.10.2.11",
            r#"{"firmware":"v5.1.9","product_code":"TM241CE40R","vendor":"Schneider Electric"}"#,
        ),
        (
            "10.10.2.12",
            r#"{"firmware":"v3.10","product_code":"BMX P34 2020","vendor":"Schneider Electric"}"#,
        ),
        (
            "10.10.2.13",
            r#"{"firmware":"3.1.4024","product_code":"CX9020","vendor":"Beckhoff Automation"}"#,
        ),
        (
            "10.10.2.4",
            r#"{"firmware":"v3.10","product_code":"BMX P34 2020","vendor":"Schneider Electric"}"#,
        ),
        (
            "10.10.2.6",
            r#"{"firmware":"4.42","product_code":"ILC 151 ETH","vendor":"Phoenix Contact"}"#,
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(ip, id)| (ip.to_string(), id.to_string()))
        .collect();
    assert_eq!(identities, expected);
}

#[test]
fn several_files_replay_as_one_timeline_with_capture_names() {
    // The demo capture cut in two, as a rotating capture would write it.
    let bytes = std::fs::read(demo_capture()).unwrap();
    let offsets = record_offsets(&bytes);
    let cut = offsets[offsets.len() / 2];
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("plant-0001.pcap"),
        dir.path().join("plant-0002.pcap"),
    );
    std::fs::write(&a, &bytes[..cut]).unwrap();
    std::fs::write(&b, [&bytes[..24], &bytes[cut..]].concat()).unwrap();

    let whole = replay(&[&demo_capture()], &[]).events();
    // Name order, whatever the order on the command line.
    let parts = replay(&[&b, &a], &[]).events();
    assert_eq!(parts.len(), whole.len(), "flows continue across the files");
    let first_of_b = (offsets.len() / 2) as u64;
    // Packet numbers (also a response's `request_packet`) are local to the file holding the packet.
    let local = |packet: u64| {
        if packet <= first_of_b {
            ("plant-0001.pcap", packet)
        } else {
            ("plant-0002.pcap", packet - first_of_b)
        }
    };
    for (part, one) in parts.iter().zip(&whole) {
        let (file, packet) = local(one["packet"].as_u64().unwrap());
        assert!(part["capture"].as_str().unwrap().ends_with(file), "{part}");
        assert_eq!(part["packet"], packet);
        let mut one = one.clone();
        let object = one.as_object_mut().unwrap();
        object.insert("capture".into(), part["capture"].clone());
        object.insert("packet".into(), packet.into());
        if let Some(request) = object.get("request_packet").and_then(|r| r.as_u64()) {
            object.insert("request_packet".into(), local(request).1.into());
        }
        assert_eq!(part, &one);
    }
}

#[test]
fn stats_flag_reports_throughput_and_peak_memory() {
    let out = run(&[
        "replay",
        demo_capture().to_str().unwrap(),
        "--stats",
        "--quiet",
    ]);
    assert!(out.status.success());
    assert!(stdout(&out).is_empty(), "--quiet prints no summary");
    let err = stderr(&out);
    assert!(err.contains("packets/s") && err.contains("Gbit/s"), "{err}");
    assert!(err.contains("peak memory (RSS):"), "{err}");
}

/// The example plant policy on the demo capture: what the README shows.
#[test]
fn the_example_policy_raises_its_alerts_in_the_summary_alerts_and_stats() {
    let demo = demo_capture();
    let policy = repo().join("rules/example-plant");
    let args = ["--policy", policy.to_str().unwrap()];
    let out = run(&[&["replay", demo.to_str().unwrap()][..], &args].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("\nAlerts: 9 (6 high, 3 low)\n"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("OT-ZONE-004") && l.contains("10.10.2.1 "))
        .expect("the historian's write to 10.10.2.1 is listed");
    assert!(line.contains("10.10.1.60 -> 10.10.2.1"), "{line}");
    assert!(line.contains("modbus"), "{line}");

    let run = replay(&[&demo], &args);
    let alerts: Vec<Value> = std::fs::read_to_string(run.dir.path().join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_rule = counts(alerts.iter().map(|a| &a["rule"]));
    let expected: BTreeMap<String, u64> =
        [("OT-SEC-002", 3), ("OT-ZONE-002", 3), ("OT-ZONE-004", 3)]
            .into_iter()
            .map(|(r, n)| (r.to_string(), n))
            .collect();
    assert_eq!(by_rule, expected);
    for alert in &alerts {
        assert_eq!(
            alert["zones"],
            serde_json::json!(["control-center", "field"]),
            "{alert}"
        );
        assert_eq!(alert["conduit"], "supervisory", "{alert}");
        assert!(
            alert["evidence"]["packets"]
                .as_array()
                .is_some_and(|p| !p.is_empty()),
            "{alert}"
        );
    }
    let stats = run.stats();
    assert_eq!(stats["alerts"]["total"], 9);
    assert_eq!(stats["alerts"]["by_severity"]["high"], 6);
    assert_eq!(stats["alerts"]["by_rule"]["OT-ZONE-004"], 3);
}
