//! SNMP against Wireshark, frame by frame, on every capture of the shared
//! corpus that holds it (`snmp/`: SNMPv2c get and get-next requests and
//! their responses): version, community (compared with `--show-secrets`;
//! redacted otherwise), PDU type, and the variable bindings' names.

mod common;
mod itcorpus;

use itcorpus::*;
use serde_json::Value;

const COMPARED: &[&str] = &["snmp.version", "snmp.community", "snmp.data", "snmp.name"];

fn ours(events: &[&Value], field: &str) -> Vec<String> {
    match field {
        "snmp.version" => numbers(events, "version"),
        "snmp.community" => strings(events, "community"),
        "snmp.data" => numbers(events, "function_code"),
        "snmp.name" => events
            .iter()
            .flat_map(|e| e["varbinds"].as_array().cloned().unwrap_or_default())
            .map(|v| v["oid"].as_str().unwrap().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

const SNMP: Comparison = Comparison {
    family: "snmp",
    protocols: &["snmp"],
    fields: COMPARED,
    ours,
    not_ours: all_ours,
    theirs: same,
};

#[test]
fn snmp_matches_wireshark_frame_by_frame() {
    let Some(captures) = captures_with("snmp") else {
        return;
    };
    let mut frames = 0;
    let mut mismatches = Vec::new();
    for capture in &captures {
        let outcome = compare(capture, &SNMP, &["--show-secrets"]);
        frames += outcome.frames;
        for event in outcome.events.iter().filter(|e| e["protocol"] == "snmp") {
            assert!(event.get("anomalies").is_none(), "{event}");
            assert_eq!(event["class"], "read");
            if event["is_response"] == true {
                assert!(event["request_packet"].is_u64(), "paired: {event}");
            }
        }
        mismatches.extend(
            outcome
                .mismatches
                .iter()
                .map(|m| format!("{}: {m}", outcome.capture)),
        );
    }
    assert!(mismatches.is_empty(), "\n  {}", mismatches.join("\n  "));
    assert!(frames >= 8, "only {frames} SNMP frames compared");
}

/// Without `--show-secrets` the community is written redacted, and the
/// event still says there was one; the cleartext appears nowhere.
#[test]
fn community_is_redacted_by_default() {
    let Some(dir) = common::shared_pcaps("snmp") else {
        return;
    };
    let replay = common::replay(&[&dir.join("snmpv2c_get_requests.pcap")], &[]);
    assert!(!replay.events_text().contains("R0_C@cti"));
    let events = replay.events();
    assert_eq!(events.len(), 8);
    for event in &events {
        assert_eq!(event["community"], "<redacted>");
        assert_eq!(event["community_present"], true);
    }
}
