//! Agreement with Wireshark, per protocol and field, as the corpus tests
//! measure it: frames where both have a value and the values are equal, over
//! frames where either has a value; and every frame that differs, with its
//! reason (`accepted: …` for a difference by design, else the values).
//!
//! Written to stderr when dropped (shown with `cargo test -- --nocapture`),
//! one line per capture and field and one per difference, for
//! `scripts/wireshark-agreement.sh`:
//!
//! ```text
//! AGREEMENT modbus modbus.func_code 281/281 modbus/digitalbond_modbus_test_data_part2.pcap
//! AGREEMENT-DIFF modbus mbtcp.len modbus/zeek_modbus_fuzz72.pcap frame 19: accepted: …
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Debug, Write as _};
use std::path::Path;

pub struct Agreement {
    protocol: &'static str,
    /// The capture being compared, as `folder/file` of the shared corpus.
    capture: String,
    /// (capture, field) → (frames equal, frames where either has a value).
    counts: BTreeMap<(String, String), (usize, usize)>,
    /// (field, capture, frame, reason), in the order found.
    differences: Vec<(String, String, u64, String)>,
}

impl Agreement {
    pub fn new(protocol: &'static str) -> Agreement {
        Agreement {
            protocol,
            capture: String::new(),
            counts: BTreeMap::new(),
            differences: Vec::new(),
        }
    }

    /// The capture the next frames come from.
    pub fn capture(&mut self, path: &Path) {
        let folder = path.parent().and_then(Path::file_name).unwrap();
        let file = path.file_name().unwrap();
        self.capture = format!("{}/{}", folder.display(), file.display());
    }

    /// One field of one frame: Wireshark's values and the sensor's (none on
    /// either side: not counted). A difference is the mismatch returned,
    /// unless `by_design` says why it is expected.
    pub fn compare<T: PartialEq + Debug>(
        &mut self,
        frame: u64,
        field: &str,
        theirs: &[T],
        ours: &[T],
        by_design: Option<&str>,
    ) -> Option<String> {
        if theirs.is_empty() && ours.is_empty() {
            return None;
        }
        let equal = theirs == ours;
        self.count(field, usize::from(equal), 1);
        if equal {
            return None;
        }
        let mismatch = format!("{field} wireshark {theirs:?}, otsensor {ours:?}");
        self.differ(frame, field, mismatch, by_design)
    }

    /// How many frames have `field`, where Wireshark's reading gives only
    /// that: the smaller count as agreeing, the larger as the frames where
    /// either has it. A difference (at frame 0: the whole capture) is the
    /// mismatch returned.
    pub fn compare_counts(&mut self, field: &str, theirs: u64, ours: u64) -> Option<String> {
        if theirs == 0 && ours == 0 {
            return None;
        }
        self.count(field, theirs.min(ours) as usize, theirs.max(ours) as usize);
        if theirs == ours {
            return None;
        }
        let mismatch = format!("{field} frames: wireshark {theirs}, otsensor {ours}");
        self.differ(0, field, mismatch, None)
    }

    fn count(&mut self, field: &str, equal: usize, either: usize) {
        let key = (self.capture.clone(), field.to_string());
        let count = self.counts.entry(key).or_default();
        count.0 += equal;
        count.1 += either;
    }

    fn differ(
        &mut self,
        frame: u64,
        field: &str,
        mismatch: String,
        by_design: Option<&str>,
    ) -> Option<String> {
        let reason = by_design.map_or_else(|| mismatch.clone(), |why| format!("accepted: {why}"));
        let capture = self.capture.clone();
        self.differences
            .push((field.to_string(), capture, frame, reason));
        by_design
            .is_none()
            .then(|| format!("frame {frame}: {mismatch}"))
    }

    /// Frames equal and frames where either has a value, over every capture.
    pub fn tally(&self, field: &str) -> (usize, usize) {
        self.counts
            .iter()
            .filter(|((_, f), _)| f == field)
            .fold((0, 0), |(e, t), (_, (equal, either))| {
                (e + equal, t + either)
            })
    }
}

impl Drop for Agreement {
    fn drop(&mut self) {
        let protocol = self.protocol;
        let mut text = String::new();
        for ((capture, field), (equal, either)) in &self.counts {
            let _ = writeln!(
                text,
                "AGREEMENT {protocol} {field} {equal}/{either} {capture}"
            );
        }
        for (field, capture, frame, reason) in &self.differences {
            let _ = writeln!(
                text,
                "AGREEMENT-DIFF {protocol} {field} {capture} frame {frame}: {reason}"
            );
        }
        eprint!("{text}");
    }
}

/// The frames of either side, in order.
pub fn either_frames<A, B>(theirs: &BTreeMap<u64, A>, ours: &BTreeMap<u64, B>) -> BTreeSet<u64> {
    theirs.keys().chain(ours.keys()).copied().collect()
}

/// The mismatch of a frame that only one side decodes as `protocol`.
pub fn decoded_by_one(frame: u64, protocol: &str, theirs: bool, ours: bool) -> Option<String> {
    match (theirs, ours) {
        (true, false) => Some(format!(
            "frame {frame}: Wireshark decodes {protocol}, otsensor does not"
        )),
        (false, true) => Some(format!(
            "frame {frame}: otsensor decodes {protocol} where Wireshark does not"
        )),
        _ => None,
    }
}
