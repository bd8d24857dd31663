//! The dashboard in a real terminal: tmux runs `otsensor replay … --tui`,
//! keys go in with send-keys, the screen comes back with capture-pane. Skips,
//! saying why, where tmux is not installed (`apt-get install tmux`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server of this test's own, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `command` in a detached 100×30 session, or `None` without tmux.
    fn start(name: &str, command: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIPPED: tmux is not installed (apt-get install tmux)");
            return None;
        }
        let tmux = Tmux {
            socket: format!("otsensor-{name}-{}", std::process::id()),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "100",
            "-y",
            "30",
            command,
        ]);
        assert!(out.status.success(), "tmux: {}", common::stderr(&out));
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    fn screen(&self) -> String {
        common::stdout(&self.run(&["capture-pane", "-p", "-t", "t"]))
    }

    fn keys(&self, keys: &str) {
        let out = self.run(&["send-keys", "-t", "t", keys]);
        assert!(out.status.success(), "send-keys: {}", common::stderr(&out));
    }

    /// The screen once it shows every one of `texts` (a screen captured while
    /// the terminal is still drawing a frame may show only part of it).
    fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if texts.iter().all(|text| screen.contains(text)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{texts:?} never all showed; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Waits for a file the shell writes after otsensor exits.
fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `stty -a` says the terminal is back in its usual cooked mode.
fn cooked(stty: &str) -> bool {
    let words: Vec<&str> = stty.split_whitespace().collect();
    ["icanon", "echo", "isig"].iter().all(|w| words.contains(w))
}

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
