//! TCP reassembly for one direction of a connection: turns segments, as the
//! capture saw them, into the in-order byte stream the sender wrote, with
//! explicit gaps where bytes are missing.
//!
//! - In-order data is passed straight through, without copying.
//! - Retransmissions are dropped; partial overlaps are trimmed (first copy wins).
//! - Segments ahead of the expected sequence number are copied and held,
//!   within a window and a byte cap, until the hole before them fills.
//! - A hole that the receiver has already acknowledged will never be
//!   retransmitted (the capture lost it), so it becomes a gap at once; so does
//!   a hole that would make the held bytes exceed their cap.
//! - Connections picked up mid-stream start at the first segment seen.
//! - Bytes cut off by the capture's snaplen are a gap too.

use super::stats::TcpStats;

/// Limits on what one direction may hold while waiting for a hole to fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Bytes of out-of-order segments held per direction.
    pub max_held_bytes: usize,
    /// Segments starting further than this beyond the hole are not held.
    pub window: u32,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_held_bytes: 256 * 1024,
            window: 1 << 20,
        }
    }
}

/// In-order stream content handed to the decoder side.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Data(&'a [u8]),
    /// This many bytes of the stream are missing.
    Gap(u32),
}

/// One TCP segment of a direction, as captured.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Sequence number of the first payload byte.
    pub seq: u32,
    pub payload: &'a [u8],
    /// Payload bytes the capture did not keep (they follow `payload`).
    pub missing: u32,
    pub fin: bool,
}

/// A segment waiting for the hole before it to fill.
#[derive(Debug)]
struct Held {
    seq: u32,
    data: Vec<u8>,
    /// Bytes at the end of the segment that the capture cut off.
    missing: u32,
}

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct HalfStream {
    /// The sequence number of the next byte expected; `None` before the first segment or SYN.
    next_seq: Option<u32>,
    held: Vec<Held>,
    held_bytes: usize,
    fin: bool,
}

/// `a` comes after `b` in sequence space.
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl HalfStream {
    /// The sender's SYN: the stream starts after its sequence number.
    pub fn syn(&mut self, isn: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(isn.wrapping_add(1));
        }
    }

    pub fn fin_seen(&self) -> bool {
        self.fin
    }

    pub fn started(&self) -> bool {
        self.next_seq.is_some()
    }

    /// Handles a segment of this direction.
    pub fn segment(
        &mut self,
        segment: Segment<'_>,
        limits: &ReassemblyLimits,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_>),
    ) {
        let Segment {
            seq,
            payload,
            missing,
            fin,
        } = segment;
        self.fin |= fin;
        let len = payload.len() as u64 + u64::from(missing);
        if len == 0 {
            return;
        }
        stats.data_segments += 1;
        let next = match self.next_seq {
            Some(next) => next,
            None => {
                stats.midstream_pickups += 1;
                seq
            }
        };
        self.next_seq = Some(next);
        if seq_after(seq, next) {
            self.hold(seq, payload, missing, limits, stats, out);
        } else {
            if !self.deliver(seq, payload, missing, stats, out) {
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
        out: &mut impl FnMut(Piece<'_>),
    ) {
        let (Some(next), Some(first)) = (self.next_seq, self.held.first()) else {
            return;
        };
        if seq_after(ack, next) && !seq_after(first.seq, ack) {
            self.skip_to(first.seq, stats, out);
            self.release_held(stats, out);
        }
    }

    /// The connection is over: deliver what is held, skipping the holes.
    pub fn finish(&mut self, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_>)) {
        while let Some(first) = self.held.first() {
            let seq = first.seq;
            self.skip_to(seq, stats, out);
            self.release_held(stats, out);
        }
    }

    /// Delivers the part of a segment at or beyond `next_seq`. Returns false
    /// if nothing in it was new.
    fn deliver(
        &mut self,
        seq: u32,
        payload: &[u8],
        missing: u32,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_>),
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
            out(Piece::Data(new));
            if missing > 0 {
                self.gap(missing, stats, out);
            }
        } else {
            self.gap((total - already as u64) as u32, stats, out);
        }
        self.next_seq = Some(seq.wrapping_add(total as u32));
        true
    }

    fn gap(&self, len: u32, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_>)) {
        stats.gaps += 1;
        stats.gap_bytes += u64::from(len);
        out(Piece::Gap(len));
    }

    /// Declares the bytes from `next_seq` up to `seq` lost.
    fn skip_to(&mut self, seq: u32, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_>)) {
        if let Some(next) = self.next_seq
            && seq_after(seq, next)
        {
            self.gap(seq.wrapping_sub(next), stats, out);
            self.next_seq = Some(seq);
        }
    }

    fn hold(
        &mut self,
        seq: u32,
        payload: &[u8],
        missing: u32,
        limits: &ReassemblyLimits,
        stats: &mut TcpStats,
        out: &mut impl FnMut(Piece<'_>),
    ) {
        let next = self.next_seq.unwrap_or(seq);
        let too_far = seq.wrapping_sub(next) > limits.window;
        let too_much = self.held_bytes + payload.len() > limits.max_held_bytes;
        let at = self.held.partition_point(|h| seq_after(seq, h.seq));
        self.held_bytes += payload.len();
        self.held.insert(
            at,
            Held {
                seq,
                data: payload.to_vec(),
                missing,
            },
        );
        if too_far || too_much {
            // Waiting is not possible: give up on the holes and deliver what is held.
            stats.hold_overflows += 1;
            self.finish(stats, out);
        } else {
            stats.out_of_order += 1;
        }
    }

    /// Delivers held segments that the stream has reached.
    fn release_held(&mut self, stats: &mut TcpStats, out: &mut impl FnMut(Piece<'_>)) {
        while let (Some(next), Some(first)) = (self.next_seq, self.held.first()) {
            if seq_after(first.seq, next) {
                break;
            }
            let held = self.held.remove(0);
            self.held_bytes -= held.data.len();
            if !self.deliver(held.seq, &held.data, held.missing, stats, out) {
                stats.retransmissions += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds segments `(seq, bytes)` and records what comes out.
    #[derive(Default)]
    struct Run {
        stream: HalfStream,
        stats: TcpStats,
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
            let out = &mut self.out;
            let segment = Segment {
                seq,
                payload: data.as_bytes(),
                missing,
                fin: false,
            };
            self.stream.segment(
                segment,
                &ReassemblyLimits {
                    max_held_bytes: 8,
                    window: 100,
                },
                &mut self.stats,
                &mut |p| out.push(piece(p)),
            );
            self
        }

        fn ack(&mut self, ack: u32) -> &mut Self {
            let out = &mut self.out;
            self.stream
                .acknowledged(ack, &mut self.stats, &mut |p| out.push(piece(p)));
            self
        }
    }

    fn piece(p: Piece<'_>) -> String {
        match p {
            Piece::Data(d) => String::from_utf8_lossy(d).into_owned(),
            Piece::Gap(n) => format!("<gap {n}>"),
        }
    }

    #[test]
    fn in_order_segments_pass_through() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1003, "def");
        assert_eq!(run.out, ["abc", "def"]);
        assert_eq!(run.stats.bytes_delivered, 6);
    }

    #[test]
    fn retransmissions_are_dropped_and_overlaps_trimmed() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1000, "abc").seg(1001, "bcdef");
        assert_eq!(run.out, ["abc", "def"]);
        assert_eq!((run.stats.retransmissions, run.stats.overlaps), (1, 1));
    }

    #[test]
    fn out_of_order_segments_wait_for_the_hole() {
        let mut run = Run::started_at(999);
        run.seg(1003, "def").seg(1006, "ghi");
        assert!(run.out.is_empty());
        run.seg(1000, "abc");
        assert_eq!(run.out, ["abc", "def", "ghi"]);
        assert_eq!(run.stats.out_of_order, 2);
        assert_eq!(run.stats.gaps, 0);
    }

    #[test]
    fn an_acknowledged_hole_becomes_a_gap() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1006, "ghi");
        // The receiver acknowledged past the hole: the capture lost "def".
        run.ack(1009);
        assert_eq!(run.out, ["abc", "<gap 3>", "ghi"]);
        assert_eq!((run.stats.gaps, run.stats.gap_bytes), (1, 3));
        // The lost segment turning up late is old news.
        run.seg(1003, "def");
        assert_eq!(run.out.len(), 3);
    }

    #[test]
    fn an_ack_below_the_hole_changes_nothing() {
        let mut run = Run::started_at(999);
        run.seg(1000, "abc").seg(1006, "ghi").ack(1003);
        assert_eq!(run.out, ["abc"]);
    }

    #[test]
    fn holding_too_much_forces_a_gap() {
        let mut run = Run::started_at(999);
        run.seg(1010, "12345").seg(1020, "67890");
        assert_eq!(run.out, ["<gap 10>", "12345", "<gap 5>", "67890"]);
        assert_eq!(run.stats.hold_overflows, 1);
    }

    #[test]
    fn segments_beyond_the_window_force_a_gap() {
        let mut run = Run::started_at(999);
        run.seg(1000, "a").seg(1500, "b");
        assert_eq!(run.out, ["a", "<gap 499>", "b"]);
    }

    #[test]
    fn a_connection_picked_up_midstream_starts_at_the_first_segment() {
        let mut run = Run::default();
        run.seg(5000, "xyz").seg(5003, "w");
        assert_eq!(run.out, ["xyz", "w"]);
        assert_eq!(run.stats.midstream_pickups, 1);
    }

    #[test]
    fn bytes_cut_by_the_snaplen_are_a_gap() {
        let mut run = Run::started_at(999);
        run.seg_cut(1000, "ab", 4).seg(1006, "c");
        assert_eq!(run.out, ["ab", "<gap 4>", "c"]);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut run = Run::started_at(u32::MAX - 2);
        run.seg(u32::MAX - 1, "ab").seg(0, "cd");
        assert_eq!(run.out, ["ab", "cd"]);
    }

    #[test]
    fn finish_delivers_what_is_held() {
        let mut run = Run::started_at(999);
        run.seg(1004, "e");
        let out = &mut run.out;
        run.stream
            .finish(&mut run.stats, &mut |p| out.push(piece(p)));
        assert_eq!(run.out, ["<gap 4>", "e"]);
    }
}
