//! Links CIP implicit I/O to the Forward Open that set its connection up.
//!
//! The Forward Open travels on a TCP flow (explicit messaging) and the I/O
//! on a UDP flow, which may be decoded by different workers; only the
//! analysis sees both, in packet order. It keeps a bounded table of the
//! connections that successful Forward Open replies opened (by O→T and T→O
//! connection id), forgets those a Forward Close closed, and annotates each
//! I/O event whose connection id it knows with `io` (the Forward Open's
//! packet, the direction, the interval, the transport class, the
//! connection's serial triple). It also sets the I/O event's class: the
//! originator's outputs (O→T) are `write`, the target's inputs (T→O) `read`.

use std::collections::{HashMap, VecDeque};

use crate::event::{Event, Fields, FunctionClass};
use crate::protocols::enip::{Connection, EnipFields, IoLink, Kind};

/// Connections remembered; beyond this the oldest is forgotten.
pub const MAX_CONNECTIONS: usize = 4096;

#[derive(Clone, Debug)]
struct Entry {
    link: IoLink,
    /// Which Forward Open set this entry, so that evicting an old one does
    /// not remove a newer one reusing the id.
    generation: u64,
}

/// The connections Forward Opens opened, by connection id.
#[derive(Debug, Default)]
pub struct CipConnections {
    by_id: HashMap<u32, Entry>,
    /// `(id, generation)` pairs, oldest first, for eviction.
    order: VecDeque<(u32, u64)>,
    generation: u64,
}

impl CipConnections {
    /// Looks at one event (in packet order): learns from Forward Open and
    /// Forward Close replies, annotates I/O.
    pub fn event(&mut self, event: &mut Event) {
        let Fields::Enip(f) = &mut event.pdu.fields else {
            return;
        };
        match f.kind {
            Kind::Cip if event.pdu.is_response && f.status == Some(0) => {
                let Some(c) = f.connection.as_deref() else {
                    return;
                };
                match event.pdu.function {
                    "forward_open" | "large_forward_open" => self.opened(c, event.header.packet),
                    "forward_close" => self.closed(c),
                    _ => {}
                }
            }
            Kind::Io => {
                if let Some(class) = self.annotate(f) {
                    event.pdu.class = class;
                }
            }
            _ => {}
        }
    }

    fn opened(&mut self, c: &Connection, packet: u64) {
        self.generation += 1;
        let link = |direction, api: Option<u32>, rpi: Option<u32>| IoLink {
            forward_open_packet: packet,
            direction,
            rpi_us: api.or(rpi),
            transport_class: c.transport_class(),
            connection_serial: c.connection_serial,
            originator_vendor_id: c.originator_vendor_id,
            originator_serial: c.originator_serial,
        };
        let ids = [
            (
                c.o_t_connection_id,
                link("o_to_t", c.o_t_api_us, c.o_t_rpi_us),
            ),
            (
                c.t_o_connection_id,
                link("t_to_o", c.t_o_api_us, c.t_o_rpi_us),
            ),
        ];
        for (id, link) in ids {
            let Some(id) = id else {
                continue;
            };
            while self.order.len() >= MAX_CONNECTIONS * 2 {
                if let Some((old, generation)) = self.order.pop_front()
                    && self
                        .by_id
                        .get(&old)
                        .is_some_and(|e| e.generation == generation)
                {
                    self.by_id.remove(&old);
                }
            }
            let generation = self.generation;
            self.by_id.insert(id, Entry { link, generation });
            self.order.push_back((id, generation));
        }
    }

    /// Forgets the connection a Forward Close names (by its serial triple).
    fn closed(&mut self, c: &Connection) {
        self.by_id.retain(|_, e| {
            (
                e.link.connection_serial,
                e.link.originator_vendor_id,
                e.link.originator_serial,
            ) != (
                c.connection_serial,
                c.originator_vendor_id,
                c.originator_serial,
            )
        });
    }

    /// Annotates an I/O event; returns its class when the connection is known.
    fn annotate(&self, f: &mut EnipFields) -> Option<FunctionClass> {
        let entry = self.by_id.get(&f.connection_id?)?;
        if entry.link.transport_class == Some(0) {
            // Class 0 data has no sequence count.
            f.cip_sequence = None;
        }
        f.io = Some(Box::new(entry.link.clone()));
        Some(if entry.link.direction == "o_to_t" {
            FunctionClass::Write
        } else {
            FunctionClass::Read
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Header, Transport};
    use crate::protocols::enip::EnipParser;
    use crate::protocols::{DatagramParser, Direction, Emitter, StreamParser};
    use crate::time::Timestamp;

    fn header(packet: u64, transport: Transport) -> Header {
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
            src_port: None,
            dst_port: None,
            transport,
        }
    }

    /// SendRRData (sender context 1) around a CIP message.
    fn rr(cip: &[u8]) -> Vec<u8> {
        let mut m = vec![
            0x6F, 0x00, // command: SendRRData
        ];
        m.extend_from_slice(&(cip.len() as u16 + 16).to_le_bytes()); // length
        m.extend_from_slice(&[
            0x01, 0x00, 0x00, 0x00, // session handle
            0x00, 0x00, 0x00, 0x00, // status
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
            0x00, 0x00, 0x00, 0x00, // options
            0x00, 0x00, 0x00, 0x00, // interface handle
            0x00, 0x00, // timeout
            0x02, 0x00, // item count
            0x00, 0x00, 0x00, 0x00, // null address item
            0xB2, 0x00, // unconnected data item
        ]);
        m.extend_from_slice(&(cip.len() as u16).to_le_bytes()); // item length
        m.extend_from_slice(cip);
        m
    }

    /// A class 1 I/O datagram on `connection`.
    fn io(connection: u32) -> Vec<u8> {
        let mut d = vec![
            0x02, 0x00, // item count
            0x02, 0x80, 0x08, 0x00, // sequenced address item, length 8
        ];
        d.extend_from_slice(&connection.to_le_bytes()); // connection id
        d.extend_from_slice(&[
            0x07, 0x00, 0x00, 0x00, // sequence number
            0xB1, 0x00, 0x04, 0x00, // connected data item, length 4
            0x07, 0x00, // CIP sequence count
            0x01, 0x00, // data
        ]);
        d
    }

    #[test]
    fn io_is_linked_to_its_forward_open() {
        let mut tcp = EnipParser::new();
        let mut udp = EnipParser::new();
        let mut events = Vec::new();
        let open = [
            0x54, 0x02, 0x20, 0x06, 0x24, 0x01, // Forward Open to the connection manager
            0x0A, 0x0E, // priority/time tick, timeout ticks
            0x00, 0x00, 0x00, 0x00, // O→T connection id
            0x22, 0x00, 0x00, 0x00, // T→O connection id
            0x07, 0x00, // connection serial number
            0x01, 0x00, // originator vendor id
            0x44, 0x33, 0x22, 0x11, // originator serial number
            0x01, 0x00, 0x00, 0x00, // timeout multiplier, reserved
            0x10, 0x27, 0x00, 0x00, // O→T RPI: 10000 µs
            0x08, 0x48, // O→T parameters: point to point, fixed, 8 bytes
            0x20, 0x4E, 0x00, 0x00, // T→O RPI: 20000 µs
            0x08, 0x28, // T→O parameters: multicast, fixed, 8 bytes
            0x01, // transport: client, cyclic, class 1
            0x02, // connection path size
            0x20, 0x04, 0x24, 0x64, // assembly instance 100
        ];
        let reply = [
            0xD4, 0x00, 0x00, 0x00, // Forward Open response: success
            0x11, 0x00, 0x00, 0x00, // O→T connection id
            0x22, 0x00, 0x00, 0x00, // T→O connection id
            0x07, 0x00, 0x01, 0x00, // connection serial, originator vendor
            0x44, 0x33, 0x22, 0x11, // originator serial
            0x10, 0x27, 0x00, 0x00, // O→T API
            0x30, 0x75, 0x00, 0x00, // T→O API: 30000 µs
            0x00, 0x00, // application reply size, reserved
        ];
        for (packet, dir, bytes) in [
            (1, Direction::ToServer, rr(&open)),
            (2, Direction::ToClient, rr(&reply)),
        ] {
            let mut out = Emitter::new(header(packet, Transport::Tcp), dir, &mut events);
            StreamParser::parse(&mut tcp, &bytes, &mut out);
        }
        for (packet, connection) in [(3, 0x11), (4, 0x22), (5, 0x33)] {
            let h = header(packet, Transport::Udp);
            let mut out = Emitter::new(h, Direction::ToServer, &mut events);
            DatagramParser::parse(&mut udp, &io(connection), &mut out);
        }
        let mut links = CipConnections::default();
        events.iter_mut().for_each(|e| links.event(e));
        let io = |i: usize| match &events[i].pdu.fields {
            Fields::Enip(f) => f.io.as_deref().cloned(),
            _ => None,
        };
        let o_t = io(2).expect("O→T linked");
        assert_eq!(o_t.forward_open_packet, 2);
        assert_eq!(o_t.direction, "o_to_t");
        assert_eq!(o_t.rpi_us, Some(10_000));
        assert_eq!(o_t.transport_class, Some(1));
        assert_eq!(
            (o_t.connection_serial, o_t.originator_serial),
            (7, 0x1122_3344)
        );
        assert_eq!(events[2].pdu.class, FunctionClass::Write);
        let t_o = io(3).expect("T→O linked");
        assert_eq!(t_o.direction, "t_to_o");
        assert_eq!(t_o.rpi_us, Some(30_000), "the granted interval");
        assert_eq!(events[3].pdu.class, FunctionClass::Read);
        assert_eq!(io(4), None, "unknown connection");
        assert_eq!(events[4].pdu.class, FunctionClass::Other);
    }

    #[test]
    fn forward_close_and_eviction_forget_connections() {
        let mut links = CipConnections::default();
        let c = Connection {
            o_t_connection_id: Some(1),
            t_o_connection_id: Some(2),
            connection_serial: 9,
            ..Connection::default()
        };
        links.opened(&c, 1);
        assert_eq!(links.by_id.len(), 2);
        links.closed(&c);
        assert!(links.by_id.is_empty());
        for i in 0..(MAX_CONNECTIONS as u32 + 10) {
            let c = Connection {
                o_t_connection_id: Some(2 * i),
                t_o_connection_id: Some(2 * i + 1),
                ..Connection::default()
            };
            links.opened(&c, u64::from(i));
        }
        assert!(links.by_id.len() <= 2 * MAX_CONNECTIONS);
        assert!(!links.by_id.contains_key(&0), "the oldest was forgotten");
    }
}
