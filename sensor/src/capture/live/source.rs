//! A live capture as a pipeline frame source: frames are copied from the
//! backend into a pooled chunk (re-inserting VLAN tags the kernel took off),
//! and an epoch ends every [`EPOCH`] of wall time, traffic or not.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{Capture, LiveCounters, RawFrame, bump};
use crate::capture::{ChunkPool, LinkType, Record};
use crate::pipeline::{FrameSource, Pulled};
use crate::time::Timestamp;

/// Wall time between epochs (merge points) of a live capture.
pub const EPOCH: Duration = Duration::from_millis(100);
/// How long one wait for frames may block, so that a stop is seen promptly.
const POLL_MS: i32 = 50;
/// Bytes of frames gathered into one batch at most.
const CHUNK_BYTES: usize = 1 << 20;

pub struct LiveSource<C: Capture> {
    capture: C,
    pool: ChunkPool,
    counters: Arc<LiveCounters>,
    stop: Arc<AtomicBool>,
    epoch_started: Instant,
    last_drop_check: Instant,
}

impl<C: Capture> LiveSource<C> {
    /// A source reading `capture` until `stop` is set.
    pub fn new(
        capture: C,
        counters: Arc<LiveCounters>,
        stop: Arc<AtomicBool>,
        spares: usize,
    ) -> LiveSource<C> {
        let pool = ChunkPool::new(CHUNK_BYTES, spares);
        LiveSource {
            capture,
            pool,
            counters,
            stop,
            epoch_started: Instant::now(),
            last_drop_check: Instant::now(),
        }
    }
}

/// Appends `frame` to `buf` at `*filled` (with its VLAN tag back in place)
/// and records it; `false` when it does not fit.
fn copy_frame(
    frame: &RawFrame<'_>,
    buf: &mut [u8],
    filled: &mut usize,
    records: &mut Vec<Record>,
) -> bool {
    let bytes = frame.bytes;
    let tag = frame.stripped_vlan.filter(|_| bytes.len() >= 12);
    let extra = if tag.is_some() { 4 } else { 0 };
    let len = bytes.len() + extra;
    let start = *filled;
    if start + len > buf.len() {
        return false;
    }
    let out = &mut buf[start..start + len];
    match tag {
        Some((tpid, tci)) => {
            out[..12].copy_from_slice(&bytes[..12]);
            out[12..14].copy_from_slice(&tpid.to_be_bytes());
            out[14..16].copy_from_slice(&tci.to_be_bytes());
            out[16..].copy_from_slice(&bytes[12..]);
        }
        None => out.copy_from_slice(bytes),
    }
    *filled += len;
    records.push(Record {
        start: start as u32,
        len: len as u32,
        orig_len: frame.orig_len.max(bytes.len() as u32) + extra as u32,
        ts: frame.ts,
        link: LinkType::Ethernet,
        packet: 0,
    });
    true
}

fn wall_clock() -> Timestamp {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_parts(now.as_secs() as i64, now.subsec_nanos())
}

impl<C: Capture> FrameSource for LiveSource<C> {
    /// Gathers frames until the chunk is full or the epoch is over, so that
    /// a batch carries many frames even at low rates.
    fn pull(&mut self, records: &mut Vec<Record>) -> Option<Pulled> {
        if self.stop.load(Ordering::Relaxed) {
            self.capture.update_drops(&self.counters);
            return None;
        }
        let mut buf = self.pool.take(CHUNK_BYTES);
        let mut filled = 0;
        let (mut packets, mut bytes, mut truncated) = (0u64, 0u64, 0u64);
        let deadline = self.epoch_started + EPOCH;
        let max_frame = self.capture.max_frame_bytes();
        let mut ends_epoch = false;
        while buf.len() - filled >= max_frame && !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= deadline {
                ends_epoch = true;
                break;
            }
            let wait = (deadline - now).as_millis().clamp(1, POLL_MS as u128) as i32;
            let result = self.capture.next_frames(wait, &mut |frame| {
                if !copy_frame(frame, &mut buf, &mut filled, records) {
                    return false;
                }
                packets += 1;
                bytes += frame.bytes.len() as u64;
                truncated += u64::from((frame.bytes.len() as u32) < frame.orig_len);
                true
            });
            if let Err(e) = result {
                // The interface went away or the socket broke: end this source, loudly.
                eprintln!("otsensor: capture stopped: {e}");
                bump(&self.counters.failed_sockets, 1);
                self.stop.store(true, Ordering::Relaxed);
            }
        }
        bump(&self.counters.packets, packets);
        bump(&self.counters.bytes, bytes);
        bump(&self.counters.truncated, truncated);
        let now = Instant::now();
        if now.duration_since(self.last_drop_check) >= EPOCH {
            self.capture.update_drops(&self.counters);
            self.last_drop_check = now;
        }
        if ends_epoch {
            self.epoch_started = now;
        }
        Some(Pulled {
            chunk: self.pool.seal(buf, filled),
            capture: 0,
            ends_epoch,
            clock: ends_epoch.then(wall_clock),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stripped_vlan_tag_is_put_back_after_the_addresses() {
        let mut frame = vec![0xaa; 6];
        frame.extend([0xbb; 6]);
        frame.extend([0x08, 0x00, 0x45]);
        let raw = RawFrame {
            bytes: &frame,
            orig_len: frame.len() as u32,
            ts: Timestamp::ZERO,
            stripped_vlan: Some((0x8100, 0x2064)),
        };
        let mut buf = vec![0; 64];
        let (mut filled, mut records) = (0, Vec::new());
        assert!(copy_frame(&raw, &mut buf, &mut filled, &mut records));
        assert_eq!(filled, 19);
        assert_eq!(
            &buf[12..16],
            &[0x81, 0x00, 0x20, 0x64],
            "tpid, then priority 1, VLAN 100"
        );
        assert_eq!(
            &buf[16..19],
            &[0x08, 0x00, 0x45],
            "the ethertype follows the tag"
        );
        assert_eq!(records[0].len, 19);
        assert_eq!(records[0].orig_len, 19);
    }

    #[test]
    fn a_frame_that_does_not_fit_is_left_for_the_next_chunk() {
        let frame = [1u8; 40];
        let raw = RawFrame {
            bytes: &frame,
            orig_len: 40,
            ts: Timestamp::ZERO,
            stripped_vlan: None,
        };
        let mut buf = vec![0; 64];
        let (mut filled, mut records) = (0, Vec::new());
        assert!(copy_frame(&raw, &mut buf, &mut filled, &mut records));
        assert!(!copy_frame(&raw, &mut buf, &mut filled, &mut records));
        assert_eq!((filled, records.len()), (40, 1));
    }
}
