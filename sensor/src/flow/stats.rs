//! What the flow stage counts.

crate::counters! {
    /// TCP reassembly, summed over both directions of every connection.
    pub struct TcpStats {
        /// Segments carrying payload.
        pub data_segments,
        /// Bytes passed on in order to the decoders.
        pub bytes_delivered,
        /// Segments whose bytes had all been seen before.
        pub retransmissions,
        /// Segments partly overlapping bytes already seen (the first copy is kept).
        pub overlaps,
        /// Segments held until a hole before them filled.
        pub out_of_order,
        /// Holes in a stream that were given up on (capture loss, snaplen).
        pub gaps,
        pub gap_bytes,
        /// Directions picked up without their SYN.
        pub midstream_pickups,
        /// Holes given up on because the held bytes ran out.
        pub hold_overflows,
        /// Segments dropped for starting far beyond the expected sequence number.
        pub out_of_window,
        /// Times a stream was taken to have jumped (acknowledged, or repeated out-of-window segments).
        pub resyncs,
        /// Times a decoder's unconsumed bytes exceeded the per-direction cap.
        pub buffer_overflows,
    }
}

crate::counters! {
    /// Flow table activity, summed over all shards.
    pub struct FlowStats {
        pub created,
        pub tcp,
        pub udp,
        /// Flows of other IP protocols and of non-IP ethertypes.
        pub other,
        /// Removed after their idle timeout.
        pub expired,
        /// Removed because their shard was full (see `--max-flows`).
        pub evicted,
        /// Still open when the input ended.
        pub open_at_end,
    }
}
