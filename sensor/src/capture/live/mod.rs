//! Live capture from a network interface: an AF_PACKET TPACKET_V3 ring per
//! worker joined in a fanout group (the default), or libpcap (feature
//! `pcap`). Frames are copied out of the kernel's buffers into pooled chunks,
//! so that the ring is handed back at once and the rest of the pipeline is
//! the one replay uses ([`LiveSource`] is a [`FrameSource`]).
//!
//! Nothing here transmits: sockets are opened for receiving only.

mod afpacket;
pub mod capabilities;
mod interface;
#[cfg(feature = "pcap")]
mod libpcap;
pub mod prefilter;
mod source;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

pub use afpacket::{RingConfig, RingSocket};
pub use interface::{Interface, InterfaceCounters};
#[cfg(feature = "pcap")]
pub use libpcap::PcapCapture;
pub use source::{EPOCH, LiveSource};

use crate::time::Timestamp;

/// A frame as a capture backend delivers it.
pub struct RawFrame<'a> {
    pub bytes: &'a [u8],
    /// Length on the wire.
    pub orig_len: u32,
    pub ts: Timestamp,
    /// An outer 802.1Q/802.1ad tag the kernel took off the frame (tag protocol
    /// identifier, tag control information), to be put back.
    pub stripped_vlan: Option<(u16, u16)>,
}

/// A capture backend: hands frames to a callback as they arrive.
pub trait Capture: Send {
    /// Waits at most `timeout_ms` for frames and calls `each` for each one
    /// delivered, stopping early once `each` returns `false` (no room left);
    /// frames not yet handed over stay for the next call. It is called only
    /// while there is room for at least [`Capture::max_frame_bytes`].
    fn next_frames(
        &mut self,
        timeout_ms: i32,
        each: &mut dyn FnMut(&RawFrame<'_>) -> bool,
    ) -> io::Result<()>;

    /// Adds the kernel's drop counts since the last call to `counters`.
    fn update_drops(&mut self, counters: &LiveCounters);

    /// The largest frame this backend hands over, with room for a re-inserted VLAN tag.
    fn max_frame_bytes(&self) -> usize;
}

/// What the live sources counted, shared by all sockets and read every
/// second for the statistics line.
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Frames handed to the pipeline.
    pub packets: AtomicU64,
    /// Their captured bytes.
    pub bytes: AtomicU64,
    /// Frames the sensor's own host sent, skipped (a sensor only listens).
    pub outgoing_skipped: AtomicU64,
    /// Frames the kernel dropped because the ring (or libpcap's buffer) was full.
    pub ring_dropped: AtomicU64,
    /// Frames cut short because they did not fit a ring frame or the snaplen.
    pub truncated: AtomicU64,
    /// Sockets that stopped on an error (the interface went away).
    pub failed_sockets: AtomicU64,
}

/// Adds `n` to a shared counter.
pub fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Why live capture could not start, worded for the person running it.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("interface {0:?} does not exist (see `ip link`)")]
    NoSuchInterface(String),
    #[error("interface {0:?} is down: bring it up first (`ip link set {0} up`)")]
    InterfaceDown(String),
    #[error(
        "{what}: permission denied: live capture needs CAP_NET_RAW (run as root, or `setcap cap_net_raw,cap_net_admin+ep` on the binary){extra}"
    )]
    Permission { what: String, extra: &'static str },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}

impl LiveError {
    /// Wraps an OS error from `what`, naming the capability when it is a permission error.
    pub fn os(what: impl Into<String>, source: io::Error) -> LiveError {
        let what = what.into();
        match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => LiveError::Permission { what, extra: "" },
            _ => LiveError::Io { what, source },
        }
    }
}
