//! One sink's thread: records arrive on a bounded channel, go to the sink's
//! spool, and are sent from there in order; a record leaves the spool only
//! once the destination acknowledged it. A destination that is down costs
//! the capture nothing: records keep going to the spool (what does not fit
//! is counted) and are sent when it is back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::record::Record;
use super::spool::Spool;

/// Records sent per attempt. A batch ends by waiting for its last
/// acknowledgements with nothing more to send, which costs up to a delayed
/// TCP acknowledgement (40 ms) when the receiver holds small replies back
/// (Nagle's algorithm, mosquitto's default): 256 records a batch held MQTT
/// at 5,000 records/s, 4,096 at 45,000 (docs/benchmarks.md).
const BATCH: usize = 4096;
/// Waits between connection attempts: doubled from the first to the last.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(2);
/// Below this much free spool, a sink that is up makes the producer wait.
const MIN_ROOM: u64 = 64 << 10;

/// A destination: connects, and sends records in order.
pub trait Transport: Send {
    /// (Re)connects; called before sending and after a failure.
    fn connect(&mut self) -> Result<(), String>;
    /// Sends `records` in order. On failure, says how many of the first were
    /// delivered (acknowledged, or written to a connection still open).
    fn send(&mut self, records: &[Record]) -> Result<(), Failed>;
    /// Drops the connection (after a failure).
    fn disconnect(&mut self);
    /// Ends the session at the end of the run.
    fn close(&mut self) {
        self.disconnect();
    }
}

#[derive(Debug)]
pub struct Failed {
    pub delivered: usize,
    pub reason: String,
}

pub enum Message {
    Record(Record),
    /// No more records: deliver what is queued, waiting at most until the deadline.
    Finish(Instant),
}

/// What a sink did, readable while it runs.
#[derive(Default)]
pub struct Counters {
    pub queued: AtomicU64,
    pub delivered: AtomicU64,
    pub overflowed: AtomicU64,
    pub failures: AtomicU64,
    pub last_error: Mutex<String>,
}

/// A sink's account at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkReport {
    pub name: String,
    /// Records handed to the sink in this run.
    pub queued: u64,
    /// Records the destination acknowledged (including ones spooled by earlier runs).
    pub delivered: u64,
    /// Records dropped because the spool was full.
    pub overflowed: u64,
    /// Records still in the spool, sent by a later run.
    pub left_in_spool: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    /// The spool could not be used (the records it should have kept are counted as overflowed).
    pub spool_error: Option<String>,
}

pub fn run(
    name: String,
    mut spool: Spool,
    mut transport: Box<dyn Transport>,
    records: Receiver<Message>,
    counters: Arc<Counters>,
) -> SinkReport {
    let mut connected = false;
    let mut retry_at = Instant::now();
    let mut retry = FIRST_RETRY;
    let mut deadline: Option<Instant> = None;
    let mut open = true;
    let mut spool_error = None;
    let fail = |counters: &Counters, reason: &str| {
        counters.failures.fetch_add(1, Ordering::Relaxed);
        *counters
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = reason.to_string();
    };
    loop {
        // Take what arrived. When the spool is full and the destination is
        // up, leave it in the channel: the producer waits (replay is lossless);
        // when it is down, the spool's overflow counts what is dropped.
        while open {
            if spool.room() < MIN_ROOM && connected {
                break;
            }
            match records.try_recv() {
                Ok(Message::Record(record)) => {
                    counters.queued.fetch_add(1, Ordering::Relaxed);
                    match spool.push(&record) {
                        Ok(true) => {}
                        Ok(false) => {
                            counters.overflowed.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            counters.overflowed.fetch_add(1, Ordering::Relaxed);
                            spool_error.get_or_insert(e.to_string());
                        }
                    }
                }
                Ok(Message::Finish(until)) => {
                    deadline = Some(until);
                    open = false;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    deadline.get_or_insert_with(Instant::now);
                    open = false;
                }
            }
        }
        if spool.is_empty() && !open {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if !connected && Instant::now() >= retry_at {
            match transport.connect() {
                Ok(()) => {
                    connected = true;
                    retry = FIRST_RETRY;
                }
                Err(reason) => {
                    fail(&counters, &reason);
                    retry_at = Instant::now() + retry;
                    retry = (retry * 2).min(LAST_RETRY);
                }
            }
        }
        if connected {
            let batch = match spool.read(BATCH) {
                Ok(batch) => batch,
                Err(e) => {
                    spool_error.get_or_insert(e.to_string());
                    break;
                }
            };
            if !batch.is_empty() {
                let (delivered, failure) = match transport.send(&batch) {
                    Ok(()) => (batch.len(), None),
                    Err(failed) => (failed.delivered.min(batch.len()), Some(failed.reason)),
                };
                if let Err(e) = spool.ack(delivered) {
                    spool_error.get_or_insert(e.to_string());
                    break;
                }
                counters
                    .delivered
                    .fetch_add(delivered as u64, Ordering::Relaxed);
                if let Some(reason) = failure {
                    fail(&counters, &reason);
                    spool.rewind();
                    transport.disconnect();
                    connected = false;
                    retry_at = Instant::now() + retry;
                    retry = (retry * 2).min(LAST_RETRY);
                }
                continue;
            }
        }
        // Nothing to send now: wait for records, or for the next connection attempt.
        let wait = if connected {
            Duration::from_millis(200)
        } else {
            retry_at.saturating_duration_since(Instant::now())
        };
        let wait = match deadline {
            Some(d) => wait.min(d.saturating_duration_since(Instant::now())),
            None => wait,
        };
        if !open {
            std::thread::sleep(wait.min(Duration::from_millis(50)));
            continue;
        }
        match records.recv_timeout(wait.max(Duration::from_millis(1))) {
            Ok(Message::Record(record)) => {
                counters.queued.fetch_add(1, Ordering::Relaxed);
                match spool.push(&record) {
                    Ok(true) => {}
                    Ok(false) => {
                        counters.overflowed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        counters.overflowed.fetch_add(1, Ordering::Relaxed);
                        spool_error.get_or_insert(e.to_string());
                    }
                }
            }
            Ok(Message::Finish(until)) => {
                deadline = Some(until);
                open = false;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                deadline.get_or_insert_with(Instant::now);
                open = false;
            }
        }
    }
    let _ = spool.flush();
    transport.close();
    let last_error = counters
        .last_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    SinkReport {
        name,
        queued: counters.queued.load(Ordering::Relaxed),
        delivered: counters.delivered.load(Ordering::Relaxed),
        overflowed: counters.overflowed.load(Ordering::Relaxed),
        left_in_spool: spool.records_left(),
        failures: counters.failures.load(Ordering::Relaxed),
        last_error: (!last_error.is_empty()).then_some(last_error),
        spool_error,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use crossbeam_channel::bounded;

    use super::*;
    use crate::export::config::Kind;

    /// A destination the test takes down and brings back.
    struct Switchable {
        up: Arc<AtomicBool>,
        received: Arc<Mutex<Vec<String>>>,
    }

    impl Transport for Switchable {
        fn connect(&mut self) -> Result<(), String> {
            if self.up.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("connection refused".into())
            }
        }

        fn send(&mut self, records: &[Record]) -> Result<(), Failed> {
            if !self.up.load(Ordering::SeqCst) {
                return Err(Failed {
                    delivered: 0,
                    reason: "connection reset".into(),
                });
            }
            let mut received = self.received.lock().unwrap();
            received.extend(records.iter().map(|r| r.id.clone()));
            Ok(())
        }

        fn disconnect(&mut self) {}
    }

    fn record(n: usize) -> Record {
        Record {
            kind: Kind::Alerts,
            id: format!("r{n:04}"),
            json: Arc::from(vec![b'x'; 1000]),
        }
    }

    /// Bytes of the spool's segment files on disk.
    fn spooled_bytes(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "seg"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let until = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < until, "gave up waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_sink_that_is_down_spools_up_to_its_bound_counts_the_rest_and_drains_when_back() {
        let dir = tempfile::tempdir().unwrap();
        // Room for exactly 100 of the test's records (1012 bytes each, framed).
        let max_bytes = 100 * 1012;
        let spool = Spool::open(dir.path(), max_bytes).unwrap();
        let up = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Mutex::new(Vec::new()));
        let transport = Switchable {
            up: up.clone(),
            received: received.clone(),
        };
        let counters = Arc::new(Counters::default());
        let (sender, channel) = bounded(16);
        let thread = {
            let counters = counters.clone();
            std::thread::spawn(move || {
                run("test".into(), spool, Box::new(transport), channel, counters)
            })
        };

        // Down: 250 records go to the spool until it is full; the rest are counted.
        for n in 0..250 {
            sender.send(Message::Record(record(n))).unwrap();
        }
        wait_until("the 150 that do not fit to be counted", || {
            counters.overflowed.load(Ordering::SeqCst) == 150
        });
        let (spooled, overflowed) = (100, 150);
        assert_eq!(counters.queued.load(Ordering::SeqCst), 250);
        assert!(spooled_bytes(dir.path()) <= max_bytes);
        assert_eq!(counters.delivered.load(Ordering::SeqCst), 0);
        assert!(counters.failures.load(Ordering::SeqCst) >= 1);

        // Back: the spool drains in order, then the records that come after.
        up.store(true, Ordering::SeqCst);
        wait_until("the spool to drain", || {
            received.lock().unwrap().len() == spooled
        });
        for n in 250..260 {
            sender.send(Message::Record(record(n))).unwrap();
        }
        sender
            .send(Message::Finish(Instant::now() + Duration::from_secs(60)))
            .unwrap();
        let report = thread.join().unwrap();

        let expected: Vec<String> = (0..spooled).chain(250..260).map(|n| record(n).id).collect();
        assert_eq!(*received.lock().unwrap(), expected);
        assert_eq!(report.queued, 260);
        assert_eq!(report.overflowed, overflowed);
        assert_eq!(report.delivered, 260 - overflowed);
        assert_eq!(report.left_in_spool, 0);
        assert_eq!(report.last_error.as_deref(), Some("connection refused"));
        assert_eq!(spooled_bytes(dir.path()), 0);
    }
}
