//! Sample conversations of every protocol, as the decoders see them: read
//! from captures or crafted (`crafted.rs`). Shared by the decoder benchmarks
//! (`decoders.rs`) and the fuzz seeds (`fuzz/examples/seeds`, which include
//! this module by path), so each uses only part of it.
#![allow(dead_code)]

pub mod crafted;

use std::collections::HashMap;
use std::path::Path;

use otsensor::capture::{CaptureFile, ChunkPool};
use otsensor::flow::{FlowKey, Side};
use otsensor::packet::{Packet, TcpInfo, Transport};
use otsensor::protocols::{self, Direction};

/// How a conversation is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    Tcp,
    Udp,
    /// Directly over Ethernet, with this ethertype (or 802.3 length).
    Frames(u16),
}

/// One conversation's payloads in capture order, each with its direction.
#[derive(Debug)]
pub struct Conversation {
    pub carrier: Carrier,
    pub server_port: u16,
    pub pieces: Vec<(Direction, Vec<u8>)>,
}

struct Open {
    conversation: Conversation,
    client: Side,
    /// The next TCP sequence number expected from each side (retransmissions are dropped).
    next_seq: [Option<u32>; 2],
}

/// The conversations of the capture at `path`, in the order they start; at
/// most `max_pieces` payloads of each are kept. TCP retransmissions are
/// dropped; reordering is not undone.
pub fn read(path: &Path, max_pieces: usize) -> Result<Vec<Conversation>, String> {
    let mut file = CaptureFile::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let pool = ChunkPool::new(1 << 20, 2);
    let mut records = Vec::new();
    let mut open: HashMap<FlowKey, usize> = HashMap::new();
    let mut all: Vec<Open> = Vec::new();
    while let Some(chunk) = file.next_chunk(&pool, &mut records) {
        for record in records.drain(..) {
            let start = record.start as usize;
            let frame = &chunk.bytes()[start..start + record.len as usize];
            let packet = Packet::parse(record.link, frame);
            let Some((key, side)) = FlowKey::of(&packet) else {
                continue;
            };
            let payload = packet.payload(frame);
            let carrier = match packet.transport {
                Transport::Tcp => Carrier::Tcp,
                Transport::Udp => Carrier::Udp,
                _ if packet.src_ip.is_none() => Carrier::Frames(packet.ether_type),
                _ => continue,
            };
            let index = *open.entry(key).or_insert_with(|| {
                // The opener of a TCP connection is its client; otherwise the
                // side not on a known server port.
                let syn_ack = packet.tcp.has(TcpInfo::SYN) && packet.tcp.has(TcpInfo::ACK);
                let to_known = protocols::is_known_server_port(packet.dst_port);
                let from_known = protocols::is_known_server_port(packet.src_port);
                let client = if syn_ack || (from_known && !to_known) {
                    side.other()
                } else {
                    side
                };
                let server_port = if client == side {
                    packet.dst_port
                } else {
                    packet.src_port
                };
                all.push(Open {
                    conversation: Conversation {
                        carrier,
                        server_port,
                        pieces: Vec::new(),
                    },
                    client,
                    next_seq: [None; 2],
                });
                all.len() - 1
            });
            let conv = &mut all[index];
            if payload.is_empty() || conv.conversation.pieces.len() >= max_pieces {
                continue;
            }
            if carrier == Carrier::Tcp {
                let expected = &mut conv.next_seq[side.index()];
                let seq = packet.tcp.seq;
                if let Some(next) = *expected
                    && (seq.wrapping_sub(next) as i32) < 0
                {
                    continue;
                }
                *expected = Some(seq.wrapping_add(payload.len() as u32));
            }
            let dir = if side == conv.client {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            conv.conversation.pieces.push((dir, payload.to_vec()));
        }
    }
    Ok(all.into_iter().map(|o| o.conversation).collect())
}
