use std::io::Cursor;

use super::write::{PcapNgWriter, PcapWriter};
use super::*;
use crate::time::Timestamp;

/// A frame whose bytes say which one it is.
fn frame(n: u8, len: usize) -> Vec<u8> {
    vec![n; len]
}

fn ts(secs: i64, nanos: u32) -> Timestamp {
    Timestamp::from_parts(secs, nanos)
}

/// Reads a whole capture from memory with chunks of `chunk` bytes.
fn read_all(bytes: Vec<u8>, chunk: usize) -> (CaptureFile, Vec<(Record, Vec<u8>)>) {
    let file = CaptureFile::from_reader("test".into(), Box::new(Cursor::new(bytes))).unwrap();
    read_to_end(file, chunk)
}

/// Every record of `file` with its frame's bytes.
fn read_to_end(mut file: CaptureFile, chunk: usize) -> (CaptureFile, Vec<(Record, Vec<u8>)>) {
    let pool = ChunkPool::new(chunk, 2);
    let mut out = Vec::new();
    let mut records = Vec::new();
    while let Some(chunk) = file.next_chunk(&pool, &mut records) {
        for r in records.drain(..) {
            let start = r.start as usize;
            out.push((r, chunk.bytes()[start..start + r.len as usize].to_vec()));
        }
    }
    (file, out)
}

fn pcap(nanos: bool, big_endian: bool, frames: &[(Timestamp, Vec<u8>)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), 1, nanos, big_endian).unwrap();
    for (t, f) in frames {
        w.packet(*t, f, f.len() as u32).unwrap();
    }
    w.into_inner()
}

#[test]
fn classic_pcap_in_every_variant() {
    let frames = vec![
        (ts(1_705_305_600, 123_456_789), frame(1, 60)),
        (ts(1_705_305_601, 5_000), frame(2, 1514)),
    ];
    for (nanos, big_endian) in [(false, false), (false, true), (true, false), (true, true)] {
        let (file, got) = read_all(pcap(nanos, big_endian, &frames), 1 << 16);
        assert_eq!(
            file.format(),
            Format::Pcap {
                big_endian,
                nanos,
                modified: false
            }
        );
        assert_eq!(got.len(), 2, "nanos {nanos} big-endian {big_endian}");
        let first_nanos = if nanos { 123_456_789 } else { 123_456_000 };
        assert_eq!(got[0].0.ts, ts(1_705_305_600, first_nanos));
        assert_eq!(got[1].0.ts, ts(1_705_305_601, 5_000));
        assert_eq!(got[0].1, frame(1, 60));
        assert_eq!(got[1].1, frame(2, 1514));
        assert_eq!((got[0].0.packet, got[1].0.packet), (1, 2));
        assert_eq!(got[0].0.link, LinkType::Ethernet);
        assert!(file.damage().is_none());
    }
}

#[test]
fn records_spanning_chunks_and_bigger_than_a_chunk_are_read_whole() {
    let frames: Vec<_> = (0..50u8)
        .map(|n| (ts(n.into(), 0), frame(n, 20 + usize::from(n) * 7)))
        .collect();
    let bytes = pcap(false, false, &frames);
    // A 64-byte chunk holds no whole record of the later frames.
    let (file, got) = read_all(bytes, 64);
    assert!(file.damage().is_none());
    assert_eq!(got.len(), 50);
    for (n, (record, data)) in got.iter().enumerate() {
        assert_eq!(record.packet, n as u64 + 1);
        assert_eq!(*data, frames[n].1);
    }
}

#[test]
fn snaplen_cut_records_keep_their_wire_length() {
    let mut w = PcapWriter::new(Vec::new(), 1, false, false).unwrap();
    w.packet(ts(1, 0), &frame(7, 96), 1514).unwrap();
    let (_, got) = read_all(w.into_inner(), 1 << 16);
    assert_eq!((got[0].0.len, got[0].0.orig_len), (96, 1514));
}

#[test]
fn a_record_truncated_by_the_end_of_file_is_reported_with_its_offset() {
    let frames = vec![
        (ts(1, 0), frame(1, 60)),
        (ts(2, 0), frame(2, 60)),
        (ts(3, 0), frame(3, 60)),
    ];
    let mut bytes = pcap(false, false, &frames);
    bytes.truncate(24 + 2 * 76 + 30); // the third record stops 30 bytes in
    let (file, got) = read_all(bytes, 1 << 16);
    assert_eq!(got.len(), 2, "everything before the damage is read");
    let damage = file.damage().unwrap();
    assert_eq!(damage.offset, 24 + 2 * 76);
    assert!(
        damage.reason.contains("truncated record"),
        "{}",
        damage.reason
    );
}

#[test]
fn a_corrupt_record_length_is_reported_with_its_offset() {
    let frames = vec![
        (ts(1, 0), frame(1, 60)),
        (ts(2, 0), frame(2, 60)),
        (ts(3, 0), frame(3, 60)),
    ];
    let mut bytes = pcap(false, false, &frames);
    let second = 24 + 76;
    bytes[second + 8..second + 12].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    for chunk in [64, 1 << 16] {
        let (file, got) = read_all(bytes.clone(), chunk);
        assert_eq!(got.len(), 1);
        let damage = file.damage().unwrap();
        assert_eq!(damage.offset, second as u64);
        assert!(damage.reason.contains("2147418112"), "{}", damage.reason);
    }
}

#[test]
fn files_that_are_not_captures_are_refused() {
    let open =
        |bytes: &[u8]| CaptureFile::from_reader("x".into(), Box::new(Cursor::new(bytes.to_vec())));
    assert!(matches!(open(b""), Err(OpenError::Empty)));
    assert!(matches!(
        open(b"\x1f\x8b\x08\x00rest"),
        Err(OpenError::Gzip)
    ));
    let err = open(b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n").err().unwrap();
    assert!(matches!(err, OpenError::NotACapture(0x4745_5420)));
    assert!(err.to_string().contains("not a capture file"));
    assert!(matches!(
        open(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
        Err(OpenError::TruncatedHeader(6, 24))
    ));
}

#[test]
fn an_unsupported_pcap_link_type_is_named() {
    let w = PcapWriter::new(Vec::new(), 105, false, false).unwrap();
    let err = CaptureFile::from_reader("wifi".into(), Box::new(Cursor::new(w.into_inner())))
        .err()
        .unwrap();
    assert!(matches!(err, OpenError::UnsupportedLinkType(105)));
    assert!(err.to_string().contains("IEEE802_11"), "{err}");
}

#[test]
fn the_fcs_announced_in_the_link_type_field_is_stripped() {
    // Link type field: Ethernet, F bit set, FCS length 2 × 16-bit words.
    let dlt = 1 | 0x1000_0000 | (2 << 29);
    let mut w = PcapWriter::new(Vec::new(), dlt, false, false).unwrap();
    w.packet(ts(1, 0), &frame(9, 64), 64).unwrap();
    let (_, got) = read_all(w.into_inner(), 1 << 16);
    assert_eq!((got[0].0.len, got[0].0.orig_len), (60, 60));
}

#[test]
fn pcapng_with_several_interfaces_link_types_and_resolutions() {
    for big_endian in [false, true] {
        let mut w = PcapNgWriter::new(Vec::new(), big_endian).unwrap();
        let eth = w.interface(1, 0, 6).unwrap();
        let raw = w.interface(101, 0, 9).unwrap();
        let wifi = w.interface(105, 0, 6).unwrap();
        w.packet(eth, ts(1_600_000_000, 250_000_000), &frame(1, 60), 60)
            .unwrap();
        w.packet(raw, ts(1_600_000_001, 123_456_789), &frame(2, 40), 40)
            .unwrap();
        w.packet(wifi, ts(1_600_000_002, 0), &frame(3, 80), 80)
            .unwrap();
        w.simple_packet(&frame(4, 61)).unwrap();
        let (file, got) = read_all(w.into_inner(), 1 << 16);
        assert_eq!(file.format(), Format::PcapNg);
        assert!(file.damage().is_none());
        assert_eq!(got.len(), 3, "the 802.11 packet is counted, not returned");
        assert_eq!(file.unsupported(), &[(105, 1)]);
        assert_eq!(file.packets(), 4);
        let (eth_rec, raw_rec, spb_rec) = (&got[0].0, &got[1].0, &got[2].0);
        assert_eq!(
            (eth_rec.link, eth_rec.ts),
            (LinkType::Ethernet, ts(1_600_000_000, 250_000_000))
        );
        assert_eq!(
            (raw_rec.link, raw_rec.ts),
            (LinkType::Raw, ts(1_600_000_001, 123_456_789))
        );
        // Packet numbers count every packet block, as Wireshark's frame numbers do.
        assert_eq!((eth_rec.packet, raw_rec.packet, spb_rec.packet), (1, 2, 4));
        // The simple packet block: interface 0, padding removed, time of the previous packet.
        assert_eq!(spb_rec.link, LinkType::Ethernet);
        assert_eq!(got[2].1, frame(4, 61));
        assert_eq!(spb_rec.ts, ts(1_600_000_002, 0));
    }
}

#[test]
fn a_truncated_pcapng_block_is_reported() {
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    let eth = w.interface(1, 0, 6).unwrap();
    w.packet(eth, ts(1, 0), &frame(1, 60), 60).unwrap();
    let whole = w.into_inner().len();
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    let eth = w.interface(1, 0, 6).unwrap();
    w.packet(eth, ts(1, 0), &frame(1, 60), 60).unwrap();
    w.packet(eth, ts(2, 0), &frame(2, 60), 60).unwrap();
    let mut bytes = w.into_inner();
    bytes.truncate(whole + 40);
    let (file, got) = read_all(bytes, 1 << 16);
    assert_eq!(got.len(), 1);
    let damage = file.damage().unwrap();
    assert_eq!(damage.offset, whole as u64);
    assert!(
        damage.reason.contains("truncated block"),
        "{}",
        damage.reason
    );
}

#[test]
fn a_corrupt_pcapng_block_length_is_reported() {
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    let eth = w.interface(1, 0, 6).unwrap();
    w.packet(eth, ts(1, 0), &frame(1, 60), 60).unwrap();
    let first_packet_end = w.into_inner().len();
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    let eth = w.interface(1, 0, 6).unwrap();
    w.packet(eth, ts(1, 0), &frame(1, 60), 60).unwrap();
    w.packet(eth, ts(2, 0), &frame(2, 60), 60).unwrap();
    let mut bytes = w.into_inner();
    bytes[first_packet_end + 4..first_packet_end + 8].copy_from_slice(&13u32.to_le_bytes());
    let (file, got) = read_all(bytes, 1 << 16);
    assert_eq!(got.len(), 1);
    assert_eq!(file.damage().unwrap().offset, first_packet_end as u64);
    assert!(file.damage().unwrap().reason.contains("block length 13"));
}

/// Wireshark's packet times (`frame.time_epoch`) for a capture in memory, or
/// `None` (with the reason printed) where tshark cannot be run.
fn tshark_times(bytes: &[u8]) -> Option<Vec<Timestamp>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clock.pcapng");
    std::fs::write(&path, bytes).unwrap();
    let output = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-e", "frame.time_epoch"])
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!("tshark failed: {}", String::from_utf8_lossy(&output.stderr)),
        Err(e) => {
            eprintln!("SKIPPED: tshark comparison (cannot run tshark: {e})");
            return None;
        }
    };
    let text = String::from_utf8(output.stdout).unwrap();
    let times = text
        .lines()
        .map(|line| {
            let (secs, frac) = line.split_once('.').unwrap_or((line, "0"));
            let nanos: u32 = format!("{frac:0<9}")[..9].parse().unwrap();
            ts(secs.parse().unwrap(), nanos)
        })
        .collect();
    Some(times)
}

#[test]
fn pcapng_decimal_and_power_of_two_timestamp_resolutions() {
    for big_endian in [false, true] {
        let mut w = PcapNgWriter::new(Vec::new(), big_endian).unwrap();
        let micros = w.interface(1, 0, 6).unwrap();
        let nanos = w.interface(1, 0, 9).unwrap();
        // if_tsresol 0x94: bit 7 set, units of 2^-20 s.
        let binary = w.interface(1, 0, 0x94).unwrap();
        let offset = w.interface_with_offset(1, 0, 6, 1_600_000_000).unwrap();
        w.packet(micros, ts(1_700_000_000, 123_456_789), &frame(1, 60), 60)
            .unwrap();
        w.packet(nanos, ts(1_700_000_001, 123_456_789), &frame(2, 60), 60)
            .unwrap();
        // 3/512 s is 3 × 2^11 units exactly.
        w.packet(binary, ts(1_700_000_002, 5_859_375), &frame(3, 60), 60)
            .unwrap();
        // Not a whole number of units: written as 129 453 units = 123 456 001.28… ns.
        w.packet(binary, ts(1_700_000_003, 123_456_789), &frame(4, 60), 60)
            .unwrap();
        w.packet(offset, ts(1_600_000_005, 250_000_000), &frame(5, 60), 60)
            .unwrap();
        let bytes = w.into_inner();
        let (file, got) = read_all(bytes.clone(), 1 << 16);
        assert!(file.damage().is_none(), "{:?}", file.damage());
        let times: Vec<Timestamp> = got.iter().map(|(r, _)| r.ts).collect();
        assert_eq!(
            times,
            [
                ts(1_700_000_000, 123_456_000),
                ts(1_700_000_001, 123_456_789),
                ts(1_700_000_002, 5_859_375),
                ts(1_700_000_003, 123_456_001),
                ts(1_600_000_005, 250_000_000),
            ],
            "big-endian {big_endian}"
        );
        if let Some(wireshark) = tshark_times(&bytes) {
            assert_eq!(times, wireshark, "big-endian {big_endian}");
        }
    }
}

#[test]
fn an_impossible_timestamp_resolution_is_damage_at_its_interface_block() {
    // 10^20 and 2^64 units per second do not fit in 64 bits.
    for bad in [20u8, 0xC0] {
        let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
        let eth = w.interface(1, 0, 6).unwrap();
        w.packet(eth, ts(1, 0), &frame(1, 60), 60).unwrap();
        let bad_block = w.into_inner().len();
        let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
        let eth = w.interface(1, 0, 6).unwrap();
        w.packet(eth, ts(1, 0), &frame(1, 60), 60).unwrap();
        let other = w.interface(1, 0, bad).unwrap();
        w.packet(other, ts(2, 0), &frame(2, 60), 60).unwrap();
        let (file, got) = read_all(w.into_inner(), 1 << 16);
        assert_eq!(got.len(), 1, "the packet before the bad interface is read");
        let damage = file.damage().unwrap();
        assert_eq!(damage.offset, bad_block as u64);
        assert!(
            damage.reason.contains(&format!("if_tsresol {bad:#04x}")),
            "{}",
            damage.reason
        );
    }
}

#[test]
fn a_file_read_block_by_block_gives_the_same_records_as_a_stream() {
    // Small and large records, so that block ends cut some of each; records
    // of up to 200 KiB are longer than the room kept before a block.
    let frames: Vec<(Timestamp, Vec<u8>)> = (0..400u32)
        .map(|i| {
            let len = match i % 7 {
                0 => 200 * 1024 + i as usize,
                1 => 70 * 1024,
                _ => 60 + (i as usize * 37) % 1500,
            };
            (ts(i64::from(i), 0), frame(i as u8, len))
        })
        .collect();
    let mut bytes = pcap(false, false, &frames);
    let whole = bytes.len();
    // And the last record cut short by the end of the file.
    bytes.truncate(whole - 1000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.pcap");
    std::fs::write(&path, &bytes).unwrap();

    let (streamed_file, streamed) = read_all(bytes.clone(), 1 << 20);
    // Opened the way a replay opens it: read directly, where the file system allows.
    let (file, got) = read_to_end(CaptureFile::open(&path).unwrap(), 1 << 20);
    assert_eq!(got.len(), 399, "all but the cut record");
    // The same frames; only where they sit in their chunks may differ.
    let frames_of = |records: &[(Record, Vec<u8>)]| -> Vec<(u64, u32, Timestamp, Vec<u8>)> {
        (records.iter())
            .map(|(r, bytes)| (r.packet, r.orig_len, r.ts, bytes.clone()))
            .collect()
    };
    assert!(frames_of(&got) == frames_of(&streamed));
    for (i, (r, bytes)) in got.iter().enumerate() {
        assert_eq!(bytes, &frames[i].1, "frame {}", r.packet);
    }
    assert_eq!(file.packets(), 399);
    assert_eq!(file.bytes_read(), bytes.len() as u64);
    assert_eq!(file.damage(), streamed_file.damage());
    let damage = file.damage().unwrap();
    assert!(damage.reason.contains("truncated record"), "{damage}");
    let last_start: usize = 24
        + frames[..399]
            .iter()
            .map(|(_, f)| 16 + f.len())
            .sum::<usize>();
    assert_eq!(damage.offset, last_start as u64);
}
