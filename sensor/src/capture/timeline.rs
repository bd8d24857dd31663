//! The replay timeline: the capture files named on the command line, with
//! directories searched recursively, in name order.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// One capture file of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    /// How the file is named in messages and events.
    pub name: String,
}

/// The files to replay, in name order. Files named explicitly are always
/// kept (so that a non-capture is reported); files found inside directories
/// are kept only if they start with a capture magic number, and the others
/// are returned as `skipped`.
pub fn expand_inputs(args: &[PathBuf]) -> io::Result<(Vec<Input>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for arg in args {
        let meta = fs::metadata(arg)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", arg.display())))?;
        if meta.is_dir() {
            walk(arg, &mut files, &mut skipped)?;
        } else {
            files.push(arg.clone());
        }
    }
    files.sort();
    files.dedup();
    skipped.sort();
    let inputs = files
        .into_iter()
        .map(|path| Input {
            name: path.display().to_string(),
            path,
        })
        .collect();
    Ok((inputs, skipped))
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, skipped: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = fs::read_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        // Symlinked directories are not followed, so a link loop cannot trap the walk.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, files, skipped)?;
        } else if looks_like_capture(&path) {
            files.push(path);
        } else {
            skipped.push(path);
        }
    }
    Ok(())
}

fn looks_like_capture(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    let Ok(mut file) = fs::File::open(path) else {
        return false;
    };
    if file.read_exact(&mut magic).is_err() {
        return false;
    }
    matches!(
        u32::from_le_bytes(magic),
        0x0A0D_0D0A
            | 0xa1b2_c3d4
            | 0xd4c3_b2a1
            | 0xa1b2_3c4d
            | 0x4d3c_b2a1
            | 0xa1b2_cd34
            | 0x34cd_b2a1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_walked_in_name_order_and_non_captures_skipped() {
        let dir = std::env::temp_dir().join(format!("otsensor-timeline-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("b")).unwrap();
        let pcap = [0xd4u8, 0xc3, 0xb2, 0xa1];
        fs::write(dir.join("b/2.pcap"), pcap).unwrap();
        fs::write(dir.join("a.pcap"), pcap).unwrap();
        fs::write(dir.join("c.pcapng"), [0x0a, 0x0d, 0x0d, 0x0a]).unwrap();
        fs::write(dir.join("notes.txt"), b"hello").unwrap();
        let (inputs, skipped) = expand_inputs(std::slice::from_ref(&dir)).unwrap();
        let names: Vec<_> = inputs
            .iter()
            .map(|i| i.path.strip_prefix(&dir).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("a.pcap"),
                PathBuf::from("b/2.pcap"),
                PathBuf::from("c.pcapng")
            ]
        );
        assert_eq!(skipped, [dir.join("notes.txt")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_path_is_an_error_naming_it() {
        let err = expand_inputs(&[PathBuf::from("/nonexistent/x.pcap")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.pcap"), "{err}");
    }
}
