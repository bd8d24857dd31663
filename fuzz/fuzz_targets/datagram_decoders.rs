//! Every UDP decoder of the registry (`protocols::datagram_candidates`),
//! fed a conversation's datagrams in both directions the way the worker
//! feeds them (`pipeline/worker/datagram.rs`; an empty datagram is skipped).
//!
//! Input layout:
//!   byte 0: the protocol (low 7 bits, modulo the registry's length); bit 7
//!           set: the server is on the protocol's first port, else elsewhere
//!   then a `Conversation` (fuzz/src/decoding.rs): directions, lengths (the
//!   gap bits are unused), and the datagrams
//!
//! Checks: events carry their datagram's header, names their protocol
//! declares, and render as JSON objects; on every datagram the protocol's
//! probe is never stricter on its own port than elsewhere, and the registry's
//! detection runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::event::Transport;
use otsensor::protocols::{self, Emitter};
use otsensor_fuzz::decoding::{Conversation, EventChecks, check_probe, header};

/// A server port that no protocol registers.
const OTHER_PORT: u16 = 40002;

fuzz_target!(|data: &[u8]| {
    let candidates = protocols::datagram_candidates();
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let candidate = &candidates[usize::from(selector & 0x7f) % candidates.len()];
    let server_port = if selector & 0x80 != 0 {
        candidate.ports[0]
    } else {
        OTHER_PORT
    };
    let Some(conversation) = Conversation::parse(rest) else {
        return;
    };

    let mut decoder = (candidate.start)();
    let mut checks = EventChecks::default();
    let expected = |packet| {
        let dir = conversation.direction(packet as usize - 1);
        header(packet, dir, server_port, Transport::Udp)
    };
    let mut events = Vec::new();
    for (i, datagram) in conversation.pieces.iter().enumerate() {
        if datagram.is_empty() {
            continue;
        }
        let dir = conversation.direction(i);
        let packet = i as u64 + 1;
        check_probe(candidate.probe, datagram, dir);
        let _ = protocols::detect_datagram(server_port, dir, datagram);

        events.clear();
        decoder.parse(
            datagram,
            &mut Emitter::new(expected(packet), dir, &mut events),
        );
        checks.check(&events, packet, expected);
    }
});
