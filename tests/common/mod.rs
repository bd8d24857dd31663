//! Helpers shared by the integration tests: running the `otsensor` binary,
//! reading what it wrote, and reading Wireshark's `.tshark.json` oracles.
#![allow(dead_code)] // each test file uses a different subset

pub mod agreement;
pub mod craft;
pub mod detect;
pub mod payload;
pub mod syslog;
pub mod tmux;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[allow(unused_imports)] // each test file uses a different subset
pub use agreement::{Agreement, decoded_by_one, either_frames};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The capture bundled with the repository for the demo and the tests.
pub fn demo_capture() -> PathBuf {
    repo().join("captures/demo-plant.pcap")
}

/// `../shared/pcaps/<sub>` next to the repository, or `None` (with the reason
/// printed) where it is absent, so that tests using it skip.
pub fn shared_pcaps(sub: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared/pcaps").join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        // Written past the test harness's capture, so the reason shows in `cargo test` output.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {} is absent (the shared capture corpus is not on this machine)",
            dir.display()
        );
        None
    }
}

/// The captures of a shared corpus folder, in name order.
pub fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    files.sort();
    files
}

pub fn otsensor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_otsensor"))
}

/// Runs `otsensor` with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    otsensor().args(args).output().expect("running otsensor")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `otsensor replay CAPTURE --db DB --quiet` with `extra` arguments, which must succeed.
pub fn replay_into_store(capture: &Path, db: &Path, extra: &[&str]) {
    let args = [
        "replay",
        capture.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--quiet",
    ];
    let out = run(&[&args[..], extra].concat());
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `otsensor assets --db DB` with `extra` arguments.
pub fn list_assets(db: &Path, extra: &[&str]) -> Output {
    run(&[&["assets", "--db", db.to_str().unwrap()], extra].concat())
}

/// The store's assets as `otsensor assets --format json` lists them (with
/// `extra` arguments), which must succeed.
pub fn assets_json(db: &Path, extra: &[&str]) -> Value {
    let out = list_assets(db, &[extra, &["--format", "json"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What `otsensor replay --out DIR` wrote.
pub struct Replay {
    pub dir: tempfile::TempDir,
    pub output: Output,
}

impl Replay {
    pub fn events_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("events.jsonl")).unwrap()
    }

    pub fn stats_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stats.json")).unwrap()
    }

    pub fn events(&self) -> Vec<Value> {
        self.events_text()
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON line {line}: {e}"))
            })
            .collect()
    }

    pub fn stats(&self) -> Value {
        serde_json::from_str(&self.stats_text()).unwrap()
    }
}

/// Replays `captures` into a fresh directory with extra `args`; asserts success.
pub fn replay(captures: &[&Path], args: &[&str]) -> Replay {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = otsensor();
    cmd.arg("replay")
        .args(captures)
        .arg("--out")
        .arg(dir.path())
        .args(args);
    let output = cmd.output().expect("running otsensor");
    assert!(
        output.status.success(),
        "otsensor replay failed: {}\n{}",
        output.status,
        stderr(&output)
    );
    Replay { dir, output }
}

/// Offsets of the records of a little-endian classic pcap.
pub fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        offsets.push(at);
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    offsets
}

/// Wireshark's reading of a capture (`NAME.tshark.json` beside it).
pub struct Oracle {
    pub json: Value,
}

impl Oracle {
    pub fn for_capture(capture: &Path) -> Oracle {
        let stem = capture.file_stem().unwrap().to_str().unwrap();
        let path = capture.with_file_name(format!("{stem}.tshark.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Oracle {
            json: serde_json::from_str(&text).unwrap(),
        }
    }

    pub fn packets(&self) -> u64 {
        self.json["packets"].as_u64().unwrap()
    }

    /// Per-frame records of one protocol family, keyed by frame number.
    pub fn records(&self, family: &str) -> BTreeMap<u64, &serde_json::Map<String, Value>> {
        let Some(records) = self.json["protocols"][family]["records"].as_array() else {
            return BTreeMap::new();
        };
        records
            .iter()
            .map(|r| {
                let r = r.as_object().unwrap();
                (r["frame.number"].as_str().unwrap().parse().unwrap(), r)
            })
            .collect()
    }
}

/// A tshark field as a list of values (tshark gives one string, or a list for
/// frames with several PDUs).
pub fn field_values(record: &serde_json::Map<String, Value>, name: &str) -> Vec<String> {
    match record.get(name) {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
        Some(other) => panic!("unexpected tshark value {other}"),
    }
}

/// Events grouped by packet number, for one protocol.
pub fn events_by_packet<'a>(events: &'a [Value], protocol: &str) -> BTreeMap<u64, Vec<&'a Value>> {
    let mut by_packet: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for event in events.iter().filter(|e| e["protocol"] == protocol) {
        by_packet
            .entry(event["packet"].as_u64().unwrap())
            .or_default()
            .push(event);
    }
    by_packet
}
