//! Conversations without a byte stream: UDP datagrams and layer-2 frames,
//! each decoded on its own once the conversation's protocol is recognised.

use super::{App, Conversation, Flow, direction_of, header};
use crate::event::{Event, Transport};
use crate::flow::FlowKey;
use crate::pipeline::Frame;
use crate::protocols::{self, Detection, Emitter};

/// Decodes one UDP datagram, recognising the conversation's protocol first if needed.
pub(super) fn datagram(
    flow: &mut Flow,
    key: &FlowKey,
    frame: &Frame,
    payload: &[u8],
    events: &mut Vec<Event>,
) {
    let Some((_, side)) = frame.key else {
        return;
    };
    let direction = direction_of(side, flow.client);
    let server_port = flow.server_port(key);
    let Conversation::Udp(app) = &mut flow.conversation else {
        return;
    };
    if payload.is_empty() {
        return;
    }
    if let App::Detecting { .. } = app {
        match protocols::detect_datagram(server_port, direction, payload) {
            Detection::Found(decoder) => *app = App::Decoding(decoder),
            // A datagram is whole: needing more bytes means it is not recognised.
            Detection::NeedMore | Detection::Unknown => {
                app.probe_failed(direction);
                return;
            }
        }
    }
    if let App::Decoding(decoder) = app {
        let mut emitter = Emitter::new(header(frame, flow.id, Transport::Udp), direction, events);
        decoder.parse(payload, &mut emitter);
    }
}

/// Decodes one layer-2 frame's payload; the decoder is chosen by ethertype on the first frame.
pub(super) fn l2_frame(flow: &mut Flow, frame: &Frame, payload: &[u8], events: &mut Vec<Event>) {
    let Some((_, side)) = frame.key else {
        return;
    };
    let direction = direction_of(side, flow.client);
    let Conversation::Frames(app) = &mut flow.conversation else {
        return;
    };
    if let App::Detecting { .. } = app {
        *app = match protocols::detect_frame(frame.packet.ether_type, payload) {
            Some(decoder) => App::Decoding(decoder),
            None => App::Undecoded,
        };
    }
    if let App::Decoding(decoder) = app {
        let mut emitter = Emitter::new(
            header(frame, flow.id, Transport::Ethernet),
            direction,
            events,
        );
        decoder.parse(payload, &mut emitter);
    }
}
