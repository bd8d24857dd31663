//! Every layer-2 decoder of the registry (`protocols::frame_candidates`),
//! fed the frames of one conversation the way the worker feeds them
//! (`pipeline/worker/datagram.rs`): the decoder is chosen on the first frame
//! by its ethertype, then takes every later frame whatever it holds; the
//! flow's end asks it for what it still holds.
//!
//! Input layout:
//!   bytes 0–1: the ethertype (big-endian; below 0x0600, an 802.3 length and
//!              the payload starts with LLC). When no decoder claims the first
//!              frame, the registry's entry at ethertype modulo its length
//!              decodes the conversation anyway, so every decoder gets any bytes.
//!   then a `Conversation` (fuzz/src/decoding.rs): directions, lengths (the
//!   gap bits are unused), and the frames' payloads
//!
//! Checks: events, those of `finish` included, carry the header of a frame
//! already given, names their protocol declares, and render as JSON objects;
//! the registry's detection runs on every frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::event::Transport;
use otsensor::protocols::{self, Emitter};
use otsensor_fuzz::decoding::{Conversation, EventChecks, header};

fuzz_target!(|data: &[u8]| {
    let candidates = protocols::frame_candidates();
    let [hi, lo, rest @ ..] = data else {
        return;
    };
    let ether_type = u16::from_be_bytes([*hi, *lo]);
    let Some(conversation) = Conversation::parse(rest) else {
        return;
    };
    let first = conversation.pieces[0];
    let mut decoder = protocols::detect_frame(ether_type, first)
        .unwrap_or_else(|| (candidates[usize::from(ether_type) % candidates.len()].start)());

    let mut checks = EventChecks::default();
    let expected = |packet| {
        let dir = conversation.direction(packet as usize - 1);
        header(packet, dir, 0, Transport::Ethernet)
    };
    let mut events = Vec::new();
    let frames = conversation.pieces.len() as u64;
    for (i, payload) in conversation.pieces.iter().enumerate() {
        let dir = conversation.direction(i);
        let packet = i as u64 + 1;
        let _ = protocols::detect_frame(ether_type, payload);
        events.clear();
        decoder.parse(
            payload,
            &mut Emitter::new(expected(packet), dir, &mut events),
        );
        checks.check(&events, packet, expected);
    }
    events.clear();
    decoder.finish(&mut events);
    checks.check(&events, frames, expected);
});
