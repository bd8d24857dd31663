//! A sink's bounded on-disk queue: records are appended to numbered segment
//! files, read back in order for sending, and forgotten once acknowledged.
//! The acknowledged position is kept in a small file, so what a stopped
//! sensor had not delivered is sent by the next run. A record that would
//! take the spool past its size is dropped and counted, never silently.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::config::Kind;
use super::record::Record;

/// A segment is closed and a new one started past this size.
const SEGMENT_BYTES: u64 = 4 << 20;
const ACK_FILE: &str = "ack";
/// A record's frame: length (u32), kind (u8), id length (u16), id, JSON.
const FRAME_HEAD: usize = 4;
const RECORD_HEAD: usize = 3;
/// Largest record accepted (a frame length beyond it means a damaged file).
const MAX_RECORD: usize = 16 << 20;

/// A position in the spool: segment number and byte offset.
type Position = (u64, u64);

pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    /// Segments present, oldest first: (number, size).
    segments: VecDeque<(u64, u64)>,
    writer: Option<BufWriter<File>>,
    /// The first record not acknowledged.
    acked: Position,
    /// The next record to read for sending.
    read: Position,
    reader: Option<(u64, BufReader<File>)>,
    /// Ends of the records read and not yet acknowledged, in order.
    in_flight: VecDeque<Position>,
    /// Records dropped because the spool was full.
    pub overflowed: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("spool {path}: {source}")]
pub struct SpoolError {
    path: String,
    #[source]
    source: io::Error,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, keeping what an earlier run left.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        let fail = |source: io::Error| SpoolError {
            path: dir.display().to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(fail)?;
        let mut numbers = Vec::new();
        for entry in fs::read_dir(dir).map_err(fail)? {
            let name = entry.map_err(fail)?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_suffix(".seg")
                .and_then(|n| n.parse::<u64>().ok())
            {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        let acked =
            read_ack(&dir.join(ACK_FILE)).unwrap_or((numbers.first().copied().unwrap_or(0), 0));
        let mut segments = VecDeque::new();
        for n in numbers {
            let path = segment_path(dir, n);
            if n < acked.0 {
                fs::remove_file(&path).map_err(fail)?;
                continue;
            }
            let size = fs::metadata(&path).map_err(fail)?.len();
            segments.push_back((n, size));
        }
        // A record half written when the sensor stopped is cut off.
        if let Some(last) = segments.back_mut() {
            let whole = whole_records(&segment_path(dir, last.0)).map_err(fail)?;
            if whole < last.1 {
                OpenOptions::new()
                    .write(true)
                    .open(segment_path(dir, last.0))
                    .and_then(|f| f.set_len(whole))
                    .map_err(fail)?;
                last.1 = whole;
            }
        }
        let acked = match segments.front() {
            Some(&(n, size)) if n == acked.0 => (n, acked.1.min(size)),
            Some(&(n, _)) => (n, 0),
            None => (acked.0, 0),
        };
        Ok(Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            segments,
            writer: None,
            acked,
            read: acked,
            reader: None,
            in_flight: VecDeque::new(),
            overflowed: 0,
        })
    }

    /// Bytes held for records not yet acknowledged.
    pub fn bytes(&self) -> u64 {
        let total: u64 = self.segments.iter().map(|s| s.1).sum();
        total.saturating_sub(self.acked.1)
    }

    /// Bytes still free.
    pub fn room(&self) -> u64 {
        self.max_bytes.saturating_sub(self.bytes())
    }

    /// Records not yet acknowledged (reads them all: for reports at the end).
    pub fn records_left(&mut self) -> u64 {
        self.rewind();
        let mut left = 0;
        while let Ok(batch) = self.read(4096) {
            if batch.is_empty() {
                break;
            }
            left += batch.len() as u64;
        }
        self.rewind();
        left
    }

    /// Nothing left to acknowledge.
    pub fn is_empty(&self) -> bool {
        self.bytes() == 0
    }

    /// Everything has been read for sending (some may await acknowledgement).
    pub fn all_read(&self) -> bool {
        match self.segments.back() {
            Some(&(n, size)) => self.read >= (n, size),
            None => true,
        }
    }

    /// Room for a record of `len` JSON and id bytes.
    pub fn has_room(&self, record: &Record) -> bool {
        self.bytes() + frame_len(record) as u64 <= self.max_bytes
    }

    /// Appends `record`; when there is no room it is counted as overflow and `false` returned.
    pub fn push(&mut self, record: &Record) -> Result<bool, SpoolError> {
        if !self.has_room(record) {
            self.overflowed += 1;
            return Ok(false);
        }
        let len = frame_len(record);
        let roll = match self.segments.back() {
            None => true,
            Some(&(_, size)) => size > 0 && size + len as u64 > SEGMENT_BYTES,
        };
        if roll || self.writer.is_none() {
            self.open_tail(roll)?;
        }
        let writer = self.writer.as_mut().expect("tail segment open");
        let id = record.id.as_bytes();
        let body = (RECORD_HEAD + id.len() + record.json.len()) as u32;
        let written = writer
            .write_all(&body.to_le_bytes())
            .and_then(|()| writer.write_all(&[record.kind.index()]))
            .and_then(|()| writer.write_all(&(id.len() as u16).to_le_bytes()))
            .and_then(|()| writer.write_all(id))
            .and_then(|()| writer.write_all(&record.json));
        written.map_err(|e| self.error(e))?;
        self.segments.back_mut().expect("tail segment").1 += len as u64;
        Ok(true)
    }

    /// Up to `max` records from the read position on, in order.
    pub fn read(&mut self, max: usize) -> Result<Vec<Record>, SpoolError> {
        let mut out = Vec::new();
        self.flush()?;
        while out.len() < max {
            let Some(&(number, size)) = self.segments.iter().find(|s| s.0 >= self.read.0) else {
                break;
            };
            if number > self.read.0 {
                self.read = (number, 0);
                self.reader = None;
            }
            if self.read.1 >= size {
                match self.segments.iter().find(|s| s.0 > number) {
                    Some(&(next, _)) => {
                        self.read = (next, 0);
                        self.reader = None;
                        continue;
                    }
                    None => break,
                }
            }
            let record = self.read_one().map_err(|e| self.error(e))?;
            out.push(record);
            self.in_flight.push_back(self.read);
        }
        Ok(out)
    }

    /// The first `n` records read are delivered: forget them.
    pub fn ack(&mut self, n: usize) -> Result<(), SpoolError> {
        let mut last = None;
        for _ in 0..n {
            match self.in_flight.pop_front() {
                Some(end) => last = Some(end),
                None => break,
            }
        }
        let Some(end) = last else {
            return Ok(());
        };
        self.acked = end;
        // Segments wholly acknowledged go, except the one being written.
        while let Some(&(number, size)) = self.segments.front() {
            let is_tail = self.segments.len() == 1;
            let passed = number < self.acked.0 || (number == self.acked.0 && self.acked.1 >= size);
            if passed && !is_tail {
                fs::remove_file(segment_path(&self.dir, number)).map_err(|e| self.error(e))?;
                self.segments.pop_front();
                if number == self.acked.0 {
                    let next = self.segments.front().map_or(number + 1, |s| s.0);
                    self.acked = (next, 0);
                }
            } else {
                break;
            }
        }
        // An empty spool starts over in a fresh segment, so files do not pile up.
        if self.is_empty() && self.in_flight.is_empty() && self.read >= self.acked {
            let number = self.segments.back().map_or(self.acked.0, |s| s.0 + 1);
            for (n, _) in self.segments.drain(..) {
                fs::remove_file(segment_path(&self.dir, n)).map_err(|e| SpoolError {
                    path: self.dir.display().to_string(),
                    source: e,
                })?;
            }
            self.writer = None;
            self.reader = None;
            self.acked = (number, 0);
            self.read = self.acked;
        }
        fs::write(
            self.dir.join(ACK_FILE),
            format!("{} {}\n", self.acked.0, self.acked.1),
        )
        .map_err(|e| self.error(e))
    }

    /// What was read and not acknowledged will be read again (after a failed send).
    pub fn rewind(&mut self) {
        self.read = self.acked;
        self.reader = None;
        self.in_flight.clear();
    }

    pub fn flush(&mut self) -> Result<(), SpoolError> {
        if let Some(w) = &mut self.writer {
            w.flush().map_err(|e| SpoolError {
                path: self.dir.display().to_string(),
                source: e,
            })?;
        }
        Ok(())
    }

    fn open_tail(&mut self, new_segment: bool) -> Result<(), SpoolError> {
        self.flush()?;
        if new_segment {
            let number = self.segments.back().map_or(self.acked.0, |s| s.0 + 1);
            self.segments.push_back((number, 0));
        }
        let number = self.segments.back().expect("a tail segment").0;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(&self.dir, number))
            .map_err(|e| self.error(e))?;
        self.writer = Some(BufWriter::with_capacity(64 << 10, file));
        Ok(())
    }

    fn read_one(&mut self) -> io::Result<Record> {
        let (number, offset) = self.read;
        let reader = match &mut self.reader {
            Some((n, r)) if *n == number => r,
            _ => {
                let mut file = File::open(segment_path(&self.dir, number))?;
                file.seek(SeekFrom::Start(offset))?;
                &mut self.reader.insert((number, BufReader::new(file))).1
            }
        };
        let mut head = [0u8; FRAME_HEAD];
        reader.read_exact(&mut head)?;
        let len = u32::from_le_bytes(head) as usize;
        if !(RECORD_HEAD..=MAX_RECORD).contains(&len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("damaged record at byte {offset} of segment {number}"),
            ));
        }
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body)?;
        let kind = Kind::from_index(body[0])
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown record kind"))?;
        let id_len = usize::from(u16::from_le_bytes([body[1], body[2]]));
        let id_end = RECORD_HEAD + id_len;
        if id_end > len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "damaged record id",
            ));
        }
        let id = String::from_utf8_lossy(&body[RECORD_HEAD..id_end]).into_owned();
        let json: Arc<[u8]> = Arc::from(&body[id_end..]);
        self.read.1 += (FRAME_HEAD + len) as u64;
        Ok(Record { kind, id, json })
    }

    fn error(&self, source: io::Error) -> SpoolError {
        SpoolError {
            path: self.dir.display().to_string(),
            source,
        }
    }
}

fn frame_len(record: &Record) -> usize {
    FRAME_HEAD + RECORD_HEAD + record.id.len() + record.json.len()
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:012}.seg"))
}

fn read_ack(path: &Path) -> Option<Position> {
    let text = fs::read_to_string(path).ok()?;
    let mut parts = text.split_whitespace();
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The length of the whole records at the start of a segment file.
fn whole_records(path: &Path) -> io::Result<u64> {
    let mut reader = BufReader::new(File::open(path)?);
    let size = reader.get_ref().metadata()?.len();
    let mut at = 0u64;
    loop {
        let mut head = [0u8; FRAME_HEAD];
        if reader.read_exact(&mut head).is_err() {
            return Ok(at);
        }
        let len = u32::from_le_bytes(head) as u64;
        if len < RECORD_HEAD as u64 || len > MAX_RECORD as u64 || at + 4 + len > size {
            return Ok(at);
        }
        reader.seek_relative(len as i64)?;
        at += 4 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> Record {
        Record {
            kind: Kind::Alerts,
            id: format!("r{n}"),
            json: Arc::from(format!("{{\"n\":{n}}}").into_bytes()),
        }
    }

    fn ids(records: &[Record]) -> Vec<String> {
        records.iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn records_come_back_in_order_and_go_once_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        for n in 0..5 {
            assert!(spool.push(&record(n)).unwrap());
        }
        let batch = spool.read(3).unwrap();
        assert_eq!(ids(&batch), ["r0", "r1", "r2"]);
        assert_eq!(batch[2].json.as_ref(), br#"{"n":2}"#);
        spool.ack(2).unwrap();
        spool.rewind();
        assert_eq!(ids(&spool.read(10).unwrap()), ["r2", "r3", "r4"]);
        spool.ack(3).unwrap();
        assert!(spool.is_empty());
        assert!(spool.read(10).unwrap().is_empty());
    }

    #[test]
    fn what_was_not_acknowledged_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
            for n in 0..4 {
                spool.push(&record(n)).unwrap();
            }
            spool.read(2).unwrap();
            spool.ack(2).unwrap();
            spool.flush().unwrap();
        }
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(ids(&spool.read(10).unwrap()), ["r2", "r3"]);
    }

    #[test]
    fn a_half_written_record_is_cut_off_at_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
            spool.push(&record(0)).unwrap();
            spool.push(&record(1)).unwrap();
            spool.flush().unwrap();
        }
        let segment = segment_path(dir.path(), 0);
        let len = fs::metadata(&segment).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(ids(&spool.read(10).unwrap()), ["r0"]);
        spool.push(&record(2)).unwrap();
        assert_eq!(ids(&spool.read(10).unwrap()), ["r2"]);
    }

    #[test]
    fn a_full_spool_counts_what_it_drops() {
        let dir = tempfile::tempdir().unwrap();
        let one = frame_len(&record(0)) as u64;
        let mut spool = Spool::open(dir.path(), one * 3).unwrap();
        let accepted = (0..5).filter(|&n| spool.push(&record(n)).unwrap()).count();
        assert_eq!(accepted, 3);
        assert_eq!(spool.overflowed, 2);
        spool.read(1).unwrap();
        spool.ack(1).unwrap();
        assert!(spool.push(&record(9)).unwrap());
        assert_eq!(ids(&spool.read(10).unwrap()), ["r1", "r2", "r9"]);
    }

    #[test]
    fn segments_roll_over_and_are_removed_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 64 << 20).unwrap();
        let big = Record {
            kind: Kind::Events,
            id: "big".into(),
            json: Arc::from(vec![b'x'; 1 << 20]),
        };
        for _ in 0..9 {
            spool.push(&big).unwrap();
        }
        spool.flush().unwrap();
        let segments = || {
            fs::read_dir(dir.path())
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "seg")
                })
                .count()
        };
        assert_eq!(segments(), 3);
        assert_eq!(spool.read(100).unwrap().len(), 9);
        spool.ack(9).unwrap();
        assert_eq!(segments(), 0);
        assert!(spool.is_empty());
    }
}
