//! Crafted captures for tests: hosts talking TCP (with handshakes), UDP and
//! raw Ethernet, written as a classic pcap.

use std::net::Ipv4Addr;
use std::path::Path;

use etherparse::PacketBuilder;
use otsensor::capture::write::PcapWriter;
use otsensor::time::Timestamp;

/// A host: its MAC and IPv4 address.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
}

/// `10.a.b.c` with a MAC derived from the address (locally administered).
pub fn host(ip: &str) -> Host {
    let ip: Ipv4Addr = ip.parse().unwrap();
    let [a, b, c, d] = ip.octets();
    Host {
        mac: [0x02, 0x00, a, b, c, d],
        ip,
    }
}

/// A TCP connection's sequence numbers.
pub struct Tcp {
    pub client: Host,
    pub server: Host,
    pub client_port: u16,
    pub server_port: u16,
    client_seq: u32,
    server_seq: u32,
}

/// Frames in time order; each frame advances time by one millisecond.
#[derive(Clone)]
pub struct Craft {
    frames: Vec<(Timestamp, Vec<u8>)>,
    now: i64,
    /// Packet time between one frame and the next.
    gap: i64,
}

impl Default for Craft {
    fn default() -> Self {
        Craft::new()
    }
}

impl Craft {
    pub fn new() -> Craft {
        Craft {
            frames: Vec::new(),
            now: 1_705_400_000_000_000_000,
            gap: 1_000_000,
        }
    }

    /// Lets `seconds` of packet time pass.
    pub fn wait(&mut self, seconds: f64) {
        self.now += (seconds * 1e9) as i64;
    }

    /// Sets the packet time between frames (1 ms unless set).
    pub fn gap(&mut self, seconds: f64) {
        self.gap = (seconds * 1e9) as i64;
    }

    fn push(&mut self, frame: Vec<u8>) {
        self.now += self.gap;
        self.frames.push((Timestamp(self.now), frame));
    }

    /// Opens a connection (SYN, SYN-ACK, ACK).
    pub fn connect(
        &mut self,
        client: Host,
        server: Host,
        client_port: u16,
        server_port: u16,
    ) -> Tcp {
        let mut tcp = Tcp {
            client,
            server,
            client_port,
            server_port,
            client_seq: 1000,
            server_seq: 5000,
        };
        self.segment(&mut tcp, true, Flags::Syn, &[]);
        self.segment(&mut tcp, false, Flags::SynAck, &[]);
        self.segment(&mut tcp, true, Flags::Ack, &[]);
        tcp
    }

    /// A connection attempt only (a SYN), as a scanner sends.
    pub fn syn(&mut self, client: Host, server: Host, client_port: u16, server_port: u16) {
        let mut tcp = Tcp {
            client,
            server,
            client_port,
            server_port,
            client_seq: 1000,
            server_seq: 5000,
        };
        self.segment(&mut tcp, true, Flags::Syn, &[]);
    }

    /// Data from the client (`from_client`) or the server.
    pub fn send(&mut self, tcp: &mut Tcp, from_client: bool, payload: &[u8]) {
        self.segment(tcp, from_client, Flags::PshAck, payload);
    }

    /// A request and its response.
    pub fn exchange(&mut self, tcp: &mut Tcp, request: &[u8], response: &[u8]) {
        self.send(tcp, true, request);
        self.send(tcp, false, response);
    }

    fn segment(&mut self, tcp: &mut Tcp, from_client: bool, flags: Flags, payload: &[u8]) {
        let (src, dst, sport, dport) = if from_client {
            (tcp.client, tcp.server, tcp.client_port, tcp.server_port)
        } else {
            (tcp.server, tcp.client, tcp.server_port, tcp.client_port)
        };
        let (seq, ack) = if from_client {
            (tcp.client_seq, tcp.server_seq)
        } else {
            (tcp.server_seq, tcp.client_seq)
        };
        let mut builder = PacketBuilder::ethernet2(src.mac, dst.mac)
            .ipv4(src.ip.octets(), dst.ip.octets(), 64)
            .tcp(sport, dport, seq, 8192);
        builder = match flags {
            Flags::Syn => builder.syn(),
            Flags::SynAck => builder.syn().ack(ack),
            Flags::Ack => builder.ack(ack),
            Flags::PshAck => builder.psh().ack(ack),
        };
        let mut frame = Vec::new();
        builder.write(&mut frame, payload).unwrap();
        self.push(frame);
        let advance = payload.len() as u32 + u32::from(matches!(flags, Flags::Syn | Flags::SynAck));
        if from_client {
            tcp.client_seq = tcp.client_seq.wrapping_add(advance);
        } else {
            tcp.server_seq = tcp.server_seq.wrapping_add(advance);
        }
    }

    pub fn udp(&mut self, src: Host, dst: Host, sport: u16, dport: u16, payload: &[u8]) {
        let builder = PacketBuilder::ethernet2(src.mac, dst.mac)
            .ipv4(src.ip.octets(), dst.ip.octets(), 64)
            .udp(sport, dport);
        let mut frame = Vec::new();
        builder.write(&mut frame, payload).unwrap();
        self.push(frame);
    }

    /// A frame straight on Ethernet: `ether_type` and payload.
    pub fn ethernet(&mut self, src: [u8; 6], dst: [u8; 6], ether_type: u16, payload: &[u8]) {
        let mut frame = Vec::with_capacity(14 + payload.len());
        frame.extend_from_slice(&dst);
        frame.extend_from_slice(&src);
        frame.extend_from_slice(&ether_type.to_be_bytes());
        frame.extend_from_slice(payload);
        if frame.len() < 60 {
            frame.resize(60, 0);
        }
        self.push(frame);
    }

    /// An ARP reply: `sender` is at `sender.mac`.
    pub fn arp_reply(&mut self, sender: Host, target: Host) {
        let mut body = vec![0, 1, 8, 0, 6, 4, 0, 2];
        body.extend_from_slice(&sender.mac);
        body.extend_from_slice(&sender.ip.octets());
        body.extend_from_slice(&target.mac);
        body.extend_from_slice(&target.ip.octets());
        self.ethernet(sender.mac, target.mac, 0x0806, &body);
    }

    /// A gratuitous ARP announcement of `sender`.
    pub fn arp_announcement(&mut self, sender: Host) {
        let mut body = vec![0, 1, 8, 0, 6, 4, 0, 1];
        body.extend_from_slice(&sender.mac);
        body.extend_from_slice(&sender.ip.octets());
        body.extend_from_slice(&[0; 6]);
        body.extend_from_slice(&sender.ip.octets());
        self.ethernet(sender.mac, [0xff; 6], 0x0806, &body);
    }

    /// The Ethernet frames so far, with their packet times.
    pub fn frames(&self) -> &[(Timestamp, Vec<u8>)] {
        &self.frames
    }

    /// The IPv4 TCP segments of a real capture (Ethernet or BSD loopback)
    /// with new addresses: `host_of(ip, port)` names the crafted host each
    /// end becomes (so that two ends of one loopback capture can sit in two
    /// zones). Ports, sequence numbers, flags, payloads and the gaps between
    /// packets are kept; other packets are left out.
    pub fn readdressed_tcp(&mut self, capture: &Path, host_of: impl Fn(Ipv4Addr, u16) -> Host) {
        use etherparse::{NetSlice, SlicedPacket, TransportSlice};
        use otsensor::capture::{CaptureFile, ChunkPool, LinkType};
        let mut file = CaptureFile::open(capture).unwrap();
        let pool = ChunkPool::new(1 << 20, 1);
        let mut records = Vec::new();
        let start = self.now;
        let mut first = None;
        while let Some(chunk) = file.next_chunk(&pool, &mut records) {
            for record in records.drain(..) {
                let frame =
                    &chunk.bytes()[record.start as usize..(record.start + record.len) as usize];
                let sliced = match record.link {
                    LinkType::Ethernet => SlicedPacket::from_ethernet(frame),
                    LinkType::Null => SlicedPacket::from_ip(&frame[4..]),
                    other => panic!("{}: link type {other:?}", capture.display()),
                };
                let Ok(SlicedPacket {
                    net: Some(NetSlice::Ipv4(ip)),
                    transport: Some(TransportSlice::Tcp(tcp)),
                    ..
                }) = sliced
                else {
                    continue;
                };
                let src = host_of(ip.header().source_addr(), tcp.source_port());
                let dst = host_of(ip.header().destination_addr(), tcp.destination_port());
                let mut builder = PacketBuilder::ethernet2(src.mac, dst.mac)
                    .ipv4(src.ip.octets(), dst.ip.octets(), 64)
                    .tcp(
                        tcp.source_port(),
                        tcp.destination_port(),
                        tcp.sequence_number(),
                        tcp.window_size(),
                    );
                if tcp.syn() {
                    builder = builder.syn();
                }
                if tcp.psh() {
                    builder = builder.psh();
                }
                if tcp.fin() {
                    builder = builder.fin();
                }
                if tcp.rst() {
                    builder = builder.rst();
                }
                if tcp.ack() {
                    builder = builder.ack(tcp.acknowledgment_number());
                }
                let mut out = Vec::new();
                builder.write(&mut out, tcp.payload()).unwrap();
                let first = *first.get_or_insert(record.ts.0);
                self.now = start + self.gap + (record.ts.0 - first);
                self.frames.push((Timestamp(self.now), out));
            }
        }
    }

    pub fn write(&self, path: &Path) {
        let file = std::fs::File::create(path).unwrap();
        let mut pcap = PcapWriter::new(file, 1, true, false).unwrap();
        for (ts, frame) in &self.frames {
            pcap.packet(*ts, frame, frame.len() as u32).unwrap();
        }
    }
}

#[derive(Clone, Copy)]
enum Flags {
    Syn,
    SynAck,
    Ack,
    PshAck,
}

/// A Modbus/TCP ADU: transaction, unit and PDU.
pub fn modbus(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut adu = Vec::with_capacity(7 + pdu.len());
    adu.extend_from_slice(&transaction.to_be_bytes());
    adu.extend_from_slice(&[0, 0]);
    adu.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    adu.push(unit);
    adu.extend_from_slice(pdu);
    adu
}

/// A TPKT + COTP DT frame around `payload` (S7comm, MMS…).
pub fn tpkt_dt(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![3, 0];
    frame.extend_from_slice(&(payload.len() as u16 + 7).to_be_bytes());
    frame.extend_from_slice(&[2, 0xf0, 0x80]);
    frame.extend_from_slice(payload);
    frame
}
