//! The anomalies of one PDU. Events are built by the million, so an
//! anomaly is held as a 2-byte number rather than a 16-byte string slice:
//! each name gets its number the first time any decoder records it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Oddities a decoder found in one PDU, as stable snake_case names
/// (e.g. `"byte_count_mismatch"`). Fixed capacity so that building an event
/// never allocates; further anomalies beyond the capacity set `overflowed`.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Anomalies {
    ids: [u16; Anomalies::CAPACITY],
    len: u8,
    overflowed: bool,
}

impl Anomalies {
    pub const CAPACITY: usize = 4;
    /// The name recorded in place of anomalies that did not fit.
    pub const OVERFLOW: &'static str = "more_anomalies";

    pub fn new() -> Self {
        Self::default()
    }

    /// Records `name` once (repeats are ignored).
    pub fn add(&mut self, name: &'static str) {
        if self.contains(name) {
            return;
        }
        match names::id(name) {
            Some(id) if (self.len as usize) < Self::CAPACITY => {
                self.ids[self.len as usize] = id;
                self.len += 1;
            }
            _ => self.overflowed = true,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.ids[..self.len as usize]
            .iter()
            .map(|&id| names::name(id))
    }
}

impl std::fmt::Debug for Anomalies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        list.entries(self.iter());
        if self.overflowed {
            list.entry(&Anomalies::OVERFLOW);
        }
        list.finish()
    }
}

/// The numbering of anomaly names, shared by all threads. Numbers are never
/// written out, so the order in which names are first seen does not matter.
mod names {
    use super::*;

    /// More than twice the names the decoders define (under 400).
    const MAX: usize = 1024;

    static NAMES: [OnceLock<&'static str>; MAX] = [const { OnceLock::new() }; MAX];
    static IDS: Mutex<Option<HashMap<&'static str, u16>>> = Mutex::new(None);

    thread_local! {
        /// This thread's numbers, by where the name lives: decoders record
        /// the same few constants over and over, and should not all queue
        /// for the lock (or hash the text) on a capture where every frame is odd.
        static KNOWN: RefCell<foldhash::HashMap<(usize, usize), u16>> = RefCell::default();
    }

    /// The number of `name`, given now if it has none; `None` when all are taken.
    pub fn id(name: &'static str) -> Option<u16> {
        let at = (name.as_ptr() as usize, name.len());
        if let Some(id) = KNOWN.with_borrow(|known| known.get(&at).copied()) {
            return Some(id);
        }
        let id = shared_id(name)?;
        KNOWN.with_borrow_mut(|known| known.insert(at, id));
        Some(id)
    }

    /// The number of `name` for every thread, given under the lock.
    fn shared_id(name: &'static str) -> Option<u16> {
        let mut ids = IDS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let ids = ids.get_or_insert_with(HashMap::new);
        if let Some(&id) = ids.get(name) {
            return Some(id);
        }
        let id = u16::try_from(ids.len())
            .ok()
            .filter(|&id| usize::from(id) < MAX)?;
        NAMES[usize::from(id)].get_or_init(|| name);
        ids.insert(name, id);
        Some(id)
    }

    pub fn name(id: u16) -> &'static str {
        NAMES
            .get(usize::from(id))
            .and_then(OnceLock::get)
            .copied()
            .unwrap_or(super::Anomalies::OVERFLOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_back_in_the_order_added_once_each_and_the_fifth_overflows() {
        let mut a = Anomalies::new();
        for name in ["one", "two", "one", "three", "four", "five"] {
            a.add(name);
        }
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            ["one", "two", "three", "four"]
        );
        assert!(a.overflowed());
        assert!(a.contains("three") && !a.contains("five"));
        assert_eq!(
            format!("{a:?}"),
            r#"["one", "two", "three", "four", "more_anomalies"]"#
        );
    }

    #[test]
    fn the_same_names_make_equal_anomalies_whichever_was_numbered_first() {
        let (mut a, mut b) = (Anomalies::new(), Anomalies::new());
        a.add("late_name_b");
        b.add("late_name_a");
        b.add("late_name_b");
        a.add("late_name_a");
        assert_ne!(a, b, "the order of the names differs");
        let mut c = Anomalies::new();
        c.add("late_name_b");
        c.add("late_name_a");
        assert_eq!(a, c);
        assert_eq!(std::mem::size_of::<Anomalies>(), 10);
    }
}
