//! Reads a regular file around the page cache (`O_DIRECT`), in large aligned
//! blocks, on a thread of its own that stays a few blocks ahead: a capture is
//! read once, so caching it only costs a kernel copy per byte and evicts what
//! the machine had cached, and a direct read waits for the device, which the
//! read-ahead hides. Where the file system refuses direct I/O, or a read
//! would break its alignment rules, reading carries on through the page
//! cache from the same offset.
//!
//! The blocks are the replay's chunks: each buffer has room before its
//! block for the end of a record that the previous block cut, so the bytes
//! are never copied again. A chunk gives its buffer back to the reading
//! thread when the workers are done with it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

/// Direct reads must start at, and cover, whole logical blocks of the device;
/// 4 KiB is a multiple of every block size Linux supports for them.
const ALIGN: usize = 4096;
/// Room before each block for the bytes the previous block left over (a
/// record it cut); a multiple of [`ALIGN`]. Longer leftovers are copied.
const HEADROOM: usize = 64 * 1024;
/// Filled blocks waiting for the reader (and one more is being read).
const AHEAD: usize = 2;
/// Spare buffers kept for reuse; the queues of the pipeline bound how many
/// are ever out at once.
const MAX_SPARES: usize = 64;

/// A buffer whose `start..end` holds bytes of the file, with free room before `start`.
pub struct Filled {
    pub buf: Vec<u8>,
    pub start: usize,
    pub end: usize,
}

/// Where the block goes in `buf`: after the headroom, on an aligned address.
fn block_start(buf: &[u8]) -> usize {
    buf.as_ptr().align_offset(ALIGN) + HEADROOM
}

/// The reading thread's side: fills buffers in file order.
struct Filler {
    path: PathBuf,
    file: File,
    /// Reads bypass the page cache (else this is a plain buffered reader).
    direct: bool,
    /// File offset of the next read.
    position: u64,
    /// Bytes per read, a multiple of [`ALIGN`].
    block: usize,
}

impl Filler {
    /// Room for the headroom, a block, and slack to align the block.
    fn buffer_len(&self) -> usize {
        HEADROOM + self.block + ALIGN
    }

    fn new_buffer(&self) -> Vec<u8> {
        vec![0u8; self.buffer_len()]
    }

    /// Fills the block of `buf`; an empty block is the end of the file.
    fn fill(&mut self, buf: Vec<u8>) -> io::Result<Filled> {
        let mut buf = buf;
        if buf.len() != self.buffer_len() {
            // A buffer that a chunk outgrew came back: not one of ours.
            buf = self.new_buffer();
        }
        let start = block_start(&buf);
        let target = &mut buf[start..start + self.block];
        let n = loop {
            match self.file.read(target) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) => {
                    // Direct I/O refused here: read on through the page cache.
                    self.file = File::open(&self.path)?;
                    self.file.seek(SeekFrom::Start(self.position))?;
                    self.direct = false;
                }
                other => break other?,
            }
        };
        self.position += n as u64;
        Ok(Filled {
            buf,
            start,
            end: start + n,
        })
    }

    /// Fills buffers (spare ones when there are) and sends them on until the
    /// end of the file, an error, or the reader is dropped. Says at the end
    /// whether reads were still direct.
    fn run(mut self, spares: Receiver<Vec<u8>>, filled: Sender<io::Result<Filled>>) -> bool {
        loop {
            let buf = spares.try_recv().unwrap_or_else(|_| self.new_buffer());
            let result = self.fill(buf);
            let last = !matches!(&result, Ok(f) if f.end > f.start);
            if filled.send(result).is_err() || last {
                break;
            }
        }
        self.direct
    }
}

/// A reading thread not started yet: its work, where it takes spare
/// buffers from, and where it sends filled ones.
type Idle = (Filler, Receiver<Vec<u8>>, Sender<io::Result<Filled>>);

pub struct DirectReader {
    /// The reading thread's work and channels, until the first block is asked for.
    idle: Option<Idle>,
    filled: Receiver<io::Result<Filled>>,
    /// Where used buffers go back to the reading thread.
    spares: Sender<Vec<u8>>,
    /// Bytes at the start of the file that were read another way (a header).
    skip: usize,
    /// The end of the file or an error was handed out.
    ended: bool,
    thread: Option<JoinHandle<bool>>,
}

impl DirectReader {
    /// Reads `path` directly from byte `skip` on, if it is a regular file
    /// that allows direct reads; `None` otherwise (read it the ordinary way).
    pub fn open(path: &Path, skip: usize) -> Option<DirectReader> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        // Direct reads start on a block boundary: the skipped bytes are read again.
        let mut reader = DirectReader::at(path, file, 0);
        reader.skip = skip;
        Some(reader)
    }

    /// A reader from `position` on; its thread starts with the first block asked for.
    fn at(path: &Path, file: File, position: u64) -> DirectReader {
        let (spares, spare_rx) = bounded(MAX_SPARES);
        let (filled_tx, filled) = bounded(AHEAD);
        let filler = Filler {
            path: path.to_path_buf(),
            file,
            direct: true,
            position,
            block: ALIGN,
        };
        DirectReader {
            idle: Some((filler, spare_rx, filled_tx)),
            filled,
            spares,
            skip: 0,
            ended: false,
            thread: None,
        }
    }

    /// The next block of the file, `None` at its end. The first call sets
    /// the size of every block: `size` rounded up to whole pages.
    pub fn next_block(&mut self, size: usize) -> io::Result<Option<Filled>> {
        if let Some((mut filler, spares, filled)) = self.idle.take() {
            filler.block = size.max(1).next_multiple_of(ALIGN);
            let thread = std::thread::Builder::new()
                .name("read-ahead".into())
                .spawn(move || filler.run(spares, filled))?;
            self.thread = Some(thread);
        }
        while !self.ended {
            match self.filled.recv() {
                Ok(Ok(mut block)) if block.end > block.start => {
                    let skip = std::mem::take(&mut self.skip).min(block.end - block.start);
                    block.start += skip;
                    if block.end > block.start {
                        return Ok(Some(block));
                    }
                    self.give_back(block.buf);
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                // The end of the file (or a reading thread that is gone).
                _ => self.ended = true,
            }
        }
        Ok(None)
    }

    /// Where a chunk made of a block sends its buffer when dropped.
    pub fn home(&self) -> Sender<Vec<u8>> {
        self.spares.clone()
    }

    /// Returns a buffer for refilling now (dropped if enough are spare).
    fn give_back(&self, buf: Vec<u8>) {
        let _ = self.spares.try_send(buf);
    }

    /// Stops the reading thread (after its current read); says whether
    /// its reads still bypassed the page cache.
    fn stop(&mut self) -> bool {
        // Closing the channel of filled blocks ends the thread at its next send.
        drop(std::mem::replace(&mut self.filled, bounded(0).1));
        self.thread
            .take()
            .is_some_and(|t| t.join().unwrap_or(false))
    }
}

impl Drop for DirectReader {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Bytes per block in these tests.
    const BLOCK: usize = 1 << 20;

    fn sample_file(len: usize) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.pcap");
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        File::create(&path).unwrap().write_all(&bytes).unwrap();
        (dir, path, bytes)
    }

    /// A direct reader of `path`, or `None` (said why) where the temporary
    /// directory's file system refuses direct reads.
    fn direct_or_skip(path: &Path) -> Option<DirectReader> {
        let reader = DirectReader::open(path, 0);
        if reader.is_none() {
            eprintln!("skipped: the temporary directory's file system refuses O_DIRECT");
        }
        reader
    }

    /// Reads every block, checking each has its headroom, and returns the bytes.
    fn read_all(reader: &mut DirectReader) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(block) = reader.next_block(BLOCK).unwrap() {
            assert!(block.start >= HEADROOM, "room before the block");
            all.extend_from_slice(&block.buf[block.start..block.end]);
            reader.give_back(block.buf);
        }
        all
    }

    #[test]
    fn reads_the_whole_file_block_by_block() {
        // Over two blocks, ending mid-page, so that the last direct read is short.
        let (_dir, path, bytes) = sample_file(2 * BLOCK + 12_345);
        let Some(mut reader) = direct_or_skip(&path) else {
            return;
        };
        assert_eq!(read_all(&mut reader), bytes);
        assert!(reader.next_block(BLOCK).unwrap().is_none(), "still the end");
        assert!(reader.stop(), "aligned reads never fall back");
        // After a header read the ordinary way, from where it ended.
        let mut reader = DirectReader::open(&path, 24).unwrap();
        assert_eq!(read_all(&mut reader), &bytes[24..]);
        assert!(reader.stop(), "aligned reads never fall back");
    }

    #[test]
    fn blocks_are_the_size_first_asked_for_in_whole_pages() {
        let (_dir, path, bytes) = sample_file(5 * ALIGN + 7);
        let Some(mut reader) = direct_or_skip(&path) else {
            return;
        };
        let mut sizes = Vec::new();
        let mut all = Vec::new();
        // Later sizes asked for do not change it.
        while let Some(block) = reader.next_block(ALIGN + 1 + sizes.len()).unwrap() {
            sizes.push(block.end - block.start);
            all.extend_from_slice(&block.buf[block.start..block.end]);
        }
        assert_eq!(sizes, [2 * ALIGN, 2 * ALIGN, ALIGN + 7]);
        assert_eq!(all, bytes);
    }

    #[test]
    fn a_refused_direct_read_goes_on_through_the_page_cache() {
        let (_dir, path, bytes) = sample_file(3 * ALIGN + 100);
        let direct = || {
            OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECT)
                .open(&path)
        };
        let Ok(mut file) = direct() else {
            eprintln!("skipped: the temporary directory's file system refuses O_DIRECT");
            return;
        };
        // Some file systems take O_DIRECT without its alignment rules.
        let mut probe = direct().unwrap();
        probe.seek(SeekFrom::Start(5)).unwrap();
        let refused = probe
            .read(&mut [0u8; 100])
            .is_err_and(|e| e.raw_os_error() == Some(libc::EINVAL));
        // A direct read from an unaligned offset is refused (EINVAL).
        file.seek(SeekFrom::Start(5)).unwrap();
        let mut reader = DirectReader::at(&path, file, 5);
        assert_eq!(read_all(&mut reader), &bytes[5..]);
        let still_direct = reader.stop();
        if refused {
            assert!(!still_direct, "the reads went through the page cache");
        } else {
            eprintln!("note: this file system allows unaligned direct reads; none fell back");
        }
    }

    #[test]
    fn a_reader_dropped_mid_file_stops_its_thread() {
        let (_dir, path, bytes) = sample_file(8 * BLOCK);
        let Some(mut reader) = direct_or_skip(&path) else {
            return;
        };
        let first = reader.next_block(BLOCK).unwrap().unwrap();
        assert_eq!(first.buf[first.start..first.end], bytes[..BLOCK]);
        // Let the thread fill every spare block and wait for another.
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(reader.stop());
    }

    #[test]
    fn a_directory_or_missing_file_is_not_read_directly() {
        let dir = tempfile::tempdir().unwrap();
        assert!(DirectReader::open(dir.path(), 0).is_none());
        assert!(DirectReader::open(&dir.path().join("absent"), 0).is_none());
    }
}
