//! Runs the pipeline: one dispatcher per frame source and the workers on
//! their own threads, the sink on another, and the merge and analysis on the
//! calling thread. A replay is one [`FileSource`]; live capture is one
//! source per socket.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::dispatch::{Backpressure, Batch, DispatchReport, Dispatcher};
use super::merge::EpochEvents;
use super::recycle::Recycler;
use super::source::{FileSource, FrameSource};
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
            // Every chunk in flight holds its frames and events too: 256 KiB
            // chunks keep a replay within about 60 MiB, as fast as 1 MiB ones.
            chunk_size: 256 << 10,
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
    /// Frames dropped because a worker's queue was full (live capture only; 0 in a replay).
    pub queue_dropped: u64,
}

/// How a pipeline run treats its sources.
pub struct RunOptions {
    pub backpressure: Backpressure,
    /// Frames dropped at full worker queues, counted as they happen.
    pub queue_drops: Arc<AtomicU64>,
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
    let workers = config.threads.clamp(1, SHARDS);
    let bytes_read = Arc::new(AtomicU64::new(0));
    let pool = ChunkPool::new(config.chunk_size, in_flight(workers));
    let source = FileSource::new(inputs, pool, bytes_read.clone());
    let options = RunOptions {
        backpressure: Backpressure::Wait,
        queue_drops: Arc::default(),
    };
    run(
        vec![Box::new(source)],
        config,
        &options,
        analyzer,
        sink,
        &mut |analyzer| {
            if let Some(observer) = observer.as_deref_mut() {
                observer.epoch(analyzer);
            }
            progress(bytes_read.load(Ordering::Relaxed))
        },
    )
}

/// Buffers of each kind worth keeping spare: every batch in flight holds one.
pub fn in_flight(workers: usize) -> usize {
    QUEUE_DEPTH * (workers + 2) * 2
}

/// Runs `sources` (one dispatcher thread each) through the workers and
/// `analyzer` until every source is exhausted. `on_epoch` sees the analyzer
/// after each merged epoch.
pub fn run(
    sources: Vec<Box<dyn FrameSource + '_>>,
    config: &ReplayConfig,
    options: &RunOptions,
    analyzer: Analyzer,
    sink: Option<Box<dyn Sink>>,
    on_epoch: &mut dyn FnMut(&Analyzer),
) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let workers = config.threads.clamp(1, SHARDS);
    let worker_config = WorkerConfig {
        flows_per_shard: (config.max_flows / SHARDS).max(1),
        timeouts: config.timeouts,
        limits: config.limits,
    };
    let frames = Recycler::new(in_flight(workers));
    let events = Recycler::new(in_flight(workers));
    let seqs = Arc::new(AtomicU64::new(0));

    thread::scope(|scope| {
        // inputs[worker][dispatcher]
        let mut inputs: Vec<Vec<Receiver<Batch>>> = (0..workers).map(|_| Vec::new()).collect();
        let mut dispatchers = Vec::new();
        for (index, mut source) in sources.into_iter().enumerate() {
            let mut senders = Vec::new();
            for input in &mut inputs {
                let (batch_tx, batch_rx) = bounded::<Batch>(QUEUE_DEPTH);
                senders.push(batch_tx);
                input.push(batch_rx);
            }
            let dispatcher = Dispatcher {
                workers: senders,
                frames: frames.clone(),
                seqs: seqs.clone(),
                backpressure: options.backpressure,
                queue_drops: options.queue_drops.clone(),
            };
            let handle = thread::Builder::new()
                .name(format!("dispatch-{index}"))
                .spawn_scoped(scope, move || dispatcher.run(source.as_mut()))
                .expect("spawning a dispatcher thread");
            dispatchers.push(handle);
        }
        let mut outputs = Vec::new();
        for (index, batch_rx) in inputs.into_iter().enumerate() {
            let (out_tx, out_rx) = bounded::<WorkerOutput>(QUEUE_DEPTH);
            let worker = Worker::new(worker_config, index, workers, SHARDS);
            let (frames, events) = (frames.clone(), events.clone());
            thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn_scoped(scope, move || {
                    run_worker(worker, batch_rx, out_tx, frames, events)
                })
                .expect("spawning a worker thread");
            outputs.push(out_rx);
        }

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

        let merged = merge(analyzer, &outputs, sink_tx, &events, on_epoch);
        let mut dispatch = DispatchReport::default();
        for handle in dispatchers {
            dispatch.merge(handle.join().map_err(|_| ReplayError::ThreadLost)?);
        }
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
        queue_dropped: dispatch.queue_dropped,
    }
}

fn run_worker(
    mut worker: Worker,
    inputs: Vec<Receiver<Batch>>,
    out: Sender<WorkerOutput>,
    frames: Recycler<Frame>,
    events: Recycler<Event>,
) {
    let mut open = vec![true; inputs.len()];
    // An epoch is every dispatcher's batches up to its epoch end, taken
    // dispatcher by dispatcher (a flow's frames all come through one).
    while open.iter().any(|&o| o) {
        let mut produced = Produced::default();
        let mut now = None;
        for (input, open) in inputs.iter().zip(&mut open) {
            while *open {
                let Ok(mut batch) = input.recv() else {
                    *open = false;
                    break;
                };
                produced.tally.append(&mut batch.tally);
                // Most frames complete at most one PDU: room for as many
                // events as frames saves growing the vector by doubling. A
                // spare is taken only now, when the room it needs is known.
                if produced.events.capacity() == 0 {
                    produced.events = events.take_with_room(batch.frames.len());
                } else {
                    produced.events.reserve(batch.frames.len());
                }
                let bytes = batch.chunk.bytes();
                for frame in &batch.frames {
                    let start = frame.start as usize;
                    worker.frame(
                        frame,
                        &bytes[start..start + frame.len as usize],
                        &mut produced,
                    );
                }
                now = now.max(Some(batch.now));
                frames.give(batch.frames);
                if batch.ends_epoch {
                    break;
                }
            }
        }
        let Some(now) = now else {
            // Every dispatcher had finished: this was not an epoch.
            events.give(produced.events);
            break;
        };
        worker.end_epoch(now, &mut produced);
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
    on_epoch: &mut dyn FnMut(&Analyzer),
) -> Result<(Analyzer, WorkerStats), ReplayError> {
    let mut totals = WorkerStats::default();
    let mut sink = sink;
    loop {
        let mut runs = Vec::with_capacity(outputs.len());
        let mut started = Vec::new();
        let mut uses = Vec::new();
        let mut ended = Vec::new();
        let mut tally = Vec::new();
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
            tally.append(&mut produced.tally);
        }
        let mut epoch = EpochEvents::new(runs);
        started.sort_by_key(|f: &FlowStart| f.seq);
        uses.sort_by_key(|u: &FirstUse| u.seq);
        ended.sort_by_key(|f| f.id);
        analyzer.count_packets(&tally);
        analyzer.epoch(&mut epoch, &started, &uses, &ended);
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
        on_epoch(&analyzer);
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
