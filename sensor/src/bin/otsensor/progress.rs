//! The progress bar: on stderr, only when it is a terminal, and only once a
//! replay has run for more than a second.
//!
//! The bar exists from the start, hidden, and follows every update: its rate
//! and ETA are then estimated over the whole replay. A bar created after the
//! first second would see its first second's bytes arrive in an instant and
//! show an absurd rate (TiB/s).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct Progress {
    total: u64,
    started: Instant,
    /// `None` when no bar is ever shown (quiet, or stderr is not a terminal).
    bar: Option<ProgressBar>,
    shown: bool,
}

impl Progress {
    pub fn new(total_bytes: u64, quiet: bool) -> Progress {
        let enabled = !quiet && std::io::stderr().is_terminal();
        Progress::with_bar(total_bytes, enabled)
    }

    fn with_bar(total: u64, enabled: bool) -> Progress {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            total,
            started: Instant::now(),
            bar,
            shown: false,
        }
    }

    pub fn update(&mut self, bytes_read: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        bar.set_position(bytes_read.min(self.total));
        if !self.shown && self.started.elapsed() >= SHOW_AFTER {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_counts_from_the_first_update() {
        let mut progress = Progress::with_bar(1000, true);
        // Before it is shown, the bar already holds the position, so its
        // rate covers the whole replay.
        progress.update(400);
        assert_eq!(progress.bar.as_ref().unwrap().position(), 400);
        progress.update(5000);
        assert_eq!(progress.bar.as_ref().unwrap().position(), 1000);
    }

    #[test]
    fn no_bar_when_disabled() {
        let mut progress = Progress::with_bar(1000, false);
        progress.update(400);
        assert!(progress.bar.is_none());
    }
}
