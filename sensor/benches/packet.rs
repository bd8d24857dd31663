//! Layers 2–4 and the flow key, as the dispatcher runs them on every frame:
//! `Packet::parse`, then `FlowKey::of` and `FlowKey::hash`.
//!
//! `mix` runs over a mix of frame kinds; the other benchmarks over one kind
//! each. Throughput is in packets, so criterion prints packets/s; the time
//! is per whole set (divide by its size for ns/packet).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::{PacketBuilder, PacketBuilderStep, TcpHeader, VlanId};
use otsensor::capture::LinkType;
use otsensor::flow::FlowKey;
use otsensor::packet::{Network, Packet, Transport};

/// Frames of each kind in a set.
const PER_KIND: usize = 256;

const HMI_MAC: [u8; 6] = [0x00, 0x0c, 0x29, 0x10, 0x00, 0x01];
const PLC_MAC: [u8; 6] = [0x00, 0x80, 0xf4, 0x20, 0x00, 0x01];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Ethernet / IPv4 / TCP, a Modbus request or response.
    Modbus,
    /// The same behind an 802.1Q tag.
    VlanModbus,
    /// Ethernet / IPv6 / UDP (a BACnet/IP-sized datagram).
    Ipv6Udp,
    /// An ARP request, padded to 60 bytes.
    Arp,
}

fn pad(mut frame: Vec<u8>) -> Vec<u8> {
    frame.resize(frame.len().max(60), 0);
    frame
}

fn tcp_frame(builder: PacketBuilderStep<TcpHeader>, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut frame, payload)
        .expect("writing to a Vec");
    pad(frame)
}

/// A Modbus ADU: a read-holding-registers request of `n` registers when `i`
/// is even, else its response.
fn modbus_adu(i: usize, n: u16) -> Vec<u8> {
    let transaction = (i / 2) as u16;
    let mut adu = transaction.to_be_bytes().to_vec();
    if i.is_multiple_of(2) {
        adu.extend_from_slice(&[0, 0, 0, 6, 1, 3, 0, 0]); // length 6, unit 1, FC 3, address 0
        adu.extend_from_slice(&n.to_be_bytes());
    } else {
        adu.extend_from_slice(&[0, 0]);
        adu.extend_from_slice(&(3 + 2 * n).to_be_bytes());
        adu.extend_from_slice(&[1, 3, (2 * n) as u8]);
        adu.resize(adu.len() + 2 * usize::from(n), 0x5a);
    }
    adu
}

fn frame(kind: Kind, i: usize) -> Vec<u8> {
    let host = (i % 32) as u8;
    let seq = 1_000 + i as u32 * 64;
    match kind {
        Kind::Modbus | Kind::VlanModbus => {
            let payload = modbus_adu(i, 10 + (i % 60) as u16);
            let (src, dst) = ([10, 0, 1, 100 + host], [10, 0, 1, 10]);
            let ethernet = PacketBuilder::ethernet2(HMI_MAC, PLC_MAC);
            let tcp = if kind == Kind::Modbus {
                ethernet
                    .ipv4(src, dst, 64)
                    .tcp(40_000 + u16::from(host), 502, seq, 8_192)
            } else {
                ethernet
                    .single_vlan(VlanId::try_new(100).expect("valid VLAN id"))
                    .ipv4(src, dst, 64)
                    .tcp(40_000 + u16::from(host), 502, seq, 8_192)
            };
            tcp_frame(tcp.ack(seq).psh(), &payload)
        }
        Kind::Ipv6Udp => {
            let mut src = [0u8; 16];
            src[..2].copy_from_slice(&[0xfd, 0x00]);
            src[15] = host;
            let mut dst = src;
            dst[15] = 0xff;
            let builder = PacketBuilder::ethernet2(HMI_MAC, PLC_MAC)
                .ipv6(src, dst, 64)
                .udp(47_808, 47_808);
            let payload = [
                0x81, 0x0a, 0x00, 0x11, 0x01, 0x04, 0x02, 0x75, 0x01, 0x0c, 0x0c,
            ];
            let mut frame = Vec::with_capacity(builder.size(payload.len()));
            builder
                .write(&mut frame, &payload)
                .expect("writing to a Vec");
            pad(frame)
        }
        Kind::Arp => {
            let mut frame = Vec::with_capacity(60);
            frame.extend_from_slice(&[0xff; 6]); // destination: broadcast
            frame.extend_from_slice(&HMI_MAC); // source
            frame.extend_from_slice(&[0x08, 0x06]); // ethertype ARP
            frame.extend_from_slice(&[0x00, 0x01]); // hardware type Ethernet
            frame.extend_from_slice(&[0x08, 0x00]); // protocol type IPv4
            frame.extend_from_slice(&[6, 4]); // address lengths
            frame.extend_from_slice(&[0x00, 0x01]); // operation: request
            frame.extend_from_slice(&HMI_MAC); // sender MAC
            frame.extend_from_slice(&[10, 0, 1, 100 + host]); // sender IP
            frame.extend_from_slice(&[0; 6]); // target MAC: unknown
            frame.extend_from_slice(&[10, 0, 1, 10]); // target IP
            pad(frame)
        }
    }
}

fn frames(kinds: &[Kind]) -> Vec<Vec<u8>> {
    // Interleaved, as on a real link, rather than one kind after the other.
    (0..PER_KIND)
        .flat_map(|i| kinds.iter().map(move |&kind| frame(kind, i)))
        .collect()
}

/// What the dispatcher computes per frame; the hashes are summed so none is skipped.
fn parse_and_key(frames: &[Vec<u8>]) -> u64 {
    let mut sum = 0u64;
    for frame in frames {
        let packet = Packet::parse(LinkType::Ethernet, black_box(frame));
        if let Some((key, side)) = FlowKey::of(&packet) {
            sum = sum
                .wrapping_add(key.hash())
                .wrapping_add(side.index() as u64);
        }
        sum = sum.wrapping_add(u64::from(packet.payload_len));
    }
    sum
}

/// Checks once, before timing, that each kind parses as intended.
fn check(kind: Kind, frame: &[u8]) {
    let packet = Packet::parse(LinkType::Ethernet, frame);
    assert_eq!(packet.malformed, None, "{kind:?}");
    let expected = match kind {
        Kind::Modbus | Kind::VlanModbus => (Network::Ipv4, Transport::Tcp),
        Kind::Ipv6Udp => (Network::Ipv6, Transport::Udp),
        Kind::Arp => (Network::Arp, Transport::None),
    };
    assert_eq!((packet.network, packet.transport), expected, "{kind:?}");
    assert_eq!(packet.vlan.is_some(), kind == Kind::VlanModbus, "{kind:?}");
    // ARP and other layer-2 frames are keyed by their MAC pair.
    assert!(FlowKey::of(&packet).is_some(), "{kind:?}");
}

fn packet(c: &mut Criterion) {
    let all = [Kind::Modbus, Kind::VlanModbus, Kind::Ipv6Udp, Kind::Arp];
    for kind in all {
        for i in 0..2 {
            check(kind, &frame(kind, i));
        }
    }

    let mut group = c.benchmark_group("packet");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    // Per ten frames: six Modbus over IPv4 (one of them VLAN-tagged), two IPv6/UDP, two ARP.
    let mix = frames(&[
        Kind::Modbus,
        Kind::Modbus,
        Kind::Modbus,
        Kind::Modbus,
        Kind::VlanModbus,
        Kind::Ipv6Udp,
        Kind::Ipv6Udp,
        Kind::Arp,
        Kind::Arp,
        Kind::Modbus,
    ]);
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("mix", |b| b.iter(|| parse_and_key(&mix)));
    for (name, kind) in [
        ("ipv4_tcp_modbus", Kind::Modbus),
        ("vlan_ipv4_tcp_modbus", Kind::VlanModbus),
        ("ipv6_udp", Kind::Ipv6Udp),
        ("arp", Kind::Arp),
    ] {
        let set = frames(&[kind]);
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function(name, |b| b.iter(|| parse_and_key(&set)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Drawing the plots takes longer than measuring here; pass
    // `-- --plotting-backend plotters` to get them.
    config = Criterion::default().without_plots();
    targets = packet
}
criterion_main!(benches);
