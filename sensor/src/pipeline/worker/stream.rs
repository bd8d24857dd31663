//! TCP conversations: reassembly of each direction, then recognition and
//! decoding of the byte stream.

use super::{App, Conversation, Flow, MAX_PENDING, MAX_PROBE_BYTES, direction_of, header};
use crate::event::{Event, Header, Transport};
use crate::flow::Side;
use crate::flow::TcpStats;
use crate::flow::tcp::{HalfStream, Piece, ReassemblyLimits, Segment};
use crate::packet::TcpInfo;
use crate::pipeline::Frame;
use crate::protocols::{self, Detection, Direction, Emitter, StreamDecoder};

/// One TCP connection's reassembly and decoding state.
#[derive(Debug, Default)]
pub(super) struct TcpConn {
    /// Streams by the side that sends them; held bytes keep their packet's event header.
    pub halves: [HalfStream<Header>; 2],
    /// Bytes delivered but not yet consumed by the decoder, by sending side.
    pub pending: [Vec<u8>; 2],
    pub reset: bool,
    pub app: App<StreamDecoder>,
}

impl TcpConn {
    pub fn closed(&self) -> bool {
        self.reset || (self.halves[0].fin_seen() && self.halves[1].fin_seen())
    }

    /// The connection is over, so holes will not fill: decode what was held behind them.
    pub fn finish(
        &mut self,
        client: Side,
        server_port: u16,
        stats: &mut TcpStats,
        events: &mut Vec<Event>,
    ) {
        let TcpConn {
            halves,
            pending,
            app,
            ..
        } = self;
        let mut decoder = Decoder {
            app,
            pending,
            client,
            server_port,
            events,
            overflows: 0,
        };
        for side in [Side::A, Side::B] {
            halves[side.index()].finish(stats, &mut |piece| decoder.piece(side, piece));
        }
        stats.buffer_overflows += decoder.overflows;
    }
}

/// Where in-order stream content goes: the connection's decoder, with what it
/// left unconsumed in each direction.
struct Decoder<'a> {
    app: &'a mut App<StreamDecoder>,
    pending: &'a mut [Vec<u8>; 2],
    client: Side,
    server_port: u16,
    events: &'a mut Vec<Event>,
    /// Times a direction's unconsumed bytes outgrew their cap.
    overflows: u64,
}

impl Decoder<'_> {
    /// Content that `sender` sent.
    fn piece(&mut self, sender: Side, piece: Piece<'_, Header>) {
        let direction = direction_of(sender, self.client);
        let pending = &mut self.pending[sender.index()];
        let overflowed = feed(
            self.app,
            pending,
            piece,
            direction,
            self.server_port,
            self.events,
        );
        self.overflows += u64::from(overflowed);
    }
}

/// Reassembles one TCP segment and feeds what becomes in-order to the decoder.
pub(super) fn segment(
    flow: &mut Flow,
    frame: &Frame,
    payload: &[u8],
    limits: &ReassemblyLimits,
    stats: &mut TcpStats,
    events: &mut Vec<Event>,
) {
    let Some((key, side)) = frame.key else {
        return;
    };
    let info = frame.packet.tcp;
    if info.opens() && !flow.client_known {
        flow.client = if info.has(TcpInfo::ACK) {
            side.other()
        } else {
            side
        };
        flow.client_known = true;
    }
    let client = flow.client;
    let server_port = key.endpoint(client.other()).port;
    let flow_id = flow.id;
    let Conversation::Tcp(conn) = &mut flow.conversation else {
        return;
    };
    let TcpConn {
        halves,
        pending,
        app,
        reset,
    } = &mut **conn;
    *reset |= info.has(TcpInfo::RST);
    let mut decoder = Decoder {
        app,
        pending,
        client,
        server_port,
        events,
        overflows: 0,
    };
    if info.has(TcpInfo::ACK) {
        // This packet acknowledges the other direction: holes there may now be known lost.
        let peer = side.other();
        halves[peer.index()].acknowledged(info.ack, stats, &mut |piece| decoder.piece(peer, piece));
    }
    if info.opens() {
        halves[side.index()].syn(info.seq);
    }
    let segment = Segment {
        // Data in a SYN segment starts after the SYN's own sequence number.
        seq: if info.has(TcpInfo::SYN) {
            info.seq.wrapping_add(1)
        } else {
            info.seq
        },
        payload,
        missing: frame.packet.payload_missing,
        fin: info.has(TcpInfo::FIN),
        tag: header(frame, flow_id, Transport::Tcp),
    };
    halves[side.index()].segment(segment, limits, stats, &mut |piece| {
        decoder.piece(side, piece)
    });
    stats.buffer_overflows += decoder.overflows;
}

/// Passes in-order stream content to the decoder, recognising the protocol
/// first if needed. `pending` holds what the decoder left unconsumed. Returns
/// true if `pending` outgrew its cap and was dropped.
fn feed(
    app: &mut App<StreamDecoder>,
    pending: &mut Vec<u8>,
    piece: Piece<'_, Header>,
    direction: Direction,
    server_port: u16,
    events: &mut Vec<Event>,
) -> bool {
    let (bytes, header) = match piece {
        Piece::Data(bytes, header) => (bytes, header),
        Piece::Gap(_) => {
            pending.clear();
            if let App::Decoding(decoder) = app {
                decoder.gap(direction);
            }
            return false;
        }
    };
    let buffered = !pending.is_empty();
    if buffered {
        pending.extend_from_slice(bytes);
    }
    if let App::Detecting { .. } = app {
        let data: &[u8] = if buffered { pending } else { bytes };
        match protocols::detect_stream(server_port, direction, data) {
            Detection::Found(decoder) => *app = App::Decoding(decoder),
            Detection::NeedMore if data.len() < MAX_PROBE_BYTES => {
                if !buffered {
                    pending.extend_from_slice(bytes);
                }
                return false;
            }
            _ => {
                pending.clear();
                app.probe_failed(direction);
                return false;
            }
        }
    }
    let App::Decoding(decoder) = app else {
        pending.clear();
        return false;
    };
    let mut emitter = Emitter::new(header, direction, events);
    if buffered {
        let used = decoder.parse(pending, &mut emitter).min(pending.len());
        pending.drain(..used);
    } else {
        let used = decoder.parse(bytes, &mut emitter).min(bytes.len());
        pending.extend_from_slice(&bytes[used..]);
    }
    if pending.len() > MAX_PENDING {
        pending.clear();
        decoder.gap(direction);
        return true;
    }
    false
}
