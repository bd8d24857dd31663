//! Hands snapshots of the analysis to the dashboard at a steady rate without
//! ever waiting for it: a bounded channel whose oldest snapshot is dropped
//! (and counted) when the UI has not taken it yet. Building a snapshot costs
//! the analysis thread time, so the publisher also spaces them out to keep
//! that cost under a fixed share of the thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use crate::analysis::{Analyzer, Publisher};
use crate::time::Timestamp;

use super::snapshot::{LiveDrops, Phase, Snapshot, WallClock};

/// The dashboard's rate: ten snapshots a second.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// Building snapshots may take at most 1/BUDGET of the analysis thread.
const BUDGET: u32 = 50;
/// Snapshots waiting for the UI at most (the UI only wants the latest).
const QUEUE: usize = 2;

/// What the UI thread receives.
#[derive(Debug)]
pub enum Update {
    Snapshot(Box<Snapshot>),
    /// A line for the status bar (the replay ended, a save failed…).
    Notice(String),
}

/// When to publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    /// Every interval of wall-clock time (live, and replays people watch).
    Wall(Duration),
    /// Every interval of packet time (the same snapshots on every run: tests).
    Packet(Duration),
}

/// Counts the UI can read while the publisher runs.
#[derive(Debug, Default)]
pub struct Counters {
    pub published: AtomicU64,
    /// Snapshots dropped because the UI had not taken the previous ones.
    pub dropped: AtomicU64,
}

/// The sending end, for the analysis thread.
pub struct SnapshotPublisher {
    tx: Sender<Update>,
    /// The same channel's receiving end, to drop the oldest snapshot when full.
    oldest: Receiver<Update>,
    counters: Arc<Counters>,
    cadence: Cadence,
    source: String,
    phase: Phase,
    pacer: Option<Pacer>,
    started: Instant,
    wall_clock: bool,
    next_wall: Instant,
    next_packet: Option<Timestamp>,
}

/// The two ends: the publisher for the analysis, the receiver for the UI.
pub fn channel(
    source: &str,
    cadence: Cadence,
) -> (SnapshotPublisher, Receiver<Update>, Arc<Counters>) {
    let (tx, rx) = bounded(QUEUE);
    let counters = Arc::new(Counters::default());
    let now = Instant::now();
    let publisher = SnapshotPublisher {
        tx,
        oldest: rx.clone(),
        counters: counters.clone(),
        cadence,
        source: source.to_string(),
        phase: Phase::Replaying { speed: None },
        pacer: None,
        started: now,
        wall_clock: matches!(cadence, Cadence::Wall(_)),
        next_wall: now,
        next_packet: None,
    };
    (publisher, rx, counters)
}

impl SnapshotPublisher {
    /// Paces the replay to `speed` × capture time (the analysis thread sleeps;
    /// the pipeline waits behind it).
    pub fn paced(mut self, speed: f64) -> SnapshotPublisher {
        self.phase = Phase::Replaying { speed: Some(speed) };
        self.pacer = Some(Pacer::new(speed));
        self
    }

    /// Snapshots of a live capture on `interface`.
    pub fn live(mut self, interface: &str) -> SnapshotPublisher {
        self.phase = Phase::Live {
            interface: interface.to_string(),
        };
        self
    }

    /// A sender for what comes after the analysis (the final snapshot, notices).
    pub fn sender(&self) -> Sender<Update> {
        self.tx.clone()
    }

    fn due(&mut self, now: Option<Timestamp>) -> bool {
        match self.cadence {
            Cadence::Wall(_) => Instant::now() >= self.next_wall,
            Cadence::Packet(interval) => {
                let Some(now) = now else {
                    return false;
                };
                if self.next_packet.is_some_and(|next| now < next) {
                    return false;
                }
                // Due again at the next multiple of the interval.
                let step = (interval.as_nanos().min(i64::MAX as u128) as i64).max(1);
                self.next_packet = Some(Timestamp((now.0 / step + 1).saturating_mul(step)));
                true
            }
        }
    }

    fn publish(&mut self, snapshot: Snapshot) {
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        self.push(Update::Snapshot(Box::new(snapshot)));
    }

    /// Hands `update` to the UI without waiting: when the UI has not taken
    /// the ones waiting, the oldest is dropped (and counted).
    pub fn push(&mut self, mut update: Update) {
        loop {
            match self.tx.try_send(update) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(back)) => {
                    update = back;
                    if self.oldest.try_recv().is_ok() {
                        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// Publishes a snapshot of the analysis when one is due; `live_drops`
    /// reads the counters of a live capture's stages (only then: it may cost
    /// system calls).
    pub fn offer(&mut self, analyzer: &Analyzer, live_drops: Option<&dyn Fn() -> LiveDrops>) {
        let now = analyzer.rates().now;
        if let (Some(pacer), Some(now)) = (&mut self.pacer, now) {
            pacer.wait_for(now);
        }
        if !self.due(now) {
            return;
        }
        let building = Instant::now();
        let mut snapshot = Snapshot::of_analysis(analyzer, &self.source, self.phase.clone());
        if let Some(read) = live_drops {
            snapshot.fill_live_drops(read());
        }
        if self.wall_clock {
            snapshot.wall = Some(WallClock {
                elapsed: self.started.elapsed(),
                packets: snapshot.packets,
            });
        }
        self.publish(snapshot);
        if let Cadence::Wall(interval) = self.cadence {
            let cost = building.elapsed();
            self.next_wall = Instant::now() + interval.max(cost * BUDGET);
        }
    }
}

impl Publisher for SnapshotPublisher {
    fn epoch(&mut self, analyzer: &Analyzer) {
        self.offer(analyzer, None);
    }
}

/// Holds the analysis back so that packet time passes at `speed` × wall time.
#[derive(Debug)]
pub struct Pacer {
    speed: f64,
    origin: Option<(Instant, Timestamp)>,
}

impl Pacer {
    pub fn new(speed: f64) -> Pacer {
        Pacer {
            speed: if speed > 0.0 { speed } else { 1.0 },
            origin: None,
        }
    }

    /// How long to wait, at `wall`, before showing packet time `now`.
    fn delay(&mut self, now: Timestamp, wall: Instant) -> Duration {
        let (wall0, packet0) = *self.origin.get_or_insert((wall, now));
        let packet_secs = (now.0.saturating_sub(packet0.0)).max(0) as f64 / 1e9;
        let due = wall0 + Duration::from_secs_f64(packet_secs / self.speed);
        due.saturating_duration_since(wall)
    }

    fn wait_for(&mut self, now: Timestamp) {
        let delay = self.delay(now, Instant::now());
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_spaces_packet_time_by_speed() {
        let mut pacer = Pacer::new(10.0);
        let start = Instant::now();
        let t0 = Timestamp::from_secs(1_000);
        assert_eq!(pacer.delay(t0, start), Duration::ZERO);
        // 5 s of capture at 10× is due 0.5 s after the first packet.
        let later = Timestamp::from_secs(1_005);
        assert_eq!(pacer.delay(later, start), Duration::from_millis(500));
        assert_eq!(
            pacer.delay(later, start + Duration::from_millis(200)),
            Duration::from_millis(300)
        );
        // Late already: no wait.
        assert_eq!(
            pacer.delay(later, start + Duration::from_secs(1)),
            Duration::ZERO
        );
    }

    #[test]
    fn a_full_queue_drops_the_oldest_snapshot_and_counts_it() {
        let (mut publisher, rx, counters) =
            channel("test", Cadence::Packet(Duration::from_secs(1)));
        for n in 0..5u64 {
            let mut snapshot = Snapshot::empty("test", Phase::Finished);
            snapshot.packets = n;
            publisher.publish(snapshot);
        }
        let waiting: Vec<u64> = rx
            .try_iter()
            .map(|u| match u {
                Update::Snapshot(s) => s.packets,
                Update::Notice(_) => unreachable!("only snapshots were sent"),
            })
            .collect();
        assert_eq!(waiting, [3, 4], "the latest are kept");
        assert_eq!(counters.published.load(Ordering::Relaxed), 5);
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn packet_cadence_publishes_once_per_interval_of_packet_time() {
        let (mut publisher, _rx, _) = channel("test", Cadence::Packet(Duration::from_secs(1)));
        let at = |ms: i64| Some(Timestamp(ms * 1_000_000));
        let due: Vec<bool> = [
            None,
            at(10_100),
            at(10_900),
            at(11_000),
            at(11_500),
            at(13_200),
        ]
        .into_iter()
        .map(|now| publisher.due(now))
        .collect();
        assert_eq!(due, [false, true, false, true, false, true]);
    }
}
