//! Writes the seed inputs of the fuzz targets into `seeds/<target>/`:
//! small, valid captures and Modbus streams for the fuzzer to mutate; for
//! the decoder targets, the conversations of `captures/demo-plant.pcap` and
//! crafted ones of the protocols it lacks (`crafted.rs`).
//!
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds
//!
//! With `--from DIR --to OUT`, instead turns every capture under DIR (e.g.
//! ../shared/pcaps) into decoder target inputs under `OUT/<target>/`, an
//! extra corpus for a campaign that is never committed.

mod targets;

use otsensor_fuzz::samples::crafted;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use otsensor::capture::write::{PcapNgWriter, PcapWriter};
use otsensor::time::Timestamp;

const CLIENT_MAC: [u8; 6] = [0x00, 0x1b, 0x1b, 0x00, 0x00, 0x05];
const SERVER_MAC: [u8; 6] = [0x00, 0x80, 0xf4, 0x00, 0x00, 0x14];
const CLIENT: [u8; 4] = [10, 0, 0, 5];
const SERVER: [u8; 4] = [10, 0, 0, 20];
const CLIENT_PORT: u16 = 49152;
const CLIENT_ISN: u32 = 1000;
const SERVER_ISN: u32 = 5000;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;

/// Read holding registers: 10 registers from 0x006B, unit 17.
const READ_REQUEST: [u8; 12] = [
    0x00, 0x01, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x06, // length
    0x11, // unit id
    0x03, // function code: read holding registers
    0x00, 0x6B, // starting address
    0x00, 0x02, // quantity of registers
];
const READ_RESPONSE: [u8; 13] = [
    0x00, 0x01, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x07, // length
    0x11, // unit id
    0x03, // function code
    0x04, // byte count
    0x02, 0x2B, // register 0x006B
    0x00, 0x64, // register 0x006C
];
const WRITE_REQUEST: [u8; 12] = [
    0x00, 0x02, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x06, // length
    0x11, // unit id
    0x06, // function code: write single register
    0x00, 0x01, // register address
    0x00, 0x03, // register value
];
const EXCEPTION_RESPONSE: [u8; 9] = [
    0x00, 0x02, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x03, // length
    0x11, // unit id
    0x86, // function code: write single register, exception
    0x02, // exception code: illegal data address
];
const DEVICE_ID_REQUEST: [u8; 11] = [
    0x00, 0x03, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x05, // length
    0x01, // unit id
    0x2B, // function code: encapsulated interface transport
    0x0E, // MEI type: read device identification
    0x01, // read device id code: basic
    0x00, // object id
];
const DEVICE_ID_RESPONSE: [u8; 26] = [
    0x00, 0x03, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x14, // length
    0x01, // unit id
    0x2B, // function code
    0x0E, // MEI type
    0x01, // read device id code
    0x01, // conformity level
    0x00, // more follows
    0x00, // next object id
    0x02, // number of objects
    0x00, 0x04, b'A', b'C', b'M', b'E', // vendor name
    0x01, 0x04, b'P', b'L', b'C', b'1', // product code
];
const UMAS_REQUEST: [u8; 10] = [
    0x00, 0x04, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x04, // length
    0x00, // unit id
    0x5A, // function code: UMAS
    0x00, // session key
    0x02, // UMAS function: read PLC info
];
const WRITE_COILS_REQUEST: [u8; 15] = [
    0x00, 0x05, // transaction id
    0x00, 0x00, // protocol id
    0x00, 0x09, // length
    0x01, // unit id
    0x0F, // function code: write multiple coils
    0x00, 0x13, // starting address
    0x00, 0x0A, // quantity of outputs
    0x02, // byte count
    0xCD, 0x01, // outputs
];

/// One TCP segment of the conversation.
struct Seg<'a> {
    from_client: bool,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
}

fn seg(from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Seg<'_> {
    Seg {
        from_client,
        seq,
        ack,
        flags,
        payload,
    }
}

/// An Ethernet II / IPv4 / TCP frame (checksums are not checked by the sensor).
fn tcp_frame(s: &Seg<'_>) -> Vec<u8> {
    let (src_mac, dst_mac, src, dst, sport, dport) = if s.from_client {
        (CLIENT_MAC, SERVER_MAC, CLIENT, SERVER, CLIENT_PORT, 502)
    } else {
        (SERVER_MAC, CLIENT_MAC, SERVER, CLIENT, 502, CLIENT_PORT)
    };
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x08, 0x00]); // ethertype IPv4
    let total = (20 + 20 + s.payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0x00]); // version, IHL; DSCP
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0x00, 0x01, 0x40, 0x00]); // id; don't fragment
    f.extend_from_slice(&[64, 6, 0, 0]); // TTL, TCP, checksum
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&s.seq.to_be_bytes());
    f.extend_from_slice(&s.ack.to_be_bytes());
    f.extend_from_slice(&[0x50, s.flags]); // data offset 5 words; flags
    f.extend_from_slice(&[0xFA, 0xF0, 0, 0, 0, 0]); // window, checksum, urgent
    f.extend_from_slice(s.payload);
    f
}

/// A whole Modbus/TCP connection: handshake, requests and responses, close.
fn conversation() -> Vec<Vec<u8>> {
    let (mut c, mut s) = (CLIENT_ISN + 1, SERVER_ISN + 1);
    let mut segs = vec![
        seg(true, CLIENT_ISN, 0, SYN, &[]),
        seg(false, SERVER_ISN, c, SYN | ACK, &[]),
        seg(true, c, s, ACK, &[]),
    ];
    let exchanges: [(&[u8], &[u8]); 4] = [
        (&READ_REQUEST, &READ_RESPONSE),
        (&WRITE_REQUEST, &EXCEPTION_RESPONSE),
        (&DEVICE_ID_REQUEST, &DEVICE_ID_RESPONSE),
        (&UMAS_REQUEST, &[]),
    ];
    for (request, response) in exchanges {
        segs.push(seg(true, c, s, PSH_ACK, request));
        c += request.len() as u32;
        if !response.is_empty() {
            segs.push(seg(false, s, c, PSH_ACK, response));
            s += response.len() as u32;
        }
    }
    segs.push(seg(true, c, s, FIN_ACK, &[]));
    segs.push(seg(false, s, c + 1, FIN_ACK, &[]));
    segs.iter().map(tcp_frame).collect()
}

/// A connection seen mid-stream, with a request split over two segments,
/// a retransmission and a segment that arrives before the one it follows.
fn reordered() -> Vec<Vec<u8>> {
    let c = CLIENT_ISN + 1;
    let s = SERVER_ISN + 1;
    let (head, tail) = WRITE_COILS_REQUEST.split_at(9);
    let after = c + WRITE_COILS_REQUEST.len() as u32;
    let segs = [
        seg(true, c, s, PSH_ACK, head),
        seg(true, after, s, PSH_ACK, &READ_REQUEST),
        seg(true, c + 9, s, PSH_ACK, tail),
        seg(true, c + 9, s, PSH_ACK, tail),
        seg(false, s, after + 12, PSH_ACK, &READ_RESPONSE),
    ];
    segs.iter().map(tcp_frame).collect()
}

fn ts(i: usize) -> Timestamp {
    Timestamp::from_parts(1_700_000_000 + i as i64, 250_000_000)
}

fn pcap(frames: &[Vec<u8>], nanos: bool, big_endian: bool) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), 1, nanos, big_endian).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.packet(ts(i), f, f.len() as u32).unwrap();
    }
    w.into_inner()
}

/// A pcapng file: an Ethernet interface in nanoseconds, an unsupported one,
/// enhanced and simple packet blocks.
fn pcapng(frames: &[Vec<u8>], big_endian: bool) -> Vec<u8> {
    let mut w = PcapNgWriter::new(Vec::new(), big_endian).unwrap();
    let eth = w.interface(1, 262_144, 9).unwrap();
    let other = w.interface(105, 65_535, 6).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.packet(eth, ts(i), f, f.len() as u32).unwrap();
    }
    w.packet(other, ts(9), &[0u8; 24], 24).unwrap();
    w.simple_packet(&frames[0]).unwrap();
    w.into_inner()
}

/// A frame cut by a snaplen: the IP header announces more than was kept.
fn snapped(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), 1, false, false).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let keep = f.len().min(60);
        w.packet(ts(i), &f[..keep], f.len() as u32).unwrap();
    }
    w.into_inner()
}

/// Modbus target input: control bytes, then the stream.
fn modbus_seed(directions: u8, gaps: u8, lengths: &[u8], stream: &[&[u8]]) -> Vec<u8> {
    let mut seed = vec![directions, gaps, lengths.len() as u8];
    seed.extend_from_slice(lengths);
    for part in stream {
        seed.extend_from_slice(part);
    }
    seed
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

/// Conversations kept of each protocol from a capture.
const PER_PROTOCOL: usize = 3;
/// Payloads kept of each conversation.
const MAX_PIECES: usize = 16;

/// Writes the decoder target inputs of `conversations` under `out/<target>/`,
/// at most `per_protocol` of each protocol, named after `prefix`.
fn decoder_seeds(
    out: &Path,
    prefix: &str,
    conversations: &[otsensor_fuzz::samples::Conversation],
    per_protocol: usize,
) -> usize {
    let mut written: HashMap<(&'static str, String), usize> = HashMap::new();
    for conv in conversations {
        let Some(seed) = targets::seed(conv) else {
            continue;
        };
        let n = written
            .entry((seed.target, seed.protocol.clone()))
            .or_default();
        if *n >= per_protocol {
            continue;
        }
        let name = format!("{prefix}{}_{}", seed.protocol, *n);
        write(&out.join(seed.target), &name, &seed.input);
        *n += 1;
    }
    written.values().sum()
}

/// Every `.pcap`/`.pcapng` file under `dir`.
fn captures(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            captures(&path, found);
        } else if path
            .extension()
            .is_some_and(|e| e == "pcap" || e == "pcapng")
        {
            found.push(path);
        }
    }
}

/// `--from DIR --to OUT`: decoder inputs from every capture under DIR.
fn convert(from: &Path, to: &Path) {
    let mut files = Vec::new();
    captures(from, &mut files);
    files.sort();
    for file in files {
        match otsensor_fuzz::samples::read(&file, MAX_PIECES) {
            Ok(conversations) => {
                let stem = file.file_stem().unwrap_or_default().to_string_lossy();
                let n = decoder_seeds(to, &format!("{stem}_"), &conversations, 20);
                eprintln!("{}: {n} inputs", file.display());
            }
            Err(e) => eprintln!("skipped {e}"),
        }
    }
}

/// Inputs of the targets that hit inner parsers directly.
fn inner_parser_seeds(seeds: &Path) {
    let ber = seeds.join("ber");
    let mms = crafted::mms_tsdu(&crafted::mms_get_name_list());
    write(&ber, "mms_tsdu", &[&[0u8][..], &mms].concat());
    write(
        &ber,
        "goose_all_data",
        &[&[1u8][..], &crafted::goose_all_data()].concat(),
    );
    write(
        &ber,
        "goose_frame",
        &[&[1u8][..], &crafted::goose_frame()[8..]].concat(),
    );
    write(
        &ber,
        "snmp_get",
        &[&[2u8][..], &crafted::snmp_get()].concat(),
    );

    // dns_name: offset, mode (bit 0: keep text; bits 1–2: name, question,
    // record, every record), message.
    let dns = seeds.join("dns_name");
    let answer = crafted::dns_answer(&["historian", "plant"]);
    write(&dns, "question", &[&[12u8, 0b011][..], &answer].concat());
    write(&dns, "name", &[&[12u8, 0b001][..], &answer].concat());
    // The answer record starts after the question (12 + 17 + 4).
    write(&dns, "record", &[&[33u8, 0b101][..], &answer].concat());
    write(&dns, "records", &[&[33u8, 0b111][..], &answer].concat());

    // tls_hello: control (bit 0: ServerHello), cut offset, body.
    let tls = seeds.join("tls_hello");
    let body = crafted::tls_client_hello_body();
    write(&tls, "client_hello", &[&[0u8, 0][..], &body].concat());
    write(&tls, "client_hello_cut", &[&[2u8, 20][..], &body].concat());
    let mut server = vec![1u8, 0, 0x03, 0x03];
    server.extend_from_slice(&[0x5a; 32]);
    server.extend_from_slice(&[
        0x00, 0x13, 0x01, 0x00, 0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
    ]);
    write(&tls, "server_hello", &server);

    let policy = seeds.join("policy_loader");
    write(
        &policy,
        "default_pack",
        otsensor::analysis::policy::load::DEFAULT_PACK.1.as_bytes(),
    );
    write(&policy, "zones", POLICY_ZONES.as_bytes());
}

/// A small plant policy: two zones, a conduit, a rule with a threshold,
/// one that switches a default rule off.
const POLICY_ZONES: &str = r#"[[zone]]
name = "control"
cidrs = ["10.0.0.0/24"]
macs = ["00:1b:1b:00:00:05"]
security_level = 3
purdue_level = 1

[[zone]]
name = "enterprise"
cidrs = ["192.168.0.0/16"]
security_level = 1

[[conduit]]
name = "historian"
zones = ["enterprise", "control"]
initiator = "enterprise"
allow = [{ protocols = ["modbus"], classes = ["read"], function_codes = [3, 4] },
         { protocols = ["s7comm"], writers = ["10.0.0.5", "role:engineering"] }]

[[rule]]
id = "FUZZ-001"
title = "Many writes from the enterprise zone"
severity = "high"
match = { protocol = "modbus", class = "write", src_zone = "enterprise", dst_port = 502 }
unless = { src = "192.168.1.10" }
threshold = { count = 5, window = "1m", by = "src" }

[[rule]]
id = "OT-CPU-001"
enabled = false
"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag_from, from, flag_to, to] = args.as_slice()
        && flag_from == "--from"
        && flag_to == "--to"
    {
        convert(Path::new(from), Path::new(to));
        return;
    }
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures/demo-plant.pcap");
    let demo = otsensor_fuzz::samples::read(&demo, MAX_PIECES).expect("the demo capture");
    decoder_seeds(&seeds, "demo_", &demo, PER_PROTOCOL);
    decoder_seeds(&seeds, "crafted_", &crafted::conversations(), PER_PROTOCOL);
    inner_parser_seeds(&seeds);
    let conversation = conversation();
    let reordered = reordered();

    let reader = seeds.join("capture_reader");
    write(&reader, "modbus.pcap", &pcap(&conversation, false, false));
    write(&reader, "modbus_be_ns.pcap", &pcap(&reordered, true, true));
    write(&reader, "modbus.pcapng", &pcapng(&conversation[..6], false));
    write(&reader, "modbus_be.pcapng", &pcapng(&reordered, true));
    write(&reader, "snaplen.pcap", &snapped(&conversation[3..7]));

    // The pipeline target's input is a pcap file without its header.
    let pipeline = seeds.join("pipeline");
    write(
        &pipeline,
        "conversation",
        &pcap(&conversation, false, false)[24..],
    );
    write(
        &pipeline,
        "reordered",
        &pcap(&reordered, false, false)[24..],
    );
    write(&pipeline, "snaplen", &snapped(&conversation[3..7])[24..]);

    let modbus = seeds.join("modbus");
    // Requests to the server (bit clear), responses to the client (bit set).
    write(
        &modbus,
        "exchange",
        &modbus_seed(
            0b1010,
            0,
            &[12, 13, 12],
            &[
                &READ_REQUEST,
                &READ_RESPONSE,
                &WRITE_REQUEST,
                &EXCEPTION_RESPONSE,
            ],
        ),
    );
    write(
        &modbus,
        "device_id",
        &modbus_seed(0b10, 0, &[11], &[&DEVICE_ID_REQUEST, &DEVICE_ID_RESPONSE]),
    );
    // One request cut into three segments, then two frames in one segment.
    write(
        &modbus,
        "split",
        &modbus_seed(
            0,
            0,
            &[5, 4],
            &[&WRITE_COILS_REQUEST, &UMAS_REQUEST, &READ_REQUEST],
        ),
    );
    // A partial frame, a gap, then garbage before a frame.
    write(
        &modbus,
        "gap_garbage",
        &modbus_seed(
            0,
            0b10,
            &[9],
            &[&READ_REQUEST[..9], b"GET / HTTP/1.1\r\n", &WRITE_REQUEST],
        ),
    );
}
