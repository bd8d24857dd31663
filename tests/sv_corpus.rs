//! IEC 61850-9-2 Sampled Values against Wireshark, frame by frame, on every
//! capture of `../shared/pcaps/sv/`, through the whole pipeline.
//!
//! The oracle of `sv_normal_traffic.pcap` lists the first 5,000 of its
//! 10,161 frames (its records are truncated); those are compared field by
//! field, and the oracle's per-value counts, which cover every frame, are
//! compared with the events' counts.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

/// Wireshark fields compared with the event field holding the same value.
const COMPARED: &[(&str, &str)] = &[
    ("sv.appid", "appid"),
    ("sv.noASDU", "no_asdu"),
    ("sv.svID", "sv_id"),
    ("sv.datSet", "dat_set"),
    ("sv.smpCnt", "smp_cnt"),
    ("sv.confRev", "conf_rev"),
    ("sv.smpSynch", "smp_synch"),
    ("sv.smpRate", "smp_rate"),
];

/// Wireshark's value in the event's format (APPID in hex → number).
fn normalise(wireshark: &str, text: &str) -> String {
    match wireshark {
        "sv.appid" => u64::from_str_radix(text.trim_start_matches("0x"), 16)
            .unwrap()
            .to_string(),
        _ => text.to_string(),
    }
}

/// The event's values of an ASDU field: the first ASDU's at the top, all of
/// them in `asdus` when there are several. `appid` and `no_asdu` are the frame's.
fn ours(event: &Value, field: &str) -> Vec<String> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match event["asdus"].as_array() {
        Some(asdus) if !matches!(field, "appid" | "no_asdu") => {
            asdus.iter().filter_map(|a| text(&a[field])).collect()
        }
        _ => text(&event[field]).into_iter().collect(),
    }
}

#[test]
fn sv_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("sv") else {
        return;
    };
    let mut agreement = Agreement::new("sv");
    let mut frames_compared = 0;
    for capture in captures_in(&dir) {
        agreement.capture(&capture);
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        let by_packet = events_by_packet(&events, "sv");
        let theirs = oracle.records("sv");
        let complete = !oracle.json["protocols"]["sv"]["records_truncated"]
            .as_bool()
            .unwrap();
        // Frames past the oracle's records are checked by its counts below.
        let last_record = theirs.keys().last().copied().unwrap_or(0);
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            if !complete && frame > last_record {
                continue;
            }
            let record = theirs.get(&frame);
            let decoded = by_packet.get(&frame).map_or(&[][..], Vec::as_slice);
            assert!(
                decoded.len() <= 1,
                "{name} frame {frame}: one event per frame"
            );
            let both = (record.is_some(), !decoded.is_empty());
            mismatches.extend(decoded_by_one(frame, "SV", both.0, both.1));
            frames_compared += usize::from(both == (true, true));
            for (wireshark, field) in COMPARED {
                let expected: Vec<String> = record
                    .map_or(Vec::new(), |r| field_values(r, wireshark))
                    .iter()
                    .map(|v| normalise(wireshark, v))
                    .collect();
                let got: Vec<String> = decoded.iter().flat_map(|e| ours(e, field)).collect();
                mismatches.extend(agreement.compare(frame, wireshark, &expected, &got, None));
            }
        }
        assert_eq!(
            by_packet.len() as u64,
            oracle.json["protocols"]["sv"]["frames"].as_u64().unwrap(),
            "{name}: frames with SV"
        );
        // Per-value counts over every frame.
        let summary = oracle.json["protocols"]["sv"]["summary"]
            .as_object()
            .unwrap();
        for (wireshark, counts) in summary {
            let field = COMPARED
                .iter()
                .find(|(w, _)| w == wireshark)
                .map(|(_, f)| *f)
                .unwrap_or_else(|| panic!("no mapping for {wireshark}"));
            let mut ours_counts: BTreeMap<String, u64> = BTreeMap::new();
            for event in by_packet.values().flatten() {
                for value in ours(event, field) {
                    *ours_counts.entry(value).or_default() += 1;
                }
            }
            let expected: BTreeMap<String, u64> = counts
                .as_object()
                .unwrap()
                .iter()
                .map(|(v, n)| (normalise(wireshark, v), n.as_u64().unwrap()))
                .collect();
            assert_eq!(ours_counts, expected, "{name}: counts of {wireshark}");
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
        // A clean stream: the sample counter wraps at 4800 (80 samples a
        // period at 60 Hz) and nothing is lost.
        let anomalous: Vec<&Value> = events
            .iter()
            .filter(|e| e.get("anomalies").is_some())
            .collect();
        assert!(anomalous.is_empty(), "{name}: {:?}", anomalous.first());
        let wraps = events
            .windows(2)
            .filter(|w| w[1]["smp_cnt"].as_u64() < w[0]["smp_cnt"].as_u64())
            .count();
        assert_eq!(wraps, 2, "{name}: the counter wraps twice");
    }
    assert_eq!(frames_compared, 5000);
}

#[test]
fn sv_publisher_is_an_ied() {
    let Some(dir) = shared_pcaps("sv") else {
        return;
    };
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("plant.db");
    let capture = dir.join("sv_normal_traffic.pcap");
    replay_into_store(&capture, &db, &[]);
    let doc = assets_json(&db, &[]);
    let assets = doc["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0]["id"], "ca:fe:c0:ff:ee:69");
    assert_eq!(assets[0]["role"], "ied");
}
