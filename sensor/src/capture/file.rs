//! Capture files: classic pcap (µs/ns, either byte order, "modified" variant)
//! and pcapng (sections, several interfaces, EPB/SPB/OPB, timestamp
//! resolution and offset), recognised by magic number, read as a stream of
//! chunks so memory stays flat whatever the file size.
//!
//! Record and block headers are bounds-checked here before pcap-parser
//! decodes them, so a corrupt length is reported at its byte offset instead of
//! making the reader buffer the rest of the file.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::Sender;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;

use super::clock::Clock;
use super::{Chunk, ChunkPool, Damage, LinkType, OpenError, Record};
use crate::time::Timestamp;

/// The largest frame accepted from a classic pcap record (Wireshark's limit).
pub const RECORD_LIMIT: usize = 256 * 1024;
/// The largest pcapng block accepted.
const BLOCK_LIMIT: usize = 16 << 20;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_BOM: u32 = 0x1A2B_3C4D;
const PCAPNG_OPB: u32 = 0x0000_0002;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
        /// Kuznetzov's "modified" pcap: 24-byte record headers.
        modified: bool,
    },
    PcapNg,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap { .. } => "pcap",
            Format::PcapNg => "pcapng",
        }
    }
}

/// A pcapng interface, as its Interface Description Block described it.
struct Interface {
    link: LinkType,
    clock: Clock,
    snaplen: u32,
}

/// Per-format reading state.
enum State {
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
        link: LinkType,
        fcs_len: u32,
        max_caplen: usize,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// What reading one record or block at the front of a buffer gave.
enum Step {
    /// Consumed this many bytes (a packet was recorded, or a block was noted).
    Consumed(usize),
    /// This many bytes, counted from the front, are needed.
    NeedMore(usize),
    /// The file cannot be read any further.
    Damaged(String),
}

/// Where a file's bytes come from.
enum Input {
    /// `read` calls, into the pool's buffers.
    Stream(Box<dyn Read + Send>),
    /// Blocks read ahead around the page cache, which become the chunks.
    #[cfg(target_os = "linux")]
    Direct(super::direct::DirectReader),
}

/// File bytes in `buf[start..end]`, and where the buffer goes once its
/// chunk is dropped (`None`: the pool).
struct Filled {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    home: Option<Sender<Vec<u8>>>,
}

/// A capture file being read chunk by chunk.
pub struct CaptureFile {
    name: String,
    input: Input,
    format: Format,
    state: State,
    /// File offset of the first byte not yet consumed.
    offset: u64,
    /// Bytes read but not consumed (an incomplete record), carried to the next chunk.
    carry: Vec<u8>,
    /// How many bytes the next chunk needs at least to make progress.
    need: usize,
    eof: bool,
    done: bool,
    packets: u64,
    last_ts: Timestamp,
    damage: Option<Damage>,
    /// Packets on interfaces with a link type the sensor cannot parse, by type.
    unsupported: Vec<(u32, u64)>,
    bytes_read: u64,
}

impl CaptureFile {
    /// Opens a capture file for replay: its header is read here, the rest
    /// around the page cache where the file system allows it.
    pub fn open(path: &Path) -> Result<CaptureFile, OpenError> {
        let capture = CaptureFile::open_buffered(path)?;
        #[cfg(target_os = "linux")]
        if let Some(direct) = super::direct::DirectReader::open(path, capture.bytes_read as usize) {
            return Ok(CaptureFile {
                input: Input::Direct(direct),
                ..capture
            });
        }
        Ok(capture)
    }

    /// Opens a capture file read through the page cache, having read only
    /// its header (enough to tell whether it can be replayed).
    pub fn open_buffered(path: &Path) -> Result<CaptureFile, OpenError> {
        let file = File::open(path)?;
        if file.metadata()?.is_dir() {
            return Err(OpenError::Io(io::Error::other("is a directory")));
        }
        CaptureFile::from_reader(path.display().to_string(), Box::new(file))
    }

    /// Reads the file header from `input`; fails if it is not a capture.
    pub fn from_reader(
        name: String,
        mut input: Box<dyn Read + Send>,
    ) -> Result<CaptureFile, OpenError> {
        let mut head = [0u8; 24];
        let got = read_full(&mut input, &mut head)?;
        if got == 0 {
            return Err(OpenError::Empty);
        }
        if got >= 2 && head[..2] == [0x1f, 0x8b] {
            return Err(OpenError::Gzip);
        }
        if got < 4 {
            return Err(OpenError::TruncatedHeader(got, 24));
        }
        let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let (format, state, consumed) = match magic {
            PCAPNG_SHB => (
                Format::PcapNg,
                State::PcapNg {
                    big_endian: false,
                    interfaces: Vec::new(),
                },
                0,
            ),
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0xa1b2_cd34 | 0x34cd_b2a1 => {
                if got < 24 {
                    return Err(OpenError::TruncatedHeader(got, 24));
                }
                let (format, state) = pcap_header(&head)?;
                (format, state, 24)
            }
            other => return Err(OpenError::NotACapture(other.swap_bytes())),
        };
        Ok(CaptureFile {
            name,
            input: Input::Stream(input),
            format,
            state,
            offset: consumed as u64,
            carry: head[consumed..got].to_vec(),
            need: 0,
            eof: false,
            done: false,
            packets: 0,
            last_ts: Timestamp::ZERO,
            damage: None,
            unsupported: Vec::new(),
            bytes_read: got as u64,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Packets (records) read so far, including any that were not dispatched.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Where reading stopped early, if it did.
    pub fn damage(&self) -> Option<&Damage> {
        self.damage.as_ref()
    }

    /// Packets skipped because their interface's link type is not supported.
    pub fn unsupported(&self) -> &[(u32, u64)] {
        &self.unsupported
    }

    /// Reads the next chunk and appends a [`Record`] for each frame in it to
    /// `records`. Returns `None` once the file is exhausted or damaged.
    pub fn next_chunk(
        &mut self,
        pool: &ChunkPool,
        records: &mut Vec<Record>,
    ) -> Option<Arc<Chunk>> {
        loop {
            if self.done {
                return None;
            }
            let Filled {
                buf,
                start,
                end,
                home,
            } = self.fill(pool);
            let bytes = &buf[start..end];
            let before = records.len();
            let consumed = self.parse_records(bytes, records);
            if !self.done {
                if self.eof {
                    self.done = true;
                    if consumed < bytes.len() {
                        let reason = self.truncation_reason(bytes.len() - consumed);
                        self.fail(self.offset + consumed as u64, reason);
                    }
                } else {
                    self.carry.extend_from_slice(&bytes[consumed..]);
                }
            }
            self.offset += consumed as u64;
            // A chunk only for bytes that were used: a direct read learns of
            // the end of the file from an empty block, which is no epoch.
            if records.len() > before || consumed > 0 {
                return Some(match home {
                    Some(home) => Chunk::within(buf, start..end, home),
                    None => pool.seal(buf, end),
                });
            }
        }
    }

    /// The bytes carried over from the last chunk, then more: the next block
    /// of a direct read, or as many as a pool buffer takes (at least `need`
    /// in all, unless the file ends first).
    fn fill(&mut self, pool: &ChunkPool) -> Filled {
        match &mut self.input {
            Input::Stream(input) => {
                let mut buf = pool.take(self.need.max(self.carry.len()));
                let mut end = self.carry.len();
                buf[..end].copy_from_slice(&self.carry);
                self.carry.clear();
                let mut failed = None;
                while end < buf.len() && !self.eof {
                    match input.read(&mut buf[end..]) {
                        Ok(0) => self.eof = true,
                        Ok(n) => {
                            end += n;
                            self.bytes_read += n as u64;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            self.eof = true;
                            failed = Some((end, e));
                        }
                    }
                }
                if let Some((at, e)) = failed {
                    self.fail(self.offset + at as u64, format!("read error: {e}"));
                }
                Filled {
                    buf,
                    start: 0,
                    end,
                    home: None,
                }
            }
            #[cfg(target_os = "linux")]
            Input::Direct(direct) => {
                let home = direct.home();
                let block = match direct.next_block(pool.capacity()) {
                    Ok(block) => block,
                    Err(e) => {
                        let at = self.offset + self.carry.len() as u64;
                        self.fail(at, format!("read error: {e}"));
                        None
                    }
                };
                let Some(block) = block else {
                    // The end of the file: only what was carried over is left.
                    self.eof = true;
                    let buf = std::mem::take(&mut self.carry);
                    let end = buf.len();
                    return Filled {
                        buf,
                        start: 0,
                        end,
                        home: Some(home),
                    };
                };
                self.bytes_read += (block.end - block.start) as u64;
                let carried = self.carry.len();
                if carried <= block.start {
                    // The usual case: the carried bytes fit in the room before the block.
                    let mut buf = block.buf;
                    let start = block.start - carried;
                    buf[start..block.start].copy_from_slice(&self.carry);
                    self.carry.clear();
                    return Filled {
                        buf,
                        start,
                        end: block.end,
                        home: Some(home),
                    };
                }
                // A long record left more than that room holds: join the two.
                let mut buf = std::mem::take(&mut self.carry);
                buf.extend_from_slice(&block.buf[block.start..block.end]);
                // The block's buffer goes back to the reading thread now.
                let _ = home.try_send(block.buf);
                let end = buf.len();
                Filled {
                    buf,
                    start: 0,
                    end,
                    home: Some(home),
                }
            }
        }
    }

    fn fail(&mut self, offset: u64, reason: String) {
        if self.damage.is_none() {
            self.damage = Some(Damage { offset, reason });
        }
        self.done = true;
    }

    fn truncation_reason(&self, have: usize) -> String {
        let what = match self.format {
            Format::Pcap { .. } => "record",
            Format::PcapNg => "block",
        };
        format!(
            "truncated {what}: file ends {have} bytes into a {what} of {} bytes",
            self.need.max(have + 1)
        )
    }

    /// Reads whole records from the front of `buf`; returns the bytes consumed.
    fn parse_records(&mut self, buf: &[u8], records: &mut Vec<Record>) -> usize {
        let mut pos = 0;
        self.need = 0;
        while pos < buf.len() {
            let step = match self.state {
                State::Pcap { .. } => self.pcap_record(buf, pos, records),
                State::PcapNg { .. } => self.pcapng_block(buf, pos, records),
            };
            match step {
                Step::Consumed(n) => pos += n,
                Step::NeedMore(n) => {
                    self.need = n;
                    break;
                }
                Step::Damaged(reason) => {
                    self.fail(self.offset + pos as u64, reason);
                    break;
                }
            }
        }
        pos
    }

    fn push(
        &mut self,
        records: &mut Vec<Record>,
        base: &[u8],
        frame: &[u8],
        orig_len: u32,
        ts: Timestamp,
        link: LinkType,
    ) {
        self.packets += 1;
        self.last_ts = ts;
        if let LinkType::Unsupported(dlt) = link {
            match self.unsupported.iter_mut().find(|(t, _)| *t == dlt) {
                Some((_, n)) => *n += 1,
                None => self.unsupported.push((dlt, 1)),
            }
            return;
        }
        // `frame` is a sub-slice of `base`, so the difference is its offset.
        let start = frame.as_ptr() as usize - base.as_ptr() as usize;
        records.push(Record {
            start: start as u32,
            len: frame.len() as u32,
            orig_len,
            ts,
            link,
            packet: self.packets,
        });
    }

    fn pcap_record(&mut self, buf: &[u8], pos: usize, records: &mut Vec<Record>) -> Step {
        let State::Pcap {
            big_endian,
            nanos,
            modified,
            link,
            fcs_len,
            max_caplen,
        } = self.state
        else {
            unreachable!("pcap_record is only called for pcap files")
        };
        let header_len = if modified { 24 } else { 16 };
        let data = &buf[pos..];
        if data.len() < header_len {
            return Step::NeedMore(header_len);
        }
        let caplen = read_u32(&data[8..12], big_endian) as usize;
        if caplen > max_caplen {
            return Step::Damaged(format!(
                "corrupt record header: captured length {caplen} exceeds the maximum of {max_caplen}"
            ));
        }
        if data.len() < header_len + caplen {
            return Step::NeedMore(header_len + caplen);
        }
        let parsed = if modified {
            pcap_parser::pcap::parse_pcap_frame_modified(data)
        } else if big_endian {
            pcap_parser::pcap::parse_pcap_frame_be(data)
        } else {
            pcap_parser::pcap::parse_pcap_frame(data)
        };
        let frame = match parsed {
            Ok((_, frame)) => frame,
            Err(e) => return Step::Damaged(format!("corrupt record: {e:?}")),
        };
        let nanos_frac = if nanos {
            frame.ts_usec
        } else {
            frame.ts_usec.saturating_mul(1000)
        };
        let ts = Timestamp::from_parts(frame.ts_sec as i64, nanos_frac);
        let keep = frame.data.len().saturating_sub(fcs_len as usize);
        let orig_len = frame.origlen.saturating_sub(fcs_len);
        self.push(records, buf, &frame.data[..keep], orig_len, ts, link);
        Step::Consumed(header_len + caplen)
    }

    fn pcapng_block(&mut self, buf: &[u8], pos: usize, records: &mut Vec<Record>) -> Step {
        let data = &buf[pos..];
        if data.len() < 12 {
            return Step::NeedMore(12);
        }
        let State::PcapNg { big_endian, .. } = self.state else {
            unreachable!("pcapng_block is only called for pcapng files")
        };
        let block_type = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let big_endian = if block_type == PCAPNG_SHB {
            // A new section may change the byte order: its byte-order magic says which.
            match read_u32(&data[8..12], false) {
                PCAPNG_BOM => false,
                b if b.swap_bytes() == PCAPNG_BOM => true,
                other => {
                    return Step::Damaged(format!(
                        "corrupt section header: byte-order magic {other:#010x}"
                    ));
                }
            }
        } else {
            big_endian
        };
        let block_len = read_u32(&data[4..8], big_endian) as usize;
        if block_len < 12 || !block_len.is_multiple_of(4) || block_len > BLOCK_LIMIT {
            return Step::Damaged(format!("corrupt block header: block length {block_len}"));
        }
        if data.len() < block_len {
            return Step::NeedMore(block_len);
        }
        let block = &data[..block_len];
        let parsed = if big_endian {
            pcap_parser::pcapng::parse_block_be(block)
        } else {
            pcap_parser::pcapng::parse_block_le(block)
        };
        let block = match parsed {
            Ok((_, block)) => block,
            Err(e) => {
                return Step::Damaged(format!(
                    "corrupt block (type {:#x}): {e:?}",
                    read_u32(&data[0..4], big_endian)
                ));
            }
        };
        let State::PcapNg {
            interfaces,
            big_endian: section_be,
        } = &mut self.state
        else {
            unreachable!()
        };
        match block {
            Block::SectionHeader(_) => {
                *section_be = big_endian;
                interfaces.clear();
            }
            Block::InterfaceDescription(idb) => match Clock::of_interface(&idb, big_endian) {
                Ok(clock) => interfaces.push(Interface {
                    link: LinkType::from_dlt(u32::from(idb.linktype.0 as u16)),
                    clock,
                    snaplen: idb.snaplen,
                }),
                // Every packet of the interface would get a wrong time.
                Err(reason) => return Step::Damaged(reason),
            },
            Block::EnhancedPacket(epb) => {
                let Some(iface) = interfaces.get(epb.if_id as usize) else {
                    return Step::Damaged(format!(
                        "packet block names interface {} but only {} are described",
                        epb.if_id,
                        interfaces.len()
                    ));
                };
                let ts = iface.clock.ts(epb.ts_high, epb.ts_low);
                let link = iface.link;
                self.push(records, buf, epb.packet_data(), epb.origlen, ts, link);
            }
            Block::SimplePacket(spb) => {
                let Some(iface) = interfaces.first() else {
                    return Step::Damaged("simple packet block before any interface".into());
                };
                let mut frame = spb.packet_data();
                if iface.snaplen > 0 && frame.len() > iface.snaplen as usize {
                    frame = &frame[..iface.snaplen as usize];
                }
                // Simple packet blocks carry no timestamp: keep the previous one.
                let (link, ts) = (iface.link, self.last_ts);
                self.push(records, buf, frame, spb.origlen, ts, link);
            }
            Block::Unknown(unknown) if unknown.block_type == PCAPNG_OPB => {
                return self.obsolete_packet_block(buf, pos, block_len, big_endian, records);
            }
            _ => {}
        }
        Step::Consumed(block_len)
    }

    /// The obsolete Packet Block (type 2) that old writers still produce.
    fn obsolete_packet_block(
        &mut self,
        buf: &[u8],
        pos: usize,
        block_len: usize,
        big_endian: bool,
        records: &mut Vec<Record>,
    ) -> Step {
        let block = &buf[pos..pos + block_len];
        if block_len < 32 {
            return Step::Damaged(format!("corrupt packet block: length {block_len}"));
        }
        let if_id = read_u16(&block[8..10], big_endian) as usize;
        let ts_high = read_u32(&block[12..16], big_endian);
        let ts_low = read_u32(&block[16..20], big_endian);
        let caplen = read_u32(&block[20..24], big_endian) as usize;
        let origlen = read_u32(&block[24..28], big_endian);
        let State::PcapNg { interfaces, .. } = &self.state else {
            unreachable!()
        };
        let Some(iface) = interfaces.get(if_id) else {
            return Step::Damaged(format!("packet block names undescribed interface {if_id}"));
        };
        if 28 + caplen > block_len - 4 {
            return Step::Damaged(format!("corrupt packet block: captured length {caplen}"));
        }
        let ts = iface.clock.ts(ts_high, ts_low);
        let link = iface.link;
        self.push(records, buf, &block[28..28 + caplen], origlen, ts, link);
        Step::Consumed(block_len)
    }
}

/// Decodes the 24-byte classic pcap file header.
fn pcap_header(head: &[u8; 24]) -> Result<(Format, State), OpenError> {
    let header = match pcap_parser::pcap::parse_pcap_header(head) {
        Ok((_, header)) => header,
        Err(e) => return Err(OpenError::BadHeader(format!("{e:?}"))),
    };
    let big_endian = header.is_bigendian();
    let nanos = header.is_nanosecond_precision();
    let modified = header.is_modified_format();
    if header.version_major != 2 {
        return Err(OpenError::BadHeader(format!(
            "version {}.{} (expected 2.x)",
            header.version_major, header.version_minor
        )));
    }
    // The link-type field also carries the FCS length (pcap spec, "LinkType and additional information").
    let network = header.network.0 as u32;
    let fcs_len = if network & 0x1000_0000 != 0 {
        ((network >> 29) & 0x7) * 2
    } else {
        0
    };
    let link = match LinkType::from_dlt(network & 0x0FFF_FFFF) {
        LinkType::Unsupported(dlt) => return Err(OpenError::UnsupportedLinkType(dlt)),
        link => link,
    };
    let max_caplen = (header.snaplen as usize).clamp(RECORD_LIMIT, BLOCK_LIMIT);
    Ok((
        Format::Pcap {
            big_endian,
            nanos,
            modified,
        },
        State::Pcap {
            big_endian,
            nanos,
            modified,
            link,
            fcs_len,
            max_caplen,
        },
    ))
}

fn read_u32(b: &[u8], big_endian: bool) -> u32 {
    let b = [b[0], b[1], b[2], b[3]];
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

fn read_u16(b: &[u8], big_endian: bool) -> u16 {
    let b = [b[0], b[1]];
    if big_endian {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
