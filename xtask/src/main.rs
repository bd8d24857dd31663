//! Build and maintenance helpers: `cargo xtask <command>`.
//!
//! - `bench-e2e [SIZE_MB]`: generate the benchmark capture with
//!   `../shared/tools/gen-ot-pcap` (if missing) and time `otsensor replay --stats`
//!   on it, three times, with and without `--out`.
//! - `demo-capture`: regenerate `captures/demo-plant.pcap` (deterministic).
//! - `fuzz [SECONDS]`: build every fuzz target and run each for SECONDS (default 60).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench-e2e") => bench_e2e(args.get(1).map_or("300", String::as_str)),
        Some("demo-capture") => demo_capture(),
        Some("fuzz") => fuzz(args.get(1).map_or("60", String::as_str)),
        _ => Err("usage: cargo xtask <bench-e2e [SIZE_MB] | demo-capture | fuzz [SECONDS]>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The generator shipped in the shared developer folder next to the repository.
fn generator() -> Result<PathBuf, String> {
    let tool = root().join("../shared/tools/gen-ot-pcap");
    if tool.is_file() {
        Ok(tool)
    } else {
        Err(format!(
            "{} not found: the benchmark generator lives in the shared folder",
            tool.display()
        ))
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("+ {cmd:?}");
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

fn bench_e2e(size_mb: &str) -> Result<(), String> {
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let capture = dir.join(format!("ot-{size_mb}m.pcap"));
    if !capture.is_file() {
        run(Command::new("python3")
            .arg(generator()?)
            .arg("-o")
            .arg(&capture)
            .args(["--size-mb", size_mb]))?;
    }
    run(Command::new("cargo")
        .current_dir(root())
        .args(["build", "--release", "-p", "otsensor"]))?;
    let otsensor = root().join("target/release/otsensor");
    for _ in 0..3 {
        run(Command::new(&otsensor)
            .arg("replay")
            .arg(&capture)
            .args(["--stats", "--quiet"]))?;
    }
    let out = dir.join("out");
    for _ in 0..3 {
        run(Command::new(&otsensor)
            .arg("replay")
            .arg(&capture)
            .arg("--out")
            .arg(&out)
            .args(["--stats", "--quiet"]))?;
    }
    Ok(())
}

fn demo_capture() -> Result<(), String> {
    let capture = root().join("captures/demo-plant.pcap");
    run(Command::new("python3")
        .arg(generator()?)
        .arg("-o")
        .arg(&capture)
        .args(["--size-mb", "1.5", "--seed", "7", "--hosts", "40"]))
}

fn fuzz(seconds: &str) -> Result<(), String> {
    run(Command::new("bash")
        .arg(root().join("fuzz/smoke.sh"))
        .arg(seconds))
}
