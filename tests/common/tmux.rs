//! A terminal for the dashboard tests: tmux runs a command in a detached
//! session, keys go in with send-keys, the screen comes back with
//! capture-pane.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server of this test's own, killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `command` in a detached 100×30 session, or `None` without tmux.
    pub fn start(name: &str, command: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            // CI installs tmux: there, its absence is a failure, not a skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "tmux is not installed (apt-get install tmux)"
            );
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
        assert!(out.status.success(), "tmux: {}", super::stderr(&out));
        Some(tmux)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    pub fn screen(&self) -> String {
        super::stdout(&self.run(&["capture-pane", "-p", "-t", "t"]))
    }

    pub fn keys(&self, keys: &str) {
        let out = self.run(&["send-keys", "-t", "t", keys]);
        assert!(out.status.success(), "send-keys: {}", super::stderr(&out));
    }

    /// The screen once it shows every one of `texts` (a screen captured while
    /// the terminal is still drawing a frame may show only part of it).
    pub fn wait_for(&self, texts: &[&str]) -> String {
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

impl Tmux {
    /// Closes the terminal under whatever runs in it, as a closed window or
    /// a dropped SSH session does.
    pub fn hang_up(&self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Waits until process `pid` has ended (gone, or a zombie nobody reaped).
pub fn wait_for_exit(pid: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the command name in parentheses.
            Ok(stat)
                if !stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') => {}
            _ => return true,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Waits for a file the shell writes after otsensor exits.
pub fn wait_for_file(path: &Path) -> String {
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
pub fn cooked(stty: &str) -> bool {
    let words: Vec<&str> = stty.split_whitespace().collect();
    ["icanon", "echo", "isig"].iter().all(|w| words.contains(w))
}
