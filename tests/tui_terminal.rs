//! The dashboard in a real terminal: tmux runs `otsensor replay … --tui`,
//! keys go in with send-keys, the screen comes back with capture-pane. Skips,
//! saying why, where tmux is not installed (`apt-get install tmux`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::syslog::{UdpSyslog, assert_final_alerts_exported};
use common::tmux::{Tmux, cooked, wait_for_exit, wait_for_file};

/// The shell command: otsensor with `args`, then its exit status and the
/// terminal's mode written to `dir`. With `exec`, the pid it runs as is written first.
fn command(dir: &Path, args: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_otsensor");
    let capture = common::demo_capture();
    let policy = common::repo().join("rules/example-plant");
    let d = dir.display();
    format!(
        "sh -c 'echo $$ > {d}/pid; exec {bin} replay {} --policy {} {args}'; \
         echo \"exit=$?\" > {d}/status; stty -a > {d}/stty; sleep 60",
        capture.display(),
        policy.display(),
    )
}

#[test]
fn tabs_show_the_captures_assets_and_alerts_and_q_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmux) = Tmux::start("keys", &command(dir.path(), "--tui --fast")) else {
        return;
    };
    tmux.wait_for(&["replay finished", "13,465 packets", "modbus"]);

    tmux.keys("2");
    tmux.wait_for(&[
        "Assets: 40 of 40",
        "10.10.1.10",
        "10.10.2.4",
        "Schneider Electric",
        "BMX P34 2020",
    ]);
    tmux.keys("/rockwell");
    tmux.keys("Enter");
    tmux.wait_for(&[
        "Assets: 4 of 40 matching \"rockwell\"",
        "10.10.2.20",
        "1756-L71/B LOGIX5571",
        "20.11",
        "PowerFlex 525",
    ]);

    tmux.keys("4");
    tmux.wait_for(&[
        "Alerts: 9 of 9",
        "Traffic the conduit does not permit",
        "Unauthenticated DNP3 crosses a zone boundary",
    ]);

    tmux.keys("3");
    tmux.wait_for(&["control-center ↔ field: conduit supervisory", "VIOLATION"]);

    tmux.keys("q");
    let status = wait_for_file(&dir.path().join("status"));
    assert_eq!(status.trim(), "exit=0");
    let stty = wait_for_file(&dir.path().join("stty"));
    assert!(cooked(&stty), "the terminal was left raw:\n{stty}");
    let after = tmux.screen();
    assert!(
        !after.contains("1 Overview"),
        "the dashboard is still on screen:\n{after}"
    );
    assert!(after.contains("Replayed 13,465 packets"), "{after}");
}

#[test]
fn a_watched_replay_exports_to_the_sinks_of_its_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let syslog = UdpSyslog::start();
    let config = syslog.config(dir.path(), "plant-1");
    let out = dir.path().join("out");
    let args = format!(
        "--tui --fast --out {} --config {}",
        out.display(),
        config.display()
    );
    let Some(tmux) = Tmux::start("export", &command(dir.path(), &args)) else {
        return;
    };
    tmux.wait_for(&["replay finished", "13,465 packets"]);
    tmux.keys("q");
    assert_eq!(wait_for_file(&dir.path().join("status")).trim(), "exit=0");
    let after = tmux.wait_for(&["export siem:"]);
    let received = syslog.received();
    let screen = format!("the screen:\n{after}");
    let alerts = assert_final_alerts_exported(&received, &out.join("alerts.jsonl"), &screen);
    assert_eq!(alerts, 9);
    let queued = format!(
        "{} records queued, {} delivered",
        received.len(),
        received.len()
    );
    assert!(after.contains(&queued), "{queued}; {screen}");
}

#[test]
fn sigterm_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    // At capture speed the replay is still going when the signal comes.
    let Some(tmux) = Tmux::start("term", &command(dir.path(), "--tui")) else {
        return;
    };
    tmux.wait_for(&["replaying at 1×"]);
    let pid = wait_for_file(&dir.path().join("pid"));
    let killed = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for_file(&dir.path().join("status"));
    assert_eq!(status.trim(), "exit=143", "128 + SIGTERM");
    let stty = wait_for_file(&dir.path().join("stty"));
    assert!(cooked(&stty), "the terminal was left raw:\n{stty}");
    let after = tmux.screen();
    assert!(!after.contains("1 Overview"), "{after}");
    assert!(after.contains("stopped before the end"), "{after}");
}

#[test]
fn a_store_is_browsed_with_its_recorded_policy_until_the_terminal_hangs_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.db");
    let capture = common::demo_capture();
    let out = common::run(&[
        "replay",
        capture.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--policy",
        common::repo().join("rules/example-plant").to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    // No --policy: the zones and conduits are those the store recorded.
    // Browsing a store, nothing but the operator (or the terminal) ends it.
    let d = dir.path().display();
    let command = format!(
        "sh -c 'echo $$ > {d}/pid; exec {} tui --db {}'",
        env!("CARGO_BIN_EXE_otsensor"),
        db.display()
    );
    let Some(tmux) = Tmux::start("hangup", &command) else {
        return;
    };
    tmux.wait_for(&["store of 1 run(s)", "Assets (40)"]);
    tmux.keys("3");
    tmux.wait_for(&["control-center ↔ field: conduit supervisory", "VIOLATION"]);
    let pid = wait_for_file(&dir.path().join("pid"));
    tmux.hang_up();
    assert!(
        wait_for_exit(pid.trim()),
        "otsensor {} still runs after its terminal hung up",
        pid.trim()
    );
}

#[test]
fn no_terminal_is_a_usage_error() {
    let out = common::run(&[
        "replay",
        common::demo_capture().to_str().unwrap(),
        "--tui",
        "--fast",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out).contains("needs a terminal"),
        "{}",
        common::stderr(&out)
    );
    let out = common::run(&["replay", common::demo_capture().to_str().unwrap(), "--fast"]);
    assert_eq!(out.status.code(), Some(2), "--fast needs --tui");
    let missing: PathBuf = std::env::temp_dir().join("otsensor-no-such-store.db");
    let out = common::run(&["tui", "--db", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("no such store"));
}
