//! The pipeline: the dispatcher reads frames from a source (capture files
//! chunk by chunk, or live sockets),
//! parses layers 2–4 of each frame once and sends it, by flow hash, to the
//! worker owning its shard; workers decode; the analyzer, on the calling
//! thread, merges their output back into packet order.
//!
//! Determinism: the flow table is split into a fixed number of shards
//! ([`SHARDS`]), whatever the thread count. A shard's frames arrive in packet
//! order and idle-flow sweeps run at epoch boundaries (one epoch per read
//! chunk, the same for every thread count), so each shard computes the same
//! thing whichever worker owns it, and the analyzer orders events by packet.

mod dispatch;
mod merge;
mod recycle;
mod replay;
mod source;
mod tally;
mod worker;

use crate::event::{Event, FunctionClass, Mac, Protocol};
use crate::flow::{FlowKey, FlowStats, Side, TcpStats};
use crate::packet::Packet;
use crate::time::Timestamp;

pub use dispatch::{Backpressure, CaptureReport, PacketStats};
pub use merge::EpochEvents;
pub use replay::{
    Observer, ReplayConfig, ReplayError, ReplayReport, RunOptions, Sink, in_flight, replay,
    replay_observed, run,
};
pub use source::{FileSource, FrameSource, Pulled};
pub use tally::SecondCount;
pub use worker::{Timeouts, Worker, WorkerConfig};

/// Logical shards of the flow table (and so the most workers that help).
pub const SHARDS: usize = 64;

/// A frame on its way to a worker: where its bytes are in the chunk, and its parsed layers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Frame {
    pub start: u32,
    pub len: u32,
    pub orig_len: u32,
    pub ts: Timestamp,
    /// Index of the capture file in the timeline.
    pub capture: u16,
    /// 1-based index in its capture file.
    pub packet_index: u64,
    /// 1-based index across the timeline.
    pub seq: u64,
    pub packet: Packet,
    pub key: Option<(FlowKey, Side)>,
    pub hash: u64,
    pub shard: u16,
}

/// Why a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowEnd {
    /// Closed by FIN/RST and then idle, or replaced by a new connection.
    Closed,
    /// Idle for longer than its timeout.
    Expired,
    /// Its shard was full.
    Evicted,
    /// Still open when the input ended.
    EndOfInput,
}

/// What a flow's PDUs added up to, kept by the worker so that the analyzer
/// need not look at every event to know who uses what.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowSummary {
    /// PDUs that are requests (or unsolicited sends), and responses.
    pub pdus: [u64; 2],
    /// Function classes of those requests and responses, as [`FunctionClass::bit`] sets.
    pub classes: [u16; 2],
    /// PDUs with anomalies.
    pub anomalous: u64,
}

impl FlowSummary {
    /// Counts `event`; returns whether it is the flow's first request of its class.
    pub fn add(&mut self, event: &Event) -> bool {
        let at = usize::from(event.pdu.is_response);
        let bit = event.pdu.class.bit();
        let first = at == 0 && self.classes[0] & bit == 0;
        self.pdus[at] += 1;
        self.classes[at] |= bit;
        self.anomalous += u64::from(!event.pdu.anomalies.is_empty());
        first
    }
}

/// A flow's first request of a function class, so that the analyzer knows
/// who uses what as it happens rather than when the flow ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstUse {
    pub flow: u64,
    /// The packet that carried the request (orders these records).
    pub seq: u64,
    pub ts: Timestamp,
    pub protocol: Protocol,
    pub class: FunctionClass,
    /// Who asked, and who was asked.
    pub requester: (Option<std::net::IpAddr>, Option<Mac>),
    pub responder: (Option<std::net::IpAddr>, Option<Mac>),
}

/// The first packet from each side of a flow, so that the analyzer learns
/// about hosts as they appear, and at which MAC address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStart {
    pub id: u64,
    pub key: FlowKey,
    /// The side that sent this packet.
    pub first: Side,
    pub client: Side,
    /// The flow's very first packet (the other side has sent nothing yet).
    pub opens: bool,
    /// A TCP flow already established when it was first seen (its first packet carries ACK).
    pub midstream: bool,
    pub ts: Timestamp,
    /// The packet's index across the timeline (orders these records).
    pub seq: u64,
    pub capture: u16,
    pub packet: u64,
    /// MAC addresses of the packet, as it travelled.
    pub src_mac: Option<Mac>,
    pub dst_mac: Option<Mac>,
}

/// The summary of a flow that ended, for the analyzer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    pub id: u64,
    pub key: FlowKey,
    pub client: Side,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// By sending side (`Side::index`).
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub protocol: Option<Protocol>,
    pub summary: FlowSummary,
    pub end: FlowEnd,
}

/// What a worker produced in one epoch: events in packet order, and the
/// flows that started and ended.
#[derive(Debug, Default)]
pub struct Produced {
    pub events: Vec<Event>,
    pub started: Vec<FlowStart>,
    pub uses: Vec<FirstUse>,
    pub ended: Vec<FlowRecord>,
    /// Packets of the epoch's chunk by second of packet time.
    pub tally: Vec<SecondCount>,
}

/// What workers count.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerStats {
    pub flows: FlowStats,
    pub tcp: TcpStats,
    /// Stream directions that ended inside an incomplete PDU.
    pub truncated_at_end: u64,
    /// TCP flows on a decoder's well-known port that no decoder recognised.
    pub undecoded_on_known_port: u64,
}

impl WorkerStats {
    pub fn merge(&mut self, other: &WorkerStats) {
        self.flows.merge(&other.flows);
        self.tcp.merge(&other.tcp);
        self.truncated_at_end += other.truncated_at_end;
        self.undecoded_on_known_port += other.undecoded_on_known_port;
    }
}
