//! Seed inputs of the decoder targets made from conversations (captured or
//! crafted): which target decodes a conversation, with which leading bytes.

use otsensor::protocols::{self, Detection, Direction};

use otsensor_fuzz::decoding::target_input;
use otsensor_fuzz::samples::{Carrier, Conversation};

/// The largest last piece of an input; the earlier ones are at most 255 bytes.
const MAX_LAST: usize = 4096;

/// A seed: the target, a name for the protocol, the input.
pub struct Seed {
    pub target: &'static str,
    pub protocol: String,
    pub input: Vec<u8>,
}

/// The first bytes that travelled in the first direction, up to `max`.
fn opening(conv: &Conversation, max: usize) -> (Direction, Vec<u8>) {
    let dir = conv.pieces[0].0;
    let mut bytes = Vec::new();
    for (d, piece) in &conv.pieces {
        if *d != dir || bytes.len() >= max {
            break;
        }
        bytes.extend_from_slice(piece);
    }
    bytes.truncate(max);
    (dir, bytes)
}

/// The seed of the target that decodes `conv`, if a registered protocol
/// recognises it as the worker would.
pub fn seed(conv: &Conversation) -> Option<Seed> {
    if conv.pieces.is_empty() {
        return None;
    }
    let (target, protocol, head, split) = match conv.carrier {
        Carrier::Tcp => {
            let (dir, bytes) = opening(conv, 512);
            let Detection::Found(decoder) = protocols::detect_stream(conv.server_port, dir, &bytes)
            else {
                return None;
            };
            let protocol = decoder.protocol();
            let candidates = protocols::stream_candidates();
            let index = candidates
                .iter()
                .position(|c| (c.start)().protocol() == protocol)?;
            let on_port = candidates[index].ports.first() == Some(&conv.server_port);
            (
                "stream_decoders",
                protocol,
                vec![index as u8 | u8::from(on_port) << 7],
                true,
            )
        }
        Carrier::Udp => {
            let (dir, first) = &conv.pieces[0];
            let Detection::Found(decoder) =
                protocols::detect_datagram(conv.server_port, *dir, first)
            else {
                return None;
            };
            let protocol = decoder.protocol();
            let candidates = protocols::datagram_candidates();
            let index = candidates
                .iter()
                .position(|c| (c.start)().protocol() == protocol)?;
            let on_port = candidates[index].ports.first() == Some(&conv.server_port);
            (
                "datagram_decoders",
                protocol,
                vec![index as u8 | u8::from(on_port) << 7],
                false,
            )
        }
        Carrier::Frames(ether_type) => {
            let decoder = protocols::detect_frame(ether_type, &conv.pieces[0].1)?;
            (
                "frame_decoders",
                decoder.protocol(),
                ether_type.to_be_bytes().to_vec(),
                false,
            )
        }
    };
    Some(Seed {
        target,
        protocol: protocol.name().to_string(),
        input: target_input(&head, &conv.pieces, split, MAX_LAST),
    })
}
