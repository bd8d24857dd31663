//! Build and maintenance helpers: `cargo xtask <command>`.
//!
//! - `bench-e2e [SIZE_MB]`: generate the benchmark capture with
//!   `../shared/tools/gen-ot-pcap` (if missing) and time `otsensor replay --stats`
//!   on it, three times, with and without `--out`.
//! - `build-ebpf`: build the live prefilter's kernel programs (`ebpf/`) with
//!   nightly for the BPF target and copy the object to `target/bpf/otsensor-prefilter.o`,
//!   where `otsensor live --xdp` looks for it. Needs rust-src for nightly and
//!   bpf-linker (README, "Live capture").
//! - `demo-capture`: regenerate `captures/demo-plant.pcap` (deterministic).
//! - `pgo`: build `target/pgo/otsensor`, the release build optimised with a
//!   profile of its own replay of the bundled demo capture (profile-guided
//!   optimisation: about 20 % less CPU for a replay). Installs rustup's
//!   `llvm-tools` if `llvm-profdata` is missing.
//! - `fuzz [SECONDS]`: build every fuzz target and run each for SECONDS (default 60).
//! - `vendors`: regenerate `sensor/data/{cip,bacnet}_vendors.tsv`, the ODVA and
//!   ASHRAE vendor id registries, from the value tables of the installed
//!   Wireshark (`tshark -G values`; `apt-get install tshark`).
//! - `oui [DIR]`: regenerate `sensor/data/oui.tsv`, the MAC vendor table, from
//!   IEEE's registry as Debian's `ieee-data` package carries it (default
//!   `/usr/share/ieee-data`; `apt-get install ieee-data`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench-e2e") => bench_e2e(args.get(1).map_or("300", String::as_str)),
        Some("build-ebpf") => build_ebpf(),
        Some("demo-capture") => demo_capture(),
        Some("pgo") => pgo(),
        Some("fuzz") => fuzz(args.get(1).map_or("60", String::as_str)),
        Some("vendors") => vendors(),
        Some("oui") => oui(Path::new(
            args.get(1).map_or("/usr/share/ieee-data", String::as_str),
        )),
        _ => Err(
            "usage: cargo xtask <bench-e2e [SIZE_MB] | build-ebpf | demo-capture | fuzz [SECONDS] | oui [DIR] | pgo | vendors>"
                .into(),
        ),
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

/// Where `otsensor live --xdp` finds the prefilter object by default.
const EBPF_OBJECT: &str = "target/bpf/otsensor-prefilter.o";

fn build_ebpf() -> Result<(), String> {
    let dir = root().join("ebpf");
    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(&dir)
        .args(["+nightly", "build", "--release", "--locked"])
        .args(["--target", "bpfel-unknown-none", "-Z", "build-std=core"]);
    // The outer cargo's toolchain must not leak into the nightly build.
    for var in [
        "RUSTC",
        "RUSTUP_TOOLCHAIN",
        "CARGO",
        "RUSTC_WRAPPER",
        "RUSTFLAGS",
    ] {
        cargo.env_remove(var);
    }
    run(&mut cargo).map_err(|e| {
        format!(
            "{e}\nThe eBPF build needs nightly with rust-src and bpf-linker 0.13 built against \
             nightly's LLVM: see README.md, \"Live capture\"."
        )
    })?;
    let built = dir.join("target/bpfel-unknown-none/release/otsensor-prefilter");
    let object = root().join(EBPF_OBJECT);
    std::fs::create_dir_all(object.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::copy(&built, &object)
        .map_err(|e| format!("copying {} to {}: {e}", built.display(), object.display()))?;
    eprintln!("eBPF object: {}", object.display());
    Ok(())
}

/// Where `cargo xtask pgo` leaves the optimised binary.
const PGO_BINARY: &str = "target/pgo/otsensor";

/// Profile-guided build: an instrumented build replays the demo capture (as
/// the README's command does, and once more writing every output), and the
/// counts it leaves steer the optimised build. Both builds name the host
/// target explicitly so that the profiling flags reach the program only, not
/// build scripts and proc macros.
fn pgo() -> Result<(), String> {
    let profdata = llvm_profdata()?;
    let host = host_triple()?;
    let dir = root().join("target/pgo");
    let profiles = dir.join("profiles");
    let _ = std::fs::remove_dir_all(&profiles);
    std::fs::create_dir_all(&profiles).map_err(|e| e.to_string())?;
    let build = |target_dir: &str, flag: String| {
        run(Command::new("cargo")
            .current_dir(root())
            .env("RUSTFLAGS", flag)
            .args(["build", "--release", "--locked", "-p", "otsensor"])
            .args(["--target", &host, "--target-dir"])
            .arg(dir.join(target_dir)))
    };
    let binary = |target_dir: &str| dir.join(target_dir).join(&host).join("release/otsensor");

    build(
        "instrumented",
        format!("-Cprofile-generate={}", profiles.display()),
    )?;
    let capture = root().join("captures/demo-plant.pcap");
    let training: [&[&str]; 2] = [
        &["--policy", "rules/example-plant", "--quiet"],
        &["--out", "target/pgo/training-output", "--quiet"],
    ];
    for args in training {
        run(Command::new(binary("instrumented"))
            .current_dir(root())
            .env("LLVM_PROFILE_FILE", profiles.join("otsensor-%p.profraw"))
            .arg("replay")
            .arg(&capture)
            .args(args))?;
    }
    let merged = dir.join("otsensor.profdata");
    run(Command::new(&profdata)
        .arg("merge")
        .arg("-o")
        .arg(&merged)
        .arg(&profiles))?;
    build("optimised", format!("-Cprofile-use={}", merged.display()))?;
    let out = root().join(PGO_BINARY);
    std::fs::copy(binary("optimised"), &out).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("profile-guided build: {}", out.display());
    Ok(())
}

/// What `rustc ARGS` prints.
fn rustc(args: &[&str]) -> Result<String, String> {
    let output = Command::new("rustc")
        .args(args)
        .output()
        .map_err(|e| format!("rustc {}: {e}", args.join(" ")))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The host's target triple, as rustc names it.
fn host_triple() -> Result<String, String> {
    rustc(&["-vV"])?
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV names no host".to_string())
}

/// The `llvm-profdata` of the toolchain's own LLVM (a system one reads
/// another profile format), from rustup's `llvm-tools`, installed if missing.
fn llvm_profdata() -> Result<PathBuf, String> {
    let libdir = PathBuf::from(rustc(&["--print", "target-libdir"])?.trim());
    // <sysroot>/lib/rustlib/<host>/lib -> <sysroot>/lib/rustlib/<host>/bin
    let tool = libdir.with_file_name("bin").join("llvm-profdata");
    if !tool.is_file() {
        run(Command::new("rustup").args(["component", "add", "llvm-tools"]))?;
    }
    if tool.is_file() {
        Ok(tool)
    } else {
        Err(format!(
            "{} not found after installing llvm-tools",
            tool.display()
        ))
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
    // The profile-guided build too, if `cargo xtask pgo` made one: the two
    // figures the README reports.
    let guided = root().join("target/pgo/otsensor");
    let builds = [Some(&otsensor), guided.is_file().then_some(&guided)];
    for build in builds.into_iter().flatten() {
        println!("{}:", build.display());
        for _ in 0..3 {
            run(Command::new(build)
                .arg("replay")
                .arg(&capture)
                .args(["--stats", "--quiet"]))?;
        }
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

/// Writes `sensor/data/oui.tsv`: one `PREFIX<TAB>VENDOR` line per assignment,
/// sorted, where PREFIX is 6 (MA-L), 7 (MA-M) or 9 (MA-S) hex digits.
fn oui(dir: &Path) -> Result<(), String> {
    let mut rows = Vec::new();
    for file in ["oui.csv", "mam.csv", "oui36.csv"] {
        let path = dir.join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (n, fields) in csv_records(&text).into_iter().enumerate().skip(1) {
            let (Some(prefix), Some(vendor)) = (fields.get(1), fields.get(2)) else {
                return Err(format!(
                    "{}: record {}: expected Registry,Assignment,Organization",
                    path.display(),
                    n + 1
                ));
            };
            let vendor = vendor.split_whitespace().collect::<Vec<_>>().join(" ");
            if prefix.chars().all(|c| c.is_ascii_hexdigit()) && !vendor.is_empty() {
                rows.push(format!("{}\t{}", prefix.to_ascii_uppercase(), vendor));
            }
        }
    }
    rows.sort();
    rows.dedup();
    let out = root().join("sensor/data/oui.tsv");
    std::fs::write(&out, rows.join("\n") + "\n").map_err(|e| e.to_string())?;
    eprintln!("wrote {} assignments to {}", rows.len(), out.display());
    Ok(())
}

/// CSV records (RFC 4180: double-quoted fields may hold commas, quotes and line breaks).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            '\r' if !quoted => {}
            '\n' if !quoted => records.push(std::mem::replace(&mut fields, vec![String::new()])),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    if fields.len() > 1 || !fields[0].is_empty() {
        records.push(fields);
    }
    records
}

/// Writes one `ID<TAB>NAME` file per registry that Wireshark's dissectors carry.
fn vendors() -> Result<(), String> {
    let output = Command::new("tshark")
        .args(["-G", "values"])
        .output()
        .map_err(|e| format!("tshark: {e} (apt-get install tshark)"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    for (field, file) in [
        ("enip.lir.vendor", "cip_vendors.tsv"),
        ("bacapp.vendor_identifier", "bacnet_vendors.tsv"),
    ] {
        let mut rows: Vec<(u32, String)> = text
            .lines()
            .filter_map(|line| {
                let mut parts = line.split('\t');
                let (kind, name, id, vendor) =
                    (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
                let keep =
                    kind == "V" && name == field && !vendor.trim().eq_ignore_ascii_case("reserved");
                keep.then(|| Some((id.parse().ok()?, vendor.trim().to_string())))?
            })
            .collect();
        rows.sort();
        rows.dedup_by_key(|(id, _)| *id);
        if rows.is_empty() {
            return Err(format!("tshark printed no values for {field}"));
        }
        let body: String = rows
            .iter()
            .map(|(id, name)| format!("{id}\t{name}\n"))
            .collect();
        let out = root().join("sensor/data").join(file);
        std::fs::write(&out, body).map_err(|e| e.to_string())?;
        eprintln!("wrote {} vendors to {}", rows.len(), out.display());
    }
    Ok(())
}
