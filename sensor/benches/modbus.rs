//! The Modbus/TCP decoder alone, through `StreamParser`: one connection's
//! requests and responses, each presented as the segment that carried it, so
//! framing, decoding and request/response pairing all run.
//!
//! Throughput is in PDUs, so criterion prints PDUs/s; the time is per whole
//! conversation (divide by its PDU count for ns/PDU).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otsensor::event::{Event, Fields, Header, Transport};
use otsensor::protocols::modbus::ModbusParser;
use otsensor::protocols::{Direction, Emitter, StreamParser};
use otsensor::time::Timestamp;

/// Request/response exchanges in the conversation.
const EXCHANGES: usize = 1_000;

/// A deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

/// An ADU: MBAP header (transaction id, protocol 0, length, unit 1), then `pdu`.
fn adu(transaction: u16, pdu: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(7 + pdu.len());
    out.extend_from_slice(&transaction.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    out.push(1);
    out.extend_from_slice(pdu);
    out
}

fn registers(n: u16, seed: u16) -> impl Iterator<Item = u8> {
    (0..n).flat_map(move |i| (seed.wrapping_mul(31).wrapping_add(i * 7)).to_be_bytes())
}

/// One request and its response.
fn exchange(rng: &mut Rng, transaction: u16) -> [Vec<u8>; 2] {
    let address = rng.below(1_000) as u16;
    let [ah, al] = address.to_be_bytes();
    match rng.below(20) {
        // Read holding registers, 10–125 of them: 60% of the traffic.
        0..12 => {
            let n = 10 + rng.below(116) as u16;
            let [nh, nl] = n.to_be_bytes();
            let mut response = vec![3, (2 * n) as u8];
            response.extend(registers(n, transaction));
            [
                adu(transaction, &[3, ah, al, nh, nl]),
                adu(transaction, &response),
            ]
        }
        // Write multiple registers, 1–20 of them: 20%.
        12..16 => {
            let n = 1 + rng.below(20) as u16;
            let [nh, nl] = n.to_be_bytes();
            let mut request = vec![16, ah, al, nh, nl, (2 * n) as u8];
            request.extend(registers(n, transaction));
            [
                adu(transaction, &request),
                adu(transaction, &[16, ah, al, nh, nl]),
            ]
        }
        // Read holding registers answered by an exception (illegal data address): 15%.
        16..19 => [
            adu(transaction, &[3, 0xfd, 0xe8, 0x00, 0x0a]),
            adu(transaction, &[0x83, 0x02]),
        ],
        // Read device identification (FC 43 / MEI 14), basic objects: 5%.
        _ => {
            let mut response = vec![43, 14, 1, 0x81, 0, 0, 3];
            for (id, value) in [
                (0u8, &b"Schneider Electric"[..]),
                (1, b"BMX P34 2020"),
                (2, b"v3.10"),
            ] {
                response.extend_from_slice(&[id, value.len() as u8]);
                response.extend_from_slice(value);
            }
            [
                adu(transaction, &[43, 14, 1, 0]),
                adu(transaction, &response),
            ]
        }
    }
}

/// The conversation: (direction, bytes of one segment), requests and responses alternating.
fn conversation() -> Vec<(Direction, Vec<u8>)> {
    let mut rng = Rng(0x00d1_5ea5_e0ff_1ce5);
    (0..EXCHANGES)
        .flat_map(|i| {
            let [request, response] = exchange(&mut rng, i as u16);
            [
                (Direction::ToServer, request),
                (Direction::ToClient, response),
            ]
        })
        .collect()
}

fn header(packet: u64, direction: Direction) -> Header {
    let (client, server) = (
        (IpAddr::V4(Ipv4Addr::new(10, 0, 1, 100)), 40_000),
        (IpAddr::V4(Ipv4Addr::new(10, 0, 1, 10)), 502),
    );
    let (src, dst) = match direction {
        Direction::ToServer => (client, server),
        Direction::ToClient => (server, client),
    };
    Header {
        ts: Timestamp::from_parts(1_700_000_000 + packet as i64 / 100, 0),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: Some(src.0),
        dst_ip: Some(dst.0),
        src_port: Some(src.1),
        dst_port: Some(dst.1),
        transport: Transport::Tcp,
    }
}

/// Decodes the whole conversation with a fresh parser into `events`.
fn decode(segments: &[(Direction, Vec<u8>)], headers: &[Header], events: &mut Vec<Event>) {
    events.clear();
    let mut parser = ModbusParser::new();
    for ((direction, bytes), header) in segments.iter().zip(headers) {
        let mut out = Emitter::new(*header, *direction, events);
        let used = parser.parse(black_box(bytes), &mut out);
        debug_assert_eq!(used, bytes.len());
    }
}

fn modbus(c: &mut Criterion) {
    let segments = conversation();
    let headers: Vec<Header> = (0..segments.len())
        .map(|i| header(i as u64 + 1, segments[i].0))
        .collect();
    let mut events = Vec::new();

    // Once, before timing: one clean event per segment, every response paired.
    decode(&segments, &headers, &mut events);
    assert_eq!(events.len(), segments.len());
    for event in &events {
        assert!(
            event.pdu.anomalies.is_empty(),
            "packet {}: {:?}",
            event.header.packet,
            event.pdu.anomalies.iter().collect::<Vec<_>>()
        );
        let Fields::Modbus(fields) = &event.pdu.fields else {
            panic!("packet {}: no Modbus fields", event.header.packet);
        };
        if event.pdu.is_response {
            assert_eq!(fields.request_packet, Some(event.header.packet - 1));
        }
    }

    let mut group = c.benchmark_group("modbus");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(segments.len() as u64));
    group.bench_function("mixed_conversation", |b| {
        b.iter(|| {
            decode(&segments, &headers, &mut events);
            black_box(events.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Drawing the plots takes longer than measuring here; pass
    // `-- --plotting-backend plotters` to get them.
    config = Criterion::default().without_plots();
    targets = modbus
}
criterion_main!(benches);
