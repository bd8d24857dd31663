//! Capture: reading frames from files, and live from AF_PACKET rings or libpcap,
//! never parsing above layer 2.
//!
//! Files are read in large chunks that are shared, not copied, with the
//! workers: a [`Record`] locates one frame inside a [`Chunk`].

mod chunk;
mod clock;
#[cfg(target_os = "linux")]
mod direct;
mod file;
mod linktype;
#[cfg(target_os = "linux")]
pub mod live;
mod timeline;
pub mod write;

use std::fmt;

pub use chunk::{Chunk, ChunkPool};
pub use file::{CaptureFile, Format, RECORD_LIMIT};
pub use linktype::{LinkType, dlt_name};
pub use timeline::{Input, expand_inputs};

use crate::time::Timestamp;

/// One captured frame: its place in a chunk and what the capture says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Offset of the frame's first byte in its chunk.
    pub start: u32,
    /// Captured length (bytes present in the chunk).
    pub len: u32,
    /// Length on the wire.
    pub orig_len: u32,
    pub ts: Timestamp,
    pub link: LinkType,
    /// 1-based index of the packet in its file (Wireshark's frame number).
    pub packet: u64,
}

/// Where a capture file stopped making sense. Everything before `offset` was read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Damage {
    /// Byte offset in the file of the record or block that could not be read.
    pub offset: u64,
    pub reason: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.reason)
    }
}

/// Why a file cannot be replayed at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("empty file, not a capture")]
    Empty,
    #[error("not a capture file (unrecognised magic number {0:#010x})")]
    NotACapture(u32),
    #[error("gzip-compressed file: decompress it first (gunzip)")]
    Gzip,
    #[error("truncated capture header: {0} bytes, need {1}")]
    TruncatedHeader(usize, usize),
    #[error("corrupt capture header: {0}")]
    BadHeader(String),
    #[error("unsupported link type {} ({}); supported: Ethernet, Linux cooked (SLL, SLL2), raw IPv4/IPv6, BSD loopback", .0, dlt_name(*.0))]
    UnsupportedLinkType(u32),
}

#[cfg(test)]
mod tests;
