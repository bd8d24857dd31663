//! The replay pipeline on one thread: the bytes are the records of a classic
//! pcap file (Ethernet, microseconds) after a fixed header; each record is
//! parsed as the dispatcher does and handed to a worker (flow table, TCP
//! reassembly, protocol detection, decoding), epoch by epoch; the events are
//! merged, analysed and rendered as JSON.
//!
//! The worker is given one small shard and small reassembly limits, so that
//! evictions, hold overflows and resynchronisations happen on short inputs.
//!
//! Checks: each flow ends exactly once, with every packet dispatched to it
//! counted; events belong to packets already seen and come out of the merge
//! in packet order; reassembly delivers no more bytes than the segments
//! carried; every event renders as a JSON object; the analyzer (with the
//! built-in rule pack) counts every event.
#![no_main]

use std::collections::HashSet;
use std::io::Cursor;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use otsensor::analysis::Analyzer;
use otsensor::analysis::inventory::Inventory;
use otsensor::analysis::policy::Policy;
use otsensor::capture::{CaptureFile, ChunkPool};
use otsensor::event::Event;
use otsensor::flow::tcp::ReassemblyLimits;
use otsensor::output::events::Renderer;
use otsensor::packet::Transport;
use otsensor::pipeline::{EpochEvents, FlowRecord, Produced, Timeouts, Worker, WorkerConfig};

/// A classic pcap file header: little-endian, microseconds, Ethernet.
const PCAP_HEADER: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, // magic
    0x02, 0x00, 0x04, 0x00, // version 2.4
    0x00, 0x00, 0x00, 0x00, // thiszone
    0x00, 0x00, 0x00, 0x00, // sigfigs
    0x00, 0x00, 0x04, 0x00, // snaplen 262144
    0x01, 0x00, 0x00, 0x00, // link type: Ethernet
];

const CONFIG: WorkerConfig = WorkerConfig {
    flows_per_shard: 4,
    timeouts: Timeouts {
        tcp: 900,
        tcp_closed: 30,
        udp: 180,
        other: 60,
    },
    limits: ReassemblyLimits {
        max_held_bytes: 2048,
        max_held_segments: 16,
        window: 1 << 16,
    },
};

/// The built-in rule pack, loaded once: loading it for every input would
/// take most of the target's time.
static DEFAULT_PACK: LazyLock<Policy> = LazyLock::new(Policy::default_pack);

/// What the analyzer side sees, with the checks on it.
struct Output {
    analyzer: Analyzer,
    renderer: Renderer,
    json: Vec<u8>,
    ended: HashSet<u64>,
    ended_packets: u64,
    events: u64,
}

impl Output {
    fn epoch(&mut self, produced: Produced, frames_seen: u64) {
        let Produced {
            events,
            mut started,
            mut uses,
            mut ended,
            tally,
        } = produced;
        for event in &events {
            assert!(event.header.seq >= 1 && event.header.seq <= frames_seen);
            assert!(event.header.flow <= event.header.seq, "{:?}", event.header);
        }
        let mut epoch = EpochEvents::new(vec![events]);
        let mut last = 0;
        for event in epoch.iter() {
            assert!(event.header.seq >= last, "merge out of packet order");
            last = event.header.seq;
            self.events += 1;
            self.render(event);
        }
        // Sorted as the replay's merge sorts them.
        started.sort_by_key(|f| f.seq);
        uses.sort_by_key(|u| u.seq);
        ended.sort_by_key(|f| f.id);
        for flow in &ended {
            self.flow_ended(flow);
        }
        self.analyzer.count_packets(&tally);
        self.analyzer.epoch(&mut epoch, &started, &uses, &ended);
    }

    fn render(&mut self, event: &Event) {
        self.json.clear();
        self.renderer.render(event, &mut self.json);
        let value: serde_json::Value = serde_json::from_slice(&self.json)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.json)));
        assert!(value.is_object());
    }

    fn flow_ended(&mut self, flow: &FlowRecord) {
        assert!(self.ended.insert(flow.id), "flow {} ended twice", flow.id);
        assert!(flow.first_seen <= flow.last_seen, "{flow:?}");
        self.ended_packets += flow.packets[0] + flow.packets[1];
    }
}

fuzz_target!(|data: &[u8]| {
    let capture = [&PCAP_HEADER[..], data].concat();
    let mut file = CaptureFile::from_reader("fuzz".into(), Box::new(Cursor::new(capture)))
        .expect("a valid pcap header");
    let pool = ChunkPool::new(512, 2);
    let mut worker = Worker::new(CONFIG, 0, 1, 1);
    let mut out = Output {
        analyzer: Analyzer::new(Inventory::new(), DEFAULT_PACK.clone()),
        renderer: Renderer::new(vec!["fuzz".into()]),
        json: Vec::new(),
        ended: HashSet::new(),
        ended_packets: 0,
        events: 0,
    };
    let mut records = Vec::new();
    let mut seq = 0;
    let mut now = otsensor::time::Timestamp(i64::MIN);
    let mut dispatched = 0u64;
    let mut tcp_payload = 0u64;
    // One epoch per chunk, as in a replay.
    while let Some(chunk) = file.next_chunk(&pool, &mut records) {
        let mut produced = Produced::default();
        for record in records.drain(..) {
            seq += 1;
            let mut frame = otsensor_fuzz::classify(&chunk, &record, seq);
            now = now.max(record.ts);
            if frame.key.is_none() {
                continue;
            }
            dispatched += 1;
            frame.shard = 0;
            let start = frame.start as usize;
            let bytes = &chunk.bytes()[start..start + frame.len as usize];
            if frame.packet.transport == Transport::Tcp {
                tcp_payload += u64::from(frame.packet.payload_len);
            }
            worker.frame(&frame, bytes, &mut produced);
        }
        worker.end_epoch(now, &mut produced);
        out.epoch(produced, seq);
    }
    let mut produced = Produced::default();
    let stats = worker.finish(&mut produced);
    out.epoch(produced, seq);

    assert_eq!(stats.flows.created, out.ended.len() as u64, "{stats:?}");
    assert_eq!(
        out.ended_packets, dispatched,
        "packets lost by the flow table"
    );
    assert!(
        stats.tcp.bytes_delivered <= tcp_payload,
        "{} bytes delivered from {tcp_payload} bytes of payload",
        stats.tcp.bytes_delivered
    );
    let traffic = out.analyzer.finish().traffic;
    assert_eq!(
        traffic.events, out.events,
        "the analyzer counts every event"
    );
    let pdus: u64 = traffic.protocols.values().map(|p| p.pdus).sum();
    assert_eq!(pdus, out.events);
});
