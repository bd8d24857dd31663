//! Protocol decoders: bytes in, PDUs out. One module per protocol; no I/O,
//! no panics, no global state, bounded allocation (DESIGN.md).
//!
//! A TCP decoder implements [`StreamParser`] over the reassembled byte stream
//! of each direction. A protocol is recognised by structure, with the
//! well-known port only deciding which decoders are tried first and how much
//! evidence is needed ([`detect_stream`]).

pub mod modbus;

use crate::event::{Event, Header, Pdu, Protocol};

/// Which way a PDU travelled relative to the connection's roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// Hands a decoder's PDUs to the worker, stamped with the header of the packet
/// in which they completed.
pub struct Emitter<'a> {
    header: Header,
    direction: Direction,
    out: &'a mut Vec<Event>,
}

impl<'a> Emitter<'a> {
    pub fn new(header: Header, direction: Direction, out: &'a mut Vec<Event>) -> Self {
        Emitter {
            header,
            direction,
            out,
        }
    }

    /// The direction of the bytes being decoded.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The packet completing the bytes being decoded (time, packet index…).
    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn emit(&mut self, pdu: Pdu) {
        self.out.push(Event {
            header: self.header,
            pdu,
        });
    }
}

/// Decodes the two byte streams of one TCP connection into PDUs.
pub trait StreamParser {
    /// Decodes the complete PDUs at the start of `data` (bytes that travelled in
    /// `out.direction()`), emitting one event per PDU, and returns how many bytes
    /// it consumed. It returns less than `data.len()` only when the rest is the
    /// beginning of a PDU: the caller keeps those bytes and presents them again,
    /// followed by what arrives next. Bytes that cannot start a PDU must be
    /// consumed and reported, never left to block the stream.
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize;

    /// Bytes were lost in `dir` (a gap in the capture): forget any partial PDU
    /// and resynchronise on what comes next.
    fn gap(&mut self, dir: Direction);
}

/// A decoder's verdict on the first bytes of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// These bytes are this protocol.
    Match,
    /// These bytes cannot be this protocol.
    NoMatch,
    /// Too few bytes to tell.
    NeedMore,
}

/// The per-connection state of whichever decoder recognised a TCP stream.
#[derive(Debug)]
pub enum StreamDecoder {
    Modbus(modbus::ModbusParser),
}

impl StreamDecoder {
    pub fn protocol(&self) -> Protocol {
        match self {
            StreamDecoder::Modbus(_) => Protocol::Modbus,
        }
    }

    pub fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        match self {
            StreamDecoder::Modbus(p) => p.parse(data, out),
        }
    }

    pub fn gap(&mut self, dir: Direction) {
        match self {
            StreamDecoder::Modbus(p) => p.gap(dir),
        }
    }
}

/// A TCP protocol the sensor can recognise: its well-known ports and its probe.
struct StreamProtocol {
    ports: &'static [u16],
    /// `on_known_port` tells the probe whether the server port is one of `ports`,
    /// so that it can demand stronger evidence elsewhere.
    probe: fn(data: &[u8], direction: Direction, on_known_port: bool) -> Probe,
    start: fn() -> StreamDecoder,
}

const STREAM_PROTOCOLS: &[StreamProtocol] = &[StreamProtocol {
    ports: &[modbus::PORT],
    probe: modbus::probe,
    start: || StreamDecoder::Modbus(modbus::ModbusParser::new()),
}];

/// The outcome of trying to recognise a stream from its first bytes.
#[derive(Debug)]
pub enum Detection {
    Found(StreamDecoder),
    /// Some decoder needs more bytes before it can tell.
    NeedMore,
    /// No decoder recognises these bytes.
    Unknown,
}

/// Recognises the protocol of a TCP stream from the first bytes seen in one
/// direction. Decoders registered for `server_port` are tried first.
pub fn detect_stream(server_port: u16, direction: Direction, data: &[u8]) -> Detection {
    let mut need_more = false;
    let on_port = |p: &StreamProtocol| p.ports.contains(&server_port);
    let ordered = STREAM_PROTOCOLS
        .iter()
        .filter(|p| on_port(p))
        .chain(STREAM_PROTOCOLS.iter().filter(|p| !on_port(p)));
    for protocol in ordered {
        match (protocol.probe)(data, direction, on_port(protocol)) {
            Probe::Match => return Detection::Found((protocol.start)()),
            Probe::NeedMore => need_more = true,
            Probe::NoMatch => {}
        }
    }
    if need_more {
        Detection::NeedMore
    } else {
        Detection::Unknown
    }
}

/// Whether `port` is the well-known server port of a decoded protocol; used to
/// orient connections whose opening handshake was not captured.
pub fn is_known_server_port(port: u16) -> bool {
    STREAM_PROTOCOLS.iter().any(|p| p.ports.contains(&port))
}
