//! The capture reader alone: `CaptureFile` draining an in-memory classic pcap
//! and pcapng, chunk by chunk, as the dispatcher does. No frame is parsed.
//!
//! Throughput is in records, so criterion's time is per whole file and its
//! rate is records/s; divide the time by the record count for ns/record.

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::PacketBuilder;
use otsensor::capture::write::{PcapNgWriter, PcapWriter};
use otsensor::capture::{CaptureFile, ChunkPool, Record};
use otsensor::time::Timestamp;

/// Records in each generated capture.
const FRAMES: usize = 16_384;
/// The replay's read size.
const CHUNK: usize = 1 << 20;
const DLT_ETHERNET: u32 = 1;

/// A small deterministic generator (xorshift64), so every run reads the same file.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

/// Modbus/TCP polling between 8 HMIs and 4 PLCs: a read-holding-registers
/// request (66 bytes), its response (83–299 bytes: 10–118 registers) and the
/// client's bare ACK (padded to the 60-byte Ethernet minimum).
fn polling_frames() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut frames = Vec::with_capacity(FRAMES);
    let mut transaction: u16 = 0;
    while frames.len() < FRAMES {
        let client = rng.below(8) as u8;
        let plc = rng.below(4) as u8;
        let client_mac = [0x00, 0x0c, 0x29, 0x10, 0x00, client];
        let plc_mac = [0x00, 0x80, 0xf4, 0x20, 0x00, plc];
        let client_ip = [192, 168, 10, 100 + client];
        let plc_ip = [192, 168, 10, 10 + plc];
        let client_port = 49_152 + u16::from(client);
        let registers = 10 + rng.below(109) as u16;
        transaction = transaction.wrapping_add(1);
        let seq = u32::from(transaction) * 12;

        let mut request = Vec::with_capacity(12);
        request.extend_from_slice(&transaction.to_be_bytes());
        request.extend_from_slice(&[0, 0, 0, 6, 1, 3]); // protocol 0, length 6, unit 1, FC 3
        request.extend_from_slice(&(100 * u16::from(plc)).to_be_bytes()); // start address
        request.extend_from_slice(&registers.to_be_bytes());

        let mut response = Vec::with_capacity(9 + 2 * usize::from(registers));
        response.extend_from_slice(&transaction.to_be_bytes());
        response.extend_from_slice(&[0, 0]);
        response.extend_from_slice(&(3 + 2 * registers).to_be_bytes());
        response.extend_from_slice(&[1, 3, (2 * registers) as u8]);
        response.extend((0..2 * registers).map(|i| (i as u8).wrapping_mul(7)));

        let to_plc = || {
            PacketBuilder::ethernet2(client_mac, plc_mac)
                .ipv4(client_ip, plc_ip, 64)
                .tcp(client_port, 502, seq, 64_240)
        };
        frames.push(build(to_plc().ack(seq).psh(), &request));
        let to_client = PacketBuilder::ethernet2(plc_mac, client_mac)
            .ipv4(plc_ip, client_ip, 64)
            .tcp(502, client_port, seq, 8_192)
            .ack(seq + 12)
            .psh();
        frames.push(build(to_client, &response));
        frames.push(build(to_plc().ack(seq + response.len() as u32), &[]));
    }
    frames.truncate(FRAMES);
    frames
}

fn build(builder: etherparse::PacketBuilderStep<etherparse::TcpHeader>, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(builder.size(payload.len()).max(60));
    builder
        .write(&mut frame, payload)
        .expect("writing to a Vec");
    frame.resize(frame.len().max(60), 0); // Ethernet padding
    frame
}

/// 10 ms apart, from a fixed start.
fn timestamp(index: usize) -> Timestamp {
    let micros = index as i64 * 10_000;
    Timestamp::from_parts(
        1_700_000_000 + micros / 1_000_000,
        (micros % 1_000_000) as u32 * 1000,
    )
}

fn classic_pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = PcapWriter::new(Vec::new(), DLT_ETHERNET, false, false).expect("header");
    for (i, frame) in frames.iter().enumerate() {
        out.packet(timestamp(i), frame, frame.len() as u32)
            .expect("record");
    }
    out.into_inner()
}

fn pcapng(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = PcapNgWriter::new(Vec::new(), false).expect("section header");
    let interface = out
        .interface(DLT_ETHERNET as u16, 262_144, 6)
        .expect("interface");
    for (i, frame) in frames.iter().enumerate() {
        out.packet(interface, timestamp(i), frame, frame.len() as u32)
            .expect("enhanced packet block");
    }
    out.into_inner()
}

/// Opens `file` and reads every record; returns how many there were and the
/// sum of their lengths (so the records are used).
fn drain(file: &Arc<[u8]>, pool: &ChunkPool, records: &mut Vec<Record>) -> (u64, u64) {
    let mut capture = CaptureFile::from_reader("bench".into(), Box::new(Cursor::new(file.clone())))
        .expect("a capture");
    let (mut count, mut bytes) = (0, 0);
    while let Some(chunk) = capture.next_chunk(pool, records) {
        count += records.len() as u64;
        bytes += records.iter().map(|r| u64::from(r.len)).sum::<u64>();
        black_box(&chunk);
        records.clear();
    }
    assert!(capture.damage().is_none(), "generated capture is damaged");
    (count, bytes)
}

fn capture(c: &mut Criterion) {
    let frames = polling_frames();
    let frame_bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
    let pool = ChunkPool::new(CHUNK, 4);
    let mut records = Vec::new();

    let mut group = c.benchmark_group("capture");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(FRAMES as u64));
    for (name, file) in [("pcap", classic_pcap(&frames)), ("pcapng", pcapng(&frames))] {
        let file: Arc<[u8]> = file.into();
        let opened = CaptureFile::from_reader(name.into(), Box::new(Cursor::new(file.clone())))
            .expect("a capture");
        assert_eq!(opened.format().name(), name);
        assert_eq!(
            drain(&file, &pool, &mut records),
            (FRAMES as u64, frame_bytes),
            "{name}: every record read"
        );
        group.bench_function(name, |b| {
            b.iter(|| black_box(drain(&file, &pool, &mut records)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Drawing the plots takes longer than measuring here; pass
    // `-- --plotting-backend plotters` to get them.
    config = Criterion::default().without_plots();
    targets = capture
}
criterion_main!(benches);
