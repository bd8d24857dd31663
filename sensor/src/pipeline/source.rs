//! Where the dispatcher's frames come from: capture files read chunk by
//! chunk ([`FileSource`]), or a live socket (`capture::live`). The rest of the
//! pipeline is the same for both.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::dispatch::CaptureReport;
use crate::capture::{CaptureFile, Chunk, ChunkPool, Input, Record};
use crate::time::Timestamp;

/// Frames pulled from a source in one go: `records` (filled by
/// [`FrameSource::pull`]) locate them in `chunk`.
pub struct Pulled {
    pub chunk: Arc<Chunk>,
    /// Index of the capture file (0 for a live source).
    pub capture: u16,
    /// Whether this pull closes an epoch: workers sweep idle flows and the
    /// analyzer merges after it. A file closes one per chunk (so epochs do not
    /// depend on the thread count); a live source on a timer.
    pub ends_epoch: bool,
    /// The source's clock, when it has one besides packet time (a live
    /// source's wall clock), so that idle flows expire while the wire is quiet.
    pub clock: Option<Timestamp>,
}

/// A supply of frames for one dispatcher.
pub trait FrameSource: Send {
    /// The next frames, with their records appended to `records` (which is
    /// empty on entry); `None` once the source is exhausted or told to stop.
    /// A record whose `packet` is 0 gets its timeline index as packet number.
    fn pull(&mut self, records: &mut Vec<Record>) -> Option<Pulled>;

    /// What happened to each capture file, once the source is exhausted.
    fn finish(&mut self) -> Vec<CaptureReport> {
        Vec::new()
    }
}

/// The timeline's capture files, in order, each read chunk by chunk.
pub struct FileSource<'a> {
    inputs: &'a [Input],
    next_input: usize,
    open: Option<CaptureFile>,
    last_read: u64,
    pool: ChunkPool,
    /// File bytes read so far, for the progress bar.
    progress: Arc<AtomicU64>,
    reports: Vec<CaptureReport>,
}

impl<'a> FileSource<'a> {
    pub fn new(inputs: &'a [Input], pool: ChunkPool, progress: Arc<AtomicU64>) -> FileSource<'a> {
        FileSource {
            inputs,
            next_input: 0,
            open: None,
            last_read: 0,
            pool,
            progress,
            reports: Vec::new(),
        }
    }

    /// Opens the next file that can be opened; `false` when none is left.
    fn open_next(&mut self) -> bool {
        while let Some(input) = self.inputs.get(self.next_input) {
            self.next_input += 1;
            match CaptureFile::open(&input.path) {
                Ok(file) => {
                    self.open = Some(file);
                    self.last_read = 0;
                    return true;
                }
                Err(e) => self.reports.push(CaptureReport {
                    name: input.name.clone(),
                    error: Some(e.to_string()),
                    ..CaptureReport::default()
                }),
            }
        }
        false
    }

    fn close(&mut self, file: CaptureFile) {
        let input = &self.inputs[self.next_input - 1];
        self.reports.push(CaptureReport {
            name: input.name.clone(),
            format: Some(file.format().name()),
            packets: file.packets(),
            bytes_read: file.bytes_read(),
            error: None,
            damage: file.damage().cloned(),
            unsupported_link_types: file.unsupported().to_vec(),
        });
    }
}

impl FrameSource for FileSource<'_> {
    fn pull(&mut self, records: &mut Vec<Record>) -> Option<Pulled> {
        loop {
            if self.open.is_none() && !self.open_next() {
                return None;
            }
            let file = self.open.as_mut()?;
            if let Some(chunk) = file.next_chunk(&self.pool, records) {
                let read = file.bytes_read();
                self.progress
                    .fetch_add(read - self.last_read, Ordering::Relaxed);
                self.last_read = read;
                return Some(Pulled {
                    chunk,
                    capture: (self.next_input - 1) as u16,
                    ends_epoch: true,
                    clock: None,
                });
            }
            let file = self.open.take()?;
            self.close(file);
        }
    }

    fn finish(&mut self) -> Vec<CaptureReport> {
        std::mem::take(&mut self.reports)
    }
}
