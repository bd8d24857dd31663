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

/// An ARP reply: `ip` is at `mac`.
fn reply(ip: [u8; 4], mac: [u8; 6]) -> Vec<u8> {
    let mut p = vec![0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02];
    p.extend_from_slice(&mac);
    p.extend_from_slice(&ip);
    p.extend_from_slice(&[0x00, 0x14, 0x22, 0x2e, 0xd9, 0x1e, 10, 10, 1, 10]);
    ethernet([0x00, 0x14, 0x22, 0x2e, 0xd9, 0x1e], mac, None, 0x0806, &p)
}

/// A host answering ARP for the PLC's address with its own MAC (ARP
/// spoofing) shows in assets.json as the PLC's address claimed by another
/// MAC address; the reply itself is flagged when its sender MAC is not the
/// frame's source.
#[test]
fn arp_spoofing_is_an_inventory_change() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("spoof.pcap");
    let plc = [0x00, 0x80, 0xf4, 0xfa, 0xd7, 0x14];
    let attacker = [0x02, 0x42, 0xac, 0x11, 0x00, 0x66];
    let mut proxied = reply([10, 10, 2, 2], plc);
    proxied[6..12].copy_from_slice(&attacker); // sent by another MAC
    let frames = [
        reply([10, 10, 2, 1], plc),
        reply([10, 10, 2, 1], attacker),
        proxied,
    ];
    write_capture(&capture, &frames);
    let replay = common::replay(&[&capture], &[]);
    let events = replay.events();
    assert_eq!(events.len(), 3);
    assert!(events[..2].iter().all(|e| e.get("anomalies").is_none()));
    assert_eq!(
        events[2]["anomalies"],
        serde_json::json!(["sender_mac_mismatch"])
    );
    let text = std::fs::read_to_string(replay.dir.path().join("assets.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let changes: Vec<&Value> = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["changes"].as_array().unwrap())
        .filter(|c| c["kind"] == "ip_claimed_by_other_mac")
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["host"], "10.10.2.1");
    assert_eq!(
        changes[0]["detail"],
        "10.10.2.1 now at 02:42:ac:11:00:66 (was 00:80:f4:fa:d7:14)"
    );
}
