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
        let mut overflows = 0;
        for side in [Side::A, Side::B] {
            let dir = direction_of(side, client);
            halves[side.index()].finish(stats, &mut |piece| {
                overflows += u64::from(feed(
                    app,
                    &mut pending[side.index()],
                    piece,
                    dir,
                    server_port,
                    events,
                ));
            });
        }
        stats.buffer_overflows += overflows;
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
    let direction = |sender: Side| direction_of(sender, client);
    let mut overflows = 0;
    if info.has(TcpInfo::ACK) {
        // This packet acknowledges the other direction: holes there may now be known lost.
        let peer = side.other();
        let dir = direction(peer);
        halves[peer.index()].acknowledged(info.ack, stats, &mut |piece| {
            overflows += u64::from(feed(
                app,
                &mut pending[peer.index()],
                piece,
                dir,
                server_port,
                events,
            ));
        });
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
    let dir = direction(side);
    halves[side.index()].segment(segment, limits, stats, &mut |piece| {
        overflows += u64::from(feed(
            app,
            &mut pending[side.index()],
            piece,
            dir,
            server_port,
            events,
        ));
    });
    stats.buffer_overflows += overflows;
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
