//! Packet and byte rates by second of packet time: totals, and the last
//! seconds kept for sparklines. Fed with what the dispatcher counted, in order.

use std::collections::VecDeque;

use crate::pipeline::SecondCount;
use crate::time::Timestamp;

/// Seconds of history kept (ten minutes: wider than any terminal).
pub const HISTORY_SECONDS: usize = 600;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    pub packets: u64,
    pub bytes: u64,
    /// The latest packet time counted.
    pub now: Option<Timestamp>,
    /// The latest seconds, oldest first, without gaps (a quiet second counts zero).
    history: VecDeque<SecondCount>,
}

impl Rates {
    pub fn add(&mut self, counted: &[SecondCount]) {
        for count in counted {
            self.packets += count.packets;
            self.bytes += count.bytes;
            self.now = self.now.max(Some(count.last));
            match self.history.back_mut() {
                Some(last) if last.second == count.second => {
                    last.packets += count.packets;
                    last.bytes += count.bytes;
                    last.last = last.last.max(count.last);
                    last.group.merge(&count.group);
                }
                Some(last) if last.second > count.second => {
                    late(&mut self.history, count);
                }
                Some(last) => {
                    // Quiet seconds in between count zero (at most a history of them).
                    let from = (last.second + 1).max(count.second - HISTORY_SECONDS as i64);
                    for second in from..count.second {
                        self.push(SecondCount {
                            second,
                            ..SecondCount::default()
                        });
                    }
                    self.push(*count);
                }
                None => self.push(*count),
            }
        }
    }

    fn push(&mut self, count: SecondCount) {
        if self.history.len() == HISTORY_SECONDS {
            self.history.pop_front();
        }
        self.history.push_back(count);
    }

    /// The kept seconds, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &SecondCount> {
        self.history.iter()
    }
}

/// A count for a second before the latest (the dispatcher's clock never goes
/// back, but another source's might): added where it belongs, if still kept.
fn late(history: &mut VecDeque<SecondCount>, count: &SecondCount) {
    if let Some(slot) = history.iter_mut().find(|s| s.second == count.second) {
        slot.packets += count.packets;
        slot.bytes += count.bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(second: i64, packets: u64) -> SecondCount {
        SecondCount {
            second,
            packets,
            bytes: packets * 100,
            last: Timestamp::from_secs(second),
            ..SecondCount::default()
        }
    }

    #[test]
    fn seconds_split_between_epochs_add_up_and_gaps_are_zero() {
        let mut rates = Rates::default();
        rates.add(&[count(10, 5), count(11, 2)]);
        rates.add(&[count(11, 3), count(14, 1)]);
        let seen: Vec<(i64, u64)> = rates.history().map(|s| (s.second, s.packets)).collect();
        assert_eq!(seen, [(10, 5), (11, 5), (12, 0), (13, 0), (14, 1)]);
        assert_eq!((rates.packets, rates.bytes), (11, 1100));
    }

    #[test]
    fn history_is_bounded() {
        let mut rates = Rates::default();
        rates.add(&[count(0, 1)]);
        rates.add(&[count(10_000, 1)]);
        assert_eq!(rates.history().len(), HISTORY_SECONDS);
        assert_eq!(rates.history().last().map(|s| s.second), Some(10_000));
        assert_eq!(rates.packets, 2);
    }
}
