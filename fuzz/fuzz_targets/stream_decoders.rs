//! Every TCP decoder of the registry (`protocols::stream_candidates`), fed a
//! connection's two byte streams the way the worker feeds it
//! (`pipeline/worker/stream.rs`): what a call leaves unconsumed is kept and
//! presented again with the next piece of its direction; a gap drops it.
//!
//! Input layout:
//!   byte 0: the protocol (low 7 bits, modulo the registry's length); bit 7
//!           set: the server is on the protocol's first port, else elsewhere
//!   then a `Conversation` (fuzz/src/decoding.rs): directions, gaps, lengths,
//!   and the pieces of the streams
//!
//! Checks (the `StreamParser` contract): `parse` consumes at most what it was
//! given; events only come with progress (bytes consumed); what it leaves is
//! the start of a PDU it waits to complete, so presenting it again with
//! nothing new consumes nothing and emits nothing; events carry their
//! packet's header, names their protocol declares, and render as JSON
//! objects. While a direction's first bytes are still being probed (up to the
//! worker's 512), the protocol's probe is never stricter on its own port than
//! elsewhere, and the registry's detection runs on them too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::event::Transport;
use otsensor::protocols::{self, Emitter};
use otsensor_fuzz::decoding::{Conversation, EventChecks, check_probe, header};

/// The worker probes at most this many bytes of a direction (`MAX_PROBE_BYTES`).
const MAX_PROBE_BYTES: usize = 512;
/// The worker drops a direction's unconsumed bytes beyond this (`MAX_PENDING`).
const MAX_PENDING: usize = 256 * 1024;
/// A server port that no protocol registers.
const OTHER_PORT: u16 = 40002;

fuzz_target!(|data: &[u8]| {
    let candidates = protocols::stream_candidates();
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let candidate = &candidates[usize::from(selector & 0x7f) % candidates.len()];
    let server_port = if selector & 0x80 != 0 {
        candidate.ports[0]
    } else {
        OTHER_PORT
    };
    assert!(!protocols::is_known_server_port(OTHER_PORT));
    let Some(conversation) = Conversation::parse(rest) else {
        return;
    };

    let mut decoder = (candidate.start)();
    let mut checks = EventChecks::default();
    let expected = |packet| {
        let dir = conversation.direction(packet as usize - 1);
        header(packet, dir, server_port, Transport::Tcp)
    };
    // Unconsumed bytes, by direction (`Direction::index`).
    let mut pending: [Vec<u8>; 2] = Default::default();
    // Bytes each direction carried so far: the probe sees only the first ones.
    let mut carried = [0usize; 2];
    let mut events = Vec::new();
    for (i, piece) in conversation.pieces.iter().enumerate() {
        let dir = conversation.direction(i);
        let packet = i as u64 + 1;
        let kept = &mut pending[dir.index()];
        if conversation.gap_before(i) {
            kept.clear();
            decoder.gap(dir);
        }
        kept.extend_from_slice(piece);
        carried[dir.index()] += piece.len();
        if carried[dir.index()] == kept.len() && kept.len() <= MAX_PROBE_BYTES {
            check_probe(candidate.probe, kept, dir);
            let _ = protocols::detect_stream(server_port, dir, kept);
        }

        let header = expected(packet);
        events.clear();
        let used = decoder.parse(kept, &mut Emitter::new(header, dir, &mut events));
        assert!(used <= kept.len(), "consumed {used} of {}", kept.len());
        assert!(used > 0 || events.is_empty(), "events without progress");
        checks.check(&events, packet, expected);
        kept.drain(..used);

        if !kept.is_empty() {
            events.clear();
            let again = decoder.parse(kept, &mut Emitter::new(header, dir, &mut events));
            assert_eq!(
                (again, events.len()),
                (0, 0),
                "{:?} left {} bytes it could decode: {:02x?}",
                decoder.protocol(),
                kept.len(),
                &kept[..kept.len().min(64)]
            );
        }
        if kept.len() > MAX_PENDING {
            kept.clear();
            decoder.gap(dir);
        }
    }
});
