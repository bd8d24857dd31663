//! A worker owns a set of shards of the flow table. For each frame of its
//! shards it finds the flow, reassembles TCP, recognises and runs the
//! protocol decoder, and collects the events and ended-flow records.
//!
//! Everything here is a function of the frames of one shard, in order, and of
//! the epoch clock the dispatcher sends: the output does not depend on how many
//! workers share the shards.

use super::{FlowEnd, FlowRecord, Frame, Produced, WorkerStats};
use crate::event::{Event, Header, Protocol, Transport};
use crate::flow::tcp::{HalfStream, Piece, ReassemblyLimits, Segment};
use crate::flow::{FlowKey, FlowTable, Side, TcpStats};
use crate::packet::{Packet, TcpInfo, Transport as L4};
use crate::protocols::{self, Detection, Direction, Emitter, StreamDecoder};
use crate::time::Timestamp;

/// Bytes a decoder may leave unconsumed per direction before they are dropped as a gap.
const MAX_PENDING: usize = 256 * 1024;
/// Bytes gathered while no decoder can yet tell what a stream is.
const MAX_PROBE_BYTES: usize = 512;
/// Data pieces per direction tried for recognition before giving up on a stream.
const MAX_PROBES: u8 = 4;
/// How often (packet time) each shard looks for idle flows.
const SWEEP_INTERVAL_SECS: i64 = 5;

/// Idle timeouts, in seconds of packet time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: u64,
    /// TCP after FIN in both directions or RST.
    pub tcp_closed: u64,
    pub udp: u64,
    pub other: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: 900,
            tcp_closed: 30,
            udp: 180,
            other: 60,
        }
    }
}

impl Timeouts {
    fn min(&self) -> u64 {
        self.tcp.min(self.tcp_closed).min(self.udp).min(self.other)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Flow table capacity of each shard.
    pub flows_per_shard: usize,
    pub timeouts: Timeouts,
    pub limits: ReassemblyLimits,
}

/// What the application layer of a stream is, as far as is known.
#[derive(Debug)]
enum App {
    Detecting {
        probes: [u8; 2],
    },
    Decoding(StreamDecoder),
    /// No decoder recognised it.
    Undecoded,
}

#[derive(Debug)]
struct TcpConn {
    /// Streams by the side that sends them; held bytes keep their packet's event header.
    halves: [HalfStream<Header>; 2],
    /// Bytes delivered but not yet consumed by the decoder, by sending side.
    pending: [Vec<u8>; 2],
    reset: bool,
    app: App,
}

#[derive(Debug)]
struct Flow {
    id: u64,
    first_seen: Timestamp,
    last_seen: Timestamp,
    /// The side that opened the conversation.
    client: Side,
    /// The client's orientation came from a SYN rather than a guess.
    client_known: bool,
    packets: [u64; 2],
    bytes: [u64; 2],
    udp: bool,
    tcp: Option<Box<TcpConn>>,
}

impl Flow {
    fn protocol(&self) -> Option<Protocol> {
        match &self.tcp.as_ref()?.app {
            App::Decoding(d) => Some(d.protocol()),
            _ => None,
        }
    }

    fn closed(&self) -> bool {
        self.tcp
            .as_ref()
            .is_some_and(|t| t.reset || (t.halves[0].fin_seen() && t.halves[1].fin_seen()))
    }
}

struct Shard {
    table: FlowTable<Flow>,
    next_sweep: Timestamp,
}

pub struct Worker {
    config: WorkerConfig,
    /// Global shard count, so that a frame's shard maps to a local index.
    workers: usize,
    shards: Vec<Shard>,
    stats: WorkerStats,
}

impl Worker {
    /// A worker for the shards `index`, `index + workers`, … below `shards`.
    pub fn new(config: WorkerConfig, index: usize, workers: usize, shards: usize) -> Worker {
        let owned = (index..shards).step_by(workers.max(1)).count();
        Worker {
            config,
            workers: workers.max(1),
            shards: (0..owned)
                .map(|_| Shard {
                    table: FlowTable::new(config.flows_per_shard),
                    next_sweep: Timestamp::ZERO,
                })
                .collect(),
            stats: WorkerStats::default(),
        }
    }

    /// Processes one frame of this worker's shards.
    pub fn frame(&mut self, frame: &Frame, bytes: &[u8], out: &mut Produced) {
        let Some((key, side)) = frame.key else {
            return;
        };
        let Worker {
            config,
            workers,
            shards,
            stats,
        } = self;
        let table = &mut shards[frame.shard as usize / *workers].table;
        let ts = frame.ts;
        let mut found = table.find(frame.hash, &key, ts);
        if let Some(flow) = found
            && starts_new_conversation(table.get_mut(flow), frame, &config.timeouts)
        {
            let (key, old) = table.remove(flow);
            let reason = if old.closed() {
                FlowEnd::Closed
            } else {
                FlowEnd::Expired
            };
            stats.flows.expired += u64::from(reason == FlowEnd::Expired);
            end_flow(stats, key, old, reason, out);
            found = None;
        }
        let flow = match found {
            Some(flow) => flow,
            None => {
                let new = new_flow(stats, &key, side, frame);
                let (flow, evicted) = table.insert(frame.hash, key, new, ts);
                if let Some((key, old)) = evicted {
                    stats.flows.evicted += 1;
                    end_flow(stats, key, old, FlowEnd::Evicted, out);
                }
                flow
            }
        };
        let state = table.get_mut(flow);
        state.last_seen = state.last_seen.max(ts);
        state.packets[side.index()] += 1;
        state.bytes[side.index()] += u64::from(frame.orig_len);
        if state.tcp.is_some() {
            let payload = frame.packet.payload(bytes);
            tcp_segment(
                state,
                frame,
                payload,
                &config.limits,
                &mut stats.tcp,
                &mut out.events,
            );
        }
    }

    /// At the end of each epoch: expire idle flows in every shard that is due.
    pub fn end_epoch(&mut self, now: Timestamp, out: &mut Produced) {
        let timeouts = self.config.timeouts;
        let mut expired = Vec::new();
        for shard in &mut self.shards {
            if now < shard.next_sweep {
                continue;
            }
            shard.next_sweep = Timestamp(now.0.saturating_add(SWEEP_INTERVAL_SECS * 1_000_000_000));
            shard.table.expire(
                now,
                timeouts.min(),
                |f| flow_timeout(f, &timeouts),
                |k, f| expired.push((k, f)),
            );
        }
        for (key, flow) in expired {
            let reason = if flow.closed() {
                FlowEnd::Closed
            } else {
                FlowEnd::Expired
            };
            self.stats.flows.expired += 1;
            end_flow(&mut self.stats, key, flow, reason, out);
        }
    }

    /// At the end of the input: end every flow still open.
    pub fn finish(&mut self, out: &mut Produced) -> WorkerStats {
        let mut open = Vec::new();
        for shard in &mut self.shards {
            shard.table.drain(|k, f| open.push((k, f)));
        }
        for (key, flow) in open {
            self.stats.flows.open_at_end += 1;
            end_flow(&mut self.stats, key, flow, FlowEnd::EndOfInput, out);
        }
        std::mem::take(&mut self.stats)
    }
}

/// A packet for a known flow may start a new conversation: after an idle
/// timeout, or a SYN once the old connection has closed.
fn starts_new_conversation(flow: &Flow, frame: &Frame, timeouts: &Timeouts) -> bool {
    if frame.ts.secs_since(flow.last_seen) >= flow_timeout(flow, timeouts) {
        return true;
    }
    let tcp = frame.packet.tcp;
    let syn = frame.packet.transport == L4::Tcp && tcp.opens() && !tcp.has(TcpInfo::ACK);
    syn && flow.closed()
}

fn new_flow(stats: &mut WorkerStats, key: &FlowKey, side: Side, frame: &Frame) -> Flow {
    let packet = &frame.packet;
    stats.flows.created += 1;
    let tcp = match packet.transport {
        L4::Tcp => {
            stats.flows.tcp += 1;
            Some(Box::new(TcpConn {
                halves: Default::default(),
                pending: Default::default(),
                reset: false,
                app: App::Detecting { probes: [0; 2] },
            }))
        }
        L4::Udp => {
            stats.flows.udp += 1;
            None
        }
        _ => {
            stats.flows.other += 1;
            None
        }
    };
    let (client, client_known) = initial_client(key, side, packet);
    Flow {
        id: frame.seq,
        first_seen: frame.ts,
        last_seen: frame.ts,
        client,
        client_known,
        packets: [0; 2],
        bytes: [0; 2],
        udp: packet.transport == L4::Udp,
        tcp,
    }
}

fn end_flow(
    stats: &mut WorkerStats,
    key: FlowKey,
    mut flow: Flow,
    end: FlowEnd,
    out: &mut Produced,
) {
    let protocol = flow.protocol();
    if let Some(conn) = flow.tcp.as_deref_mut() {
        let server_port = key.endpoint(flow.client.other()).port;
        let TcpConn {
            halves,
            pending,
            app,
            ..
        } = conn;
        // The connection is over, so holes will not fill: decode what was held behind them.
        let mut overflows = 0;
        for side in [Side::A, Side::B] {
            let dir = if side == flow.client {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            halves[side.index()].finish(&mut stats.tcp, &mut |piece| {
                overflows += u64::from(feed(
                    app,
                    &mut pending[side.index()],
                    piece,
                    dir,
                    server_port,
                    &mut out.events,
                ));
            });
        }
        stats.tcp.buffer_overflows += overflows;
        stats.truncated_at_end += pending.iter().filter(|p| !p.is_empty()).count() as u64;
        if matches!(app, App::Undecoded) && protocols::is_known_server_port(server_port) {
            stats.undecoded_on_known_port += 1;
        }
    }
    out.ended.push(FlowRecord {
        id: flow.id,
        key,
        client: flow.client,
        first_seen: flow.first_seen,
        last_seen: flow.last_seen,
        packets: flow.packets,
        bytes: flow.bytes,
        protocol,
        end,
    });
}

fn flow_timeout(flow: &Flow, timeouts: &Timeouts) -> u64 {
    match &flow.tcp {
        Some(_) if flow.closed() => timeouts.tcp_closed,
        Some(_) => timeouts.tcp,
        None if flow.udp => timeouts.udp,
        None => timeouts.other,
    }
}

/// Which side is the client, from the first packet of a flow: the SYN sender,
/// else the side not using a decoder's well-known port, else the higher port.
fn initial_client(key: &FlowKey, side: Side, packet: &Packet) -> (Side, bool) {
    if packet.transport == L4::Tcp && packet.tcp.opens() {
        let client = if packet.tcp.has(TcpInfo::ACK) {
            side.other()
        } else {
            side
        };
        return (client, true);
    }
    let (a, b) = (key.a.port, key.b.port);
    let a_serves = protocols::is_known_server_port(a);
    let b_serves = protocols::is_known_server_port(b);
    let client = match (a_serves, b_serves) {
        (true, false) => Side::B,
        (false, true) => Side::A,
        _ if a != b => {
            if a < b {
                Side::B
            } else {
                Side::A
            }
        }
        _ => side,
    };
    (client, false)
}

/// The header of events completed by `frame`, oriented as it travelled.
fn header(frame: &Frame, flow: u64) -> Header {
    let p = &frame.packet;
    Header {
        ts: frame.ts,
        capture: frame.capture,
        packet: frame.packet_index,
        seq: frame.seq,
        flow,
        src_mac: p.src_mac,
        dst_mac: p.dst_mac,
        src_ip: p.src_ip,
        dst_ip: p.dst_ip,
        src_port: Some(p.src_port),
        dst_port: Some(p.dst_port),
        transport: Transport::Tcp,
    }
}

/// Reassembles one TCP segment and feeds what becomes in-order to the decoder.
fn tcp_segment(
    flow: &mut Flow,
    frame: &Frame,
    payload: &[u8],
    limits: &ReassemblyLimits,
    stats: &mut TcpStats,
    events: &mut Vec<Event>,
) {
    let Some((key, side)) = frame.key else {
        return;
    };
    let info = frame.packet.tcp;
    if info.opens() && !flow.client_known {
        flow.client = if info.has(TcpInfo::ACK) {
            side.other()
        } else {
            side
        };
        flow.client_known = true;
    }
    let client = flow.client;
    let server_port = key.endpoint(client.other()).port;
    let flow_id = flow.id;
    let Some(conn) = flow.tcp.as_deref_mut() else {
        return;
    };
    let TcpConn {
        halves,
        pending,
        app,
        reset,
    } = conn;
    *reset |= info.has(TcpInfo::RST);
    let direction = |sender: Side| {
        if sender == client {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    };
    let mut overflows = 0;
    if info.has(TcpInfo::ACK) {
        // This packet acknowledges the other direction: holes there may now be known lost.
        let peer = side.other();
        let dir = direction(peer);
        halves[peer.index()].acknowledged(info.ack, stats, &mut |piece| {
            overflows += u64::from(feed(
                app,
                &mut pending[peer.index()],
                piece,
                dir,
                server_port,
                events,
            ));
        });
    }
    if info.opens() {
        halves[side.index()].syn(info.seq);
    }
    let segment = Segment {
        // Data in a SYN segment starts after the SYN's own sequence number.
        seq: if info.has(TcpInfo::SYN) {
            info.seq.wrapping_add(1)
        } else {
            info.seq
        },
        payload,
        missing: frame.packet.payload_missing,
        fin: info.has(TcpInfo::FIN),
        tag: header(frame, flow_id),
    };
    let dir = direction(side);
    halves[side.index()].segment(segment, limits, stats, &mut |piece| {
        overflows += u64::from(feed(
            app,
            &mut pending[side.index()],
            piece,
            dir,
            server_port,
            events,
        ));
    });
    stats.buffer_overflows += overflows;
}

/// Passes in-order stream content to the decoder, recognising the protocol
/// first if needed. `pending` holds what the decoder left unconsumed. Returns
/// true if `pending` outgrew its cap and was dropped.
fn feed(
    app: &mut App,
    pending: &mut Vec<u8>,
    piece: Piece<'_, Header>,
    direction: Direction,
    server_port: u16,
    events: &mut Vec<Event>,
) -> bool {
    let (bytes, header) = match piece {
        Piece::Data(bytes, header) => (bytes, header),
        Piece::Gap(_) => {
            pending.clear();
            if let App::Decoding(decoder) = app {
                decoder.gap(direction);
            }
            return false;
        }
    };
    let buffered = !pending.is_empty();
    if buffered {
        pending.extend_from_slice(bytes);
    }
    if let App::Detecting { probes } = app {
        let data: &[u8] = if buffered { pending } else { bytes };
        match protocols::detect_stream(server_port, direction, data) {
            Detection::Found(decoder) => *app = App::Decoding(decoder),
            Detection::NeedMore if data.len() < MAX_PROBE_BYTES => {
                if !buffered {
                    pending.extend_from_slice(bytes);
                }
                return false;
            }
            _ => {
                pending.clear();
                probes[direction.index()] += 1;
                if probes[direction.index()] >= MAX_PROBES {
                    *app = App::Undecoded;
                }
                return false;
            }
        }
    }
    let App::Decoding(decoder) = app else {
        pending.clear();
        return false;
    };
    let mut emitter = Emitter::new(header, direction, events);
    if buffered {
        let used = decoder.parse(pending, &mut emitter).min(pending.len());
        pending.drain(..used);
    } else {
        let used = decoder.parse(bytes, &mut emitter).min(bytes.len());
        pending.extend_from_slice(&bytes[used..]);
    }
    if pending.len() > MAX_PENDING {
        pending.clear();
        decoder.gap(direction);
        return true;
    }
    false
}
