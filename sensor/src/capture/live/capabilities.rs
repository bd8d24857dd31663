//! Which Linux capabilities a step of live capture needs and which of them
//! this process lacks, so that a permission error can name them.

use std::fs;

/// A capability: its name and bit number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    pub name: &'static str,
    bit: u32,
}

pub const CAP_NET_ADMIN: Capability = Capability {
    name: "CAP_NET_ADMIN",
    bit: 12,
};
pub const CAP_NET_RAW: Capability = Capability {
    name: "CAP_NET_RAW",
    bit: 13,
};
pub const CAP_SYS_ADMIN: Capability = Capability {
    name: "CAP_SYS_ADMIN",
    bit: 21,
};
const CAP_PERFMON_ITSELF: Capability = Capability {
    name: "CAP_PERFMON",
    bit: 38,
};
const CAP_BPF_ITSELF: Capability = Capability {
    name: "CAP_BPF",
    bit: 39,
};

/// What creating eBPF maps and loading programs takes: CAP_BPF, or
/// CAP_SYS_ADMIN on kernels older than 5.8, which do not know CAP_BPF.
pub fn bpf() -> Capability {
    known_or_sys_admin(CAP_BPF_ITSELF)
}

/// What the verifier wants before it accepts the prefilter's reads at
/// computed offsets (pointer arithmetic it refuses to unprivileged
/// programs, against Spectre): CAP_PERFMON, or CAP_SYS_ADMIN before 5.8.
pub fn perfmon() -> Capability {
    known_or_sys_admin(CAP_PERFMON_ITSELF)
}

fn known_or_sys_admin(cap: Capability) -> Capability {
    let last = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    match last {
        Some(last) if last < cap.bit => CAP_SYS_ADMIN,
        _ => cap,
    }
}

/// The effective set of this process (CapEff), if it can be read.
pub fn effective() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    parse_cap_eff(&status)
}

fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
}

/// Those of `needed` that are not in the effective set `held`.
pub fn lacking(needed: &[Capability], held: u64) -> Vec<Capability> {
    needed
        .iter()
        .copied()
        .filter(|c| held & (1 << c.bit) == 0)
        .collect()
}

/// "CAP_BPF", "CAP_BPF and CAP_NET_ADMIN", "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN".
pub fn names(caps: &[Capability]) -> String {
    let mut names: Vec<&str> = caps.iter().map(|c| c.name).collect();
    names.dedup();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Whether this process lacks any of `needed`.
pub fn lacks_any(needed: &[Capability]) -> bool {
    !lacking(needed, effective().unwrap_or(0)).is_empty()
}

/// What to say when the kernel refused a step needing `needed`: which of
/// them this process lacks (or that it holds them all, so the refusal came
/// from elsewhere).
pub fn explain(needed: &[Capability]) -> String {
    let held = effective().unwrap_or(0);
    let missing = lacking(needed, held);
    if missing.is_empty() {
        return format!(
            "needs {}, which this process has: the kernel refused for another reason \
             (a security module, or kernel lockdown)",
            names(needed)
        );
    }
    let mut all = vec![CAP_NET_RAW, CAP_NET_ADMIN, bpf(), perfmon()];
    all.dedup();
    let setcap: Vec<String> = all
        .iter()
        .map(|c| c.name.trim_start_matches("CAP_").to_lowercase())
        .map(|n| format!("cap_{n}"))
        .collect();
    format!(
        "needs {}; this process lacks {} (run as root, or `setcap {}+ep` on the binary)",
        names(needed),
        names(&missing),
        setcap.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_set_is_read_from_proc_status() {
        let status = "Name:\totsensor\nCapInh:\t0000000000000000\nCapEff:\t0000000000003000\n";
        let held = parse_cap_eff(status).unwrap();
        assert!(lacking(&[CAP_NET_ADMIN, CAP_NET_RAW], held).is_empty());
        assert_eq!(
            lacking(&[CAP_BPF_ITSELF, CAP_NET_RAW], held),
            [CAP_BPF_ITSELF]
        );
        assert_eq!(names(&[CAP_BPF_ITSELF]), "CAP_BPF");
        assert_eq!(
            names(&[CAP_BPF_ITSELF, CAP_NET_ADMIN]),
            "CAP_BPF and CAP_NET_ADMIN"
        );
        assert_eq!(
            names(&[CAP_BPF_ITSELF, CAP_PERFMON_ITSELF, CAP_NET_ADMIN]),
            "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"
        );
    }

    #[test]
    fn this_kernel_names_cap_bpf_or_cap_sys_admin() {
        assert!(matches!(bpf().name, "CAP_BPF" | "CAP_SYS_ADMIN"));
        assert!(matches!(perfmon().name, "CAP_PERFMON" | "CAP_SYS_ADMIN"));
    }
}
