//! Every capture of the shared corpus (pcap and pcapng; Ethernet, Linux
//! cooked and BSD loopback links) replays completely, and its layers 2–4
//! agree with Wireshark's reading of the same file.

mod common;

use common::*;

/// Wireshark protocol names whose frame counts the sensor's packet stats reproduce.
const LAYERS: &[(&str, &str)] = &[
    ("ip", "ipv4"),
    ("ipv6", "ipv6"),
    ("arp", "arp"),
    ("tcp", "tcp"),
    ("udp", "udp"),
    ("vlan", "vlan_tagged"),
];

#[test]
fn every_shared_capture_replays_and_matches_wireshark_layers() {
    let Some(root) = shared_pcaps("") else {
        return;
    };
    // Wireshark's reading counts the frames of each layer, not which they are.
    let mut agreement = Agreement::new("capture");
    let mut checked = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        for capture in captures_in(&dir) {
            agreement.capture(&capture);
            let oracle = Oracle::for_capture(&capture);
            let run = replay(&[&capture], &["--threads", "2"]);
            let stats = run.stats();
            let name = capture.display();
            let file = &stats["captures"][0];
            assert!(file["damage"].is_null(), "{name}: {}", file["damage"]);
            let packets = stats["traffic"]["packets"].as_u64().unwrap();
            let mismatch = agreement.compare_counts("frame", oracle.packets(), packets);
            assert_eq!(mismatch, None, "{name}: packets");
            let counts = &oracle.json["frame_protocol_counts"];
            for (wireshark, ours) in LAYERS {
                let expected = counts[wireshark].as_u64().unwrap_or(0);
                let got = stats["traffic"][ours].as_u64().unwrap();
                let mismatch = agreement.compare_counts(wireshark, expected, got);
                assert_eq!(mismatch, None, "{name}: frames with {wireshark}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} captures found");
}
