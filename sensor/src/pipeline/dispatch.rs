//! The dispatcher: pulls frames from a source (files or a live socket), parses each frame's
//! layers 2–4 once, counts what it sees, and sends every frame that belongs to a
//! flow to the worker that owns the flow's shard.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{SendTimeoutError, Sender};

use super::recycle::Recycler;
use super::source::FrameSource;
use super::tally::{SecondCount, Tally};
use super::{Frame, SHARDS};
use crate::capture::{Chunk, Damage, Record};
use crate::flow::FlowKey;
use crate::packet::{Network, Packet, Transport};
use crate::time::Timestamp;

/// One epoch's frames for one worker, with the chunk that holds their bytes.
pub(super) struct Batch {
    pub chunk: Arc<Chunk>,
    pub frames: Vec<Frame>,
    /// The latest packet time seen so far in the timeline.
    pub now: Timestamp,
    /// The last batch of an epoch from its dispatcher.
    pub ends_epoch: bool,
    /// Packets of the chunk by second (in the first worker's batch only).
    pub tally: Vec<SecondCount>,
}

crate::counters! {
    /// Layers 2–4, as the dispatcher saw every frame.
    pub struct PacketStats {
        pub packets,
        /// Bytes captured (what the files hold).
        pub captured_bytes,
        /// Bytes on the wire (before any snaplen cut).
        pub wire_bytes,
        pub vlan_tagged,
        /// Frames with two or more VLAN tags.
        pub qinq,
        pub ipv4,
        pub ipv6,
        pub arp,
        /// Frames of other ethertypes (layer-2 protocols, LLC).
        pub other_ethertype,
        pub ip_fragments,
        pub tcp,
        pub udp,
        pub icmp,
        pub other_ip_protocol,
        /// Frames whose payload the capture's snaplen cut short.
        pub snaplen_truncated,
        /// Frames whose IP length claims more bytes than the frame had on the wire.
        pub ip_length_beyond_frame,
        /// Frames sent to a worker (those that belong to a flow).
        pub dispatched,
    }
}

/// What happened to one capture file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureReport {
    pub name: String,
    pub format: Option<&'static str>,
    pub packets: u64,
    pub bytes_read: u64,
    /// The file could not be opened (it is not replayed at all).
    pub error: Option<String>,
    /// Where reading stopped early.
    pub damage: Option<Damage>,
    /// Packets skipped because of their interface's link type, by link type.
    pub unsupported_link_types: Vec<(u32, u64)>,
}

#[derive(Debug, Default)]
pub(super) struct DispatchReport {
    pub captures: Vec<CaptureReport>,
    pub packets: PacketStats,
    pub malformed: BTreeMap<&'static str, u64>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Frames dropped because a worker's queue was full (live capture only).
    pub queue_dropped: u64,
}

impl DispatchReport {
    /// Adds up the reports of several dispatchers.
    pub fn merge(&mut self, other: DispatchReport) {
        self.captures.extend(other.captures);
        self.packets.merge(&other.packets);
        for (reason, n) in other.malformed {
            *self.malformed.entry(reason).or_default() += n;
        }
        self.first_ts = min_some(self.first_ts, other.first_ts);
        self.last_ts = self.last_ts.max(other.last_ts);
        self.queue_dropped += other.queue_dropped;
    }
}

fn min_some(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How long a live dispatcher waits for room in a worker's queue before it
/// drops the batch (counted).
const LIVE_QUEUE_WAIT: Duration = Duration::from_millis(100);

/// What a dispatcher does when a worker's queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backpressure {
    /// Wait for the worker (replay: nothing is ever lost).
    Wait,
    /// Wait a little, then drop the frames and count them; an epoch's end is
    /// never dropped, the workers wait for it (live capture: the source must
    /// keep reading).
    DropAndCount,
}

pub(super) struct Dispatcher {
    pub workers: Vec<Sender<Batch>>,
    /// Spare frame vectors, handed back by the workers.
    pub frames: Recycler<Frame>,
    /// The timeline's packet counter, shared by all dispatchers so that
    /// sequence numbers are unique.
    pub seqs: Arc<AtomicU64>,
    pub backpressure: Backpressure,
    /// Frames dropped at full worker queues, as they happen (for live statistics).
    pub queue_drops: Arc<AtomicU64>,
}

impl Dispatcher {
    pub fn run(self, source: &mut dyn FrameSource) -> DispatchReport {
        let mut report = DispatchReport::default();
        let mut records: Vec<Record> = Vec::new();
        let mut now = Timestamp(i64::MIN);
        let mut tally = Tally::default();
        let workers = self.workers.len();
        let mut epoch_open = false;
        // With several workers, each frame is parsed here, then copied once
        // into its worker's batch.
        let mut frame = Frame::default();
        while let Some(pulled) = source.pull(&mut records) {
            epoch_open = !pulled.ends_epoch;
            let mut seq = self.seqs.fetch_add(records.len() as u64, Ordering::Relaxed);
            // Room for each worker's share, if the flows spread evenly.
            let share = records.len().div_ceil(workers);
            let mut batches: Vec<Vec<Frame>> = (0..workers)
                .map(|_| self.frames.take_with_room(share))
                .collect();
            // Parses and counts a record into `frame`: whether it belongs to a flow.
            let mut take = |record: &Record, seq: u64, frame: &mut Frame| {
                classify(
                    &pulled.chunk,
                    record,
                    pulled.capture,
                    seq,
                    frame,
                    &mut report,
                );
                now = now.max(record.ts);
                tally.add(now, record.orig_len);
                if let Some(sender) = storm_frame(&frame.packet) {
                    tally.group(sender, seq, frame.capture, frame.packet_index);
                }
                report.packets.dispatched += u64::from(frame.key.is_some());
                frame.key.is_some()
            };
            for record in records.drain(..) {
                seq += 1;
                if workers == 1 {
                    // Parsed in place in the one worker's batch: not copied.
                    let batch = &mut batches[0];
                    batch.push(Frame::default());
                    if !take(&record, seq, batch.last_mut().expect("just pushed")) {
                        batch.pop();
                    }
                } else if take(&record, seq, &mut frame) {
                    batches[frame.shard as usize % workers].push(frame);
                }
            }
            if let Some(clock) = pulled.clock {
                now = now.max(clock);
            }
            let mut counted = tally.take();
            for (worker, frames) in self.workers.iter().zip(batches) {
                if frames.is_empty() && !pulled.ends_epoch && counted.is_empty() {
                    self.frames.give(frames);
                    continue;
                }
                let batch = Batch {
                    chunk: pulled.chunk.clone(),
                    frames,
                    now,
                    ends_epoch: pulled.ends_epoch,
                    tally: std::mem::take(&mut counted),
                };
                if !self.send(worker, batch, &mut report) {
                    // A worker is gone (it panicked): stop feeding the pipeline.
                    report.captures = source.finish();
                    return report;
                }
            }
        }
        if epoch_open {
            // Close the last epoch, so that every worker sees the same epochs.
            for worker in &self.workers {
                let batch = Batch {
                    chunk: Chunk::from_vec(Vec::new()),
                    frames: Vec::new(),
                    now,
                    ends_epoch: true,
                    tally: Vec::new(),
                };
                if worker.send(batch).is_err() {
                    break;
                }
            }
        }
        report.captures = source.finish();
        report
    }

    /// Sends `batch` to `worker`; `false` if the worker is gone.
    fn send(&self, worker: &Sender<Batch>, batch: Batch, report: &mut DispatchReport) -> bool {
        if self.backpressure == Backpressure::Wait || batch.ends_epoch {
            return worker.send(batch).is_ok();
        }
        // Wait up to an epoch: the capture ring absorbs a short burst better than dropping here.
        match worker.send_timeout(batch, LIVE_QUEUE_WAIT) {
            Ok(()) => true,
            Err(SendTimeoutError::Timeout(batch)) => {
                let lost = batch.frames.len() as u64;
                report.queue_dropped += lost;
                self.queue_drops.fetch_add(lost, Ordering::Relaxed);
                self.frames.give(batch.frames);
                true
            }
            Err(SendTimeoutError::Disconnected(_)) => false,
        }
    }
}

/// The sender of a broadcast or multicast frame that is not one of the
/// multicast streams OT protocols publish by design (GOOSE, SV, PROFINET RT).
fn storm_frame(packet: &Packet) -> Option<crate::event::Mac> {
    const STREAMS: [u16; 3] = [0x88b8, 0x88ba, 0x8892];
    let dst = packet.dst_mac?;
    let group = dst[0] & 1 == 1;
    (group && !STREAMS.contains(&packet.ether_type)).then_some(packet.src_mac?)
}

/// Parses one record into `frame` and counts what it is.
fn classify(
    chunk: &Chunk,
    record: &Record,
    capture: u16,
    seq: u64,
    frame: &mut Frame,
    report: &mut DispatchReport,
) {
    let start = record.start as usize;
    let bytes = &chunk.bytes()[start..start + record.len as usize];
    let packet = &mut frame.packet;
    packet.parse_into(record.link, bytes);
    // Only a snaplen cut loses bytes; an IP length beyond an uncut frame is the sender's lie.
    let cut = record.orig_len.saturating_sub(record.len);
    if packet.payload_missing > cut {
        report.packets.ip_length_beyond_frame += 1;
        packet.payload_missing = cut;
    }
    count(packet, record, report);
    let key = FlowKey::of(packet);
    let hash = key.map_or(0, |(k, _)| k.hash());
    frame.start = record.start;
    frame.len = record.len;
    frame.orig_len = record.orig_len;
    frame.ts = record.ts;
    frame.capture = capture;
    frame.packet_index = if record.packet == 0 {
        seq
    } else {
        record.packet
    };
    frame.seq = seq;
    frame.key = key;
    frame.hash = hash;
    frame.shard = (hash % SHARDS as u64) as u16;
}

fn count(packet: &Packet, record: &Record, report: &mut DispatchReport) {
    let stats = &mut report.packets;
    stats.packets += 1;
    stats.captured_bytes += u64::from(record.len);
    stats.wire_bytes += u64::from(record.orig_len);
    report.first_ts = Some(report.first_ts.map_or(record.ts, |t| t.min(record.ts)));
    report.last_ts = Some(report.last_ts.map_or(record.ts, |t| t.max(record.ts)));
    stats.vlan_tagged += u64::from(packet.vlan_tags > 0);
    stats.qinq += u64::from(packet.vlan_tags > 1);
    match packet.network {
        Network::Ipv4 => stats.ipv4 += 1,
        Network::Ipv6 => stats.ipv6 += 1,
        Network::Arp => stats.arp += 1,
        Network::Other => stats.other_ethertype += 1,
        Network::None => {}
    }
    stats.ip_fragments += u64::from(packet.fragment);
    match packet.transport {
        Transport::Tcp => stats.tcp += 1,
        Transport::Udp => stats.udp += 1,
        Transport::Icmp => stats.icmp += 1,
        Transport::Other => stats.other_ip_protocol += 1,
        Transport::None => {}
    }
    stats.snaplen_truncated += u64::from(packet.payload_missing > 0);
    if let Some(reason) = packet.malformed {
        *report.malformed.entry(reason.name()).or_default() += 1;
    }
}
