//! Bad input is normal input: clear errors with the file and the byte offset,
//! what was read before the damage kept, and never a panic.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use common::*;
use otsensor::capture::write::PcapWriter;
use otsensor::time::Timestamp;
use serde_json::Value;

/// The demo capture's events whose packet number is at most `last`.
fn events_up_to(events: &[Value], last: u64) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["packet"].as_u64().unwrap() <= last)
        .cloned()
        .collect()
}

fn only_line(text: &str) -> &str {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {text}");
    lines[0]
}

#[test]
fn a_file_that_is_not_a_capture_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.pcap");
    std::fs::write(&notes, "maintenance notes, not a capture\n").unwrap();
    let out = run(&["replay", notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let line = only_line(&stderr(&out)).to_string();
    assert!(
        line.contains("notes.pcap") && line.contains("not a capture file"),
        "{line}"
    );
    assert!(stdout(&out).is_empty());

    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, "").unwrap();
    let out = run(&["replay", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(only_line(&stderr(&out)).contains("empty.pcap: empty file"));
}

#[test]
fn a_missing_file_exits_2_naming_it() {
    let out = run(&["replay", "/nonexistent/plant.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(only_line(&stderr(&out)).contains("/nonexistent/plant.pcap"));
}

fn damaged_replay_keeps_what_came_before(
    bytes: Vec<u8>,
    damage_offset: usize,
    good_packets: u64,
    reason: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.pcap");
    std::fs::write(&damaged, bytes).unwrap();
    let full = replay(&[&demo_capture()], &[]);
    let cut = replay(&[&damaged], &[]);
    let err = stderr(&cut.output);
    assert!(
        err.contains(&format!("byte offset {damage_offset}")) && err.contains(reason),
        "{err}"
    );
    let damage = &cut.stats()["captures"][0]["damage"];
    assert_eq!(damage["offset"], damage_offset as u64);
    assert!(damage["reason"].as_str().unwrap().contains(reason));
    assert_eq!(cut.stats()["traffic"]["packets"], good_packets);
    let expected = events_up_to(&full.events(), good_packets);
    assert!(expected.len() > 100);
    assert_eq!(
        cut.events(),
        expected,
        "every event before the damage is kept"
    );
}

#[test]
fn a_capture_truncated_mid_record_keeps_everything_before() {
    let bytes = std::fs::read(demo_capture()).unwrap();
    let offsets = record_offsets(&bytes);
    let cut_record = offsets.len() / 2;
    let at = offsets[cut_record];
    let truncated = bytes[..at + 30].to_vec();
    damaged_replay_keeps_what_came_before(truncated, at, cut_record as u64, "truncated record");
}

#[test]
fn a_corrupt_record_length_mid_file_keeps_everything_before() {
    let mut bytes = std::fs::read(demo_capture()).unwrap();
    let offsets = record_offsets(&bytes);
    let bad_record = offsets.len() / 3;
    let at = offsets[bad_record];
    bytes[at + 8..at + 12].copy_from_slice(&0x00ff_ff00u32.to_le_bytes());
    damaged_replay_keeps_what_came_before(bytes, at, bad_record as u64, "corrupt record header");
}

#[test]
fn a_capture_cut_inside_its_first_record_exits_2_saying_nothing_could_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    let bytes = std::fs::read(demo_capture()).unwrap();
    // The 24-byte file header, then 10 bytes of the first record's header.
    std::fs::write(&cut, &bytes[..24 + 10]).unwrap();
    let out_dir = dir.path().join("out");
    let out = run(&[
        "replay",
        cut.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cut.pcap")
            && err.contains("byte offset 24")
            && err.contains("truncated record"),
        "the damage is named: {err}"
    );
    assert!(
        err.lines()
            .last()
            .unwrap()
            .contains("nothing could be read from the captures"),
        "{err}"
    );
    // The statistics still say what happened.
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["captures"][0]["damage"]["offset"], 24);
    assert_eq!(stats["traffic"]["packets"], 0);

    // With another capture that could be read, the replay succeeds.
    let both = replay(&[&cut, &demo_capture()], &[]);
    assert_eq!(both.stats()["traffic"]["packets"], 13465);
}

fn write_wifi_capture(path: &Path) {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap(), 105, false, false).unwrap();
    w.packet(Timestamp::from_secs(1), &[0u8; 40], 40).unwrap();
}

#[test]
fn an_unsupported_link_type_is_named_and_other_files_still_replay() {
    let dir = tempfile::tempdir().unwrap();
    let wifi = dir.path().join("wifi.pcap");
    write_wifi_capture(&wifi);
    // Both files in one folder, so their name order does not depend on
    // where the repository is checked out.
    let demo = dir.path().join("x-demo-plant.pcap");
    std::os::unix::fs::symlink(demo_capture(), &demo).unwrap();
    let both = replay(&[&demo, &wifi], &[]);
    let err = stderr(&both.output);
    assert!(
        err.contains("wifi.pcap") && err.contains("unsupported link type 105 (IEEE802_11)"),
        "{err}"
    );
    assert_eq!(
        both.stats()["traffic"]["packets"],
        13465,
        "the demo capture replayed"
    );
    // stats.json lists the skipped file with its error, in timeline order.
    let captures = both.stats()["captures"].as_array().unwrap().clone();
    assert_eq!(captures.len(), 2, "{captures:#?}");
    assert!(captures[0]["file"].as_str().unwrap().ends_with("wifi.pcap"));
    assert!(
        captures[0]["error"]
            .as_str()
            .unwrap()
            .contains("unsupported link type 105 (IEEE802_11)"),
        "{captures:#?}"
    );
    assert_eq!(captures[0]["packets"], 0);
    assert!(
        captures[1]["file"]
            .as_str()
            .unwrap()
            .ends_with("demo-plant.pcap")
    );
    assert!(captures[1].get("error").is_none(), "{captures:#?}");
    assert_eq!(captures[1]["packets"], 13465);

    let alone = run(&["replay", wifi.to_str().unwrap()]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(only_line(&stderr(&alone)).contains("unsupported link type 105"));
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let mut child = otsensor()
        .args(["replay", demo_capture().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once, as `| head -0` would.
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn directories_are_searched_and_non_captures_in_them_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("day1")).unwrap();
    std::fs::copy(demo_capture(), dir.path().join("day1/plant.pcap")).unwrap();
    std::fs::write(dir.path().join("README.txt"), "captures from the plant").unwrap();
    let run = replay(&[dir.path()], &[]);
    assert_eq!(run.stats()["traffic"]["packets"], 13465);
    assert!(
        stderr(&run.output).contains("not captures"),
        "{}",
        stderr(&run.output)
    );
}
