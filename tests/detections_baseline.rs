//! The learned baseline (`--learn`): each deviation with traffic that must
//! raise it and traffic that must not, and a baseline kept in the store
//! judging a later run. Captures are crafted (tests/common/craft.rs).

mod common;

use common::craft::{Craft, host, modbus};
use common::detect::{only, poll, rules, run, the};
use common::{demo_capture, replay, repo};
use serde_json::Value;

const HMI: &str = "10.0.1.10";
const PLC: &str = "10.0.2.1";

/// A control zone and a field zone joined by a conduit that carries Modbus
/// and DNP3; anything outside is unzoned (private) or untrusted (public).
const ZONES: &str = r#"
[[zone]]
name = "control"
cidrs = ["10.0.1.0/24"]
security_level = 3

[[zone]]
name = "field"
cidrs = ["10.0.2.0/24"]
security_level = 3

[[conduit]]
name = "supervisory"
zones = ["control", "field"]

[[conduit.allow]]
protocols = ["modbus", "dnp3"]
"#;
#[test]
fn baseline_new_talker_new_function_and_new_asset() {
    let mut craft = Craft::new();
    let hmi = host(HMI);
    let plc = host(PLC);
    // Learning: 60 s of polling.
    let mut tcp = poll(&mut craft, hmi, plc, 60);
    // After: a write the pair never used, and a newcomer polling the PLC.
    craft.exchange(
        &mut tcp,
        &modbus(900, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
        &modbus(900, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
    );
    poll(&mut craft, host("10.0.1.77"), plc, 2);
    let alerts = run(&craft, "", Some("30s"));
    let function = the(&alerts, "OT-BASE-003", HMI, PLC);
    assert_eq!(
        function.evidence.detail,
        "modbus write_single_register (6): while learning this pair used only read_holding_registers"
    );
    the(&alerts, "OT-BASE-002", "10.0.1.77", PLC);
    let new_asset = only(&alerts, "OT-BASE-001");
    assert_eq!(new_asset.len(), 1, "{:?}", rules(&alerts));
    assert_eq!(new_asset[0].src.ip.unwrap().to_string(), "10.0.1.77");
    // Learning the same traffic throughout raises nothing.
    let mut craft = Craft::new();
    poll(&mut craft, hmi, plc, 60);
    assert!(run(&craft, "", Some("30s")).is_empty());
}

#[test]
fn baseline_rate_far_above_learned() {
    let mut craft = Craft::new();
    let mut tcp = poll(&mut craft, host(HMI), host(PLC), 120);
    // 100 requests within a second: a flood on a pair that polls once a second.
    for t in 0..100u16 {
        craft.exchange(
            &mut tcp,
            &modbus(1000 + t, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]),
            &modbus(1000 + t, 1, &[0x03, 0x04, 0x00, 0x2a, 0x00, 0x2b]),
        );
    }
    let alerts = run(&craft, "", Some("100s"));
    let rate = the(&alerts, "OT-BASE-006", HMI, PLC);
    assert!(
        rate.evidence
            .detail
            .contains("within 10s; learned at most 10"),
        "{}",
        rate.evidence.detail
    );
}

#[test]
fn baseline_new_conduit_and_new_protocol_on_a_conduit() {
    let mut craft = Craft::new();
    // Learning: the control zone polls the field over Modbus.
    poll(&mut craft, host(HMI), host(PLC), 60);
    let learned = craft.clone();
    // After: DNP3 between the same zones, and a host outside them reaching the field.
    let mut dnp3 = craft.connect(host(HMI), host("10.0.2.2"), 40500, 20000);
    craft.exchange(
        &mut dnp3,
        &[0x05, 0x64, 0x05, 0xc0, 0x0a, 0x00, 0x01, 0x00, 0xb1, 0xac],
        &[0x05, 0x64, 0x05, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x2e, 0xdd],
    );
    poll(&mut craft, host("10.0.5.5"), host(PLC), 2);
    let alerts = run(&craft, ZONES, Some("30s"));
    let protocol = the(&alerts, "OT-BASE-005", HMI, "10.0.2.2");
    assert_eq!(
        protocol.evidence.detail,
        "dnp3 link_reset_link_states: between control and field only modbus while learning"
    );
    assert_eq!(protocol.conduit.as_deref(), Some("supervisory"));
    let conduit = the(&alerts, "OT-BASE-004", "10.0.5.5", PLC);
    assert_eq!(
        conduit.evidence.detail,
        "modbus read_holding_registers (3): first traffic between unzoned and field"
    );
    assert_eq!(conduit.severity.name(), "high");
    // The zones keep talking as they learned: no zone pair deviates.
    let alerts = run(&learned, ZONES, Some("30s"));
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

#[test]
fn baseline_silence_far_beyond_learned_but_not_an_ordinary_pause() {
    // Polling once a second, learned for 30 s (about 30 gaps of 1 s), then
    // a pause and polling again.
    let after_pause = |pause: f64| {
        let mut craft = Craft::new();
        let mut tcp = poll(&mut craft, host(HMI), host(PLC), 60);
        craft.wait(pause);
        for t in 0..3 {
            craft.exchange(
                &mut tcp,
                &modbus(500 + t, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]),
                &modbus(500 + t, 1, &[0x03, 0x04, 0x00, 0x2a, 0x00, 0x2b]),
            );
            craft.wait(1.0);
        }
        run(&craft, "", Some("30s"))
    };
    // 90 s of silence: beyond max(10 × learned p99, 60 s).
    let alerts = after_pause(90.0);
    let silence = the(&alerts, "OT-BASE-007", HMI, PLC);
    assert!(
        silence
            .evidence
            .detail
            .starts_with("modbus read_holding_registers (3): first request after 91."),
        "{}",
        silence.evidence.detail
    );
    assert_eq!(rules(&alerts), ["OT-BASE-007"]);
    // 30 s: a pause, not a silence.
    let alerts = after_pause(30.0);
    assert!(alerts.is_empty(), "{:?}", rules(&alerts));
}

/// The alerts a replay wrote.
fn alerts_written(replay: &common::Replay) -> Vec<Value> {
    std::fs::read_to_string(replay.dir.path().join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn a_baseline_kept_in_the_store_judges_the_next_run_without_learning() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.db");
    // Monday: 60 s of polling, learned over 30 s and kept.
    let monday = dir.path().join("monday.pcap");
    let mut craft = Craft::new();
    poll(&mut craft, host(HMI), host(PLC), 60);
    craft.write(&monday);
    let first = replay(
        &[&monday],
        &["--db", db.to_str().unwrap(), "--learn", "30s", "--quiet"],
    );
    assert!(alerts_written(&first).is_empty());
    // Tuesday: the same polling, and a write the pair never used.
    let tuesday = dir.path().join("tuesday.pcap");
    let mut craft = Craft::new();
    craft.wait(86_400.0);
    let mut tcp = poll(&mut craft, host(HMI), host(PLC), 5);
    craft.exchange(
        &mut tcp,
        &modbus(900, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
        &modbus(900, 1, &[0x06, 0x00, 0x10, 0x00, 0x2a]),
    );
    craft.write(&tuesday);
    let second = replay(&[&tuesday], &["--db", db.to_str().unwrap(), "--quiet"]);
    let alerts = alerts_written(&second);
    let rules: Vec<&str> = alerts.iter().map(|a| a["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["OT-BASE-003"], "{alerts:#?}");
    assert_eq!(alerts[0]["function"], "write_single_register");
    assert_eq!(alerts[0]["evidence"]["packets"], serde_json::json!([14]));
    // Without the store the same capture has nothing to deviate from.
    let alone = replay(&[&tuesday], &["--quiet"]);
    assert!(alerts_written(&alone).is_empty());
}

#[test]
fn every_alert_of_the_demo_and_of_a_baseline_run_has_a_description() {
    let demo = demo_capture();
    let policy = repo().join("rules/example-plant");
    let zoned = replay(&[&demo], &["--policy", policy.to_str().unwrap(), "--quiet"]);
    let learned = replay(
        &[&demo],
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--learn",
            "10s",
            "--quiet",
        ],
    );
    let mut rules = std::collections::BTreeSet::new();
    for alert in alerts_written(&zoned)
        .iter()
        .chain(&alerts_written(&learned))
    {
        let rule = alert["rule"].as_str().unwrap();
        let description = alert["description"].as_str().unwrap_or_default();
        assert!(
            !description.is_empty(),
            "{rule} has no description: {alert}"
        );
        rules.insert(rule.to_string());
    }
    // Rules of the pack, built-in zone checks and baseline deviations were all looked at.
    for rule in [
        "OT-SEC-002",
        "OT-ZONE-002",
        "OT-ZONE-004",
        "OT-BASE-001",
        "OT-BASE-003",
    ] {
        assert!(rules.contains(rule), "{rule}: {rules:?}");
    }
}
