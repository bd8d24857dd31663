//! Runs a replay: dispatcher and workers on their own threads, the sink on
//! another, and the merge and analysis on the calling thread.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::dispatch::{Batch, DispatchReport, Dispatcher};
use super::merge::EpochEvents;
use super::recycle::Recycler;
use super::{
    CaptureReport, FirstUse, FlowStart, Frame, PacketStats, Produced, SHARDS, Timeouts, Worker,
    WorkerConfig, WorkerStats,
};
use crate::analysis::{Analyzer, Findings};
use crate::capture::{ChunkPool, Input};
use crate::event::Event;
use crate::flow::tcp::ReassemblyLimits;
use crate::time::Timestamp;

/// Batches in flight per channel: enough to keep every thread busy, few
/// enough that memory stays small (each holds a read chunk).
const QUEUE_DEPTH: usize = 4;

#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// Decoding workers (at least 1, at most [`SHARDS`]).
    pub threads: usize,
    /// Flow table capacity, split evenly over the shards.
    pub max_flows: usize,
    pub timeouts: Timeouts,
    pub limits: ReassemblyLimits,
    /// Bytes read from a file at a time; also the epoch length.
    pub chunk_size: usize,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            // The dispatcher and the analyzer keep about one core busy between them.
            threads: thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            max_flows: 256 * 1024,
            timeouts: Timeouts::default(),
            limits: ReassemblyLimits::default(),
            chunk_size: 1 << 20,
        }
    }
}

/// Receives every event, in packet order, on its own thread.
pub trait Sink: Send {
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Called once after the last event.
    fn finish(&mut self) -> io::Result<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("writing events failed: {0}")]
    Sink(#[source] io::Error),
    #[error("internal error: a pipeline thread stopped unexpectedly")]
    ThreadLost,
}

/// Everything a replay found and counted.
pub struct ReplayReport {
    pub captures: Vec<CaptureReport>,
    pub packets: PacketStats,
    pub malformed: std::collections::BTreeMap<&'static str, u64>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub workers: WorkerStats,
    pub findings: Findings,
    pub elapsed: Duration,
}

enum WorkerOutput {
    Epoch(Produced),
    /// After the input ended: what ending the open flows produced, and the counts.
    Final(Produced, WorkerStats),
}

/// Sees the analyzer after each epoch, on the analysis thread: exporters
/// take the alerts and changes it raised from here.
pub trait Observer {
    fn epoch(&mut self, analyzer: &Analyzer);
}

/// Replays `inputs` as one timeline through `analyzer`. `progress` is called
/// now and then with the number of file bytes read so far.
pub fn replay(
    inputs: &[Input],
    config: &ReplayConfig,
    analyzer: Analyzer,
    sink: Option<Box<dyn Sink>>,
    progress: &mut dyn FnMut(u64),
) -> Result<ReplayReport, ReplayError> {
    replay_observed(inputs, config, analyzer, sink, None, progress)
}

/// [`replay`], showing the analyzer to `observer` after each epoch.
pub fn replay_observed(
    inputs: &[Input],
    config: &ReplayConfig,
    analyzer: Analyzer,
    sink: Option<Box<dyn Sink>>,
    mut observer: Option<&mut dyn Observer>,
    progress: &mut dyn FnMut(u64),
) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let workers = config.threads.clamp(1, SHARDS);
    let worker_config = WorkerConfig {
        flows_per_shard: (config.max_flows / SHARDS).max(1),
        timeouts: config.timeouts,
        limits: config.limits,
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    // Every batch in flight holds a buffer of each kind; more spares are not worth keeping.
    let in_flight = QUEUE_DEPTH * (workers + 2) * 2;
    let pool = ChunkPool::new(config.chunk_size, in_flight);
    let frames = Recycler::new(in_flight);
    let events = Recycler::new(in_flight);

    thread::scope(|scope| {
        let mut batch_senders = Vec::new();
        let mut outputs = Vec::new();
        for index in 0..workers {
            let (batch_tx, batch_rx) = bounded::<Batch>(QUEUE_DEPTH);
            let (out_tx, out_rx) = bounded::<WorkerOutput>(QUEUE_DEPTH);
            let worker = Worker::new(worker_config, index, workers, SHARDS);
            let (frames, events) = (frames.clone(), events.clone());
            thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn_scoped(scope, move || {
                    run_worker(worker, batch_rx, out_tx, frames, events)
                })
                .expect("spawning a worker thread");
            batch_senders.push(batch_tx);
            outputs.push(out_rx);
        }
        let dispatcher = Dispatcher {
            workers: batch_senders,
            pool,
            frames,
            progress: bytes_read.clone(),
        };
        let dispatch = thread::Builder::new()
            .name("dispatch".into())
            .spawn_scoped(scope, move || dispatcher.run(inputs))
            .expect("spawning the dispatcher thread");

        let (sink_tx, sink_thread) = match sink {
            Some(sink) => {
                let (tx, rx) = bounded::<EpochEvents>(QUEUE_DEPTH);
                let events = events.clone();
                let handle = thread::Builder::new()
                    .name("sink".into())
                    .spawn_scoped(scope, move || run_sink(sink, rx, events))
                    .expect("spawning the sink thread");
                (Some(tx), Some(handle))
            }
            None => (None, None),
        };

        let merged = merge(
            analyzer,
            &outputs,
            sink_tx,
            &events,
            &bytes_read,
            &mut observer,
            progress,
        );
        let dispatch = dispatch.join().map_err(|_| ReplayError::ThreadLost)?;
        let sink_result = match sink_thread {
            Some(handle) => handle.join().map_err(|_| ReplayError::ThreadLost)?,
            None => Ok(()),
        };
        let (analyzer, workers_stats) = merged?;
        sink_result.map_err(ReplayError::Sink)?;
        Ok(report(dispatch, workers_stats, analyzer, started.elapsed()))
    })
}

fn report(
    dispatch: DispatchReport,
    workers: WorkerStats,
    analyzer: Analyzer,
    elapsed: Duration,
) -> ReplayReport {
    ReplayReport {
        captures: dispatch.captures,
        packets: dispatch.packets,
        malformed: dispatch.malformed,
        first_ts: dispatch.first_ts,
        last_ts: dispatch.last_ts,
        workers,
        findings: analyzer.finish(),
        elapsed,
    }
}

fn run_worker(
    mut worker: Worker,
    batches: Receiver<Batch>,
    out: Sender<WorkerOutput>,
    frames: Recycler<Frame>,
    events: Recycler<Event>,
) {
    for batch in batches {
        let mut produced = Produced {
            events: events.take(),
            ..Produced::default()
        };
        let bytes = batch.chunk.bytes();
        for frame in &batch.frames {
            let start = frame.start as usize;
            worker.frame(
                frame,
                &bytes[start..start + frame.len as usize],
                &mut produced,
            );
        }
        worker.end_epoch(batch.now, &mut produced);
        frames.give(batch.frames);
        if out.send(WorkerOutput::Epoch(produced)).is_err() {
            return;
        }
    }
    let mut produced = Produced::default();
    let stats = worker.finish(&mut produced);
    let _ = out.send(WorkerOutput::Final(produced, stats));
}

/// Takes one output per worker per epoch, restores packet order, analyses
/// it and passes the events on to the sink.
fn merge(
    mut analyzer: Analyzer,
    outputs: &[Receiver<WorkerOutput>],
    sink: Option<Sender<EpochEvents>>,
    spares: &Recycler<Event>,
    bytes_read: &AtomicU64,
    observer: &mut Option<&mut dyn Observer>,
    progress: &mut dyn FnMut(u64),
) -> Result<(Analyzer, WorkerStats), ReplayError> {
    let mut totals = WorkerStats::default();
    let mut sink = sink;
    loop {
        let mut runs = Vec::with_capacity(outputs.len());
        let mut started = Vec::new();
        let mut uses = Vec::new();
        let mut ended = Vec::new();
        let mut finished = 0;
        for output in outputs {
            let mut produced = match output.recv().map_err(|_| ReplayError::ThreadLost)? {
                WorkerOutput::Epoch(produced) => produced,
                WorkerOutput::Final(produced, stats) => {
                    finished += 1;
                    totals.merge(&stats);
                    produced
                }
            };
            runs.push(produced.events);
            started.append(&mut produced.started);
            uses.append(&mut produced.uses);
            ended.append(&mut produced.ended);
        }
        let mut epoch = EpochEvents::new(runs);
        started.sort_by_key(|f: &FlowStart| f.seq);
        uses.sort_by_key(|u: &FirstUse| u.seq);
        ended.sort_by_key(|f| f.id);
        analyzer.epoch(&mut epoch, &started, &uses, &ended);
        if let Some(observer) = observer.as_deref_mut() {
            observer.epoch(&analyzer);
        }
        match &sink {
            Some(tx) if !epoch.is_empty() => {
                if let Err(failed) = tx.send(epoch) {
                    // The sink stopped; its error is reported when it is joined.
                    sink = None;
                    recycle(failed.into_inner(), spares);
                }
            }
            _ => recycle(epoch, spares),
        }
        progress(bytes_read.load(Ordering::Relaxed));
        if finished == outputs.len() {
            return Ok((analyzer, totals));
        }
        if finished > 0 {
            return Err(ReplayError::ThreadLost);
        }
    }
}

fn recycle(epoch: EpochEvents, spares: &Recycler<Event>) {
    for run in epoch.into_runs() {
        spares.give(run);
    }
}

fn run_sink(
    mut sink: Box<dyn Sink>,
    epochs: Receiver<EpochEvents>,
    spares: Recycler<Event>,
) -> io::Result<()> {
    for epoch in epochs {
        for event in epoch.iter() {
            sink.event(event)?;
        }
        recycle(epoch, &spares);
    }
    sink.finish()
}
