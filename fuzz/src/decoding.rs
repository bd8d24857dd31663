//! What the decoder targets share: cutting an input into a conversation's
//! pieces, the packet headers those pieces arrive with, and the checks on the
//! events a decoder emits.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use otsensor::event::{Event, Header, Protocol, Transport};
use otsensor::output::events::Renderer;
use otsensor::protocols::{self, Direction, Probe};
use otsensor::time::Timestamp;

/// The client's port, never a registered one.
pub const CLIENT_PORT: u16 = 40001;
const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 20));
const CLIENT_MAC: [u8; 6] = [0x00, 0x1b, 0x1b, 0x00, 0x00, 0x05];
const SERVER_MAC: [u8; 6] = [0x00, 0x80, 0xf4, 0x00, 0x00, 0x14];

/// The control bytes that start a conversation input, and its pieces.
///
/// Layout: `directions` (bit i set: piece i travels to the client), `gaps`
/// (bit i set: bytes were lost before piece i, in its direction), then
/// `count & 7` single-byte lengths of pieces 0..count; the rest of the input
/// is the last piece. Bits repeat every 8 pieces.
pub struct Conversation<'a> {
    pub directions: u8,
    pub gaps: u8,
    pub pieces: Vec<&'a [u8]>,
}

impl<'a> Conversation<'a> {
    pub fn parse(data: &'a [u8]) -> Option<Conversation<'a>> {
        let [directions, gaps, count, rest @ ..] = data else {
            return None;
        };
        let count = usize::from(count & 7).min(rest.len());
        let (lengths, mut rest) = rest.split_at(count);
        let mut pieces = Vec::with_capacity(count + 1);
        for &len in lengths {
            let (piece, after) = rest.split_at(usize::from(len).min(rest.len()));
            pieces.push(piece);
            rest = after;
        }
        pieces.push(rest);
        Some(Conversation {
            directions: *directions,
            gaps: *gaps,
            pieces,
        })
    }

    pub fn direction(&self, i: usize) -> Direction {
        if self.directions >> (i % 8) & 1 == 1 {
            Direction::ToClient
        } else {
            Direction::ToServer
        }
    }

    pub fn gap_before(&self, i: usize) -> bool {
        self.gaps >> (i % 8) & 1 == 1
    }
}

/// The header of the `packet`th packet (1-based) of a conversation with a
/// server on `server_port`, travelling in `dir`. Packets are 10 ms apart.
pub fn header(packet: u64, dir: Direction, server_port: u16, transport: Transport) -> Header {
    let client = (Some(CLIENT_MAC), Some(CLIENT_IP), CLIENT_PORT);
    let server = (Some(SERVER_MAC), Some(SERVER_IP), server_port);
    let (src, dst) = match dir {
        Direction::ToServer => (client, server),
        Direction::ToClient => (server, client),
    };
    let ports = transport != Transport::Ethernet;
    Header {
        ts: Timestamp::from_parts(
            1_700_000_000 + packet as i64 / 100,
            (packet % 100) as u32 * 10_000_000,
        ),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: src.0,
        dst_mac: dst.0,
        src_ip: if ports { src.1 } else { None },
        dst_ip: if ports { dst.1 } else { None },
        src_port: ports.then_some(src.2),
        dst_port: ports.then_some(dst.2),
        transport,
    }
}

/// A probe asks for more evidence away from the protocol's port, never less:
/// what matches elsewhere matches on the port, and what the port rules out
/// is ruled out elsewhere too.
pub fn check_probe(probe: fn(&[u8], Direction, bool) -> Probe, data: &[u8], dir: Direction) {
    let on_port = probe(data, dir, true);
    let off_port = probe(data, dir, false);
    if off_port == Probe::Match {
        assert_eq!(
            on_port,
            Probe::Match,
            "matches off its port only: {data:02x?}"
        );
    }
    if on_port == Probe::NoMatch {
        assert_eq!(
            off_port,
            Probe::NoMatch,
            "ruled out on its port only: {data:02x?}"
        );
    }
}

/// Checks every event a decoder emitted: it carries the header of a packet
/// already given (`expected(packet)`, for packet ≤ `latest`); its function and
/// anomaly names are the ones its protocol declares (so that rules can name
/// them); it renders as one JSON object.
pub struct EventChecks {
    renderer: Renderer,
    json: Vec<u8>,
    /// The function and anomaly names each protocol declares (built once).
    declared: HashMap<Protocol, Declared>,
}

struct Declared {
    functions: &'static [&'static str],
    anomalies: Vec<&'static str>,
}

impl Default for EventChecks {
    fn default() -> Self {
        EventChecks {
            renderer: Renderer::new(vec!["fuzz".into()]),
            json: Vec::new(),
            declared: HashMap::new(),
        }
    }
}

impl EventChecks {
    pub fn check(&mut self, events: &[Event], latest: u64, expected: impl Fn(u64) -> Header) {
        for event in events {
            let packet = event.header.packet;
            assert!(
                (1..=latest).contains(&packet),
                "event of packet {packet} after packet {latest}"
            );
            assert_eq!(event.header, expected(packet), "header changed");
            let pdu = &event.pdu;
            let declared = self
                .declared
                .entry(pdu.protocol)
                .or_insert_with(|| Declared {
                    functions: protocols::function_names(pdu.protocol),
                    anomalies: protocols::anomaly_names(pdu.protocol),
                });
            assert!(
                declared.functions.contains(&pdu.function),
                "{:?} emitted undeclared function {:?}",
                pdu.protocol,
                pdu.function
            );
            for name in pdu.anomalies.iter() {
                assert!(
                    declared.anomalies.contains(&name),
                    "{:?} emitted undeclared anomaly {name:?}",
                    pdu.protocol
                );
            }
            self.json.clear();
            self.renderer.render(event, &mut self.json);
            let value: serde_json::Value = serde_json::from_slice(&self.json)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.json)));
            assert!(value.is_object(), "rendered {value}");
        }
    }
}

/// The input of `stream_decoders`, `datagram_decoders` (`head` is the
/// protocol selector) or `frame_decoders` (`head` is the ethertype) that
/// [`Conversation::parse`] reads back as these pieces: at most 8, all but the last at most 255 bytes (longer ones
/// are cut into several of the same direction), the last at most `max_last`.
pub fn target_input(
    head: &[u8],
    pieces: &[(Direction, Vec<u8>)],
    split: bool,
    max_last: usize,
) -> Vec<u8> {
    let mut cut: Vec<(Direction, &[u8])> = Vec::new();
    for (dir, bytes) in pieces {
        if split {
            cut.extend(bytes.chunks(255).map(|c| (*dir, c)));
        } else {
            cut.push((*dir, bytes));
        }
    }
    let mut chosen: Vec<(Direction, &[u8])> = Vec::new();
    for (dir, bytes) in cut {
        if chosen.len() == 7 || bytes.len() > 255 {
            chosen.push((dir, &bytes[..bytes.len().min(max_last)]));
            break;
        }
        chosen.push((dir, bytes));
    }
    let last = chosen.len().saturating_sub(1);
    let mut directions = 0u8;
    for (i, (dir, _)) in chosen.iter().enumerate() {
        if *dir == Direction::ToClient {
            directions |= 1 << i;
        }
    }
    let mut input = head.to_vec();
    input.extend_from_slice(&[directions, 0, last as u8]);
    input.extend(chosen[..last].iter().map(|(_, b)| b.len() as u8));
    for (_, bytes) in &chosen {
        input.extend_from_slice(bytes);
    }
    input
}
