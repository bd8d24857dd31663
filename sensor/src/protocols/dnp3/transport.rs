//! Transport function: one header byte (FIN, FIR, 6-bit sequence) before
//! each link frame's share of an application fragment. Fragments are
//! reassembled per link address pair, in sequence, up to a size cap.

use super::anomaly::*;
use crate::event::Anomalies;

pub const FIN: u8 = 0x80;
pub const FIR: u8 = 0x40;
pub const SEQ: u8 = 0x3F;

/// Largest fragment reassembled. The standard's usual maximum fragment size
/// is 2048 bytes (configurable); twice that leaves room for devices set
/// higher while bounding what a flood of segments can hold.
pub const MAX_FRAGMENT: usize = 4096;
/// Fragments in progress at once per direction (a multi-drop gateway may
/// interleave a few outstations on one connection).
pub const MAX_REASSEMBLIES: usize = 4;

/// One transport segment, as a link frame carries it.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub source: u16,
    pub destination: u16,
    /// Transport header byte.
    pub transport: u8,
    pub payload: &'a [u8],
    pub packet: u64,
}

/// A fragment that has all its segments.
#[derive(Debug)]
pub struct Completed {
    /// The reassembled bytes, or `None` when the fragment was this one
    /// segment (its payload is the fragment: no copy).
    pub bytes: Option<Vec<u8>>,
    pub frames: u16,
    pub first_packet: u64,
    /// What went wrong before this fragment started (a dropped predecessor).
    pub anomalies: Anomalies,
}

#[derive(Debug)]
pub enum SegmentOutcome {
    /// Kept, waiting for the rest of its fragment.
    Buffered,
    /// Dropped, for this reason.
    Dropped(&'static str),
    Complete(Completed),
}

#[derive(Debug)]
struct Partial {
    source: u16,
    destination: u16,
    next_seq: u8,
    bytes: Vec<u8>,
    frames: u16,
    first_packet: u64,
    anomalies: Anomalies,
    /// Over the size cap: the rest of the fragment is dropped quietly.
    discarding: bool,
}

/// The fragments being reassembled in one direction.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Oldest first.
    partials: Vec<Partial>,
}

impl Reassembler {
    /// Forgets every fragment in progress (after a capture gap).
    pub fn clear(&mut self) {
        self.partials.clear();
    }

    pub fn segment(&mut self, s: Segment<'_>) -> SegmentOutcome {
        let fir = s.transport & FIR != 0;
        let fin = s.transport & FIN != 0;
        let seq = s.transport & SEQ;
        let at = self
            .partials
            .iter()
            .position(|p| p.source == s.source && p.destination == s.destination);
        if fir {
            let mut anomalies = Anomalies::new();
            if let Some(at) = at {
                let previous = self.partials.remove(at);
                if !previous.discarding {
                    anomalies.add(INCOMPLETE_FRAGMENT_DISCARDED);
                }
            }
            if fin {
                return SegmentOutcome::Complete(Completed {
                    bytes: None,
                    frames: 1,
                    first_packet: s.packet,
                    anomalies,
                });
            }
            if self.partials.len() >= MAX_REASSEMBLIES {
                self.partials.remove(0);
                anomalies.add(REASSEMBLY_TABLE_FULL);
            }
            self.partials.push(Partial {
                source: s.source,
                destination: s.destination,
                next_seq: (seq + 1) & SEQ,
                bytes: s.payload.to_vec(),
                frames: 1,
                first_packet: s.packet,
                anomalies,
                discarding: false,
            });
            return SegmentOutcome::Buffered;
        }
        let Some(at) = at else {
            return SegmentOutcome::Dropped(TRANSPORT_SEGMENT_WITHOUT_FIR);
        };
        let Some(p) = self.partials.get_mut(at) else {
            return SegmentOutcome::Dropped(TRANSPORT_SEGMENT_WITHOUT_FIR);
        };
        if seq != p.next_seq {
            self.partials.remove(at);
            return SegmentOutcome::Dropped(TRANSPORT_SEQUENCE_ERROR);
        }
        p.next_seq = (seq + 1) & SEQ;
        p.frames = p.frames.saturating_add(1);
        if p.discarding {
            if fin {
                self.partials.remove(at);
            }
            return SegmentOutcome::Buffered;
        }
        if p.bytes.len() + s.payload.len() > MAX_FRAGMENT {
            if fin {
                self.partials.remove(at);
            } else {
                p.discarding = true;
                p.bytes = Vec::new();
            }
            return SegmentOutcome::Dropped(FRAGMENT_TOO_LARGE);
        }
        p.bytes.extend_from_slice(s.payload);
        if !fin {
            return SegmentOutcome::Buffered;
        }
        let p = self.partials.remove(at);
        SegmentOutcome::Complete(Completed {
            bytes: Some(p.bytes),
            frames: p.frames,
            first_packet: p.first_packet,
            anomalies: p.anomalies,
        })
    }
}
