//! IEC 61850 GOOSE against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/goose/`, through the whole pipeline: which frames carry
//! GOOSE and, per frame, every field Wireshark's reading has. Also: the
//! malformed frames are events with anomalies, VLAN tags make no
//! difference, and the publishers are IEDs in the inventory.

mod common;

use std::path::Path;

use common::*;
use otsensor::capture::write::PcapWriter;
use otsensor::time::Timestamp;
use serde_json::Value;

/// Wireshark fields compared with the event field holding the same value.
const COMPARED: &[(&str, &str)] = &[
    ("goose.appid", "appid"),
    ("goose.gocbRef", "gocb_ref"),
    ("goose.timeAllowedtoLive", "time_allowed_to_live"),
    ("goose.datSet", "dat_set"),
    ("goose.goID", "go_id"),
    ("goose.t", "t"),
    ("goose.stNum", "st_num"),
    ("goose.sqNum", "sq_num"),
    ("goose.simulation", "simulation"),
    ("goose.confRev", "conf_rev"),
    ("goose.ndsCom", "nds_com"),
    ("goose.numDatSetEntries", "num_dat_set_entries"),
];

/// (capture, frame, Wireshark field) the sensor decodes and Wireshark, by
/// design, does not show.
///
/// The PDU of this frame lacks its first, mandatory field (gocbRef [0]).
/// Wireshark's BER sequence decoder then reports fields [1] to [3] as
/// "wrong field in SEQUENCE" without their values and resumes at t [4]; the
/// sensor reads every field by its tag, and reports the missing one.
const DECODED_ONLY_BY_US: &[(&str, u64, &str)] = &[
    ("goose_missing_gocb_ref.pcap", 1, "goose.timeAllowedtoLive"),
    ("goose_missing_gocb_ref.pcap", 1, "goose.datSet"),
    ("goose_missing_gocb_ref.pcap", 1, "goose.goID"),
];
const WHY_DECODED_ONLY_BY_US: &str = "the PDU lacks its mandatory gocbRef: Wireshark's BER \
     decoder shows fields [1] to [3] as a wrong field in SEQUENCE without their values";

/// Wireshark's value in the event's format: APPID in hex → number; booleans
/// as 0/1 → true/false; `t` as "Jul 24, 2008 14:25:05.140625000 UTC" → RFC 3339.
fn normalise(wireshark: &str, text: &str) -> String {
    match wireshark {
        "goose.appid" => u64::from_str_radix(text.trim_start_matches("0x"), 16)
            .unwrap()
            .to_string(),
        "goose.simulation" | "goose.ndsCom" => (text == "1").to_string(),
        "goose.t" => rfc3339(text),
        _ => text.to_string(),
    }
}

/// Wireshark's absolute UTC time (`Jan  2, 2000 02:46:11.258165836 UTC`) as RFC 3339.
fn rfc3339(text: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [month, day, year, time, "UTC"] = parts[..] else {
        panic!("unexpected Wireshark time {text:?}");
    };
    let month = MONTHS.iter().position(|m| *m == month).unwrap() + 1;
    let day: u32 = day.trim_end_matches(',').parse().unwrap();
    format!("{year}-{month:02}-{day:02}T{time}Z")
}

/// The event's value of a field, as text.
fn ours(event: &Value, field: &str) -> Option<String> {
    match &event[field] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[test]
fn goose_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("goose") else {
        return;
    };
    let mut agreement = Agreement::new("goose");
    let mut malformed_checked = 0;
    for capture in captures_in(&dir) {
        agreement.capture(&capture);
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let oracle = Oracle::for_capture(&capture);
        let events = replay(&[&capture], &[]).events();
        let by_packet = events_by_packet(&events, "goose");
        let theirs = oracle.records("goose");
        assert!(
            !oracle.json["protocols"]["goose"]["records_truncated"]
                .as_bool()
                .unwrap(),
            "{name}: the oracle holds every frame"
        );
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            let decoded = by_packet.get(&frame).map_or(&[][..], Vec::as_slice);
            assert!(
                decoded.len() <= 1,
                "{name} frame {frame}: one event per frame"
            );
            mismatches.extend(decoded_by_one(
                frame,
                "GOOSE",
                record.is_some(),
                !decoded.is_empty(),
            ));
            for (wireshark, field) in COMPARED {
                let expected: Vec<String> = record
                    .map_or(Vec::new(), |r| field_values(r, wireshark))
                    .iter()
                    .map(|v| normalise(wireshark, v))
                    .collect();
                let got: Vec<String> = decoded.iter().filter_map(|e| ours(e, field)).collect();
                let ours_only = expected.is_empty()
                    && DECODED_ONLY_BY_US.contains(&(name.as_str(), frame, *wireshark));
                if ours_only {
                    assert_eq!(got.len(), 1, "{name} frame {frame}: {field} decoded");
                }
                let by_design = ours_only.then_some(WHY_DECODED_ONLY_BY_US);
                mismatches.extend(agreement.compare(frame, wireshark, &expected, &got, by_design));
            }
        }
        // Frames Wireshark calls malformed are events with anomalies.
        for frame in oracle.json["malformed_frames"].as_array().unwrap() {
            let frame = frame.as_u64().unwrap();
            let event = by_packet[&frame][0];
            assert!(
                event["anomalies"].as_array().is_some_and(|a| !a.is_empty()),
                "{name} frame {frame}: malformed without anomalies: {event}"
            );
            malformed_checked += 1;
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
        anomalies_as_expected(&name, &events);
    }
    assert_eq!(malformed_checked, 2, "the two malformed frames");
    let st = agreement.tally("goose.stNum");
    assert_eq!(st, (453, 453), "every frame with a state number agrees");
}

/// The anomalies each capture must give, no more, no less.
fn anomalies_as_expected(name: &str, events: &[Value]) {
    let anomalies: Vec<(u64, Vec<&str>)> = events
        .iter()
        .filter_map(|e| {
            let names: Vec<&str> = e["anomalies"]
                .as_array()?
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            Some((e["packet"].as_u64().unwrap(), names))
        })
        .collect();
    match name {
        "goose_truncated.pcap" => {
            assert_eq!(anomalies, [(1, vec!["truncated_pdu"])]);
            assert_eq!(events[0]["gocb_ref"], "GEDeviceF650/LLN0$GO$gcb01");
            assert_eq!(events[0]["all_data_entries"], 5, "read before the cut");
        }
        "goose_missing_gocb_ref.pcap" => {
            assert_eq!(anomalies, [(1, vec!["missing_mandatory_field"])]);
            assert_eq!(events[0]["missing_fields"], serde_json::json!(["gocb_ref"]));
        }
        // This publisher changes a value within a state (at sqNum 2, 18
        // times), then announces the new state with the same data: it
        // breaks the rule that every change of a data set member is a new
        // stNum. Nothing else is odd: no gap, TTL met.
        "sample_file_goose.pcap" => {
            let frames: Vec<u64> = anomalies.iter().map(|(f, _)| *f).collect();
            assert_eq!(
                frames,
                [
                    86, 108, 113, 137, 146, 172, 182, 193, 203, 219, 241, 263, 287, 301, 363, 367,
                    389, 429
                ]
            );
            for (frame, names) in &anomalies {
                assert_eq!(
                    names,
                    &["data_changed_without_state_change"],
                    "frame {frame}"
                );
                let event = events.iter().find(|e| e["packet"] == *frame).unwrap();
                assert_eq!(event["sq_num"], 2);
            }
            // A state change is the first frame of a state (sqNum 0), and
            // every such frame after a control block's first is one.
            let mut seen = std::collections::BTreeSet::new();
            for event in events {
                let first = seen.insert(event["gocb_ref"].as_str().unwrap());
                let change = event["function"] == "state_change";
                assert_eq!(change, event["sq_num"] == 0 && !first, "{event}");
            }
        }
        other => panic!("no expectations for {other}"),
    }
}

/// The GOOSE frame of `goose_truncated.pcap`'s publisher, whole, as an
/// Ethernet frame: untagged, or with an 802.1Q tag (priority 4, VLAN 10).
fn ethernet(vlan: bool, st_num: u8, sq_num: u8) -> Vec<u8> {
    let mut pdu = Vec::new();
    for (tag, value) in [
        (0x80u8, &b"IED1LD0/LLN0$GO$gcb1"[..]),
        (0x81, &[0x07, 0xd0]),
        (0x82, b"IED1LD0/LLN0$DS1"),
        (0x83, b"IED1_GOOSE1"),
        (0x84, &[0x65, 0x53, 0xf1, 0x00, 0x80, 0x00, 0x00, 0x0a]),
        (0x85, &[st_num]),
        (0x86, &[sq_num]),
        (0x87, &[0x00]),
        (0x88, &[0x01]),
        (0x89, &[0x00]),
        (0x8a, &[0x02]),
        (0xab, &[0x83, 0x01, 0x01, 0x84, 0x03, 0x03, 0x00, 0x00]),
    ] {
        pdu.extend([tag, value.len() as u8]);
        pdu.extend_from_slice(value);
    }
    let mut goose = vec![0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
    goose.extend([0x61, pdu.len() as u8]);
    goose.extend(pdu);
    let length = goose.len() as u16;
    goose[2..4].copy_from_slice(&length.to_be_bytes());
    let mut frame = vec![0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01]; // destination: GOOSE multicast
    frame.extend([0x00, 0x0a, 0xdc, 0x00, 0x00, 0x01]); // source: the IED
    if vlan {
        frame.extend([0x81, 0x00, 0x80, 0x0a]); // 802.1Q: priority 4, VLAN 10
    }
    frame.extend([0x88, 0xb8]);
    frame.extend(goose);
    frame
}

fn write_capture(path: &Path, frames: &[Vec<u8>]) {
    let file = std::fs::File::create(path).unwrap();
    let mut pcap = PcapWriter::new(file, 1, false, false).unwrap();
    for (n, frame) in frames.iter().enumerate() {
        let ts = Timestamp::from_parts(1_705_400_000, n as u32 * 1_000_000);
        pcap.packet(ts, frame, frame.len() as u32).unwrap();
    }
}

/// The protocol fields of an event (without where and when it was seen).
fn protocol_fields(event: &Value) -> serde_json::Map<String, Value> {
    let mut fields = event.as_object().unwrap().clone();
    for key in ["ts", "packet", "flow"] {
        fields.remove(key);
    }
    fields
}

#[test]
fn vlan_tagged_and_untagged_goose_decode_alike() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vlan.pcap");
    write_capture(
        &path,
        &[
            ethernet(false, 1, 0),
            ethernet(true, 1, 0),
            ethernet(false, 1, 1),
            ethernet(true, 1, 1),
            ethernet(false, 2, 0),
            ethernet(true, 2, 0),
        ],
    );
    let run = replay(&[&path], &[]);
    let events = run.events();
    assert_eq!(events.len(), 6);
    for pair in events.chunks(2) {
        assert_eq!(protocol_fields(&pair[0]), protocol_fields(&pair[1]));
    }
    let e = &events[0];
    assert_eq!(
        (&e["protocol"], &e["transport"], &e["class"]),
        (&"goose".into(), &"ethernet".into(), &"control".into())
    );
    assert!(e["src_ip"].is_null() && e["dst_port"].is_null());
    assert_eq!(e["src_mac"], "00:0a:dc:00:00:01");
    assert_eq!(e["gocb_ref"], "IED1LD0/LLN0$GO$gcb1");
    assert_eq!(events[4]["function"], "state_change");
    assert_eq!(events[4]["previous_st_num"], 1);
    // Two flows: the same MACs on VLAN 10 and untagged.
    let stats = run.stats();
    assert_eq!(stats["traffic"]["vlan_tagged"], 3);
    assert_eq!(stats["protocols"]["goose"]["flows"], 2);
    assert_eq!(stats["protocols"]["goose"]["pdus"], 6);
}

#[test]
fn goose_publishers_are_ieds() {
    let Some(dir) = shared_pcaps("goose") else {
        return;
    };
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("plant.db");
    let capture = dir.join("sample_file_goose.pcap");
    replay_into_store(&capture, &db, &[]);
    let doc = assets_json(&db, &[]);
    let assets = doc["assets"].as_array().unwrap();
    // Three publishers; the multicast group is no asset.
    assert_eq!(assets.len(), 3);
    for asset in assets {
        assert_eq!(asset["role"], "ied", "{}", asset["id"]);
        assert_eq!(asset["role_reason"], "serves goose");
    }
}

/// A publisher that falls silent is reported when its time allowed to live
/// runs out in packet time, with no frame after it: two frames of
/// `ethernet()`'s publisher (timeAllowedtoLive 2000 ms), then 30 s in which
/// only a second publisher (its frames once a second, well within the same
/// TTL) and a Modbus poll speak. Exactly one `ttl_expired` event, for the
/// silent one, and the default pack's OT-GOOSE-002 on it; the same output
/// whatever the thread count.
#[test]
fn a_silent_publisher_raises_ttl_expired_once_without_a_next_frame() {
    use common::craft::{Craft, host, modbus};
    let silent_mac = [0x00, 0x0a, 0xdc, 0x00, 0x00, 0x01];
    let steady_mac = [0x00, 0x0a, 0xdc, 0x00, 0x00, 0x02];
    let group = [0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01];
    // The GOOSE payload after the Ethernet header; the steady one names gcb2.
    let silent = |st, sq| ethernet(false, st, sq)[14..].to_vec();
    let steady = |sq| {
        let mut payload = ethernet(false, 1, sq)[14..].to_vec();
        let at = payload.windows(4).position(|w| w == b"gcb1").unwrap();
        payload[at + 3] = b'2';
        payload
    };
    let (hmi, plc) = (host("10.0.1.10"), host("10.0.2.1"));
    let mut craft = Craft::new();
    craft.ethernet(silent_mac, group, 0x88b8, &silent(1, 0));
    craft.ethernet(silent_mac, group, 0x88b8, &silent(1, 1));
    let mut tcp = craft.connect(hmi, plc, 40000, 502);
    for t in 0..30u8 {
        craft.ethernet(steady_mac, group, 0x88b8, &steady(t));
        craft.exchange(
            &mut tcp,
            &modbus(t.into(), 1, &[0x03, 0x00, 0x00, 0x00, 0x01]),
            &modbus(t.into(), 1, &[0x03, 0x02, 0x00, 0x2a]),
        );
        craft.wait(1.0);
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("silent_publisher.pcap");
    craft.write(&capture);

    let runs: Vec<Replay> = ["1", "3"]
        .iter()
        .map(|threads| replay(&[&capture], &["--threads", threads]))
        .collect();
    let events = runs[0].events();
    let expired: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["anomalies"]
                .as_array()
                .is_some_and(|a| a.iter().any(|n| n == "ttl_expired"))
        })
        .collect();
    assert_eq!(expired.len(), 1, "{expired:?}");
    let e = expired[0];
    assert_eq!(e["protocol"], "goose");
    assert_eq!(e["function"], "publisher_silent");
    assert_eq!(e["src_mac"], "00:0a:dc:00:00:01");
    assert_eq!(e["gocb_ref"], "IED1LD0/LLN0$GO$gcb1");
    assert_eq!(e["packet"], 2, "the silent publisher's last frame");
    assert_eq!((&e["st_num"], &e["sq_num"]), (&1.into(), &1.into()));
    // The last frame came 2 ms into the capture; its 2000 ms ran out 2 s later.
    let last = Timestamp::parse_rfc3339(e["ts"].as_str().unwrap()).unwrap();
    let expired_at = Timestamp::parse_rfc3339(e["ttl_expired_at"].as_str().unwrap()).unwrap();
    assert_eq!(expired_at.0 - last.0, 2_000_000_000);
    // The steady publisher's frames all came in time.
    let steady_events = events
        .iter()
        .filter(|e| e["src_mac"] == "00:0a:dc:00:00:02")
        .count();
    assert_eq!(steady_events, 30);

    let alerts: Vec<Value> = std::fs::read_to_string(runs[0].dir.path().join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|a: &Value| a["rule"] == "OT-GOOSE-002")
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["src"]["mac"], "00:0a:dc:00:00:01");
    assert_eq!(alerts[0]["count"], 1);

    for name in ["events.jsonl", "alerts.jsonl", "stats.json"] {
        let read = |run: &Replay| std::fs::read_to_string(run.dir.path().join(name)).unwrap();
        assert!(
            read(&runs[0]) == read(&runs[1]),
            "{name} differs with 3 threads"
        );
    }
}
