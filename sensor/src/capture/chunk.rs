//! Read buffers shared with the workers and recycled when the last one lets go,
//! so replay neither copies frames nor asks the allocator for fresh pages per chunk.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, bounded};

/// A filled read buffer. Dropping the last `Arc<Chunk>` returns the buffer to its pool.
pub struct Chunk {
    /// Always fully initialised; only `start..start + len` holds data.
    data: Vec<u8>,
    start: usize,
    len: usize,
    home: Option<Sender<Vec<u8>>>,
}

impl Chunk {
    pub fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.start + self.len]
    }

    /// A chunk outside any pool (tests, live capture).
    pub fn from_vec(data: Vec<u8>) -> Arc<Chunk> {
        let len = data.len();
        Arc::new(Chunk {
            data,
            start: 0,
            len,
            home: None,
        })
    }

    /// The bytes `range` of `data`; the buffer goes to `home` when the chunk is dropped.
    pub fn within(
        data: Vec<u8>,
        range: std::ops::Range<usize>,
        home: Sender<Vec<u8>>,
    ) -> Arc<Chunk> {
        let end = range.end.min(data.len());
        let start = range.start.min(end);
        Arc::new(Chunk {
            data,
            start,
            len: end - start,
            home: Some(home),
        })
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(home) = &self.home {
            // A full pool means enough spares exist: let this one go.
            let _ = home.try_send(std::mem::take(&mut self.data));
        }
    }
}

/// Spare buffers of one size.
#[derive(Clone)]
pub struct ChunkPool {
    capacity: usize,
    spares: Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
}

impl ChunkPool {
    pub fn new(capacity: usize, max_spares: usize) -> ChunkPool {
        let (home, spares) = bounded(max_spares);
        ChunkPool {
            capacity,
            spares,
            home,
        }
    }

    /// A buffer of at least `min_len` initialised bytes (at least the pool's
    /// capacity), reused when one is spare. Its contents are arbitrary.
    pub fn take(&self, min_len: usize) -> Vec<u8> {
        let len = min_len.max(self.capacity);
        match self.spares.try_recv() {
            Ok(buf) if buf.len() >= len => buf,
            _ => vec![0; len],
        }
    }

    /// Wraps a buffer whose first `len` bytes are filled; the buffer comes back
    /// to this pool when the chunk is dropped.
    pub fn seal(&self, data: Vec<u8>, len: usize) -> Arc<Chunk> {
        let len = len.min(data.len());
        Arc::new(Chunk {
            data,
            start: 0,
            len,
            home: Some(self.home.clone()),
        })
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_return_to_the_pool() {
        let pool = ChunkPool::new(64, 2);
        let mut buf = pool.take(0);
        assert_eq!(buf.len(), 64);
        buf[..3].copy_from_slice(b"abc");
        let ptr = buf.as_ptr();
        let chunk = pool.seal(buf, 3);
        assert_eq!(chunk.bytes(), b"abc");
        drop(chunk);
        let again = pool.take(10);
        assert_eq!(again.as_ptr(), ptr, "the same allocation is reused");
        assert_eq!(
            pool.take(100).len(),
            100,
            "a bigger request gets a bigger buffer"
        );
    }

    #[test]
    fn a_chunk_within_a_buffer_shows_its_range_and_sends_the_buffer_home() {
        let (home, spares) = bounded(1);
        let chunk = Chunk::within(b"..abc...".to_vec(), 2..5, home.clone());
        assert_eq!(chunk.bytes(), b"abc");
        drop(chunk);
        assert_eq!(spares.try_recv().unwrap(), b"..abc...");
        // A range past the end is cut to the buffer.
        assert_eq!(Chunk::within(b"ab".to_vec(), 1..9, home).bytes(), b"b");
    }
}
