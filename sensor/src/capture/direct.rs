//! Reads a regular file around the page cache (`O_DIRECT`), in large aligned
//! blocks, on a thread of its own that stays a few blocks ahead: a capture is
//! read once, so caching it only costs a kernel copy per byte and evicts what
//! the machine had cached, and a direct read waits for the device, which the
//! read-ahead hides. Where the file system refuses direct I/O, or a read
//! would break its alignment rules, reading carries on through the page
//! cache from the same offset.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

/// Direct reads must start at, and cover, whole logical blocks of the device;
/// 4 KiB is a multiple of every block size Linux supports for them.
const ALIGN: usize = 4096;
/// Bytes asked for per direct read.
const BLOCK: usize = 1 << 20;
/// Blocks read ahead of the reader (and one more is being read).
const AHEAD: usize = 2;

/// A buffer with room for one aligned block.
struct Block {
    /// `BLOCK + ALIGN` bytes; the aligned block starts at `aligned`.
    buf: Vec<u8>,
    aligned: usize,
    /// Bytes read into it.
    len: usize,
}

impl Block {
    fn new() -> Block {
        let buf = vec![0u8; BLOCK + ALIGN];
        let aligned = buf.as_ptr().align_offset(ALIGN);
        Block {
            buf,
            aligned,
            len: 0,
        }
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.aligned..self.aligned + self.len]
    }
}

/// The reading thread's side: fills blocks in file order.
struct Filler {
    path: PathBuf,
    file: File,
    /// Reads bypass the page cache (else this is a plain buffered reader).
    direct: bool,
    /// File offset of the next read.
    position: u64,
}

impl Filler {
    /// Fills `block`; a length of 0 is the end of the file.
    fn fill(&mut self, block: &mut Block) -> io::Result<()> {
        let target = &mut block.buf[block.aligned..block.aligned + BLOCK];
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
        block.len = n;
        Ok(())
    }

    /// Fills spare blocks and sends them on until the end of the file, an
    /// error, or the reader is dropped. Says at the end whether reads were still direct.
    fn run(mut self, spares: Receiver<Block>, filled: Sender<io::Result<Block>>) -> bool {
        while let Ok(mut block) = spares.recv() {
            let result = self.fill(&mut block).map(|()| block);
            let last = !matches!(&result, Ok(b) if b.len > 0);
            if filled.send(result).is_err() || last {
                break;
            }
        }
        self.direct
    }
}

pub struct DirectReader {
    filled: Receiver<io::Result<Block>>,
    spares: Sender<Block>,
    /// The block being handed out, and how much of it has been.
    current: Option<(Block, usize)>,
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
        let mut reader = DirectReader::start(path, file, 0)?;
        reader.skip = skip;
        Some(reader)
    }

    fn start(path: &Path, file: File, position: u64) -> Option<DirectReader> {
        let filler = Filler {
            path: path.to_path_buf(),
            file,
            direct: true,
            position,
        };
        let (spares, spare_rx) = bounded(AHEAD + 1);
        for _ in 0..=AHEAD {
            let _ = spares.send(Block::new());
        }
        let (filled_tx, filled) = bounded(AHEAD + 1);
        let thread = std::thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || filler.run(spare_rx, filled_tx))
            .ok()?;
        Some(DirectReader {
            filled,
            spares,
            current: None,
            skip: 0,
            ended: false,
            thread: Some(thread),
        })
    }

    /// Stops the reading thread (after its current read); says whether
    /// its reads still bypassed the page cache.
    fn stop(&mut self) -> bool {
        // Closing both channels wakes the thread wherever it waits.
        drop(std::mem::replace(&mut self.filled, bounded(0).1));
        drop(std::mem::replace(&mut self.spares, bounded(0).0));
        self.thread
            .take()
            .is_some_and(|t| t.join().unwrap_or(false))
    }
}

impl Read for DirectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some((block, taken)) = &mut self.current {
                let data = &block.data()[*taken..];
                if !data.is_empty() {
                    let n = out.len().min(data.len());
                    out[..n].copy_from_slice(&data[..n]);
                    *taken += n;
                    return Ok(n);
                }
            }
            // The block is used up (or there was none): give it back for refilling.
            if let Some((spent, _)) = self.current.take() {
                let _ = self.spares.send(spent);
            }
            if self.ended {
                return Ok(0);
            }
            match self.filled.recv() {
                Ok(Ok(block)) if block.len > 0 => {
                    let skip = std::mem::take(&mut self.skip).min(block.len);
                    self.current = Some((block, skip));
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                // The end of the file (or a reading thread that is gone).
                _ => self.ended = true,
            }
        }
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

    fn sample_file(len: usize) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.pcap");
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        File::create(&path).unwrap().write_all(&bytes).unwrap();
        (dir, path, bytes)
    }

    /// Reads everything with reads of the given sizes, in turn.
    fn read_all(reader: &mut impl Read, sizes: &[usize]) -> Vec<u8> {
        let mut all = Vec::new();
        for size in sizes.iter().cycle() {
            let mut piece = vec![0u8; *size];
            let n = reader.read(&mut piece).unwrap();
            if n == 0 {
                return all;
            }
            all.extend_from_slice(&piece[..n]);
        }
        unreachable!()
    }

    #[test]
    fn reads_the_whole_file_in_any_read_sizes() {
        // Over two blocks, ending mid-page, so that the last direct read is short.
        let (_dir, path, bytes) = sample_file(2 * BLOCK + 12_345);
        let Some(mut reader) = DirectReader::open(&path, 0) else {
            eprintln!("skipped: the temporary directory's file system refuses O_DIRECT");
            return;
        };
        assert_eq!(read_all(&mut reader, &[24, 1 << 20, 3, 70_000]), bytes);
        assert!(reader.stop(), "aligned reads never fall back");
        // After a header read the ordinary way, from where it ended.
        let mut reader = DirectReader::open(&path, 24).unwrap();
        assert_eq!(read_all(&mut reader, &[4096, 1 << 20]), &bytes[24..]);
        assert!(reader.stop(), "aligned reads never fall back");
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
        let mut reader = DirectReader::start(&path, file, 5).unwrap();
        assert_eq!(read_all(&mut reader, &[1000]), &bytes[5..]);
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
        let Some(mut reader) = DirectReader::open(&path, 0) else {
            eprintln!("skipped: the temporary directory's file system refuses O_DIRECT");
            return;
        };
        let mut head = [0u8; 100];
        reader.read_exact(&mut head).unwrap();
        assert_eq!(head[..], bytes[..100]);
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
