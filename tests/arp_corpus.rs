//! ARP against Wireshark, frame by frame, on every capture of the shared
//! corpus that holds ARP (the LLDP/CDP capture's 50 frames, and those of the
//! mixed, EtherNet/IP, PROFINET and S7comm captures): opcode, sender and
//! target hardware and protocol addresses, and the gratuitous flag.

mod common;
mod itcorpus;

use itcorpus::*;
use serde_json::Value;

const COMPARED: &[&str] = &[
    "arp.opcode",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac",
    "arp.dst.proto_ipv4",
    "arp.isgratuitous",
];

fn ours(events: &[&Value], field: &str) -> Vec<String> {
    match field {
        "arp.opcode" => numbers(events, "opcode"),
        "arp.src.hw_mac" => strings(events, "sender_mac"),
        "arp.src.proto_ipv4" => strings(events, "sender_ip"),
        "arp.dst.hw_mac" => strings(events, "target_mac"),
        "arp.dst.proto_ipv4" => strings(events, "target_ip"),
        // Wireshark adds the flag only when it is set.
        "arp.isgratuitous" => events
            .iter()
            .filter(|e| e["gratuitous"] == true)
            .map(|_| flag(true))
            .collect(),
        _ => Vec::new(),
    }
}

const ARP: Comparison = Comparison {
    family: "arp",
    protocols: &["arp"],
    fields: COMPARED,
    ours,
    not_ours: all_ours,
    theirs: same,
};

#[test]
fn arp_matches_wireshark_frame_by_frame() {
    let Some(captures) = captures_with("arp") else {
        return;
    };
    let mut frames = 0;
    let mut mismatches = Vec::new();
    for capture in &captures {
        let outcome = compare(capture, &ARP, &[]);
        report(&outcome);
        frames += outcome.frames;
        for event in outcome.events.iter().filter(|e| e["protocol"] == "arp") {
            assert_eq!(event["transport"], "ethernet");
            assert!(event["src_ip"].is_null() && event["src_port"].is_null());
            assert_eq!(event["class"], "discovery");
        }
        mismatches.extend(
            outcome
                .mismatches
                .iter()
                .map(|m| format!("{}: {m}", outcome.capture)),
        );
    }
    assert!(mismatches.is_empty(), "\n  {}", mismatches.join("\n  "));
    assert!(frames >= 115, "only {frames} ARP frames compared");
}

/// The 50 ARP frames of the LLDP/CDP capture: requests, an announcement and
/// a probe, by name.
#[test]
fn lldp_cdp_capture_arp_functions() {
    let Some(dir) = common::shared_pcaps("lldp_cdp") else {
        return;
    };
    let capture = dir.join("openics_eip_swdl_failure_lldp_cdp_arp.pcap");
    let events = common::replay(&[&capture], &[]).events();
    let arp: Vec<&Value> = events.iter().filter(|e| e["protocol"] == "arp").collect();
    assert_eq!(arp.len(), 50);
    let function = |packet: u64| {
        arp.iter()
            .find(|e| e["packet"] == packet)
            .map(|e| e["function"].as_str().unwrap())
    };
    assert_eq!(function(1), Some("request"));
    assert_eq!(function(40), Some("announcement"));
    assert_eq!(function(84), Some("probe"));
    assert!(arp.iter().all(|e| e.get("anomalies").is_none()));
}
