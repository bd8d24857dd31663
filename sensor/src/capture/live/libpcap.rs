//! libpcap as a capture backend (cargo feature `pcap`): portable, and the way
//! to apply a `--bpf` filter expression. One handle, no fanout.

use std::io;
use std::os::fd::AsRawFd;

use super::{Capture, Interface, LiveCounters, LiveError, RawFrame, bump};
use crate::time::Timestamp;

const SNAPLEN: i32 = 65_535;

pub struct PcapCapture {
    handle: pcap::Capture<pcap::Active>,
    /// Ring drops already reported (libpcap's are totals).
    dropped: u64,
    /// The last read found a frame: read again before waiting.
    waited: bool,
}

impl PcapCapture {
    /// Opens `interface` promiscuously, receive direction only, with an
    /// optional BPF filter expression (`--bpf`).
    pub fn open(
        interface: &Interface,
        filter: Option<&str>,
        buffer_mb: u32,
    ) -> Result<PcapCapture, LiveError> {
        let what = format!("libpcap on {}", interface.name);
        let map = |e: pcap::Error| match &e {
            pcap::Error::PcapError(text) if text.contains("ermission") => LiveError::Permission {
                what: what.clone(),
                extra: "",
            },
            _ => LiveError::Io {
                what: what.clone(),
                source: io::Error::other(e.to_string()),
            },
        };
        let handle = pcap::Capture::from_device(interface.name.as_str())
            .map_err(map)?
            .promisc(true)
            .snaplen(SNAPLEN)
            .timeout(50)
            .buffer_size((buffer_mb.max(1) << 20) as i32)
            .open()
            .map_err(map)?;
        if handle.get_datalink() != pcap::Linktype::ETHERNET {
            return Err(LiveError::Unsupported(format!(
                "{}: link type {:?} is not Ethernet",
                interface.name,
                handle.get_datalink()
            )));
        }
        handle.direction(pcap::Direction::In).map_err(map)?;
        // Non-blocking, polled with our own timeout: with TPACKET_V3, a
        // blocking libpcap read waits forever while the wire is quiet.
        let mut handle = handle.setnonblock().map_err(map)?;
        if let Some(expr) = filter {
            handle
                .filter(expr, true)
                .map_err(|e| LiveError::Unsupported(format!("--bpf {expr:?}: {e}")))?;
        }
        Ok(PcapCapture {
            handle,
            dropped: 0,
            waited: false,
        })
    }
}

impl Capture for PcapCapture {
    /// Hands over one frame: libpcap cannot keep one back, so the source
    /// calls this only while a frame of any size fits.
    fn next_frames(
        &mut self,
        timeout_ms: i32,
        each: &mut dyn FnMut(&RawFrame<'_>) -> bool,
    ) -> io::Result<()> {
        if !self.waited {
            let mut pfd = libc::pollfd {
                fd: self.handle.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        }
        let packet = self.handle.next_packet();
        // Poll again only once the buffer is drained.
        self.waited = packet.is_ok();
        match packet {
            Ok(packet) => {
                let ts = Timestamp::from_parts(
                    packet.header.ts.tv_sec,
                    (packet.header.ts.tv_usec as u32).saturating_mul(1000),
                );
                let frame = RawFrame {
                    bytes: packet.data,
                    orig_len: packet.header.len,
                    ts,
                    stripped_vlan: None,
                };
                each(&frame);
                Ok(())
            }
            Err(pcap::Error::TimeoutExpired) => Ok(()),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    /// Only `ps_drop` (the ring was full). libpcap's `ps_ifdrop` is read from
    /// the interface's own counters (rx_missed_errors + rx_fifo_errors),
    /// which the statistics take from the interface for every backend:
    /// adding it would count those drops twice.
    fn update_drops(&mut self, counters: &LiveCounters) {
        if let Ok(stats) = self.handle.stats() {
            let dropped = u64::from(stats.dropped);
            bump(&counters.ring_dropped, dropped.saturating_sub(self.dropped));
            self.dropped = dropped;
        }
    }

    fn max_frame_bytes(&self) -> usize {
        SNAPLEN as usize
    }
}
