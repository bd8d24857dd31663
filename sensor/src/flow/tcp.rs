//! TCP reassembly for one direction of a connection: turns segments, as the
//! capture saw them, into the in-order byte stream the sender wrote, with
//! explicit gaps where bytes are missing.
//!
//! - In-order data is passed straight through, without copying.
//! - Retransmissions are dropped; partial overlaps are trimmed (first copy wins).
//! - Segments ahead of the expected sequence number, within a window, are
//!   copied and held until the hole before them fills. Each keeps the tag of
//!   the packet that carried it, so that what it completes is attributed to
//!   that packet even when it is released later.
//! - A hole that the receiver has already acknowledged will never be
//!   retransmitted (the capture lost it), so it becomes a gap at once; so does
//!   a hole that would make the held bytes, or the held segments, exceed their cap.
//! - Segments far outside the window, either way, are dropped (spoofed, fuzzed or stale),
//!   unless the receiver acknowledged past them or several arrive in a row,
//!   which means the stream really moved on.
//! - Connections picked up mid-stream start at the first segment seen.
//! - Bytes cut off by the capture's snaplen are a gap too.

use std::collections::VecDeque;

use super::stats::TcpStats;

/// Consecutive out-of-window segments after which the stream is taken to have moved there.
const RESYNC_AFTER: u8 = 4;

/// Limits on what one direction may hold while waiting for a hole to fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Bytes of out-of-order segments held per direction.
    pub max_held_bytes: usize,
    /// Out-of-order segments held per direction, however few bytes they
    /// carry (a snaplen cut may leave none).
    pub max_held_segments: usize,
    /// How far beyond the expected sequence number a segment may start and still be accepted.
    pub window: u32,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_held_bytes: 256 * 1024,
            max_held_segments: 1024,
            window: 16 << 20,
        }
    }
}

/// In-order stream content handed to the decoder side.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a, T> {
    /// Bytes, with the tag of the segment that carried them.
    Data(&'a [u8], T),
    /// This many bytes of the stream are missing.
    Gap(u32),
}

/// One TCP segment of a direction, as captured.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a, T> {
    /// Sequence number of the first payload byte.
    pub seq: u32,
    pub payload: &'a [u8],
    /// Payload bytes the capture did not keep (they follow `payload`).
    pub missing: u32,
    pub fin: bool,
    /// Identifies the packet (kept with the bytes if they are held).
    pub tag: T,
}

/// A segment waiting for the hole before it to fill.
#[derive(Debug)]
struct Held<T> {
    seq: u32,
    data: Vec<u8>,
    missing: u32,
    tag: T,
}

/// One direction of a TCP connection.
#[derive(Debug)]
pub struct HalfStream<T> {
    /// The sequence number of the next byte expected; `None` before the first segment or SYN.
    next_seq: Option<u32>,
    /// In sequence order; released from the front.
    held: VecDeque<Held<T>>,
    held_bytes: usize,
    /// The highest sequence number the receiver acknowledged.
    acked: Option<u32>,
    /// Out-of-window segments seen in a row.
    misses: u8,
    fin: bool,
}

impl<T> Default for HalfStream<T> {
    fn default() -> Self {
        HalfStream {
            next_seq: None,
            held: VecDeque::new(),
            held_bytes: 0,
            acked: None,
            misses: 0,
            fin: false,
        }
    }
}

/// `a` comes after `b` in sequence space.
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl<T: Copy> HalfStream<T> {
    /// The sender's SYN: the stream starts after its sequence number.
    pub fn syn(&mut self, isn: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(isn.wrapping_add(1));
        }
    }

    pub fn fin_seen(&self) -> bool {
        self.fin
    }

    /// Handles a segment of this direction.
    pub fn segment(
        &mut self,
        segment: Segment<'_, T>,
        limits: &ReassemblyLimits,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_, T>),
    ) {
        self.fin |= segment.fin;
        let len = segment.payload.len() as u64 + u64::from(segment.missing);
        if len == 0 {
            return;
        }
        stats.data_segments += 1;
        let next = match self.next_seq {
            Some(next) => next,
            None => {
                stats.midstream_pickups += 1;
                segment.seq
            }
        };
        self.next_seq = Some(next);
        let ahead = seq_after(segment.seq, next);
        let distance = if ahead {
            segment.seq.wrapping_sub(next)
        } else {
            next.wrapping_sub(segment.seq)
        };
        if distance > limits.window {
            self.out_of_window(segment, stats, out);
            return;
        }
        self.misses = 0;
        if ahead {
            self.hold(segment, limits, stats, out);
        } else {
            if !self.deliver(
                segment.seq,
                segment.payload,
                segment.missing,
                segment.tag,
                stats,
                out,
            ) {
                stats.retransmissions += 1;
            }
            self.release_held(stats, out);
        }
    }

    /// The other direction acknowledged up to `ack`: a hole below it is lost
    /// to the capture, so whatever is held beyond it can be delivered.
    pub fn acknowledged(
        &mut self,
        ack: u32,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_, T>),
    ) {
        if self.acked.is_none_or(|acked| seq_after(ack, acked)) {
            self.acked = Some(ack);
        }
        // Every hole below the acknowledged sequence number is lost.
        while let (Some(next), Some(first)) = (self.next_seq, self.held.front()) {
            if !seq_after(ack, next) || seq_after(first.seq, ack) {
                break;
            }
            let seq = first.seq;
            self.skip_to(seq, stats, out);
            self.release_held(stats, out);
        }
    }

    /// The connection is over: deliver what is held, skipping the holes.
    pub fn finish(&mut self, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_, T>)) {
        while let Some(first) = self.held.front() {
            let seq = first.seq;
            self.skip_to(seq, stats, out);
            self.release_held(stats, out);
        }
    }

    /// A segment starting further than the window from the expected sequence
    /// number: dropped, unless the receiver has acknowledged past its start or
    /// it is one of several in a row.
    fn out_of_window(
        &mut self,
        segment: Segment<'_, T>,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_, T>),
    ) {
        let acknowledged = self
            .acked
            .is_some_and(|acked| !seq_after(segment.seq, acked));
        self.misses = self.misses.saturating_add(1);
        if !acknowledged && self.misses < RESYNC_AFTER {
            stats.out_of_window += 1;
            return;
        }
        stats.resyncs += 1;
        self.misses = 0;
        self.finish(stats, out);
        self.skip_to(segment.seq, stats, out);
        self.deliver(
            segment.seq,
            segment.payload,
            segment.missing,
            segment.tag,
            stats,
            out,
        );
    }

    /// Delivers the part of a segment at or beyond `next_seq`. Returns false
    /// if nothing in it was new.
    fn deliver(
        &mut self,
        seq: u32,
        payload: &[u8],
        missing: u32,
        tag: T,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_, T>),
    ) -> bool {
        let Some(next) = self.next_seq else {
            return false;
        };
        let total = payload.len() as u64 + u64::from(missing);
        let already = u64::from(next.wrapping_sub(seq));
        if already >= total {
            return false;
        }
        if already > 0 {
            stats.overlaps += 1;
        }
        let already = already as usize;
        if already < payload.len() {
            let new = &payload[already..];
            stats.bytes_delivered += new.len() as u64;
            out(Piece::Data(new, tag));
            if missing > 0 {
                gap(missing, stats, out);
            }
        } else {
            gap((total - already as u64) as u32, stats, out);
        }
        self.next_seq = Some(seq.wrapping_add(total as u32));
        true
    }

    /// Declares the bytes from `next_seq` up to `seq` lost.
    fn skip_to(&mut self, seq: u32, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_, T>)) {
        if let Some(next) = self.next_seq
            && seq_after(seq, next)
        {
            gap(seq.wrapping_sub(next), stats, out);
            self.next_seq = Some(seq);
        }
    }

    fn hold(
        &mut self,
        segment: Segment<'_, T>,
        limits: &ReassemblyLimits,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_, T>),
    ) {
        let at = self.held.partition_point(|h| seq_after(segment.seq, h.seq));
        self.held_bytes += segment.payload.len();
        self.held.insert(
            at,
            Held {
                seq: segment.seq,
                data: segment.payload.to_vec(),
                missing: segment.missing,
                tag: segment.tag,
            },
        );
        if self.held_bytes > limits.max_held_bytes || self.held.len() > limits.max_held_segments {
            // Waiting any longer would take too much memory: give up on the holes.
            stats.hold_overflows += 1;
            self.finish(stats, out);
        } else {
            stats.out_of_order += 1;
        }
    }

    /// Delivers held segments that the stream has reached.
    fn release_held(&mut self, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_, T>)) {
        while let (Some(next), Some(first)) = (self.next_seq, self.held.front()) {
            if seq_after(first.seq, next) {
                break;
            }
            let Some(held) = self.held.pop_front() else {
                break;
            };
            self.held_bytes -= held.data.len();
            if !self.deliver(held.seq, &held.data, held.missing, held.tag, stats, out) {
                stats.retransmissions += 1;
            }
        }
    }
}

fn gap<T>(len: u32, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_, T>)) {
    stats.gaps += 1;
    stats.gap_bytes += u64::from(len);
    out(Piece::Gap(len));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds segments `(seq, bytes)`, tagged with a packet number, and records what comes out.
    #[derive(Default)]
    struct Run {
        stream: HalfStream<u32>,
        stats: TcpStats,
        packet: u32,
        out: Vec<String>,
    }

    impl Run {
        fn started_at(isn: u32) -> Run {
            let mut run = Run::default();
            run.stream.syn(isn);
            run
        }

        fn seg(&mut self, seq: u32, data: &str) -> &mut Self {
            self.seg_cut(seq, data, 0)
        }

        fn seg_cut(&mut self, seq: u32, data: &str, missing: u32) -> &mut Self {
            self.packet += 1;
            let segment = Segment {
                seq,
                payload: data.as_bytes(),
                missing,
                fin: false,
                tag: self.packet,
            };
            let limits = ReassemblyLimits {
                max_held_bytes: 8,
                max_held_segments: 4,
                window: 100,
            };
            let out = &mut self.out;
            self.stream
                .segment(segment, &limits, &mut self.stats, &mut |p| {
                    out.push(piece(p))
                });
            self
        }

        fn ack(&mut self, ack: u32) -> &mut Self {
            let out = &mut self.out;
            self.stream
                .acknowledged(ack, &mut self.stats, &mut |p| out.push(piece(p)));
            self
        }
    }

    /// "bytes@packet" or "<gap n>".
    fn piece(p: Piece<'_, u32>) -> String {
        match p {
            Piece::Data(d, packet) => format!("{}@{packet}", String::from_utf8_lossy(d)),
            Piece::Gap(n) => format!("<gap {n}>"),
        }
    }

    #[test]
    fn in_order_segments_pass_through() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1003, "def");
        assert_eq!(run.out, ["abc@1", "def@2"]);
        assert_eq!(run.stats.bytes_delivered, 6);
    }

    #[test]
    fn retransmissions_are_dropped_and_overlaps_trimmed() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1000, "abc").seg(1001, "bcdef");
        assert_eq!(run.out, ["abc@1", "def@3"]);
        assert_eq!((run.stats.retransmissions, run.stats.overlaps), (1, 1));
    }

    #[test]
    fn out_of_order_segments_wait_for_the_hole_and_keep_their_packet() {
        let mut run = Run::started_at(999);
        run.seg(1003, "de").seg(1005, "f");
        assert!(run.out.is_empty());
        run.seg(1000, "abc");
        assert_eq!(run.out, ["abc@3", "de@1", "f@2"]);
        assert_eq!(run.stats.out_of_order, 2);
        assert_eq!(run.stats.gaps, 0);
    }

    #[test]
    fn an_acknowledged_hole_becomes_a_gap() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1006, "ghi");
        // The receiver acknowledged past the hole: the capture lost "def".
        run.ack(1009);
        assert_eq!(run.out, ["abc@1", "<gap 3>", "ghi@2"]);
        assert_eq!((run.stats.gaps, run.stats.gap_bytes), (1, 3));
        // The lost segment turning up late is old news.
        run.seg(1003, "def");
        assert_eq!(run.out.len(), 3);
    }

    #[test]
    fn an_ack_past_several_holes_releases_them_all() {
        let mut run = Run::started_at(999);
        run.seg(1002, "c").seg(1004, "e").seg(1010, "k").ack(1005);
        assert_eq!(run.out, ["<gap 2>", "c@1", "<gap 1>", "e@2"]);
    }

    #[test]
    fn an_ack_below_the_hole_changes_nothing() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1006, "ghi").ack(1003);
        assert_eq!(run.out, ["abc@1"]);
    }

    #[test]
    fn holding_too_much_forces_a_gap() {
        let mut run = Run::started_at(999);
        run.seg(1010, "12345").seg(1020, "67890");
        assert_eq!(run.out, ["<gap 10>", "12345@1", "<gap 5>", "67890@2"]);
        assert_eq!(run.stats.hold_overflows, 1);
    }

    #[test]
    fn segments_without_captured_bytes_count_against_the_hold_limit() {
        // One direction of a headers-only capture after a lost segment: the
        // segments behind the hole carry no bytes, and nothing acknowledges
        // the hole. They are held, but no more of them than the limit.
        let mut run = Run::started_at(999);
        for seq in [1010, 1020, 1030, 1040] {
            run.seg_cut(seq, "", 10);
        }
        assert!(run.out.is_empty());
        run.seg_cut(1050, "", 10);
        assert_eq!(run.out, ["<gap 10>"; 6]);
        assert_eq!((run.stats.hold_overflows, run.stats.gap_bytes), (1, 60));
        assert!(run.stream.held.is_empty());
        run.seg(1060, "abc");
        assert_eq!(run.out[6], "abc@6");
    }

    #[test]
    fn a_stray_segment_far_outside_the_window_is_dropped() {
        let mut run = Run::started_at(999);
        run.seg(1000, "a")
            .seg(3_858_759_680, "fuzzed")
            .seg(1001, "b");
        assert_eq!(run.out, ["a@1", "b@3"]);
        assert_eq!(run.stats.out_of_window, 1);
    }

    #[test]
    fn the_stream_follows_a_jump_the_receiver_acknowledged_or_that_persists() {
        let mut run = Run::started_at(999);
        run.seg(1000, "a").ack(5001).seg(5000, "b");
        assert_eq!(run.out, ["a@1", "<gap 3999>", "b@2"]);

        let mut run = Run::started_at(999);
        run.seg(1000, "a");
        for (i, seq) in [9000u32, 9001, 9002, 9003].into_iter().enumerate() {
            run.seg(seq, &i.to_string());
        }
        assert_eq!(run.out, ["a@1", "<gap 8002>", "3@5"]);
        assert_eq!((run.stats.out_of_window, run.stats.resyncs), (3, 1));
    }

    #[test]
    fn a_connection_picked_up_midstream_starts_at_the_first_segment() {
        let mut run = Run::default();
        run.seg(5000, "xyz").seg(5003, "w");
        assert_eq!(run.out, ["xyz@1", "w@2"]);
        assert_eq!(run.stats.midstream_pickups, 1);
    }

    #[test]
    fn bytes_cut_by_the_snaplen_are_a_gap() {
        let mut run = Run::started_at(999);
        run.seg_cut(1000, "ab", 4).seg(1006, "c");
        assert_eq!(run.out, ["ab@1", "<gap 4>", "c@2"]);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut run = Run::started_at(u32::MAX - 2);
        run.seg(u32::MAX - 1, "ab").seg(0, "cd");
        assert_eq!(run.out, ["ab@1", "cd@2"]);
    }

    #[test]
    fn finish_delivers_what_is_held() {
        let mut run = Run::started_at(999);
        run.seg(1004, "e");
        let out = &mut run.out;
        run.stream
            .finish(&mut run.stats, &mut |p| out.push(piece(p)));
        assert_eq!(run.out, ["<gap 4>", "e@1"]);
    }
}
