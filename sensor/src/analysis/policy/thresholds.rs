//! Threshold counting: a rule's matches by group (an end, a pair, a flow,
//! a conduit) within a sliding window, in a bounded table. A group's window
//! keeps its slot while it lives, so that a caller who met the group before
//! can count on it again without hashing the group.

use std::collections::VecDeque;

use super::Threshold;
use super::baseline::Addr;
use crate::time::Timestamp;

/// Threshold groups tracked at once per rule.
pub(super) const MAX_GROUPS: usize = 65_536;

/// What a threshold counts by (a key that costs no allocation per match).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Group {
    /// An end: its IP address, else its MAC address (`None`: neither).
    End(Option<Addr>),
    Pair(Option<Addr>, Option<Addr>),
    Flow(u64),
    /// The zones of the two ends (`None`: outside every zone).
    Zones(Option<usize>, Option<usize>),
}

/// Hashed as one or two integers, without the discriminants: a rule's
/// groups are all of one kind.
impl std::hash::Hash for Group {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let end = Addr::bits_of;
        match *self {
            Group::End(a) => state.write_u128(end(a)),
            Group::Pair(a, b) => {
                state.write_u128(end(a));
                state.write_u128(end(b));
            }
            Group::Flow(id) => state.write_u64(id),
            Group::Zones(a, b) => {
                state.write_usize(a.map_or(usize::MAX, |z| z));
                state.write_usize(b.map_or(usize::MAX, |z| z));
            }
        }
    }
}

/// A value that a `distinct` threshold counts once per window; numbers and
/// addresses cost no allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// The match itself (no `distinct`), or a field the event lacks.
    Nothing,
    Number(u64),
    End(Option<Addr>),
    Text(Box<str>),
}

/// Counting state of one threshold group.
#[derive(Default)]
struct Window {
    /// Times of recent matches, or of distinct values' last sightings.
    seen: VecDeque<(Timestamp, Seen)>,
}

/// A group's window, for as long as `generation` matches its slot's: a
/// slot freed (and perhaps given to another group) has moved on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SlotRef {
    slot: u32,
    generation: u32,
}

struct Slot {
    generation: u32,
    window: Window,
}

/// One rule's groups and their windows.
#[derive(Default)]
pub(super) struct Groups {
    index: foldhash::HashMap<Group, u32>,
    slots: Vec<Slot>,
    /// Slots whose group was forgotten, to be given to new groups.
    free: Vec<u32>,
}

impl Groups {
    /// Where `group`'s window is, made if the group is new; a full table
    /// first forgets groups (see [`Groups::make_room`]).
    pub fn slot(&mut self, group: Group, now: Timestamp, window: Timestamp) -> SlotRef {
        if let Some(&slot) = self.index.get(&group) {
            return self.slot_ref(slot);
        }
        if self.index.len() >= MAX_GROUPS {
            self.make_room(now, window);
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    window: Window::default(),
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(group, slot);
        self.slot_ref(slot)
    }

    fn slot_ref(&self, slot: u32) -> SlotRef {
        SlotRef {
            slot,
            generation: self.slots[slot as usize].generation,
        }
    }

    /// Whether `at` is still the window of the group it was given for.
    pub fn holds(&self, at: SlotRef) -> bool {
        self.slots
            .get(at.slot as usize)
            .is_some_and(|s| s.generation == at.generation)
    }

    /// Adds a match at `ts` to the window at `at` (which [`Groups::holds`])
    /// and says whether the threshold is reached (then starts counting afresh).
    pub fn count(
        &mut self,
        at: SlotRef,
        threshold: &Threshold,
        ts: Timestamp,
        value: Option<Seen>,
    ) -> bool {
        count_in_window(
            &mut self.slots[at.slot as usize].window,
            threshold,
            ts,
            value,
        )
    }

    /// Bounded memory for a full table: forgets the groups whose window has
    /// passed (they count nothing any more) and, if all are still active,
    /// the idlest eighth. Freeing many at once keeps the cost per new group
    /// small however many groups the traffic brings.
    fn make_room(&mut self, now: Timestamp, window: Timestamp) {
        let start = now.0.saturating_sub(window.0);
        let slots = &self.slots;
        let mut forget: Vec<(Group, u32)> = (self.index.iter())
            .filter(|(_, slot)| slots[**slot as usize].last_seen() < start)
            .map(|(group, slot)| (*group, *slot))
            .collect();
        if forget.is_empty() {
            let mut by_age: Vec<(i64, Group, u32)> = (self.index.iter())
                .map(|(group, &slot)| (slots[slot as usize].last_seen(), *group, slot))
                .collect();
            by_age.sort_unstable();
            by_age.truncate(MAX_GROUPS / 8);
            forget = by_age
                .into_iter()
                .map(|(_, group, slot)| (group, slot))
                .collect();
        }
        for (group, slot) in forget {
            self.index.remove(&group);
            let freed = &mut self.slots[slot as usize];
            freed.generation = freed.generation.wrapping_add(1);
            freed.window.seen.clear();
            self.free.push(slot);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.index.len()
    }
}

impl Slot {
    fn last_seen(&self) -> i64 {
        self.window.seen.back().map_or(i64::MIN, |(t, _)| t.0)
    }
}

/// Adds a match at `ts` and says whether the threshold is reached (then starts counting afresh).
fn count_in_window(
    window: &mut Window,
    threshold: &Threshold,
    ts: Timestamp,
    value: Option<Seen>,
) -> bool {
    let start = Timestamp(ts.0 - threshold.window.0);
    while window.seen.front().is_some_and(|(t, _)| *t < start) {
        window.seen.pop_front();
    }
    match value {
        // The value seen last again (a polling loop): only its time moves.
        Some(value) if window.seen.back().is_some_and(|(_, v)| *v == value) => {
            if let Some(last) = window.seen.back_mut() {
                last.0 = ts;
            }
        }
        Some(value) => {
            // Distinct values: keep each once, with its latest time.
            window.seen.retain(|(_, v)| *v != value);
            window.seen.push_back((ts, value));
        }
        None => window.seen.push_back((ts, Seen::Nothing)),
    }
    if window.seen.len() >= threshold.count as usize {
        window.seen.clear();
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::{By, Distinct};
    use super::*;

    #[test]
    fn a_distinct_threshold_counts_each_value_once_at_its_latest_time() {
        let threshold = Threshold {
            count: 3,
            window: Timestamp::from_secs(60),
            by: By::Pair,
            distinct: Some(Distinct::FunctionCode),
        };
        let mut window = Window::default();
        let mut at = |secs, code| {
            count_in_window(
                &mut window,
                &threshold,
                Timestamp::from_secs(secs),
                Some(Seen::Number(code)),
            )
        };
        // A poll of codes 3 and 16, over and over: two values, never three.
        for (secs, code) in [(0, 3), (1, 16), (2, 3), (3, 16), (50, 3)] {
            assert!(!at(secs, code), "at {secs} s");
        }
        // Code 16 was last seen at 3 s, code 3 at 50 s: at 70 s only code 3
        // is still in the window, so a new code makes two, not three.
        assert!(!at(70, 5));
        assert!(at(71, 6), "3, 5 and 6 within a minute");
    }

    /// A table of [`MAX_GROUPS`] flows, flow `n` last seen at `n % 1000` s.
    fn full_table() -> (Groups, Threshold) {
        let threshold = Threshold {
            count: u32::MAX,
            window: Timestamp::from_secs(10_000),
            by: By::Flow,
            distinct: None,
        };
        let mut groups = Groups::default();
        for n in 0..MAX_GROUPS as u64 {
            let ts = Timestamp::from_secs(n as i64 % 1000);
            let at = groups.slot(Group::Flow(n), ts, threshold.window);
            groups.count(at, &threshold, ts, None);
        }
        (groups, threshold)
    }

    #[test]
    fn a_full_group_table_forgets_the_idlest_eighth_when_all_are_active() {
        let (mut groups, threshold) = full_table();
        let oldest = groups.slot(Group::Flow(0), Timestamp::ZERO, threshold.window);
        let now = Timestamp::from_secs(1000);
        let new = groups.slot(Group::Flow(u64::MAX), now, threshold.window);
        groups.count(new, &threshold, now, None);
        assert_eq!(groups.len(), MAX_GROUPS - MAX_GROUPS / 8 + 1);
        let oldest_left = (groups.index.values())
            .map(|&slot| groups.slots[slot as usize].last_seen())
            .min()
            .unwrap();
        assert!(oldest_left >= Timestamp::from_secs(124).0, "{oldest_left}");
        // Flow 0 was among the idlest: its slot has moved on.
        assert!(!groups.holds(oldest));
        let kept = groups.slot(Group::Flow(999), now, threshold.window);
        assert!(groups.holds(kept));
    }

    #[test]
    fn a_full_group_table_forgets_only_the_expired_groups_when_some_are() {
        let (mut groups, threshold) = full_table();
        // A minute's window at t=1000: only flows seen since t=940 still count.
        let (now, minute) = (Timestamp::from_secs(1000), Timestamp::from_secs(60));
        let new = groups.slot(Group::Flow(u64::MAX), now, minute);
        groups.count(new, &threshold, now, None);
        let active = (0..MAX_GROUPS as u64).filter(|n| n % 1000 >= 940).count();
        assert_eq!(groups.len(), active + 1);
        assert!(
            (groups.index.values())
                .all(|&slot| groups.slots[slot as usize].last_seen() >= Timestamp::from_secs(940).0)
        );
    }
}
