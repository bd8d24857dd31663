//! The bytes as a whole capture file (pcap or pcapng), read chunk by chunk
//! through a small pool so that records span chunks and buffers grow, and
//! every frame parsed up to layer 4.
//!
//! Checks: records lie within their chunk; packet numbers go up by one
//! (packets on unsupported links are counted but not returned); a parsed
//! payload lies within its frame; damage is reported at an offset that was
//! read; a finished file stays finished.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use otsensor::capture::{CaptureFile, ChunkPool};

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) =
        CaptureFile::from_reader("fuzz".into(), Box::new(Cursor::new(data.to_vec())))
    else {
        return;
    };
    let pool = ChunkPool::new(256, 2);
    let mut records = Vec::new();
    let mut last_packet = 0u64;
    let mut seq = 0u64;
    let unsupported = |file: &CaptureFile| file.unsupported().iter().map(|(_, n)| n).sum::<u64>();
    while let Some(chunk) = file.next_chunk(&pool, &mut records) {
        let skipped_any = unsupported(&file) > 0;
        for record in records.drain(..) {
            if !skipped_any {
                assert_eq!(record.packet, last_packet + 1);
            }
            assert!(
                record.packet > last_packet,
                "packet {} after {last_packet}",
                record.packet
            );
            last_packet = record.packet;
            seq += 1;
            otsensor_fuzz::classify(&chunk, &record, seq);
        }
        // Every packet read is either returned or counted as unsupported.
        assert_eq!(file.packets(), seq + unsupported(&file));
        assert!(last_packet <= file.packets());
        assert!(file.bytes_read() <= data.len() as u64);
    }
    assert!(file.next_chunk(&pool, &mut records).is_none());
    assert!(records.is_empty());
    if let Some(damage) = file.damage() {
        assert!(
            damage.offset <= file.bytes_read(),
            "damage at {} but only {} bytes read",
            damage.offset,
            file.bytes_read()
        );
    }
});
