//! The dispatcher: reads the timeline's files in order, parses each frame's
//! layers 2–4 once, counts what it sees, and sends every frame that belongs to a
//! flow to the worker that owns the flow's shard.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::Sender;

use super::recycle::Recycler;
use super::tally::{SecondCount, Tally};
use super::{Frame, SHARDS};
use crate::capture::{CaptureFile, Chunk, ChunkPool, Damage, Input, Record};
use crate::flow::FlowKey;
use crate::packet::{Network, Packet, Transport};
use crate::time::Timestamp;

/// One epoch's frames for one worker, with the chunk that holds their bytes.
pub(super) struct Batch {
    pub chunk: Arc<Chunk>,
    pub frames: Vec<Frame>,
    /// The latest packet time seen so far in the timeline.
    pub now: Timestamp,
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
}

pub(super) struct Dispatcher {
    pub workers: Vec<Sender<Batch>>,
    pub pool: ChunkPool,
    /// Spare frame vectors, handed back by the workers.
    pub frames: Recycler<Frame>,
    /// File bytes read so far, for the progress bar.
    pub progress: Arc<AtomicU64>,
}

impl Dispatcher {
    pub fn run(self, inputs: &[Input]) -> DispatchReport {
        let mut report = DispatchReport::default();
        let mut records: Vec<Record> = Vec::new();
        let mut seq = 0u64;
        let mut now = Timestamp(i64::MIN);
        let mut tally = Tally::default();
        let workers = self.workers.len();
        for (capture, input) in inputs.iter().enumerate() {
            let mut file = match CaptureFile::open(&input.path) {
                Ok(file) => file,
                Err(e) => {
                    report.captures.push(CaptureReport {
                        name: input.name.clone(),
                        error: Some(e.to_string()),
                        ..CaptureReport::default()
                    });
                    continue;
                }
            };
            let mut last_read = 0;
            while let Some(chunk) = file.next_chunk(&self.pool, &mut records) {
                let mut batches: Vec<Vec<Frame>> =
                    (0..workers).map(|_| self.frames.take()).collect();
                for record in records.drain(..) {
                    seq += 1;
                    let frame = classify(&chunk, &record, capture as u16, seq, &mut report);
                    now = now.max(record.ts);
                    tally.add(now, record.orig_len);
                    if frame.key.is_some() {
                        report.packets.dispatched += 1;
                        batches[frame.shard as usize % workers].push(frame);
                    }
                }
                let mut counted = tally.take();
                for (worker, frames) in self.workers.iter().zip(batches) {
                    let batch = Batch {
                        chunk: chunk.clone(),
                        frames,
                        now,
                        tally: std::mem::take(&mut counted),
                    };
                    if worker.send(batch).is_err() {
                        // A worker is gone (it panicked): stop feeding the pipeline.
                        return report;
                    }
                }
                let read = file.bytes_read();
                self.progress.fetch_add(read - last_read, Ordering::Relaxed);
                last_read = read;
            }
            report.captures.push(CaptureReport {
                name: input.name.clone(),
                format: Some(file.format().name()),
                packets: file.packets(),
                bytes_read: file.bytes_read(),
                error: None,
                damage: file.damage().cloned(),
                unsupported_link_types: file.unsupported().to_vec(),
            });
        }
        report
    }
}

/// Parses one record and counts what it is.
fn classify(
    chunk: &Chunk,
    record: &Record,
    capture: u16,
    seq: u64,
    report: &mut DispatchReport,
) -> Frame {
    let start = record.start as usize;
    let bytes = &chunk.bytes()[start..start + record.len as usize];
    let mut packet = Packet::parse(record.link, bytes);
    // Only a snaplen cut loses bytes; an IP length beyond an uncut frame is the sender's lie.
    let cut = record.orig_len.saturating_sub(record.len);
    if packet.payload_missing > cut {
        report.packets.ip_length_beyond_frame += 1;
        packet.payload_missing = cut;
    }
    count(&packet, record, report);
    let key = FlowKey::of(&packet);
    let hash = key.map_or(0, |(k, _)| k.hash());
    Frame {
        start: record.start,
        len: record.len,
        orig_len: record.orig_len,
        ts: record.ts,
        capture,
        packet_index: record.packet,
        seq,
        packet,
        key,
        hash,
        shard: (hash % SHARDS as u64) as u16,
    }
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
