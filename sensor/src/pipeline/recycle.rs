//! Spare vectors handed back to the stage that fills them, so that a replay in
//! steady state asks the allocator (and the kernel) for no new memory.

use crossbeam_channel::{Receiver, Sender, bounded};

#[derive(Clone)]
pub struct Recycler<T> {
    spares_in: Sender<Vec<T>>,
    spares_out: Receiver<Vec<T>>,
}

impl<T> Recycler<T> {
    /// Keeps at most `max_spares` vectors.
    pub fn new(max_spares: usize) -> Recycler<T> {
        let (spares_in, spares_out) = bounded(max_spares);
        Recycler {
            spares_in,
            spares_out,
        }
    }

    /// An empty vector, reused if one is spare.
    pub fn take(&self) -> Vec<T> {
        self.spares_out.try_recv().unwrap_or_default()
    }

    /// [`Self::take`], with room for at least `len` items. A spare too
    /// small is replaced rather than grown: growing would copy its old
    /// capacity and, by doubling, end at up to twice what is needed.
    pub fn take_with_room(&self, len: usize) -> Vec<T> {
        let spare = self.take();
        if spare.capacity() >= len {
            return spare;
        }
        Vec::with_capacity(len + len / 8)
    }

    /// Returns `spare` for reuse (dropped if enough are spare already).
    /// Emptied here, so that dropping the old items (events' boxed fields)
    /// costs the stage that hands the vector back (analysis, the sink)
    /// rather than the decoding worker, the busiest thread of a replay.
    pub fn give(&self, mut spare: Vec<T>) {
        spare.clear();
        let _ = self.spares_in.try_send(spare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_vectors_come_back_empty_with_their_capacity() {
        let recycler = Recycler::new(1);
        let mut v = recycler.take();
        v.extend([1, 2, 3]);
        let capacity = v.capacity();
        recycler.give(v);
        let again: Vec<i32> = recycler.take();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), capacity);
        assert_eq!(recycler.take().capacity(), 0, "none spare: a new one");
    }

    #[test]
    fn taken_with_room_reuses_a_spare_large_enough_and_replaces_a_small_one() {
        let recycler: Recycler<u64> = Recycler::new(1);
        recycler.give(Vec::with_capacity(100));
        assert_eq!(recycler.take_with_room(80).capacity(), 100);
        recycler.give(Vec::with_capacity(100));
        let replaced = recycler.take_with_room(800);
        assert_eq!(
            replaced.capacity(),
            900,
            "the length asked for and an eighth more"
        );
        assert!(replaced.is_empty());
        assert_eq!(recycler.take_with_room(0).capacity(), 0, "none spare");
    }
}
