//! A bounded flow table: flows in a slab, found through a hash index, and
//! kept in least-recently-seen order so that idle flows expire and, when the
//! table is full, the stalest flow is evicted, each in O(1).

use hashbrown::HashTable;

use super::FlowKey;
use crate::time::Timestamp;

const NIL: u32 = u32::MAX;

/// What every packet's lookup touches, kept apart from the flows' states so
/// that the lookup and the recency list stay in few cache lines.
struct Slot {
    key: FlowKey,
    hash: u64,
    last_seen: Timestamp,
    /// Neighbours in recency order: `prev` was seen more recently.
    prev: u32,
    next: u32,
}

/// Flows keyed by [`FlowKey`], at most `capacity` of them.
pub struct FlowTable<S> {
    index: HashTable<u32>,
    slots: Vec<Slot>,
    /// Each slot's flow state (`None` while the slot is free).
    states: Vec<Option<S>>,
    free: Vec<u32>,
    /// Most recently seen.
    head: u32,
    /// Least recently seen.
    tail: u32,
    len: usize,
    capacity: usize,
}

/// A handle to a flow in the table, valid until the flow is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRef(u32);

impl<S> FlowTable<S> {
    pub fn new(capacity: usize) -> FlowTable<S> {
        FlowTable {
            index: HashTable::new(),
            slots: Vec::new(),
            states: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Finds the flow for `key` (whose [`FlowKey::hash`] is `hash`) and marks it seen at `now`.
    pub fn find(&mut self, hash: u64, key: &FlowKey, now: Timestamp) -> Option<FlowRef> {
        let slots = &self.slots;
        let found = *self.index.find(hash, |&i| slots[i as usize].key == *key)?;
        self.touch(found, now);
        Some(FlowRef(found))
    }

    /// Adds a flow that is not in the table. When the table is full, the least
    /// recently seen flow is removed first and returned.
    pub fn insert(
        &mut self,
        hash: u64,
        key: FlowKey,
        state: S,
        now: Timestamp,
    ) -> (FlowRef, Option<(FlowKey, S)>) {
        let evicted = if self.len >= self.capacity {
            self.remove_oldest()
        } else {
            None
        };
        let slot = Slot {
            key,
            hash,
            last_seen: now,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                self.states[i as usize] = Some(state);
                i
            }
            None => {
                self.slots.push(slot);
                self.states.push(Some(state));
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.index
            .insert_unique(hash, i, |&j| slots[j as usize].hash);
        self.link_front(i);
        self.len += 1;
        (FlowRef(i), evicted)
    }

    pub fn get_mut(&mut self, flow: FlowRef) -> &mut S {
        self.states[flow.0 as usize]
            .as_mut()
            .expect("a FlowRef points at a live flow")
    }

    pub fn key(&self, flow: FlowRef) -> &FlowKey {
        &self.slots[flow.0 as usize].key
    }

    pub fn remove(&mut self, flow: FlowRef) -> (FlowKey, S) {
        let i = flow.0;
        let hash = self.slots[i as usize].hash;
        if let Ok(entry) = self.index.find_entry(hash, |&j| j == i) {
            entry.remove();
        }
        self.unlink(i);
        self.free.push(i);
        self.len -= 1;
        (
            self.slots[i as usize].key,
            self.states[i as usize]
                .take()
                .expect("a FlowRef points at a live flow"),
        )
    }

    /// Removes, oldest first, every flow idle for at least its timeout
    /// (`timeout(state)` seconds) at `now`; flows idle less than `min_timeout`
    /// end the walk. Calls `expired` with each removed flow.
    pub fn expire(
        &mut self,
        now: Timestamp,
        min_timeout: u64,
        timeout: impl Fn(&S) -> u64,
        mut expired: impl FnMut(FlowKey, S),
    ) {
        let mut i = self.tail;
        while i != NIL {
            let slot = &self.slots[i as usize];
            let idle = now.secs_since(slot.last_seen);
            if idle < min_timeout {
                break;
            }
            let prev = slot.prev;
            let due = self.states[i as usize]
                .as_ref()
                .is_some_and(|s| idle >= timeout(s));
            if due {
                let (key, state) = self.remove(FlowRef(i));
                expired(key, state);
            }
            i = prev;
        }
    }

    /// Visits every flow, in slot order (the same for the same sequence of
    /// inserts and removals).
    pub fn for_each_mut(&mut self, mut each: impl FnMut(&mut S)) {
        for state in self.states.iter_mut().flatten() {
            each(state);
        }
    }

    /// Removes every flow, oldest first.
    pub fn drain(&mut self, mut each: impl FnMut(FlowKey, S)) {
        while let Some((key, state)) = self.remove_oldest() {
            each(key, state);
        }
    }

    fn remove_oldest(&mut self) -> Option<(FlowKey, S)> {
        (self.tail != NIL).then(|| self.remove(FlowRef(self.tail)))
    }

    fn touch(&mut self, i: u32, now: Timestamp) {
        let slot = &mut self.slots[i as usize];
        // Packet time can step backwards slightly between files or interfaces.
        if now > slot.last_seen {
            slot.last_seen = now;
        }
        if self.head != i {
            self.unlink(i);
            self.link_front(i);
        }
    }

    fn link_front(&mut self, i: u32) {
        self.slots[i as usize].prev = NIL;
        self.slots[i as usize].next = self.head;
        if self.head != NIL {
            self.slots[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = (self.slots[i as usize].prev, self.slots[i as usize].next);
        if prev != NIL {
            self.slots[prev as usize].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.slots[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::key::Endpoint;
    use super::*;

    fn key(n: u8) -> FlowKey {
        let mut addr = [0u8; 16];
        addr[15] = n;
        FlowKey {
            a: Endpoint { addr, port: 1 },
            b: Endpoint { addr, port: 2 },
            proto: 6,
            vlan: 0,
            ether_type: 0,
        }
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_secs(secs)
    }

    #[test]
    fn finds_inserted_flows_and_evicts_the_stalest_when_full() {
        let mut table = FlowTable::new(2);
        let (k1, k2, k3) = (key(1), key(2), key(3));
        table.insert(k1.hash(), k1, "one", t(0));
        table.insert(k2.hash(), k2, "two", t(1));
        // Seeing flow 1 again makes flow 2 the stalest.
        let f1 = table.find(k1.hash(), &k1, t(2)).unwrap();
        assert_eq!(*table.get_mut(f1), "one");
        let (_, evicted) = table.insert(k3.hash(), k3, "three", t(3));
        assert_eq!(evicted, Some((k2, "two")));
        assert_eq!(table.len(), 2);
        assert!(table.find(k2.hash(), &k2, t(4)).is_none());
        assert!(table.find(k3.hash(), &k3, t(4)).is_some());
    }

    #[test]
    fn expires_idle_flows_by_their_own_timeout() {
        let mut table = FlowTable::new(10);
        for (n, timeout) in [(1u8, 30u64), (2, 300), (3, 30)] {
            let k = key(n);
            table.insert(k.hash(), k, timeout, t(n.into()));
        }
        let mut gone = Vec::new();
        table.expire(t(100), 30, |&timeout| timeout, |k, _| gone.push(k));
        assert_eq!(gone, [key(1), key(3)], "flow 2 has a longer timeout");
        assert_eq!(table.len(), 1);
        gone.clear();
        table.expire(t(120), 30, |&timeout| timeout, |k, _| gone.push(k));
        assert!(gone.is_empty());
    }

    #[test]
    fn removed_slots_are_reused_and_drain_empties_the_table() {
        let mut table = FlowTable::new(10);
        let mut refs = Vec::new();
        for n in 0..5 {
            let k = key(n);
            refs.push(table.insert(k.hash(), k, n, t(0)).0);
        }
        table.remove(refs[2]);
        let k = key(9);
        let (reused, _) = table.insert(k.hash(), k, 9, t(1));
        assert_eq!(reused, refs[2]);
        let mut order = Vec::new();
        table.drain(|_, n| order.push(n));
        assert_eq!(order, [0, 1, 3, 4, 9]);
        assert!(table.is_empty());
    }
}
