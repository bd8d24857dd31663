//! What the fuzz targets share: turning a capture record into the `Frame` a
//! worker receives, as the dispatcher does, and the checks on layers 2–4 that
//! every target makes. [`decoding`] holds what the decoder targets share.

pub mod decoding;
/// Sample conversations, shared with the decoder benchmarks.
#[path = "../../sensor/benches/samples/mod.rs"]
pub mod samples;

use otsensor::capture::{Chunk, Record};
use otsensor::flow::FlowKey;
use otsensor::packet::{Packet, Transport};
use otsensor::pipeline::{Frame, SHARDS};

/// Parses a record's frame and checks what a user of [`Packet`] and
/// [`FlowKey`] relies on; returns the frame as the dispatcher would send it.
pub fn classify(chunk: &Chunk, record: &Record, seq: u64) -> Frame {
    let bytes = chunk.bytes();
    let end = record.start as usize + record.len as usize;
    assert!(
        end <= bytes.len(),
        "record {}..{end} outside its chunk of {} bytes",
        record.start,
        bytes.len()
    );
    let frame = &bytes[record.start as usize..end];
    let mut packet = Packet::parse(record.link, frame);
    check_packet(&packet, frame);
    // As the dispatcher does: only a snaplen cut loses bytes.
    let cut = record.orig_len.saturating_sub(record.len);
    packet.payload_missing = packet.payload_missing.min(cut);
    let key = FlowKey::of(&packet);
    if let Some((key, side)) = key {
        check_key(&packet, &key, side);
    }
    let hash = key.map_or(0, |(k, _)| k.hash());
    Frame {
        start: record.start,
        len: record.len,
        orig_len: record.orig_len,
        ts: record.ts,
        capture: 0,
        packet_index: record.packet,
        seq,
        packet,
        key,
        hash,
        shard: (hash % SHARDS as u64) as u16,
    }
}

/// The payload a [`Packet`] locates lies within its frame.
pub fn check_packet(packet: &Packet, frame: &[u8]) {
    let end = u64::from(packet.payload_offset) + u64::from(packet.payload_len);
    assert!(
        end <= frame.len() as u64,
        "payload {}+{} beyond a frame of {} bytes: {packet:?}",
        packet.payload_offset,
        packet.payload_len,
        frame.len()
    );
    assert_eq!(packet.payload(frame).len(), packet.payload_len as usize);
}

/// A flow key is ordered, and names the sender on the side it says.
fn check_key(packet: &Packet, key: &FlowKey, side: otsensor::flow::Side) {
    assert!(key.a <= key.b, "unordered key {key:?}");
    if matches!(packet.transport, Transport::Tcp | Transport::Udp) {
        assert_eq!(key.endpoint(side).port, packet.src_port);
        assert_eq!(key.endpoint(side.other()).port, packet.dst_port);
    }
    let reverse = FlowKey::of(&Packet {
        src_ip: packet.dst_ip,
        dst_ip: packet.src_ip,
        src_mac: packet.dst_mac,
        dst_mac: packet.src_mac,
        src_port: packet.dst_port,
        dst_port: packet.src_port,
        ..*packet
    });
    let (reverse, reverse_side) = reverse.expect("the reverse direction has a key too");
    assert_eq!(reverse, *key, "both directions share a key");
    assert_eq!(reverse.hash(), key.hash());
    assert!(reverse_side != side || key.a == key.b);
}
