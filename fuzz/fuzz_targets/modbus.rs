//! Modbus/TCP decoding of a connection's two byte streams, cut into segments
//! and fed the way the worker feeds a decoder: unconsumed bytes are kept and
//! presented again with the next segment of their direction; a gap drops them.
//!
//! Input layout:
//!   byte 0: direction of segments 0–7 (bit i set: segment i goes to the client)
//!   byte 1: gaps (bit i set: a gap in segment i's direction comes before it)
//!   byte 2: number of explicit segment lengths n (low 3 bits)
//!   next n bytes: lengths of segments 0..n; the rest of the input is the last segment
//!
//! Checks (the `StreamParser` contract): `parse` consumes at most what it was
//! given, emits an event exactly when it consumes, and leaves unconsumed only
//! the start of an MBAP frame — so given a whole frame's worth of bytes
//! (7 + length, for the length in the header), it always consumes; every event
//! is Modbus, in the direction it was decoded in, and renders as a JSON
//! object. The probe's on-port verdict is never stricter than its off-port one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::event::{Event, Header, Protocol, Transport};
use otsensor::output::events::Renderer;
use otsensor::protocols::modbus::names::FunctionCode;
use otsensor::protocols::modbus::{self, ModbusParser};
use otsensor::protocols::{Direction, Emitter, Probe, StreamParser};
use otsensor::time::Timestamp;

/// MBAP header before the length's count starts: transaction id, protocol id, length.
const LENGTH_PREFIX: usize = 6;
/// The largest MBAP length the decoder waits for (a UMAS frame).
const MAX_LENGTH: usize = 2048;
/// The largest length of frames other than UMAS (function code 90).
const MAX_PLAIN_LENGTH: usize = 254;

fn header(packet: u64, dir: Direction) -> Header {
    let (src_port, dst_port) = match dir {
        Direction::ToServer => (40000, modbus::PORT),
        Direction::ToClient => (modbus::PORT, 40000),
    };
    Header {
        ts: Timestamp::from_secs(1_700_000_000),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: Some(src_port),
        dst_port: Some(dst_port),
        transport: Transport::Tcp,
    }
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// What `parse` may leave unconsumed: the start of a frame it cannot yet
/// decode — protocol id 0, a length of 2..=254 (up to 2048 for UMAS), and
/// fewer bytes than the frame has.
fn check_tail(tail: &[u8]) {
    if tail.is_empty() {
        return;
    }
    assert!(
        tail.len() < LENGTH_PREFIX + MAX_LENGTH,
        "{} bytes left unconsumed, more than any frame",
        tail.len()
    );
    if let Some(protocol_id) = be16(tail, 2) {
        assert_eq!(protocol_id, 0, "left a non-Modbus header: {tail:02x?}");
    }
    if let Some(length) = be16(tail, 4) {
        assert!(length >= 2, "left a too-short length: {tail:02x?}");
        assert!(
            tail.len() < LENGTH_PREFIX + length,
            "left a whole frame unconsumed: {tail:02x?}"
        );
        if length > MAX_PLAIN_LENGTH
            && let Some(&fc) = tail.get(7)
        {
            assert!(
                fc == FunctionCode::UMAS.0 && length <= MAX_LENGTH,
                "left {tail:02x?}"
            );
        }
    }
}

fn check_probe(data: &[u8], dir: Direction) {
    let on_port = modbus::probe(data, dir, true);
    let off_port = modbus::probe(data, dir, false);
    if data.len() < 8 {
        assert_eq!((on_port, off_port), (Probe::NeedMore, Probe::NeedMore));
    }
    // Elsewhere than port 502 the evidence needed is stronger, never weaker.
    if off_port == Probe::Match {
        assert_eq!(on_port, Probe::Match);
    }
    if on_port == Probe::NoMatch {
        assert_eq!(off_port, Probe::NoMatch);
    }
}

fn check_events(events: &[Event], dir: Direction, header: &Header, renderer: &mut Renderer) {
    let mut json = Vec::new();
    for event in events {
        assert_eq!(event.pdu.protocol, Protocol::Modbus);
        assert_eq!(event.pdu.is_response, dir == Direction::ToClient);
        assert_eq!(event.header, *header);
        json.clear();
        renderer.render(event, &mut json);
        let value: serde_json::Value = serde_json::from_slice(&json)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
        assert!(value.is_object());
    }
}

fuzz_target!(|data: &[u8]| {
    let [directions, gaps, count, rest @ ..] = data else {
        return;
    };
    let count = usize::from(count & 7).min(rest.len());
    let (lengths, mut stream) = rest.split_at(count);
    let mut segments = Vec::new();
    for &len in lengths {
        let (segment, after) = stream.split_at(usize::from(len).min(stream.len()));
        segments.push(segment);
        stream = after;
    }
    segments.push(stream);

    let mut parser = ModbusParser::new();
    let mut renderer = Renderer::new(vec!["fuzz".into()]);
    // Unconsumed bytes, by direction (`Direction::index`).
    let mut pending: [Vec<u8>; 2] = Default::default();
    let mut events = Vec::new();
    for (i, segment) in segments.into_iter().enumerate() {
        let dir = if directions >> (i % 8) & 1 == 1 {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        let kept = &mut pending[dir.index()];
        if gaps >> (i % 8) & 1 == 1 {
            kept.clear();
            parser.gap(dir);
        }
        kept.extend_from_slice(segment);
        check_probe(kept, dir);

        let header = header(i as u64 + 1, dir);
        events.clear();
        let used = parser.parse(kept, &mut Emitter::new(header, dir, &mut events));
        assert!(used <= kept.len(), "consumed {used} of {}", kept.len());
        assert_eq!(
            used > 0,
            !events.is_empty(),
            "events without progress or back"
        );
        assert!(events.len() <= used);
        check_tail(&kept[used..]);
        check_events(&events, dir, &header, &mut renderer);
        kept.drain(..used);
    }
});
