//! The frame-by-frame comparison the IT protocol corpus tests share: replay
//! every capture of the shared corpus whose Wireshark oracle has a protocol
//! family, and compare, per frame, each oracle field with the values the
//! events of that frame give for it.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::common::*;

/// What one capture gave.
pub struct Outcome {
    pub capture: String,
    pub events: Vec<Value>,
    pub mismatches: Vec<String>,
    /// Oracle frames compared.
    pub frames: usize,
}

/// How to compare one protocol family.
pub struct Comparison {
    /// The oracle's family (`arp`, `netbios`…).
    pub family: &'static str,
    /// The event protocols that family is decoded as.
    pub protocols: &'static [&'static str],
    /// Oracle fields compared.
    pub fields: &'static [&'static str],
    /// The events' values of an oracle field, for the events of one frame.
    pub ours: fn(events: &[&Value], field: &str) -> Vec<String>,
    /// Oracle records that are not for these decoders (another protocol of
    /// the family), with the reason.
    pub not_ours: fn(record: &Map<String, Value>) -> Option<&'static str>,
    /// Oracle values as the events write them (Wireshark decorations removed).
    pub theirs: fn(field: &str, value: String) -> String,
}

/// Every capture of the shared corpus (all folders) whose oracle has
/// `family`, or `None` (with the reason printed) when the corpus is absent.
pub fn captures_with(family: &str) -> Option<Vec<PathBuf>> {
    let root = shared_pcaps("")?;
    let mut found = Vec::new();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        for capture in captures_in(&folder) {
            if !Oracle::for_capture(&capture).records(family).is_empty() {
                found.push(capture);
            }
        }
    }
    Some(found)
}

/// Replays `capture` (with `args`) and compares it with its oracle.
pub fn compare(capture: &Path, cmp: &Comparison, args: &[&str]) -> Outcome {
    let oracle = Oracle::for_capture(capture);
    let events = replay(&[capture], args).events();
    let name = capture
        .strip_prefix(capture.parent().unwrap().parent().unwrap())
        .unwrap()
        .display()
        .to_string();
    let mut by_packet: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for protocol in cmp.protocols {
        for (packet, list) in events_by_packet(&events, protocol) {
            by_packet.entry(packet).or_default().extend(list);
        }
    }
    let theirs = oracle.records(cmp.family);
    // Counted per capture: written when it goes out of scope.
    let mut agreement = Agreement::new(cmp.family);
    agreement.capture(capture);
    let mut mismatches = Vec::new();
    let mut frames = 0;
    for frame in either_frames(&theirs, &by_packet) {
        let record = theirs.get(&frame);
        let decoded = by_packet.get(&frame).map_or(&[][..], Vec::as_slice);
        let not_ours = record.and_then(|r| (cmp.not_ours)(r));
        match (record, not_ours) {
            (None, _) => mismatches.push(format!(
                "frame {frame}: otsensor decodes {:?} where Wireshark does not",
                cmp.protocols
            )),
            (Some(_), Some(reason)) if !decoded.is_empty() => {
                mismatches.push(format!("frame {frame}: decoded, but {reason}"));
            }
            (Some(_), None) if decoded.is_empty() => mismatches.push(format!(
                "frame {frame}: Wireshark decodes it, otsensor does not"
            )),
            (Some(_), None) => frames += 1,
            (Some(_), Some(_)) => {}
        }
        for field in cmp.fields {
            let expected: Vec<String> = record
                .map_or(Vec::new(), |r| field_values(r, field))
                .into_iter()
                .map(|v| (cmp.theirs)(field, v))
                .collect();
            let got = (cmp.ours)(decoded, field);
            mismatches.extend(agreement.compare(frame, field, &expected, &got, not_ours));
        }
    }
    Outcome {
        capture: name,
        events,
        mismatches,
        frames,
    }
}

/// A string field of each event that has it.
pub fn strings(events: &[&Value], name: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e[name].as_str().map(str::to_string))
        .collect()
}

/// An integer field of each event that has it, in decimal.
pub fn numbers(events: &[&Value], name: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e[name].as_i64().map(|v| v.to_string()))
        .collect()
}

/// A boolean as Wireshark writes it (`1`, `0`).
pub fn flag(b: bool) -> String {
    u8::from(b).to_string()
}

/// Values unchanged.
pub fn same(_field: &str, value: String) -> String {
    value
}

/// Every oracle record is for these decoders.
pub fn all_ours(_record: &Map<String, Value>) -> Option<&'static str> {
    None
}

/// An Ethernet frame: destination, source, an 802.1Q tag if `vlan`, the
/// ethertype (or 802.3 length), payload.
pub fn ethernet(
    dst: [u8; 6],
    src: [u8; 6],
    vlan: Option<u16>,
    ether_type: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    if let Some(id) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&id.to_be_bytes());
    }
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Writes `frames` (Ethernet) as a pcap at `path`, one second apart.
pub fn write_capture(path: &Path, frames: &[Vec<u8>]) {
    use otsensor::capture::write::PcapWriter;
    use otsensor::time::Timestamp;
    let file = std::fs::File::create(path).unwrap();
    let mut pcap = PcapWriter::new(file, 1, false, false).unwrap();
    for (n, frame) in frames.iter().enumerate() {
        let ts = Timestamp::from_secs(1_705_400_000 + n as i64);
        pcap.packet(ts, frame, frame.len() as u32).unwrap();
    }
}
