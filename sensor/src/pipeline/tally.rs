//! Packets and wire bytes by second of packet time, counted by the dispatcher
//! and carried in order with the batches, so that analysis can tell rates
//! (packets/s, Mbit/s) that are the same on every replay of a capture.

use crate::event::Mac;
use crate::time::Timestamp;

/// What one second of packet time carried (or the part of it one chunk carried).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecondCount {
    /// Whole seconds since the Unix epoch.
    pub second: i64,
    pub packets: u64,
    /// Bytes on the wire (before any snaplen cut).
    pub bytes: u64,
    /// The latest packet time counted in it.
    pub last: Timestamp,
    /// Broadcast and multicast frames, but for the multicast streams OT is
    /// built on (GOOSE, Sampled Values, PROFINET RT): what a storm is made of.
    pub group: GroupFrames,
}

/// Group-addressed frames of one second, and who sent most of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupFrames {
    pub frames: u64,
    /// The sender with a majority of the frames, if one has (Boyer–Moore vote).
    pub sender: Option<Mac>,
    pub votes: u64,
    /// The last of them: its global index, capture and packet number there.
    pub seq: u64,
    pub capture: u16,
    pub packet: u64,
}

impl GroupFrames {
    fn add(&mut self, sender: Mac, seq: u64, capture: u16, packet: u64) {
        self.frames += 1;
        if self.sender == Some(sender) {
            self.votes += 1;
        } else if self.votes == 0 {
            self.sender = Some(sender);
            self.votes = 1;
        } else {
            self.votes -= 1;
        }
        (self.seq, self.capture, self.packet) = (seq, capture, packet);
    }

    /// Adds the count of another part of the same second.
    pub fn merge(&mut self, other: &GroupFrames) {
        self.frames += other.frames;
        if other.seq >= self.seq {
            (self.seq, self.capture, self.packet) = (other.seq, other.capture, other.packet);
        }
        if self.sender == other.sender {
            self.votes += other.votes;
        } else if other.votes > self.votes {
            self.sender = other.sender;
            self.votes = other.votes - self.votes;
        } else {
            self.votes -= other.votes;
        }
    }
}

/// Counts packets into seconds as the timeline's clock advances.
pub(super) struct Tally {
    current: SecondCount,
    /// Where the current second ends.
    end: Timestamp,
    closed: Vec<SecondCount>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            current: SecondCount::default(),
            end: Timestamp(i64::MIN),
            closed: Vec::new(),
        }
    }
}

impl Tally {
    /// One packet; `now` is the timeline's clock (never goes back).
    #[inline]
    pub fn add(&mut self, now: Timestamp, wire_bytes: u32) {
        if now >= self.end {
            self.roll(now);
        }
        self.current.packets += 1;
        self.current.bytes += u64::from(wire_bytes);
        self.current.last = now;
    }

    /// A group-addressed frame from `sender`, counted by [`Tally::add`] already.
    #[inline]
    pub fn group(&mut self, sender: Mac, seq: u64, capture: u16, packet: u64) {
        self.current.group.add(sender, seq, capture, packet);
    }

    fn roll(&mut self, now: Timestamp) {
        if self.current.packets > 0 {
            self.closed.push(self.current);
        }
        let second = now.secs();
        self.current = SecondCount {
            second,
            ..SecondCount::default()
        };
        self.end = Timestamp::from_secs(second.saturating_add(1));
    }

    /// The seconds counted since the last call; the open second's count so
    /// far comes last (the next call may continue it).
    pub fn take(&mut self) -> Vec<SecondCount> {
        if self.current.packets > 0 {
            self.closed.push(self.current);
            self.current = SecondCount {
                second: self.current.second,
                ..SecondCount::default()
            };
        }
        std::mem::take(&mut self.closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, millis: u32) -> Timestamp {
        Timestamp::from_parts(secs, millis * 1_000_000)
    }

    /// (second, packets, bytes) of each count.
    fn seconds(counts: Vec<SecondCount>) -> Vec<(i64, u64, u64)> {
        counts
            .iter()
            .map(|c| (c.second, c.packets, c.bytes))
            .collect()
    }

    #[test]
    fn packets_fall_into_their_second() {
        let mut tally = Tally::default();
        tally.add(at(100, 10), 60);
        tally.add(at(100, 990), 100);
        tally.add(at(101, 0), 1000);
        tally.add(at(103, 500), 40);
        let counted = tally.take();
        assert_eq!(
            seconds(counted.clone()),
            [(100, 2, 160), (101, 1, 1000), (103, 1, 40)]
        );
        assert_eq!(counted[0].last, at(100, 990));
        assert!(tally.take().is_empty(), "nothing counted twice");
    }

    #[test]
    fn a_second_split_between_chunks_continues() {
        let mut tally = Tally::default();
        tally.add(at(7, 100), 10);
        let first = tally.take();
        tally.add(at(7, 200), 20);
        tally.add(at(8, 0), 30);
        let second = tally.take();
        assert_eq!(seconds(first), [(7, 1, 10)]);
        assert_eq!(seconds(second), [(7, 1, 20), (8, 1, 30)]);
    }
}
