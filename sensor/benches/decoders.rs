//! Every decoder of the registry (`protocols::stream_candidates`,
//! `datagram_candidates`, `frame_candidates`) on sample conversations of its
//! protocol, fed as the worker feeds it: a TCP decoder gets each segment's
//! bytes with what it left unconsumed before them; a UDP or layer-2 decoder
//! gets each datagram or frame; a layer-2 flow's end is included.
//!
//! The samples (`samples/`) are the conversations of `captures/demo-plant.pcap`
//! and of every capture under `../shared/pcaps` when that folder is there,
//! and crafted conversations for what no capture carries (TLS, SSH, Telnet,
//! FTP, DNS over TCP…). Conversations are grouped by the protocol most of
//! their events name (`s7comm`, `mms` and `cotp` all run the ISO-on-TCP
//! decoder), at most `MAX_BYTES` of each group.
//!
//! Throughput is both bytes and PDUs (events), so criterion prints MiB/s and
//! PDUs/s; the time is per pass over the group's conversations. Before
//! criterion runs, a plain timed loop prints ns per PDU of every group.

mod samples;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otsensor::event::{Event, Header, Protocol, Transport};
use otsensor::protocols::{self, Detection, Direction, Emitter};
use otsensor::time::Timestamp;

use samples::{Carrier, Conversation};

/// Payloads read of each captured conversation.
const MAX_PIECES: usize = 4096;
/// Bytes of conversations kept of each protocol.
const MAX_BYTES: u64 = 4 << 20;

/// How the worker drives a group's decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Driver {
    /// A TCP decoder: the registry entry of `stream_candidates`.
    Stream(usize),
    /// A UDP decoder: the registry entry of `datagram_candidates`.
    Datagram(usize),
    /// A layer-2 decoder, chosen by `detect_frame` on the ethertype.
    Frames(u16),
}

/// The conversations of one protocol, and what one pass over them decodes.
#[derive(Default)]
struct Group {
    conversations: Vec<(Driver, Conversation)>,
    bytes: u64,
    pdus: u64,
    sources: Vec<String>,
}

fn header(packet: u64, dir: Direction, server_port: u16, transport: Transport) -> Header {
    let client = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)), 40001);
    let server = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 20)), server_port);
    let (src, dst) = match dir {
        Direction::ToServer => (client, server),
        Direction::ToClient => (server, client),
    };
    let ip = transport != Transport::Ethernet;
    Header {
        ts: Timestamp::from_parts(1_700_000_000 + packet as i64 / 1000, 0),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: Some([
            0,
            0x1b,
            0x1b,
            0,
            0,
            if dir == Direction::ToServer { 5 } else { 20 },
        ]),
        dst_mac: Some([
            0,
            0x1b,
            0x1b,
            0,
            0,
            if dir == Direction::ToServer { 20 } else { 5 },
        ]),
        src_ip: ip.then_some(src.0),
        dst_ip: ip.then_some(dst.0),
        src_port: ip.then_some(src.1),
        dst_port: ip.then_some(dst.1),
        transport,
    }
}

/// Which registry entry decodes `conv`, recognised as the worker would.
fn driver(conv: &Conversation) -> Option<Driver> {
    let (dir, first) = conv.pieces.first()?;
    match conv.carrier {
        Carrier::Tcp => {
            let mut opening = Vec::new();
            for (d, piece) in conv.pieces.iter().take_while(|(d, _)| d == dir) {
                let _ = d;
                opening.extend_from_slice(piece);
                if opening.len() >= 512 {
                    break;
                }
            }
            let Detection::Found(decoder) =
                protocols::detect_stream(conv.server_port, *dir, &opening)
            else {
                return None;
            };
            let protocol = decoder.protocol();
            protocols::stream_candidates()
                .iter()
                .position(|c| (c.start)().protocol() == protocol)
                .map(Driver::Stream)
        }
        Carrier::Udp => {
            let Detection::Found(decoder) =
                protocols::detect_datagram(conv.server_port, *dir, first)
            else {
                return None;
            };
            let protocol = decoder.protocol();
            protocols::datagram_candidates()
                .iter()
                .position(|c| (c.start)().protocol() == protocol)
                .map(Driver::Datagram)
        }
        Carrier::Frames(ether_type) => {
            protocols::detect_frame(ether_type, first).map(|_| Driver::Frames(ether_type))
        }
    }
}

/// Decodes `conv` as the worker would; returns how many events it emitted,
/// and hands each to `seen`. `pending` and `events` are reused.
fn decode(
    driver: Driver,
    conv: &Conversation,
    pending: &mut [Vec<u8>; 2],
    events: &mut Vec<Event>,
    seen: &mut dyn FnMut(&Event),
) -> u64 {
    let mut pdus = 0u64;
    let port = conv.server_port;
    let mut count = |events: &mut Vec<Event>| {
        pdus += events.len() as u64;
        events.iter().for_each(&mut *seen);
        events.clear();
    };
    match driver {
        Driver::Stream(index) => {
            let mut decoder = (protocols::stream_candidates()[index].start)();
            pending.iter_mut().for_each(Vec::clear);
            for (i, (dir, piece)) in conv.pieces.iter().enumerate() {
                let h = header(i as u64 + 1, *dir, port, Transport::Tcp);
                let kept = &mut pending[dir.index()];
                let mut out = Emitter::new(h, *dir, events);
                if kept.is_empty() {
                    let used = decoder.parse(piece, &mut out).min(piece.len());
                    kept.extend_from_slice(&piece[used..]);
                } else {
                    kept.extend_from_slice(piece);
                    let used = decoder.parse(kept, &mut out).min(kept.len());
                    kept.drain(..used);
                }
                count(events);
            }
        }
        Driver::Datagram(index) => {
            let mut decoder = (protocols::datagram_candidates()[index].start)();
            for (i, (dir, datagram)) in conv.pieces.iter().enumerate() {
                let h = header(i as u64 + 1, *dir, port, Transport::Udp);
                decoder.parse(datagram, &mut Emitter::new(h, *dir, events));
                count(events);
            }
        }
        Driver::Frames(ether_type) => {
            let Some(mut decoder) = protocols::detect_frame(ether_type, &conv.pieces[0].1) else {
                return 0;
            };
            for (i, (dir, frame)) in conv.pieces.iter().enumerate() {
                let h = header(i as u64 + 1, *dir, 0, Transport::Ethernet);
                decoder.parse(frame, &mut Emitter::new(h, *dir, events));
                count(events);
            }
            decoder.finish(events);
            count(events);
        }
    }
    pdus
}

/// The protocol most of `conv`'s events name.
fn main_protocol(driver: Driver, conv: &Conversation) -> Option<Protocol> {
    let mut by_protocol: BTreeMap<&'static str, (u64, Protocol)> = BTreeMap::new();
    decode(
        driver,
        conv,
        &mut Default::default(),
        &mut Vec::new(),
        &mut |e| {
            by_protocol
                .entry(e.pdu.protocol.name())
                .or_insert((0, e.pdu.protocol))
                .0 += 1
        },
    );
    by_protocol
        .into_values()
        .max_by_key(|(n, _)| *n)
        .map(|(_, p)| p)
}

fn capture_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            capture_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|e| e == "pcap" || e == "pcapng")
        {
            found.push(path);
        }
    }
}

/// The sample conversations, grouped by protocol.
fn groups() -> BTreeMap<String, Group> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("captures/demo-plant.pcap")];
    let shared = root.join("../shared/pcaps");
    if shared.is_dir() {
        capture_files(&shared, &mut files);
    } else {
        eprintln!(
            "decoders: no {}; captured samples from the demo capture only",
            shared.display()
        );
    }
    files.sort();
    let mut sources: Vec<(String, Vec<Conversation>)> = files
        .iter()
        .filter_map(|f| match samples::read(f, MAX_PIECES) {
            Ok(c) => Some((f.file_name()?.to_string_lossy().into_owned(), c)),
            Err(e) => {
                eprintln!("decoders: skipped {e}");
                None
            }
        })
        .collect();
    sources.push(("crafted".into(), samples::crafted::conversations()));

    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (source, conversations) in sources {
        for conv in conversations {
            let Some(driver) = driver(&conv) else {
                continue;
            };
            let Some(protocol) = main_protocol(driver, &conv) else {
                continue;
            };
            let group = groups.entry(protocol.name().to_string()).or_default();
            if group.bytes >= MAX_BYTES {
                continue;
            }
            group.bytes += conv.pieces.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
            group.pdus += decode(
                driver,
                &conv,
                &mut Default::default(),
                &mut Vec::new(),
                &mut |_| {},
            );
            if !group.sources.contains(&source) {
                group.sources.push(source.clone());
            }
            group.conversations.push((driver, conv));
        }
    }
    groups
}

fn bench_decoders(c: &mut Criterion) {
    let groups = groups();
    eprintln!("decoders: protocol, conversations, bytes and PDUs per pass, sources");
    for (name, g) in &groups {
        eprintln!(
            "decoders: {name:<14} {:>5} {:>9} {:>7}  {}",
            g.conversations.len(),
            g.bytes,
            g.pdus,
            g.sources.join(" ")
        );
        assert!(g.pdus > 0, "{name}: no PDU decoded");
    }
    print_ns_per_pdu(&groups);
    let mut group = c.benchmark_group("decoders");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut pending: [Vec<u8>; 2] = Default::default();
    let mut events = Vec::with_capacity(64);
    for (name, g) in &groups {
        group.throughput(Throughput::ElementsAndBytes {
            elements: g.pdus,
            bytes: g.bytes,
        });
        group.bench_function(name.as_str(), |b| {
            b.iter(|| assert_eq!(decode_pass(g, &mut pending, &mut events), g.pdus))
        });
    }
    group.finish();
}

/// One pass over a group's conversations; the PDUs decoded.
fn decode_pass(g: &Group, pending: &mut [Vec<u8>; 2], events: &mut Vec<Event>) -> u64 {
    let mut pdus = 0;
    for (driver, conv) in &g.conversations {
        pdus += decode(*driver, conv, pending, events, &mut |e| {
            black_box(e);
        });
    }
    pdus
}

/// ns per PDU of every group, by a plain timed loop (at least 200 ms per
/// group), so that the figure needs no division by hand; criterion's
/// estimates below are the careful ones.
fn print_ns_per_pdu(groups: &BTreeMap<String, Group>) {
    let mut pending: [Vec<u8>; 2] = Default::default();
    let mut events = Vec::with_capacity(64);
    eprintln!("decoders: protocol, ns per PDU");
    for (name, g) in groups {
        let started = std::time::Instant::now();
        let mut pdus = 0u64;
        while started.elapsed() < Duration::from_millis(200) {
            pdus += decode_pass(g, &mut pending, &mut events);
        }
        let ns = started.elapsed().as_nanos() as f64 / pdus as f64;
        eprintln!("decoders: {name:<14} {ns:>8.0} ns/PDU");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_decoders
}
criterion_main!(benches);
