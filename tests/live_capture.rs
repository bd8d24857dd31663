//! `otsensor live` end to end: in two network namespaces that each test makes
//! itself, joined by a veth pair, `tcpreplay` sends a capture into one end
//! and the sensor listens on the other. Traffic never leaves the pair.
//!
//! These need root, `ip` (iproute2) and `tcpreplay`, and the prefilter tests
//! the eBPF object (`cargo xtask build-ebpf`): they are `#[ignore]`d, and CI
//! runs them as root with `--include-ignored`. Run by someone without root,
//! they print why they skip; in CI (`CI` set) a missing tool fails them.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::syslog::{UdpSyslog, assert_final_alerts_exported};
use common::tmux::{Tmux, cooked, wait_for_file};
use otsensor::capture::write::PcapWriter;
use otsensor::time::Timestamp;
use serde_json::Value;

/// Frames per second tcpreplay sends the OT capture at: a moderate rate
/// that the sensor must take without a single drop.
const OT_RATE: &str = "5000";
/// The bundled demo capture's frames.
const DEMO_FRAMES: u64 = 13_465;
/// Bulk frames per transport in the prefilter tests.
const BULK_FRAMES: u32 = 5_000;
/// How long to wait for the sensor to have seen every frame sent.
const SETTLE: Duration = Duration::from_secs(60);

/// Why the lab cannot run here, or `None` when it can.
fn missing_prerequisite(needs_prefilter: bool) -> Option<String> {
    // SAFETY: plain getter.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (network namespaces, packet sockets)".into());
    }
    for tool in ["ip", "tcpreplay"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!(
                "{tool} is not installed (apt-get install iproute2 tcpreplay)"
            ));
        }
    }
    if needs_prefilter && !prefilter_object().is_file() {
        return Some(format!(
            "the eBPF prefilter is not built ({}): cargo xtask build-ebpf",
            prefilter_object().display()
        ));
    }
    None
}

/// Skips (printing why) where the lab cannot run; in CI, fails instead.
fn lab_or_skip(name: &str, needs_prefilter: bool) -> Option<Lab> {
    if let Some(reason) = missing_prerequisite(needs_prefilter) {
        if std::env::var_os("CI").is_some() && unsafe { libc::geteuid() } == 0 {
            panic!("{name}: cannot run in CI: {reason}");
        }
        eprintln!("SKIPPED {name}: {reason}");
        return None;
    }
    Some(Lab::new(name))
}

fn prefilter_object() -> PathBuf {
    common::repo().join("target/bpf/otsensor-prefilter.o")
}

fn run(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Two namespaces, `sender` with `snd0` and `sensor` with `cap0`, a veth
/// pair between them, no addresses and no IPv6 (so that only the frames
/// tcpreplay sends cross). Removed on drop, also when a test fails.
struct Lab {
    sender: String,
    sensor: String,
}

const SEND_IF: &str = "snd0";
const CAPTURE_IF: &str = "cap0";

impl Lab {
    fn new(name: &str) -> Lab {
        let tag = format!("{}-{}", std::process::id(), name);
        let lab = Lab {
            sender: format!("otsl-tx-{tag}"),
            sensor: format!("otsl-rx-{tag}"),
        };
        for ns in [&lab.sender, &lab.sensor] {
            run(Command::new("ip").args(["netns", "add", ns]));
            for scope in ["all", "default"] {
                run(Command::new("ip")
                    .args(["netns", "exec", ns, "sysctl", "-qw"])
                    .arg(format!("net.ipv6.conf.{scope}.disable_ipv6=1")));
            }
        }
        run(Command::new("ip").args([
            "link",
            "add",
            SEND_IF,
            "netns",
            &lab.sender,
            "type",
            "veth",
            "peer",
            "name",
            CAPTURE_IF,
            "netns",
            &lab.sensor,
        ]));
        for (ns, dev) in [(&lab.sender, SEND_IF), (&lab.sensor, CAPTURE_IF)] {
            run(Command::new("ip").args(["-n", ns, "link", "set", dev, "mtu", "9000", "up"]));
        }
        lab
    }

    /// Starts `otsensor live` on the capture end; returns once it is capturing.
    fn start_sensor(&self, out: &Path, extra: &[&str]) -> Sensor {
        let binary = Path::new(env!("CARGO_BIN_EXE_otsensor"));
        self.start_sensor_as(&[], binary, out, extra)
    }

    /// As [`Lab::start_sensor`], `binary` started through `wrapper` (e.g.
    /// `setpriv` with fewer privileges) inside the namespace.
    fn start_sensor_as(
        &self,
        wrapper: &[String],
        binary: &Path,
        out: &Path,
        extra: &[&str],
    ) -> Sensor {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.sensor]).args(wrapper);
        cmd.arg(binary)
            .args(["live", "--interface", CAPTURE_IF, "--threads", "2", "--out"])
            .arg(out)
            .args(extra);
        Sensor::start(cmd, out)
    }

    /// Sends `capture` from the sender end at `rate` frames/s (`None`: top speed).
    fn send(&self, capture: &Path, rate: Option<&str>) {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.sender,
            "tcpreplay",
            "-q",
            "-i",
            SEND_IF,
        ]);
        match rate {
            Some(pps) => cmd.args(["--pps", pps]),
            None => cmd.arg("--topspeed"),
        };
        run(cmd.arg(capture));
    }

    /// `ip -d link show` of the capture interface (shows an attached XDP program).
    fn capture_link(&self) -> String {
        run(Command::new("ip").args(["-d", "-n", &self.sensor, "link", "show", CAPTURE_IF]))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.sender, &self.sensor] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

struct Sensor {
    child: Option<Child>,
    out: PathBuf,
    /// Everything the sensor wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
    drain: Option<std::thread::JoinHandle<()>>,
}

impl Sensor {
    /// Spawns `cmd` (an `otsensor live` writing to `out`); returns once it is capturing.
    fn start(mut cmd: Command, out: &Path) -> Sensor {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting otsensor live");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.wait();
                panic!("otsensor live ended before capturing:\n{seen}");
            }
            seen.push_str(&line);
            if line.contains("capturing on") {
                break;
            }
        }
        // Keep draining stderr so that the sensor never blocks on it.
        let shared = Arc::new(Mutex::new(seen));
        let kept = shared.clone();
        let drain = std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Sensor {
            child: Some(child),
            out: out.to_path_buf(),
            stderr: shared,
            drain: Some(drain),
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: signals our own child.
        unsafe { libc::kill(self.pid() as i32, signal) };
    }

    /// Waits (at most [`SETTLE`]) until the sensor has written `text` on stderr; all of it.
    fn wait_for_stderr(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let all = self.stderr.lock().unwrap().clone();
            if all.contains(text) {
                return all;
            }
            assert!(started.elapsed() < SETTLE, "no {text:?} on stderr:\n{all}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The live statistics as last written to stats.json.
    fn live_stats(&self) -> Option<Value> {
        let text = std::fs::read_to_string(self.out.join("stats.json")).ok()?;
        let doc: Value = serde_json::from_str(&text).ok()?;
        Some(doc["live"].clone())
    }

    /// The live statistics now (stats.json is rewritten in place every
    /// second: a read in the middle of a rewrite is tried again).
    fn current_stats(&self) -> Value {
        let started = Instant::now();
        loop {
            if let Some(live) = self.live_stats().filter(|l| !l.is_null()) {
                return live;
            }
            assert!(
                started.elapsed() < SETTLE,
                "no stats.json in {}",
                self.out.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the sensor has counted `frames` frames (received, or
    /// dropped by the prefilter), or [`SETTLE`] has passed.
    fn wait_for(&self, frames: u64) {
        let started = Instant::now();
        while started.elapsed() < SETTLE {
            if let Some(live) = self.live_stats() {
                let seen = live["packets"].as_u64().unwrap_or(0)
                    + live["drops"]["prefilter_policy"].as_u64().unwrap_or(0);
                if seen >= frames {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the sensor with SIGTERM, as an operator would; returns its stderr.
    fn stop(self) -> String {
        self.stop_with(libc::SIGTERM)
    }

    /// Stops the sensor with `signal`, checks that it ended well; its stderr.
    fn stop_with(mut self, signal: libc::c_int) -> String {
        self.signal(signal);
        let mut child = self.child.take().unwrap();
        let status = child.wait().unwrap();
        let stderr = self.finish_stderr();
        assert!(status.success(), "otsensor live failed: {status}\n{stderr}");
        stderr
    }

    fn finish_stderr(&mut self) -> String {
        if let Some(drain) = self.drain.take() {
            drain.join().unwrap();
        }
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the sensor to end by itself; its exit status and stderr.
    fn wait_for_exit(mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("otsensor live did not end by itself");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        (status, self.finish_stderr())
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Events by (protocol, function), as a user compares two runs.
fn event_counts(events_jsonl: &Path) -> BTreeMap<(String, String), u64> {
    counts_by_function(events_jsonl, |_| 1)
}

/// Frames by (protocol, function) that the events account for: a summary
/// event (PROFINET cyclic and PTCP frames, one per connection and second of
/// packet time) counts the `frames` it stands for, any other event one. Live
/// packet times are tcpreplay's, closer together than the capture's, so the
/// same frames come in fewer summaries.
fn frame_counts(events_jsonl: &Path) -> BTreeMap<(String, String), u64> {
    counts_by_function(events_jsonl, |event| event["frames"].as_u64().unwrap_or(1))
}

/// `weight` of each event of `events_jsonl`, added up by (protocol, function).
fn counts_by_function(
    events_jsonl: &Path,
    weight: fn(&Value) -> u64,
) -> BTreeMap<(String, String), u64> {
    let text = std::fs::read_to_string(events_jsonl).unwrap();
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let key = (
            event["protocol"].as_str().unwrap_or("").to_string(),
            event["function"].as_str().unwrap_or("").to_string(),
        );
        *counts.entry(key).or_default() += weight(&event);
    }
    counts
}

fn replayed_event_counts(capture: &Path) -> BTreeMap<(String, String), u64> {
    let run = common::replay(&[capture], &[]);
    event_counts(&run.dir.path().join("events.jsonl"))
}

/// Checks that every thread of the sensor process runs as `nobody` with
/// no capability (a capability set belongs to a thread, not a process).
fn assert_unprivileged(pid: u32) {
    let mut tasks = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let status = std::fs::read_to_string(task.join("status")).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("no {name} in {}/status", task.display()))
                .split_whitespace()
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let thread = field("Name:").join(" ");
        assert!(
            field("Uid:").iter().all(|uid| uid == "65534"),
            "thread {thread} not running as nobody: {:?}",
            field("Uid:")
        );
        for caps in ["CapEff:", "CapPrm:"] {
            assert_eq!(
                field(caps),
                ["0000000000000000"],
                "thread {thread}: {caps} not empty"
            );
        }
        tasks += 1;
    }
    assert!(tasks > 1, "the sensor runs its workers on threads");
}

/// As [`assert_unprivileged`], once the capture's threads have started.
fn assert_unprivileged_while_capturing(sensor: &Sensor) {
    sensor.wait_for_stderr("packets");
    assert_unprivileged(sensor.pid());
}

fn drops(live: &Value) -> BTreeMap<String, u64> {
    live["drops"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

/// Bulk transfers on ports no decoder handles: UDP datagrams to port 9000
/// and TCP segments of a transfer to port 5001, 1400 bytes each,
/// `BULK_FRAMES` of each, alternating.
fn bulk_frames() -> Vec<Vec<u8>> {
    let payload = [0x5au8; 1400];
    let mut frames = Vec::new();
    for i in 0..BULK_FRAMES {
        for tcp in [false, true] {
            let mut f = Vec::with_capacity(1500);
            f.extend([0x02, 0, 0, 0, 0, 0x02]); // destination MAC
            f.extend([0x02, 0, 0, 0, 0, 0x01]); // source MAC
            f.extend([0x08, 0x00]); // IPv4
            let l4_len = if tcp { 20 } else { 8 } + payload.len();
            f.extend([0x45, 0x00]);
            f.extend(((20 + l4_len) as u16).to_be_bytes()); // total length
            f.extend([0x00, 0x00, 0x40, 0x00]); // id, don't fragment
            f.extend([64, if tcp { 6 } else { 17 }, 0, 0]); // TTL, protocol, checksum
            f.extend([192, 0, 2, 1, 192, 0, 2, 2]); // documentation addresses (TEST-NET-1)
            if tcp {
                f.extend(40_000u16.to_be_bytes());
                f.extend(5001u16.to_be_bytes());
                f.extend((1 + i * payload.len() as u32).to_be_bytes()); // sequence
                f.extend(1u32.to_be_bytes()); // acknowledgement
                f.extend([0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]); // offset 5, ACK|PSH, window
            } else {
                f.extend(40_001u16.to_be_bytes());
                f.extend(9000u16.to_be_bytes());
                f.extend((l4_len as u16).to_be_bytes());
                f.extend([0, 0]);
            }
            f.extend(payload);
            frames.push(f);
        }
    }
    frames
}

/// The demo capture with the bulk frames spread evenly over its time span,
/// merged by timestamp, as a SPAN port mixes them. Returns where in the
/// merged capture the first and the last bulk frame are.
fn write_mixed_capture(path: &Path) -> (usize, usize) {
    let demo = frames_of(&common::demo_capture());
    let (first, last) = (demo[0].0.0, demo[demo.len() - 1].0.0);
    let bulk = bulk_frames();
    let step = (last - first) / bulk.len() as i64;
    let mut mixed: Vec<(Timestamp, Vec<u8>, bool)> =
        demo.into_iter().map(|(ts, f)| (ts, f, false)).collect();
    for (i, frame) in bulk.into_iter().enumerate() {
        mixed.push((Timestamp(first + step / 2 + step * i as i64), frame, true));
    }
    // Stable: frames of the same time keep their order.
    mixed.sort_by_key(|(ts, _, _)| *ts);
    let at_bulk: Vec<usize> = (0..mixed.len()).filter(|&i| mixed[i].2).collect();
    let frames: Vec<(Timestamp, Vec<u8>)> = mixed.into_iter().map(|(ts, f, _)| (ts, f)).collect();
    write_frames(path, &frames);
    (at_bulk[0], at_bulk[at_bulk.len() - 1])
}

#[test]
#[ignore = "needs root, iproute2 and tcpreplay; CI runs it with --include-ignored"]
fn live_capture_decodes_what_replay_decodes_without_drops_and_runs_unprivileged() {
    let Some(lab) = lab_or_skip("afpacket", false) else {
        return;
    };
    let demo = common::demo_capture();
    let out = tempfile::tempdir().unwrap();
    let sensor = lab.start_sensor(out.path(), &[]);
    assert_unprivileged_while_capturing(&sensor);
    lab.send(&demo, Some(OT_RATE));
    sensor.wait_for(DEMO_FRAMES);
    let stderr = sensor.stop();

    let live = serde_json::from_str::<Value>(
        &std::fs::read_to_string(out.path().join("stats.json")).unwrap(),
    )
    .unwrap()["live"]
        .clone();
    assert_eq!(live["packets"], DEMO_FRAMES, "{stderr}");
    assert!(
        drops(&live).values().all(|&n| n == 0),
        "drops: {:?}",
        drops(&live)
    );
    assert_eq!(
        event_counts(&out.path().join("events.jsonl")),
        replayed_event_counts(&demo),
        "live and replay events differ"
    );
    assert!(
        stderr.contains("drops: nic 0, kernel 0, ring 0"),
        "{stderr}"
    );
}

/// Sends the demo capture mixed with bulk traffic through the prefilter in
/// `mode`; checks that bulk is dropped and counted, OT complete, nothing
/// left attached.
fn prefilter_drops_bulk_and_keeps_ot(mode: &str) {
    let Some(lab) = lab_or_skip(&format!("prefilter-{mode}"), true) else {
        return;
    };
    let demo = common::demo_capture();
    let out = tempfile::tempdir().unwrap();
    let mixed = out.path().join("mixed.pcap");
    let (first_bulk, last_bulk) = write_mixed_capture(&mixed);
    let total = DEMO_FRAMES as usize + 2 * BULK_FRAMES as usize;
    assert!(
        first_bulk < total / 100 && last_bulk > total * 99 / 100,
        "bulk is not spread over the capture: {first_bulk}..{last_bulk} of {total}"
    );
    let object = prefilter_object();
    let sensor = lab.start_sensor(
        out.path(),
        &[
            "--xdp",
            "--xdp-mode",
            mode,
            "--xdp-object",
            object.to_str().unwrap(),
        ],
    );
    assert_unprivileged_while_capturing(&sensor);
    if mode == "skb" {
        assert!(
            lab.capture_link().contains("prog/xdp"),
            "XDP not attached:\n{}",
            lab.capture_link()
        );
    }
    lab.send(&mixed, Some(OT_RATE));
    sensor.wait_for(DEMO_FRAMES + 2 * u64::from(BULK_FRAMES));
    let stderr = sensor.stop();
    assert!(
        !lab.capture_link().contains("prog/xdp"),
        "an XDP program is left on the interface:\n{}",
        lab.capture_link()
    );

    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("stats.json")).unwrap())
            .unwrap();
    let live = &doc["live"];
    let bulk_frames = 2 * u64::from(BULK_FRAMES);
    assert_eq!(live["drops"]["prefilter_policy"], bulk_frames, "{stderr}");
    assert_eq!(
        live["packets"], DEMO_FRAMES,
        "only OT reached the sensor: {stderr}"
    );
    let by_class: BTreeMap<&str, &Value> = live["prefilter"]["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p))
        .collect();
    assert_eq!(
        by_class["other_udp"]["dropped_packets"],
        u64::from(BULK_FRAMES)
    );
    assert_eq!(
        by_class["other_tcp"]["dropped_packets"],
        u64::from(BULK_FRAMES)
    );
    assert_eq!(by_class["modbus"]["dropped_packets"], 0);
    assert_eq!(live["prefilter"]["passed_packets"], DEMO_FRAMES);
    // The statistics line says it too.
    let attached = if mode == "skb" {
        "xdp (generic)"
    } else {
        "socket filter"
    };
    assert!(
        stderr.contains(&format!(
            "prefilter ({attached}): 13,465 passed, 10,000 dropped"
        )),
        "{stderr}"
    );
    let other = drops(live);
    assert_eq!(
        (
            other["nic"],
            other["kernel"],
            other["ring"],
            other["worker_queue"]
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        event_counts(&out.path().join("events.jsonl")),
        replayed_event_counts(&demo),
        "OT events are not complete behind the prefilter"
    );
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and the eBPF object; CI runs it with --include-ignored"]
fn xdp_prefilter_drops_bulk_traffic_keeps_ot_complete_and_detaches() {
    prefilter_drops_bulk_and_keeps_ot("skb");
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and the eBPF object; CI runs it with --include-ignored"]
fn socket_filter_fallback_drops_bulk_traffic_and_keeps_ot_complete() {
    prefilter_drops_bulk_and_keeps_ot("socket");
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and tmux; CI runs it with --include-ignored"]
fn live_dashboard_shows_the_capture_and_quitting_it_stops_and_saves() {
    let Some(lab) = lab_or_skip("tui", false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = (dir.path().join("out"), dir.path().join("plant.db"));
    let d = dir.path().display();
    let command = format!(
        "ip netns exec {} {} live --interface {CAPTURE_IF} --threads 2 --tui \
         --policy {} --out {} --db {}; echo \"exit=$?\" > {d}/status; stty -a > {d}/stty; sleep 60",
        lab.sensor,
        env!("CARGO_BIN_EXE_otsensor"),
        common::repo().join("rules/example-plant").display(),
        out.display(),
        db.display(),
    );
    let Some(tmux) = Tmux::start("live", &command) else {
        return;
    };
    tmux.wait_for(&["live on cap0"]);
    lab.send(&common::demo_capture(), Some(OT_RATE));

    let overview = tmux.wait_for(&["13,465 packets", "modbus", "dnp3"]);
    // The live stages show counts, not the dash a replay shows for them.
    for stage in ["kernel", "ring", "prefilter", "queue"] {
        let line = overview
            .lines()
            .find(|l| l.contains(stage))
            .unwrap_or_else(|| panic!("no {stage} line:\n{overview}"));
        assert!(!line.contains('—'), "{stage} is not counted:\n{overview}");
    }
    tmux.keys("2");
    tmux.wait_for(&["10.10.1.10", "Schneider Electric"]);
    tmux.keys("/rockwell");
    tmux.keys("Enter");
    tmux.wait_for(&["10.10.2.20", "1756-L71/B LOGIX5571", "PowerFlex 525"]);
    tmux.keys("4");
    tmux.wait_for(&["Traffic the conduit does not permit"]);

    tmux.keys("q");
    let status = wait_for_file(&dir.path().join("status"));
    assert_eq!(status.trim(), "exit=0");
    assert!(cooked(&wait_for_file(&dir.path().join("stty"))));
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["live"]["packets"], DEMO_FRAMES);
    let alerts = std::fs::read_to_string(out.join("alerts.jsonl")).unwrap();
    assert!(alerts.contains("\"rule\":\"OT-ZONE-002\""), "{alerts}");
    assert!(db.is_file(), "the store was not saved");
}

#[test]
#[ignore = "needs root, iproute2 and tcpreplay; CI runs it with --include-ignored"]
fn an_interface_that_goes_away_ends_the_capture_with_an_error_keeping_what_was_decoded() {
    let Some(lab) = lab_or_skip("gone", false) else {
        return;
    };
    let demo = common::demo_capture();
    let out = tempfile::tempdir().unwrap();
    let sensor = lab.start_sensor(out.path(), &[]);
    lab.send(&demo, Some(OT_RATE));
    sensor.wait_for(DEMO_FRAMES);
    run(Command::new("ip").args(["-n", &lab.sensor, "link", "del", CAPTURE_IF]));
    let (status, stderr) = sensor.wait_for_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the interface went away"), "{stderr}");
    assert!(stderr.contains("stopped on an error"), "{stderr}");
    assert_eq!(
        event_counts(&out.path().join("events.jsonl")),
        replayed_event_counts(&demo),
        "what was captured before is kept"
    );
}

#[test]
fn a_missing_interface_is_named_with_exit_code_2() {
    let output = common::otsensor()
        .args(["live", "--interface", "no-such-if0", "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("interface \"no-such-if0\" does not exist"),
        "{stderr}"
    );
}

/// `setpriv` arguments that run a command as `nobody` holding only `caps`
/// (e.g. `net_raw`), as a non-root sensor given capabilities would.
fn as_nobody_with(caps: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]
    .map(String::from)
    .to_vec();
    if !caps.is_empty() {
        let list: Vec<String> = caps.iter().map(|c| format!("+{c}")).collect();
        args.push(format!("--inh-caps={}", list.join(",")));
        args.push(format!("--ambient-caps={}", list.join(",")));
    }
    args
}

/// Copies of the binary and the eBPF object that `nobody` may run and read
/// (the build tree may sit in a home directory only root can enter).
fn copies_for_nobody(dir: &Path) -> (PathBuf, PathBuf) {
    readable_by_all(dir);
    let (binary, object) = (dir.join("otsensor"), dir.join("otsensor-prefilter.o"));
    // A link where the file system allows one: a copy is open for writing
    // while it is made, and a test forking then makes running it fail with
    // "Text file busy".
    let built = env!("CARGO_BIN_EXE_otsensor");
    if std::fs::hard_link(built, &binary).is_err() {
        std::fs::copy(built, &binary).unwrap();
    }
    if prefilter_object().is_file() {
        std::fs::copy(prefilter_object(), &object).unwrap();
        readable_by_all(&object);
    }
    (binary, object)
}

fn have_setpriv() -> bool {
    let found = Command::new("setpriv").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "setpriv is not installed (util-linux)"
        );
        eprintln!("SKIPPED: setpriv is not installed (util-linux)");
    }
    found
}

/// Runs `otsensor ARGS` as an unprivileged user without capabilities: this
/// user, or `nobody` (a copy of the binary in `dir`) when run as root;
/// `None` where setpriv is missing (said why).
fn run_without_capabilities(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    // SAFETY: plain getter.
    if unsafe { libc::geteuid() } != 0 {
        return Some(common::otsensor().args(args).output().unwrap());
    }
    if !have_setpriv() {
        return None;
    }
    let (binary, _) = copies_for_nobody(dir);
    let output = Command::new("setpriv")
        .args(&as_nobody_with(&[])[1..])
        .arg(binary)
        .args(args)
        .output()
        .unwrap();
    Some(output)
}

#[test]
fn without_cap_net_raw_the_capability_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["live", "--interface", "lo", "--duration", "1"];
    let Some(output) = run_without_capabilities(dir.path(), &args) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs CAP_NET_RAW"), "{stderr}");
}

#[test]
#[ignore = "needs root, iproute2, setpriv and the eBPF object; CI runs it with --include-ignored"]
fn xdp_without_its_capabilities_names_the_missing_one() {
    let Some(lab) = lab_or_skip("caps", true) else {
        return;
    };
    if !have_setpriv() {
        return;
    }
    let last_cap = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap").unwrap();
    if last_cap.trim().parse::<u32>().unwrap() < 39 {
        eprintln!("SKIPPED: this kernel predates CAP_BPF (the message names CAP_SYS_ADMIN)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (binary, object) = copies_for_nobody(dir.path());
    let run = |caps: &[&str], extra: &[&str]| {
        let output = Command::new("ip")
            .args(["netns", "exec", &lab.sensor])
            .args(as_nobody_with(caps))
            .arg(&binary)
            .args([
                "live",
                "--interface",
                CAPTURE_IF,
                "--duration",
                "1",
                "--xdp",
            ])
            .arg("--xdp-object")
            .arg(&object)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr)
    };

    // CAP_NET_RAW alone opens the sockets, but the prefilter's maps cannot be made.
    let (code, stderr) = run(&["net_raw"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "loading the eBPF prefilter's maps: permission denied: needs CAP_BPF; this process lacks CAP_BPF"
        ),
        "{stderr}"
    );

    // Without CAP_NET_ADMIN, XDP cannot go on the interface: that is said,
    // not taken for a lack of XDP support.
    let (code, stderr) = run(&["net_raw", "bpf", "perfmon"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "loading the XDP program: permission denied: needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN; \
             this process lacks CAP_NET_ADMIN"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("XDP is not available"), "{stderr}");
    assert!(!lab.capture_link().contains("prog/xdp"));

    // Without CAP_PERFMON the verifier refuses the program's reads at
    // computed offsets: that too names the capability.
    let (code, stderr) = run(&["net_raw", "bpf"], &["--xdp-mode", "socket"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "loading the socket filter: permission denied: needs CAP_BPF and CAP_PERFMON; \
             this process lacks CAP_PERFMON"
        ),
        "{stderr}"
    );

    // The socket filter needs no CAP_NET_ADMIN (README, "Privileges").
    let (code, stderr) = run(&["net_raw", "bpf", "perfmon"], &["--xdp-mode", "socket"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("prefilter: socket filter on each capture socket"),
        "{stderr}"
    );
}

#[cfg(feature = "pcap")]
#[test]
#[ignore = "needs root, iproute2, tcpreplay and libpcap; CI runs it with --include-ignored"]
fn pcap_backend_applies_the_bpf_expression() {
    let Some(lab) = lab_or_skip("pcap", false) else {
        return;
    };
    let demo = common::demo_capture();
    let out = tempfile::tempdir().unwrap();
    let sensor = lab.start_sensor(out.path(), &["--backend", "pcap", "--bpf", "tcp port 502"]);
    assert_unprivileged_while_capturing(&sensor);
    lab.send(&demo, Some(OT_RATE));
    // The Modbus/TCP frames of the demo capture (those `tcp port 502` keeps).
    const MODBUS_FRAMES: u64 = 12_064;
    sensor.wait_for(MODBUS_FRAMES);
    let stderr = sensor.stop();
    let live = serde_json::from_str::<Value>(
        &std::fs::read_to_string(out.path().join("stats.json")).unwrap(),
    )
    .unwrap()["live"]
        .clone();
    assert_eq!(live["packets"], MODBUS_FRAMES, "{stderr}");
    assert!(
        drops(&live).values().all(|&n| n == 0),
        "drops: {:?}",
        drops(&live)
    );
    let modbus_only: BTreeMap<_, _> = replayed_event_counts(&demo)
        .into_iter()
        .filter(|((protocol, _), _)| protocol == "modbus")
        .collect();
    assert_eq!(event_counts(&out.path().join("events.jsonl")), modbus_only);
}

#[test]
#[ignore = "needs root and iproute2; CI runs it with --include-ignored"]
fn an_interface_that_is_down_is_refused_with_the_command_to_bring_it_up() {
    let Some(lab) = lab_or_skip("down", false) else {
        return;
    };
    run(Command::new("ip").args(["-n", &lab.sensor, "link", "set", CAPTURE_IF, "down"]));
    let output = Command::new("ip")
        .args(["netns", "exec", &lab.sensor])
        .arg(env!("CARGO_BIN_EXE_otsensor"))
        .args(["live", "--interface", CAPTURE_IF, "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("interface \"cap0\" is down: bring it up first (`ip link set cap0 up`)"),
        "{stderr}"
    );
}

/// A veth pair whose capture end is in this namespace (so that the sensor
/// reaches sinks on this loopback) and whose sending end is in a namespace
/// of the test's own.
struct RootLab {
    sender: String,
    capture: String,
}

impl RootLab {
    fn new() -> RootLab {
        let id = std::process::id() % 100_000;
        let lab = RootLab {
            sender: format!("otsl-tx-root-{id}"),
            capture: format!("otcap{id}"),
        };
        run(Command::new("ip").args(["netns", "add", &lab.sender]));
        run(Command::new("ip").args([
            "link",
            "add",
            &lab.capture,
            "type",
            "veth",
            "peer",
            "name",
            SEND_IF,
            "netns",
            &lab.sender,
        ]));
        run(Command::new("sysctl")
            .arg("-qw")
            .arg(format!("net.ipv6.conf.{}.disable_ipv6=1", lab.capture)));
        run(Command::new("ip").args(["link", "set", &lab.capture, "up"]));
        run(Command::new("ip").args(["-n", &lab.sender, "link", "set", SEND_IF, "up"]));
        lab
    }
}

impl Drop for RootLab {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.capture])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.sender])
            .status();
    }
}

#[test]
#[ignore = "needs root, iproute2 and tcpreplay; CI runs it with --include-ignored"]
fn live_capture_exports_its_alerts_to_a_syslog_receiver() {
    if let Some(why) = missing_prerequisite(false) {
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let lab = RootLab::new();
    let syslog = UdpSyslog::start();
    let dir = tempfile::tempdir().unwrap();
    let config = syslog.config(dir.path(), "span-1");
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args([
            "live",
            "--interface",
            &lab.capture,
            "--threads",
            "2",
            "--out",
        ])
        .arg(&out)
        .arg("--policy")
        .arg(common::repo().join("rules/example-plant"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || {
        let mut all = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains("capturing on") {
                let _ = started_tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    started_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("otsensor live never started capturing");

    run(Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.sender,
            "tcpreplay",
            "-q",
            "--pps",
            OT_RATE,
            "-i",
            SEND_IF,
        ])
        .arg(common::demo_capture()));
    let waited = Instant::now();
    while waited.elapsed() < SETTLE {
        let live = std::fs::read_to_string(out.join("stats.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
        if live.is_some_and(|l| l["live"]["packets"].as_u64() >= Some(DEMO_FRAMES)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // The sinks' threads as well as the capture's.
    assert_unprivileged(child.id());
    // SAFETY: signals our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let stderr = drain.join().unwrap();
    assert!(status.success(), "{stderr}");

    let received = syslog.received();
    let alerts = assert_final_alerts_exported(&received, &out.join("alerts.jsonl"), &stderr);
    assert!(alerts > 0);
    assert!(
        received.iter().any(|m| m.contains("\"record\":\"asset\"")),
        "no asset records"
    );
    let line = stderr
        .lines()
        .find(|l| l.starts_with("otsensor: export siem:"))
        .unwrap_or_else(|| panic!("no export line:\n{stderr}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers[0], numbers[1], "queued = delivered: {line}");
    assert_eq!(numbers[0], received.len() as u64, "{line}");
}

/// A Modbus/TCP client polling a server on port 5020 (no decoder's
/// registered port): a handshake and `polls` read requests with their answers.
fn write_modbus_on_5020(path: &Path, client_port: u16, polls: u16) -> u64 {
    let mut craft = common::craft::Craft::new();
    let (client, server) = (
        common::craft::host("10.20.0.1"),
        common::craft::host("10.20.0.2"),
    );
    let mut tcp = craft.connect(client, server, client_port, 5020);
    for t in 0..polls {
        let request = common::craft::modbus(t, 1, &[0x03, 0x00, 0x00, 0x00, 0x02]);
        let response = common::craft::modbus(t, 1, &[0x03, 0x04, 0x00, 0x2a, 0x00, 0x07]);
        craft.exchange(&mut tcp, &request, &response);
    }
    craft.write(path);
    3 + 2 * u64::from(polls)
}

/// A file and its folder readable by the unprivileged user the sensor becomes.
fn readable_by_all(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The prefilter's counters by protocol (or class) name, from stats.json's `live`.
fn prefilter_counts(live: &Value) -> BTreeMap<String, (u64, u64)> {
    live["prefilter"]["protocols"]
        .as_array()
        .unwrap_or_else(|| panic!("no prefilter counters: {live}"))
        .iter()
        .map(|p| {
            let n = |field: &str| p[field].as_u64().unwrap();
            (
                p["name"].as_str().unwrap().to_string(),
                (n("passed_packets"), n("dropped_packets")),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and the eBPF object; CI runs it with --include-ignored"]
fn sighup_rereads_the_policy_and_the_prefilter_passes_the_port_it_adds() {
    let Some(lab) = lab_or_skip("sighup", true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    readable_by_all(dir.path());
    let policy = dir.path().join("plant.toml");
    std::fs::write(&policy, "# Modbus on 5020 is not declared yet\n").unwrap();
    readable_by_all(&policy);
    let (before, after) = (
        dir.path().join("before.pcap"),
        dir.path().join("after.pcap"),
    );
    let before_frames = write_modbus_on_5020(&before, 40_000, 10);
    let after_frames = write_modbus_on_5020(&after, 40_001, 10);
    let out = dir.path().join("out");
    let object = prefilter_object();
    let sensor = lab.start_sensor(
        &out,
        &[
            "--xdp",
            "--xdp-mode",
            "skb",
            "--xdp-object",
            object.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );

    // A policy with a mistake changes nothing, and says where the mistake is.
    std::fs::write(
        &policy,
        "[prefilter]\npass_ports = [\"tcp/5020=modbus\", \"tcp/5020=nope\"]\n",
    )
    .unwrap();
    sensor.signal(libc::SIGHUP);
    sensor.wait_for_stderr(&format!(
        "{}:2:34: pass_ports: \"nope\": not a decoded protocol",
        policy.display()
    ));
    lab.send(&before, Some(OT_RATE));
    sensor.wait_for(before_frames);
    let live = sensor.current_stats();
    assert_eq!(live["packets"], 0, "Modbus on 5020 passed: {live}");
    assert_eq!(prefilter_counts(&live)["other_tcp"], (0, before_frames));

    std::fs::write(&policy, "[prefilter]\npass_ports = [\"tcp/5020=modbus\"]\n").unwrap();
    sensor.signal(libc::SIGHUP);
    sensor.wait_for_stderr("the policy's own: tcp/5020=modbus");
    lab.send(&after, Some(OT_RATE));
    sensor.wait_for(before_frames + after_frames);
    let stderr = sensor.stop();

    let live =
        serde_json::from_str::<Value>(&std::fs::read_to_string(out.join("stats.json")).unwrap())
            .unwrap()["live"]
            .clone();
    assert_eq!(live["packets"], after_frames, "{stderr}");
    let counts = prefilter_counts(&live);
    assert_eq!(counts["modbus"], (after_frames, 0), "{counts:?}");
    assert_eq!(counts["other_tcp"], (0, before_frames), "{counts:?}");
    let events = event_counts(&out.join("events.jsonl"));
    assert_eq!(events, replayed_event_counts(&after));
    assert_eq!(
        events[&("modbus".to_string(), "read_holding_registers".to_string())],
        20,
        "{events:?}"
    );
}

/// The frames of a capture file (pcap or pcapng), with their times.
fn frames_of(capture: &Path) -> Vec<(Timestamp, Vec<u8>)> {
    use otsensor::capture::{CaptureFile, ChunkPool};
    let mut file = CaptureFile::open(capture).unwrap();
    let pool = ChunkPool::new(1 << 20, 2);
    let mut records = Vec::new();
    let mut frames = Vec::new();
    while let Some(chunk) = file.next_chunk(&pool, &mut records) {
        for r in records.drain(..) {
            let at = r.start as usize;
            frames.push((r.ts, chunk.bytes()[at..at + r.len as usize].to_vec()));
        }
    }
    assert!(file.damage().is_none(), "{}: damaged", capture.display());
    frames
}

fn write_frames(path: &Path, frames: &[(Timestamp, Vec<u8>)]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut pcap = PcapWriter::new(file, 1, true, false).unwrap();
    for (ts, frame) in frames {
        pcap.packet(*ts, frame, frame.len() as u32).unwrap();
    }
}

/// The prefilter's decision for one frame, made in user space by the same
/// classifier the kernel program runs, over the pass list of the default policy.
struct DefaultPassList(otsensor::capture::live::prefilter::PassTables);

impl DefaultPassList {
    fn new() -> DefaultPassList {
        use otsensor::capture::live::prefilter::PassTables;
        DefaultPassList(
            PassTables::from_signatures(&otsensor::protocols::wire_signatures()).unwrap(),
        )
    }

    fn passes(&self, frame: &[u8]) -> bool {
        otsensor_prefilter::classify(frame, self).pass
    }
}

impl otsensor_prefilter::PassList for DefaultPassList {
    fn tcp_port(&self, port: u16) -> u8 {
        self.0.tcp[usize::from(port)]
    }

    fn udp_port(&self, port: u16) -> u8 {
        self.0.udp[usize::from(port)]
    }

    fn ether_type(&self, ether_type: u16) -> u8 {
        self.0
            .ether_types
            .iter()
            .find(|&&(e, _)| e == ether_type)
            .map_or(otsensor_prefilter::NOT_LISTED, |&(_, id)| id)
    }
}

/// Shared captures of identity and layer-2 traffic: GOOSE in VLAN tags,
/// LLDP, CDP and STP (LLC), ARP, PROFINET with NetBIOS, LLMNR and DHCP
/// around it, DHCP with option overload.
const SHARED_L2: [(&str, &str); 4] = [
    ("goose", "sample_file_goose.pcap"),
    ("lldp_cdp", "openics_eip_swdl_failure_lldp_cdp_arp.pcap"),
    ("profinet", "profinet_io_cm_mixed_2.pcapng"),
    ("dhcp", "dhcp_option52_overload.pcap"),
];

/// Sends each shared capture through a sensor started with `extra`; its
/// events must equal `otsensor replay`'s of the frames that `passes` keeps
/// (all of them without a prefilter), and the others must be counted as
/// dropped by the prefilter. Returns how many frames that was.
fn shared_captures_decode_as_in_replay(
    name: &str,
    extra: &[&str],
    passes: &dyn Fn(&[u8]) -> bool,
) -> u64 {
    let Some(lab) = lab_or_skip(name, !extra.is_empty()) else {
        return 0;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut sent = 0;
    let mut dropped = 0;
    for (folder, file) in SHARED_L2 {
        let Some(corpus) = common::shared_pcaps(folder) else {
            continue;
        };
        let capture = corpus.join(file);
        let frames = frames_of(&capture);
        let kept: Vec<_> = frames.iter().filter(|(_, f)| passes(f)).cloned().collect();
        let expected = dir.path().join(format!("{file}.kept.pcap"));
        write_frames(&expected, &kept);

        let out = dir.path().join(file);
        let sensor = lab.start_sensor(&out, extra);
        lab.send(&capture, Some(OT_RATE));
        sensor.wait_for(frames.len() as u64);
        let stderr = sensor.stop();
        let live = serde_json::from_str::<Value>(
            &std::fs::read_to_string(out.join("stats.json")).unwrap(),
        )
        .unwrap()["live"]
            .clone();
        assert_eq!(live["packets"], kept.len() as u64, "{file}: {stderr}");
        assert_eq!(
            live["drops"]["prefilter_policy"],
            (frames.len() - kept.len()) as u64,
            "{file}: {stderr}"
        );
        let events = frame_counts(&out.join("events.jsonl"));
        assert!(!events.is_empty(), "{file}: no events");
        let replayed = common::replay(&[&expected], &[]);
        assert_eq!(
            events,
            frame_counts(&replayed.dir.path().join("events.jsonl")),
            "{file}: live and replay events differ"
        );
        sent += 1;
        dropped += (frames.len() - kept.len()) as u64;
    }
    if sent == 0 {
        eprintln!("SKIPPED {name}: none of the shared captures is here");
    }
    dropped
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and ../shared/pcaps; CI runs it with --include-ignored"]
fn shared_identity_and_layer2_captures_decode_live_as_in_replay() {
    assert_eq!(
        shared_captures_decode_as_in_replay("shared-afpacket", &[], &|_| true),
        0
    );
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay, the eBPF object and ../shared/pcaps; CI runs it with --include-ignored"]
fn shared_identity_and_layer2_captures_pass_the_xdp_prefilter_as_classified() {
    let object = prefilter_object();
    let list = DefaultPassList::new();
    let dropped = shared_captures_decode_as_in_replay(
        "shared-xdp",
        &[
            "--xdp",
            "--xdp-mode",
            "skb",
            "--xdp-object",
            object.to_str().unwrap(),
        ],
        &|frame| list.passes(frame),
    );
    // The PROFINET capture carries bulk the prefilter must drop (Dropbox LAN
    // sync broadcasts on UDP 17500, among others).
    if object.is_file() && common::repo().join("../shared/pcaps/profinet").is_dir() {
        assert!(dropped > 0, "the prefilter dropped nothing");
    }
}

/// The XDP program on the capture interface, if any (`ip -d link` shows `prog/xdp`).
fn xdp_attached(lab: &Lab) -> bool {
    lab.capture_link().contains("prog/xdp")
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and the eBPF object; CI runs it with --include-ignored"]
fn sigint_detaches_the_default_prefilter_and_saves_what_was_found() {
    let Some(lab) = lab_or_skip("sigint", true) else {
        return;
    };
    let demo = common::demo_capture();
    let out = tempfile::tempdir().unwrap();
    let object = prefilter_object();
    // The default mode (auto) tries driver XDP first: veth has it (since
    // 4.19) for frames that fit a page; where it is refused, the sensor says
    // why it fell back to generic mode or to the socket filter.
    for (ns, dev) in [(&lab.sender, SEND_IF), (&lab.sensor, CAPTURE_IF)] {
        run(Command::new("ip").args(["-n", ns, "link", "set", dev, "mtu", "1500"]));
    }
    let sensor = lab.start_sensor(
        out.path(),
        &["--xdp", "--xdp-object", object.to_str().unwrap()],
    );
    let started = sensor.wait_for_stderr("capturing on");
    let driver = started.contains("prefilter: XDP (driver mode)");
    let generic = started.contains("prefilter: XDP (generic mode; not driver mode: ");
    let socket = started.contains("XDP is not available here")
        && started.contains("using the socket filter instead");
    assert!(driver || generic || socket, "{started}");
    assert_eq!(xdp_attached(&lab), !socket, "{}", lab.capture_link());
    lab.send(&demo, Some(OT_RATE));
    sensor.wait_for(DEMO_FRAMES);
    let stderr = sensor.stop_with(libc::SIGINT);
    assert!(
        !xdp_attached(&lab),
        "left attached:\n{}",
        lab.capture_link()
    );
    let live = serde_json::from_str::<Value>(
        &std::fs::read_to_string(out.path().join("stats.json")).unwrap(),
    )
    .unwrap()["live"]
        .clone();
    let attached = match (driver, generic) {
        (true, _) => "xdp (driver)",
        (_, true) => "xdp (generic)",
        _ => "socket filter",
    };
    assert_eq!(live["prefilter"]["attached"], attached, "{stderr}");
    assert_eq!(live["packets"], DEMO_FRAMES, "{stderr}");
    assert_eq!(
        event_counts(&out.path().join("events.jsonl")),
        replayed_event_counts(&demo)
    );
    assert!(
        std::fs::read_to_string(out.path().join("assets.json"))
            .unwrap()
            .contains("10.10.1.10")
    );
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and the eBPF object; CI runs it with --include-ignored"]
fn when_the_duration_ends_the_xdp_prefilter_is_detached() {
    let Some(lab) = lab_or_skip("duration", true) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let object = prefilter_object();
    let sensor = lab.start_sensor(
        out.path(),
        &[
            "--xdp",
            "--xdp-mode",
            "skb",
            "--xdp-object",
            object.to_str().unwrap(),
            "--duration",
            "2",
        ],
    );
    assert!(xdp_attached(&lab), "{}", lab.capture_link());
    let (status, stderr) = sensor.wait_for_exit();
    assert!(status.success(), "{stderr}");
    assert!(
        !xdp_attached(&lab),
        "left attached:\n{}",
        lab.capture_link()
    );
    assert!(out.path().join("stats.json").is_file());
}

#[test]
#[ignore = "needs root, iproute2 and tcpreplay; CI runs it with --include-ignored"]
fn sigterm_saves_the_store_with_the_alerts() {
    let Some(lab) = lab_or_skip("store", false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = (dir.path().join("out"), dir.path().join("plant.db"));
    let policy = common::repo().join("rules/example-plant");
    let sensor = lab.start_sensor(
        &out,
        &[
            "--db",
            db.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    lab.send(&common::demo_capture(), Some(OT_RATE));
    sensor.wait_for(DEMO_FRAMES);
    let stderr = sensor.stop();

    let rules = |ids: Vec<String>| -> BTreeMap<String, usize> {
        let mut by_rule = BTreeMap::new();
        for id in ids {
            *by_rule.entry(id).or_default() += 1;
        }
        by_rule
    };
    let written: Vec<String> = std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["rule"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        written.iter().any(|r| r == "OT-ZONE-002"),
        "{written:?}\n{stderr}"
    );
    let store = otsensor::output::store::Store::open(&db).unwrap();
    let stored: Vec<String> = store
        .load_alerts()
        .unwrap()
        .into_iter()
        .map(|a| a.rule)
        .collect();
    assert_eq!(rules(stored), rules(written), "the store's alerts");
    assert_eq!(store.runs().unwrap(), 1);
    assert!(
        store.load_inventory().unwrap().assets().len() >= 40,
        "the store's assets"
    );
}

#[test]
#[ignore = "needs root and iproute2; CI runs it with --include-ignored"]
fn frames_the_sensors_own_host_sends_are_not_decoded() {
    let Some(lab) = lab_or_skip("outgoing", false) else {
        return;
    };
    // Addresses inside the test's namespaces only.
    run(Command::new("ip").args([
        "-n",
        &lab.sensor,
        "addr",
        "add",
        "10.99.0.2/24",
        "dev",
        CAPTURE_IF,
    ]));
    run(Command::new("ip").args([
        "-n",
        &lab.sender,
        "addr",
        "add",
        "10.99.0.1/24",
        "dev",
        SEND_IF,
    ]));
    let brief =
        run(Command::new("ip").args(["-n", &lab.sensor, "-br", "link", "show", CAPTURE_IF]));
    let own_mac = brief.split_whitespace().nth(2).unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    let sensor = lab.start_sensor(out.path(), &[]);
    // The sensor's host asks for the sender's address (ARP) and sends it a
    // datagram; the sender answers the ARP request.
    run(Command::new("ip").args([
        "netns",
        "exec",
        &lab.sensor,
        "bash",
        "-c",
        "echo probe > /dev/udp/10.99.0.1/9",
    ]));
    let started = Instant::now();
    while started.elapsed() < SETTLE
        && sensor.current_stats()["protocols"]["arp"]
            .as_u64()
            .unwrap_or(0)
            == 0
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let stderr = sensor.stop();
    let events = std::fs::read_to_string(out.path().join("events.jsonl")).unwrap();
    assert!(
        events.contains("\"function\":\"reply\""),
        "the sender's ARP reply was not seen:\n{events}\n{stderr}"
    );
    for line in events.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert_ne!(
            event["src_mac"],
            own_mac.as_str(),
            "an outgoing frame was decoded: {line}"
        );
    }
}

#[test]
#[ignore = "needs root, iproute2, tcpreplay and setpriv; CI runs it with --include-ignored"]
fn a_sensor_given_only_cap_net_raw_keeps_no_capability_on_any_thread() {
    let Some(lab) = lab_or_skip("setcap", false) else {
        return;
    };
    if !have_setpriv() {
        return;
    }
    // As a non-root sensor given CAP_NET_RAW with setcap: the sinks'
    // threads start after the capabilities are dropped, so none keeps them.
    let dir = tempfile::tempdir().unwrap();
    let (binary, _) = copies_for_nobody(dir.path());
    std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
    let syslog = UdpSyslog::start();
    let config = syslog.config(dir.path(), "span-1");
    readable_by_all(&config);
    let out = dir.path().join("out");
    let sensor = lab.start_sensor_as(
        &as_nobody_with(&["net_raw"]),
        &binary,
        &out,
        &["--config", config.to_str().unwrap()],
    );
    lab.send(&common::demo_capture(), Some(OT_RATE));
    sensor.wait_for(DEMO_FRAMES);
    assert_unprivileged(sensor.pid());
    let stderr = sensor.stop();
    assert!(
        stderr.contains("as uid 65534; no capabilities kept"),
        "{stderr}"
    );
    assert_eq!(sensor_packets(&out), DEMO_FRAMES);
}

/// The packets a finished sensor counted (stats.json's `live.packets`).
fn sensor_packets(out: &Path) -> u64 {
    let text = std::fs::read_to_string(out.join("stats.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["live"]["packets"]
        .as_u64()
        .unwrap()
}

#[test]
fn user_is_refused_when_not_root_and_naming_someone_else() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "live",
        "--interface",
        "lo",
        "--duration",
        "1",
        "--user",
        "root",
    ];
    let Some(output) = run_without_capabilities(dir.path(), &args) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--user root: becoming another user needs root"),
        "{stderr}"
    );
}
