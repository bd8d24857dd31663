//! A worker owns a set of shards of the flow table. For each frame of its
//! shards it finds the flow and hands the frame to the flow's conversation:
//! TCP reassembly then stream decoding (`stream`), UDP datagrams, or
//! layer-2 frames (`datagram`). It collects the events and ended-flow records.
//!
//! Everything here is a function of the frames of one shard, in order, and of
//! the epoch clock the dispatcher sends: the output does not depend on how many
//! workers share the shards.

mod datagram;
mod stream;

use super::{FirstUse, FlowEnd, FlowRecord, FlowStart, FlowSummary, Frame, Produced, WorkerStats};
use crate::event::{Header, Protocol, Transport};
use crate::flow::tcp::ReassemblyLimits;
use crate::flow::{FlowKey, FlowTable, Side};
use crate::packet::{Packet, TcpInfo, Transport as L4};
use crate::protocols::{self, DatagramDecoder, Direction, FrameDecoder};
use crate::time::Timestamp;
use stream::TcpConn;

/// Bytes a decoder may leave unconsumed per direction before they are dropped as a gap.
const MAX_PENDING: usize = 256 * 1024;
/// Bytes gathered while no decoder can yet tell what a stream is.
const MAX_PROBE_BYTES: usize = 512;
/// Data pieces or datagrams per direction tried for recognition before giving up.
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

/// What the application layer of a conversation is, as far as is known.
#[derive(Debug)]
enum App<D> {
    /// Not recognised yet: how many tries failed, per direction.
    Detecting {
        probes: [u8; 2],
    },
    Decoding(D),
    /// No decoder recognised it.
    Undecoded,
}

impl<D> Default for App<D> {
    fn default() -> Self {
        App::Detecting { probes: [0; 2] }
    }
}

impl<D> App<D> {
    /// Counts a failed recognition in `direction`; gives up after [`MAX_PROBES`].
    fn probe_failed(&mut self, direction: Direction) {
        if let App::Detecting { probes } = self {
            probes[direction.index()] += 1;
            if probes[direction.index()] >= MAX_PROBES {
                *self = App::Undecoded;
            }
        }
    }
}

/// The transport-specific state of a flow.
#[derive(Debug)]
enum Conversation {
    Tcp(Box<TcpConn>),
    Udp(App<DatagramDecoder>),
    /// Frames without IP, decoded by ethertype (or LLC).
    Frames(App<FrameDecoder>),
    /// Other IP protocols: counted only.
    Other,
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
    summary: FlowSummary,
    conversation: Conversation,
}

impl Flow {
    fn protocol(&self) -> Option<Protocol> {
        match &self.conversation {
            Conversation::Tcp(conn) => match &conn.app {
                App::Decoding(d) => Some(d.protocol()),
                _ => None,
            },
            Conversation::Udp(App::Decoding(d)) => Some(d.protocol()),
            Conversation::Frames(App::Decoding(d)) => Some(d.protocol()),
            _ => None,
        }
    }

    fn closed(&self) -> bool {
        matches!(&self.conversation, Conversation::Tcp(conn) if conn.closed())
    }

    /// Whether its decoder keeps deadlines that pass without traffic.
    fn sweeps(&self) -> bool {
        matches!(&self.conversation, Conversation::Frames(App::Decoding(d)) if d.sweeps())
    }

    /// Packet time reached `now`: the decoder reports what passed unseen
    /// (a GOOSE publisher silent past its time allowed to live).
    fn sweep(&mut self, now: Timestamp, out: &mut Produced) {
        if let Conversation::Frames(App::Decoding(decoder)) = &mut self.conversation {
            let first_event = out.events.len();
            decoder.sweep(now, &mut out.events);
            note_events(
                &mut self.summary,
                self.id,
                &out.events[first_event..],
                &mut out.uses,
            );
        }
    }

    fn server_port(&self, key: &FlowKey) -> u16 {
        key.endpoint(self.client.other()).port
    }
}

struct Shard {
    table: FlowTable<Flow>,
    next_sweep: Timestamp,
    /// A flow of this shard has had a decoder with deadlines to sweep for.
    has_deadlines: bool,
}

pub struct Worker {
    config: WorkerConfig,
    /// Global shard count, so that a frame's shard maps to a local index.
    workers: usize,
    shards: Vec<Shard>,
    stats: WorkerStats,
    /// The latest epoch clock: packet time as every worker knows it, so that
    /// what the end of the input judges does not depend on the thread count.
    now: Timestamp,
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
                    has_deadlines: false,
                })
                .collect(),
            stats: WorkerStats::default(),
            now: Timestamp(i64::MIN),
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
            ..
        } = self;
        let shard = &mut shards[frame.shard as usize / *workers];
        let table = &mut shard.table;
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
            end_flow(stats, key, old, reason, ts, out);
            found = None;
        }
        let flow = match found {
            Some(flow) => flow,
            None => {
                let new = new_flow(stats, &key, side, frame);
                let (flow, evicted) = table.insert(frame.hash, key, new, ts);
                if let Some((key, old)) = evicted {
                    stats.flows.evicted += 1;
                    end_flow(stats, key, old, FlowEnd::Evicted, ts, out);
                }
                flow
            }
        };
        let first_event = out.events.len();
        let state = table.get_mut(flow);
        if state.packets[side.index()] == 0 {
            // The first packet from this side: the analyzer learns the sender exists, and its MAC.
            out.started.push(FlowStart {
                id: state.id,
                key,
                first: side,
                client: state.client,
                opens: state.packets[side.other().index()] == 0,
                // Every segment of an established connection carries ACK; an
                // opening attempt (SYN, or a scanner's FIN/NULL probe) does not.
                midstream: key.proto == 6 && frame.packet.tcp.has(TcpInfo::ACK),
                ts,
                seq: frame.seq,
                capture: frame.capture,
                packet: frame.packet_index,
                src_mac: frame.packet.src_mac,
                dst_mac: frame.packet.dst_mac,
            });
        }
        state.last_seen = state.last_seen.max(ts);
        state.packets[side.index()] += 1;
        state.bytes[side.index()] += u64::from(frame.orig_len);
        let payload = frame.packet.payload(bytes);
        match &state.conversation {
            Conversation::Tcp(_) => stream::segment(
                state,
                frame,
                payload,
                &config.limits,
                &mut stats.tcp,
                &mut out.events,
            ),
            Conversation::Udp(_) => {
                datagram::datagram(state, &key, frame, payload, &mut out.events)
            }
            Conversation::Frames(_) => {
                datagram::l2_frame(state, frame, payload, &mut out.events);
                shard.has_deadlines |= state.sweeps();
            }
            Conversation::Other => {}
        }
        note_events(
            &mut state.summary,
            state.id,
            &out.events[first_event..],
            &mut out.uses,
        );
    }

    /// At the end of each epoch, in every shard that is due: expire idle
    /// flows, and let the others' decoders report deadlines passed unseen.
    pub fn end_epoch(&mut self, now: Timestamp, out: &mut Produced) {
        self.now = self.now.max(now);
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
            if shard.has_deadlines {
                shard.table.for_each_mut(|flow| flow.sweep(now, out));
            }
        }
        for (key, flow) in expired {
            let reason = if flow.closed() {
                FlowEnd::Closed
            } else {
                FlowEnd::Expired
            };
            self.stats.flows.expired += 1;
            end_flow(&mut self.stats, key, flow, reason, now, out);
        }
    }

    /// At the end of the input: end every flow still open, judged at the
    /// last epoch's packet time.
    pub fn finish(&mut self, out: &mut Produced) -> WorkerStats {
        let mut open = Vec::new();
        for shard in &mut self.shards {
            shard.table.drain(|k, f| open.push((k, f)));
        }
        for (key, flow) in open {
            self.stats.flows.open_at_end += 1;
            end_flow(
                &mut self.stats,
                key,
                flow,
                FlowEnd::EndOfInput,
                self.now,
                out,
            );
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
    let conversation = match packet.transport {
        L4::Tcp => {
            stats.flows.tcp += 1;
            Conversation::Tcp(Box::default())
        }
        L4::Udp => {
            stats.flows.udp += 1;
            Conversation::Udp(App::default())
        }
        _ => {
            stats.flows.other += 1;
            if key.ether_type != 0 {
                Conversation::Frames(App::default())
            } else {
                Conversation::Other
            }
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
        summary: FlowSummary::default(),
        conversation,
    }
}

/// Ends `flow` at packet time `now`.
fn end_flow(
    stats: &mut WorkerStats,
    key: FlowKey,
    mut flow: Flow,
    end: FlowEnd,
    now: Timestamp,
    out: &mut Produced,
) {
    let server_port = flow.server_port(&key);
    if let Conversation::Tcp(conn) = &mut flow.conversation {
        let first_event = out.events.len();
        conn.finish(flow.client, server_port, &mut stats.tcp, &mut out.events);
        note_events(
            &mut flow.summary,
            flow.id,
            &out.events[first_event..],
            &mut out.uses,
        );
        stats.truncated_at_end += conn.pending.iter().filter(|p| !p.is_empty()).count() as u64;
    }
    // Deadlines passed by the flow's end (it ends unseen by a later sweep).
    flow.sweep(now, out);
    if let Conversation::Frames(App::Decoding(decoder)) = &mut flow.conversation {
        // Frame decoders may hold counts (PROFINET RT summaries) to report.
        let first_event = out.events.len();
        decoder.finish(&mut out.events);
        note_events(
            &mut flow.summary,
            flow.id,
            &out.events[first_event..],
            &mut out.uses,
        );
    }
    let undecoded = match &flow.conversation {
        Conversation::Tcp(conn) => matches!(conn.app, App::Undecoded),
        Conversation::Udp(app) => matches!(app, App::Undecoded),
        _ => false,
    };
    if undecoded && protocols::is_known_server_port(server_port) {
        stats.undecoded_on_known_port += 1;
    }
    out.ended.push(FlowRecord {
        id: flow.id,
        key,
        client: flow.client,
        first_seen: flow.first_seen,
        last_seen: flow.last_seen,
        packets: flow.packets,
        bytes: flow.bytes,
        protocol: flow.protocol(),
        summary: flow.summary,
        end,
    });
}

/// Adds a flow's new events to its summary, noting first uses of a class.
fn note_events(
    summary: &mut FlowSummary,
    flow: u64,
    events: &[crate::event::Event],
    uses: &mut Vec<FirstUse>,
) {
    for event in events {
        if summary.add(event) {
            let h = &event.header;
            uses.push(FirstUse {
                flow,
                seq: h.seq,
                ts: h.ts,
                protocol: event.pdu.protocol,
                class: event.pdu.class,
                requester: (h.src_ip, h.src_mac),
                responder: (h.dst_ip, h.dst_mac),
            });
        }
    }
}

fn flow_timeout(flow: &Flow, timeouts: &Timeouts) -> u64 {
    match &flow.conversation {
        Conversation::Tcp(conn) if conn.closed() => timeouts.tcp_closed,
        Conversation::Tcp(_) => timeouts.tcp,
        Conversation::Udp(_) => timeouts.udp,
        Conversation::Frames(_) | Conversation::Other => timeouts.other,
    }
}

/// Which side is the client, from the first packet of a flow: the SYN sender,
/// else the side not using a decoder's well-known port, else the higher port,
/// else (no ports) the first sender.
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
        _ if a < b => Side::B,
        _ if a > b => Side::A,
        _ => side,
    };
    (client, false)
}

/// Which way a packet from `sender` travels.
fn direction_of(sender: Side, client: Side) -> Direction {
    if sender == client {
        Direction::ToServer
    } else {
        Direction::ToClient
    }
}

/// The header of events completed by `frame`, oriented as it travelled.
fn header(frame: &Frame, flow: u64, transport: Transport) -> Header {
    let p = &frame.packet;
    let ports = transport != Transport::Ethernet;
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
        src_port: ports.then_some(p.src_port),
        dst_port: ports.then_some(p.dst_port),
        transport,
    }
}
