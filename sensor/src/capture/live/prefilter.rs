//! The eBPF prefilter's loader: loads the object `cargo xtask build-ebpf`
//! built, fills the pass list (the decoders' registry and the policy's
//! ports), attaches the XDP program to the interface (or the socket filter
//! to each capture socket where XDP is unavailable) and reads the per-CPU
//! counters.
//!
//! XDP is attached through a BPF link held by this process: dropping the
//! [`Prefilter`], or the process ending in any way, detaches it, and no
//! privilege is needed for that. The maps stay readable and writable through
//! the descriptors held here after privileges are dropped (Linux 6.5 and
//! later; before, with unprivileged eBPF disabled, every bpf() call needed
//! CAP_BPF), so the pass list can be changed while capturing without
//! reloading the program.

use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use aya::maps::{Array, HashMap, MapData, PerCpuArray};
use aya::programs::{SocketFilter, Xdp};
use aya::{Ebpf, Pod};
use otsensor_prefilter::{Counter, FIRST_LISTED, MAX_PROTOCOLS, NOT_LISTED, class};

use super::Interface;
use super::capabilities::{self, CAP_NET_ADMIN, Capability};
use crate::analysis::policy::PassPort;
use crate::protocols::WireSignature;

pub use aya::programs::XdpMode;

/// The object's file name, as `cargo xtask build-ebpf` writes it.
pub const OBJECT_NAME: &str = "otsensor-prefilter.o";
const XDP_PROGRAM: &str = "otsensor_xdp";
const SOCKET_PROGRAM: &str = "otsensor_socket";
const PORTS: u32 = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum PrefilterError {
    #[error(
        "the eBPF prefilter is not built (looked for {}): build it with `cargo xtask build-ebpf` \
         (needs nightly with rust-src and bpf-linker: README, \"Live capture\"), or give --xdp-object"
    , .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotBuilt(Vec<PathBuf>),
    #[error("loading the eBPF prefilter {path}: {reason}")]
    Load { path: String, reason: String },
    /// The kernel said EPERM: `needs` names the capabilities and which are missing.
    #[error("{what}: permission denied: {needs}")]
    Permission { what: String, needs: String },
    #[error("the eBPF prefilter's {what}: {reason}")]
    Map { what: &'static str, reason: String },
    #[error("attaching the XDP prefilter to {interface}: {reason}")]
    XdpAttach { interface: String, reason: String },
    #[error("attaching the prefilter as a socket filter: {0}")]
    SocketAttach(String),
    #[error("the pass list has {0} protocols; the prefilter counts at most {1}")]
    TooManyProtocols(usize, u32),
}

impl PrefilterError {
    /// A missing capability (or another refusal by the kernel), not a lack of XDP support.
    pub fn is_permission(&self) -> bool {
        matches!(self, PrefilterError::Permission { .. })
    }
}

/// The error for a step the kernel refused: a permission error naming the
/// capabilities `needed` (and which of them this process lacks) when it
/// was EPERM, or EACCES from the verifier for want of one of them; else
/// `other(the error with its causes)`.
fn refused(
    e: &(dyn std::error::Error + 'static),
    what: &str,
    needed: &[Capability],
    other: impl FnOnce(String) -> PrefilterError,
) -> PrefilterError {
    let denied = match os_error(e) {
        Some(libc::EPERM) => true,
        // The verifier refuses what it allows only to privileged programs.
        Some(libc::EACCES) => capabilities::lacks_any(needed),
        _ => false,
    };
    if denied {
        PrefilterError::Permission {
            what: what.to_string(),
            needs: capabilities::explain(needed),
        }
    } else {
        other(describe(e))
    }
}

/// The OS error number somewhere in `e`'s chain of causes (aya puts it in a source).
fn os_error(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut next = Some(e);
    while let Some(cause) = next {
        if let Some(code) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
        {
            return Some(code);
        }
        next = cause.source();
    }
    None
}

/// Where the object is looked for when no path is given: next to the
/// binary, then the build tree's `target/bpf/`.
pub fn default_object_paths() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        paths.push(dir.join(OBJECT_NAME));
        // target/{debug,release}/otsensor → target/bpf/
        if let Some(target) = dir.parent() {
            paths.push(target.join("bpf").join(OBJECT_NAME));
        }
    }
    paths.push(PathBuf::from("target/bpf").join(OBJECT_NAME));
    paths
}

/// How the prefilter sits in front of the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    Detached,
    /// XDP, in this mode ("driver" or "generic").
    Xdp(&'static str),
    /// A socket filter on each capture socket (XDP was not available).
    SocketFilter,
}

/// Packets and bytes a protocol (or fixed class) passed and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProtocolCounts {
    pub name: &'static str,
    pub passed_packets: u64,
    pub passed_bytes: u64,
    pub dropped_packets: u64,
    pub dropped_bytes: u64,
}

#[repr(transparent)]
#[derive(Clone, Copy)]
struct Slot(Counter);

// SAFETY: Counter is repr(C), two u64s, no padding.
unsafe impl Pod for Slot {}

pub struct Prefilter {
    ebpf: Ebpf,
    /// Protocol id → name.
    names: Vec<&'static str>,
    /// What the port maps hold now, so that an update writes only changes.
    tcp: Vec<u8>,
    udp: Vec<u8>,
    ether_types: Vec<(u16, u8)>,
    attachment: Attachment,
    /// Why driver mode was refused when XDP runs in generic mode instead.
    refused_mode: Option<String>,
}

/// The pass list as the maps hold it: port → protocol id, ethertype → id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassTables {
    pub names: Vec<&'static str>,
    pub tcp: Vec<u8>,
    pub udp: Vec<u8>,
    pub ether_types: Vec<(u16, u8)>,
}

impl PassTables {
    /// Numbers the protocols of `signatures` from [`FIRST_LISTED`] and lays
    /// out their ports and ethertypes. A port claimed by two protocols goes
    /// to the first (the registry's order).
    pub fn from_signatures(signatures: &[WireSignature]) -> Result<PassTables, PrefilterError> {
        let listed = signatures.len() + usize::from(FIRST_LISTED);
        if listed > MAX_PROTOCOLS as usize {
            return Err(PrefilterError::TooManyProtocols(listed, MAX_PROTOCOLS));
        }
        let mut names: Vec<&'static str> = class::NAMES.to_vec();
        names.resize(usize::from(FIRST_LISTED), "reserved");
        let mut tables = PassTables {
            names,
            tcp: vec![NOT_LISTED; PORTS as usize],
            udp: vec![NOT_LISTED; PORTS as usize],
            ether_types: Vec::new(),
        };
        for signature in signatures {
            let id = tables.names.len() as u8;
            tables.names.push(signature.protocol.name());
            for &port in &signature.tcp_ports {
                claim(&mut tables.tcp[usize::from(port)], id);
            }
            for &port in &signature.udp_ports {
                claim(&mut tables.udp[usize::from(port)], id);
            }
            for &ether_type in &signature.ether_types {
                if !tables.ether_types.iter().any(|&(e, _)| e == ether_type) {
                    tables.ether_types.push((ether_type, id));
                }
            }
        }
        Ok(tables)
    }

    /// The pass list of a run: the decoders' registered ports and
    /// ethertypes, then `extra` (the policy's ports, `--pass-port`).
    pub fn with_extra(
        signatures: &[WireSignature],
        extra: &[PassPort],
    ) -> Result<PassTables, PrefilterError> {
        let mut tables = PassTables::from_signatures(signatures)?;
        for port in extra {
            tables.add_port(port)?;
        }
        Ok(tables)
    }

    /// Adds a port: for its protocol (e.g. Modbus on 5020, taking the port
    /// over from any other), or, with none named, as `extra` where no
    /// protocol has it yet.
    pub fn add_port(&mut self, port: &PassPort) -> Result<(), PrefilterError> {
        let name = port.protocol.map_or(EXTRA, |p| p.name());
        let id = match self.names.iter().position(|&n| n == name) {
            Some(at) => at as u8,
            None if self.names.len() < MAX_PROTOCOLS as usize => {
                self.names.push(name);
                (self.names.len() - 1) as u8
            }
            None => {
                return Err(PrefilterError::TooManyProtocols(
                    self.names.len() + 1,
                    MAX_PROTOCOLS,
                ));
            }
        };
        let table = if port.tcp {
            &mut self.tcp
        } else {
            &mut self.udp
        };
        let slot = &mut table[usize::from(port.port)];
        if port.protocol.is_some() {
            *slot = id;
        } else {
            claim(slot, id);
        }
        Ok(())
    }

    /// Listed TCP ports, UDP ports and ethertypes.
    pub fn sizes(&self) -> (usize, usize, usize) {
        let listed = |t: &[u8]| t.iter().filter(|&&id| id != NOT_LISTED).count();
        (listed(&self.tcp), listed(&self.udp), self.ether_types.len())
    }
}

/// The counter name of ports listed without a protocol.
pub const EXTRA: &str = "extra";

fn claim(slot: &mut u8, id: u8) {
    if *slot == NOT_LISTED {
        *slot = id;
    }
}

impl Prefilter {
    /// Loads the object at `path`, or the first found of [`default_object_paths`].
    pub fn load(path: Option<&Path>) -> Result<Prefilter, PrefilterError> {
        let path = match path {
            Some(p) if p.is_file() => p.to_path_buf(),
            Some(p) => return Err(PrefilterError::NotBuilt(vec![p.to_path_buf()])),
            None => {
                let candidates = default_object_paths();
                match candidates.iter().find(|p| p.is_file()) {
                    Some(p) => p.clone(),
                    None => return Err(PrefilterError::NotBuilt(candidates)),
                }
            }
        };
        let ebpf = Ebpf::load_file(&path).map_err(|e| {
            refused(
                &e,
                "loading the eBPF prefilter's maps",
                &[capabilities::bpf()],
                |reason| PrefilterError::Load {
                    path: path.display().to_string(),
                    reason,
                },
            )
        })?;
        Ok(Prefilter {
            ebpf,
            names: Vec::new(),
            tcp: vec![NOT_LISTED; PORTS as usize],
            udp: vec![NOT_LISTED; PORTS as usize],
            ether_types: Vec::new(),
            attachment: Attachment::Detached,
            refused_mode: None,
        })
    }

    /// Makes the maps hold `tables`, writing only what changed; the program
    /// sees the new list from its next packet on. A protocol keeps the
    /// counter slot it had under an earlier list, so that its counts go on.
    pub fn set_pass_list(&mut self, tables: &PassTables) -> Result<(), PrefilterError> {
        let slots = tables
            .names
            .iter()
            .map(|name| self.slot_of(name))
            .collect::<Result<Vec<u8>, _>>()?;
        let slot = |id: u8| slots[usize::from(id)];
        for (name, current, wanted) in [
            ("TCP_PORTS", &mut self.tcp, &tables.tcp),
            ("UDP_PORTS", &mut self.udp, &tables.udp),
        ] {
            let map = self.ebpf.map_mut(name).ok_or(PrefilterError::Map {
                what: "port map",
                reason: format!("{name} missing from the object"),
            })?;
            let mut array: Array<&mut MapData, u8> =
                Array::try_from(map).map_err(map_error("port map"))?;
            for port in 0..PORTS {
                let at = port as usize;
                let wanted = slot(wanted[at]);
                if current[at] != wanted {
                    array.set(port, wanted, 0).map_err(map_error("port map"))?;
                    current[at] = wanted;
                }
            }
        }
        let map = self
            .ebpf
            .map_mut("ETHER_TYPES")
            .ok_or(PrefilterError::Map {
                what: "ethertype map",
                reason: "ETHER_TYPES missing from the object".into(),
            })?;
        let mut ether_types: HashMap<&mut MapData, u16, u8> =
            HashMap::try_from(map).map_err(map_error("ethertype map"))?;
        for &(ether_type, _) in &self.ether_types {
            if !tables.ether_types.iter().any(|&(e, _)| e == ether_type) {
                ether_types
                    .remove(&ether_type)
                    .map_err(map_error("ethertype map"))?;
            }
        }
        let wanted: Vec<(u16, u8)> = tables
            .ether_types
            .iter()
            .map(|&(ether_type, id)| (ether_type, slot(id)))
            .collect();
        for &(ether_type, id) in &wanted {
            ether_types
                .insert(ether_type, id, 0)
                .map_err(map_error("ethertype map"))?;
        }
        self.ether_types = wanted;
        Ok(())
    }

    /// The counter slot of `name`: the one it had, or the next free one.
    fn slot_of(&mut self, name: &'static str) -> Result<u8, PrefilterError> {
        if let Some(at) = self.names.iter().position(|&n| n == name) {
            return Ok(at as u8);
        }
        if self.names.len() >= MAX_PROTOCOLS as usize {
            return Err(PrefilterError::TooManyProtocols(
                self.names.len() + 1,
                MAX_PROTOCOLS,
            ));
        }
        self.names.push(name);
        Ok((self.names.len() - 1) as u8)
    }

    /// Attaches the XDP program to `interface`: in `mode`, or (`None`) in
    /// driver mode where the driver has it, generic mode otherwise.
    pub fn attach_xdp(
        &mut self,
        interface: &Interface,
        mode: Option<XdpMode>,
    ) -> Result<(), PrefilterError> {
        let fail = |reason: String| PrefilterError::XdpAttach {
            interface: interface.name.clone(),
            reason,
        };
        let program: &mut Xdp = self
            .ebpf
            .program_mut(XDP_PROGRAM)
            .ok_or_else(|| fail(format!("no program {XDP_PROGRAM} in the object")))?
            .try_into()
            .map_err(|e| fail(format!("{e}")))?;
        program.load().map_err(|e| {
            refused(
                &e,
                "loading the XDP program",
                &[capabilities::bpf(), capabilities::perfmon(), CAP_NET_ADMIN],
                fail,
            )
        })?;
        let modes: &[(XdpMode, &'static str)] = match mode {
            Some(XdpMode::Skb) => &[(XdpMode::Skb, "generic")],
            Some(m) => &[(m, "driver")],
            None => &[(XdpMode::Driver, "driver"), (XdpMode::Skb, "generic")],
        };
        let what = format!("attaching XDP to {}", interface.name);
        let mut last = String::new();
        for &(mode, name) in modes {
            match program.attach(&interface.name, mode) {
                Ok(_) => {
                    self.attachment = Attachment::Xdp(name);
                    // Why an earlier mode was refused (driver mode, before generic).
                    self.refused_mode = (!last.is_empty()).then_some(last);
                    return Ok(());
                }
                // Without the capability no mode can work: say so, not "XDP not available".
                Err(e) if os_error(&e) == Some(libc::EPERM) => {
                    return Err(PrefilterError::Permission {
                        what,
                        needs: capabilities::explain(&[CAP_NET_ADMIN]),
                    });
                }
                // Drivers refuse XDP on frames larger than a page (veth, virtio-net).
                Err(e) if os_error(&e) == Some(libc::ERANGE) => {
                    last = format!("{name} mode: the MTU is too large for XDP in this driver");
                }
                Err(e) => last = format!("{name} mode: {}", describe(&e)),
            }
        }
        Err(fail(last))
    }

    /// Attaches the same decision as a socket filter to each capture socket.
    pub fn attach_socket_filters(
        &mut self,
        sockets: &[BorrowedFd<'_>],
    ) -> Result<(), PrefilterError> {
        let fail = |e: &dyn std::fmt::Display| PrefilterError::SocketAttach(e.to_string());
        let program: &mut SocketFilter = self
            .ebpf
            .program_mut(SOCKET_PROGRAM)
            .ok_or_else(|| fail(&format!("no program {SOCKET_PROGRAM} in the object")))?
            .try_into()
            .map_err(|e| fail(&e))?;
        program.load().map_err(|e| {
            refused(
                &e,
                "loading the socket filter",
                &[capabilities::bpf(), capabilities::perfmon()],
                PrefilterError::SocketAttach,
            )
        })?;
        for socket in sockets {
            program.attach(socket).map_err(|e| fail(&describe(&e)))?;
        }
        self.attachment = Attachment::SocketFilter;
        Ok(())
    }

    pub fn attachment(&self) -> Attachment {
        self.attachment
    }

    /// Why driver mode was refused, when `attach_xdp` settled for generic mode.
    pub fn refused_mode(&self) -> Option<&str> {
        self.refused_mode.as_deref()
    }

    /// The counters, summed over CPUs, for every protocol or class that saw a packet.
    pub fn counts(&self) -> Result<Vec<ProtocolCounts>, PrefilterError> {
        let map = self.ebpf.map("COUNTERS").ok_or(PrefilterError::Map {
            what: "counter map",
            reason: "COUNTERS missing from the object".into(),
        })?;
        let counters: PerCpuArray<&MapData, Slot> =
            PerCpuArray::try_from(map).map_err(map_error("counter map"))?;
        let mut counts = Vec::new();
        for id in 0..MAX_PROTOCOLS {
            let mut entry = ProtocolCounts {
                name: self.names.get(id as usize).copied().unwrap_or("unknown"),
                ..ProtocolCounts::default()
            };
            for (verdict, (packets, bytes)) in [
                (0, (&mut entry.passed_packets, &mut entry.passed_bytes)),
                (1, (&mut entry.dropped_packets, &mut entry.dropped_bytes)),
            ] {
                let per_cpu = counters
                    .get(&(id * 2 + verdict), 0)
                    .map_err(map_error("counter map"))?;
                for slot in per_cpu.iter() {
                    *packets += slot.0.packets;
                    *bytes += slot.0.bytes;
                }
            }
            if entry.passed_packets + entry.dropped_packets > 0 {
                counts.push(entry);
            }
        }
        Ok(counts)
    }

    /// Detaches the programs (also what dropping does).
    pub fn detach(self) {
        drop(self);
    }
}

fn map_error<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> PrefilterError {
    move |e| PrefilterError::Map {
        what,
        reason: e.to_string(),
    }
}

/// Lines of a verifier log kept in an error message (its end says why).
const VERIFIER_LINES: usize = 8;

/// An aya error with its causes (the verifier's or the kernel's reason),
/// a long verifier log cut to its last lines.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > VERIFIER_LINES + 1 {
        let tail = &lines[lines.len() - VERIFIER_LINES..];
        text = format!(
            "{}\n  [… verifier log cut …]\n{}",
            lines[0],
            tail.join("\n")
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Protocol;
    use crate::protocols::{LLC, wire_signatures};

    #[test]
    fn the_registry_lays_out_ports_and_ethertypes_by_protocol_id() {
        let tables = PassTables::from_signatures(&wire_signatures()).unwrap();
        let modbus = tables.tcp[502];
        assert!(modbus >= FIRST_LISTED);
        assert_eq!(tables.names[usize::from(modbus)], Protocol::Modbus.name());
        assert_eq!(tables.names[usize::from(tables.udp[47808])], "bacnet");
        assert_eq!(tables.tcp[47808], NOT_LISTED, "BACnet is UDP only");
        assert_eq!(tables.tcp[5001], NOT_LISTED);
        let arp = tables
            .ether_types
            .iter()
            .find(|&&(e, _)| e == 0x0806)
            .unwrap()
            .1;
        assert_eq!(tables.names[usize::from(arp)], "arp");
        assert!(tables.ether_types.iter().any(|&(e, _)| e == LLC));
        assert!(tables.names.len() <= MAX_PROTOCOLS as usize);
    }

    #[test]
    fn an_extra_port_joins_its_protocol_and_an_unnamed_one_takes_no_port_over() {
        let extra = ["tcp/5020=modbus", "tcp/80", "udp/9999", "tcp/20000=modbus"]
            .map(|t| PassPort::parse(t).unwrap());
        let tables = PassTables::with_extra(&wire_signatures(), &extra).unwrap();
        assert_eq!(tables.tcp[5020], tables.tcp[502]);
        assert_eq!(tables.names[usize::from(tables.tcp[80])], "http");
        assert_eq!(tables.names[usize::from(tables.udp[9999])], EXTRA);
        assert_eq!(
            tables.tcp[20000], tables.tcp[502],
            "named: taken over from DNP3"
        );
        assert_eq!(tables.names[usize::from(tables.udp[20000])], "dnp3");
        let plain = PassTables::from_signatures(&wire_signatures()).unwrap();
        let (tcp, udp, ether) = plain.sizes();
        assert_eq!(tables.sizes(), (tcp + 1, udp + 1, ether));
    }

    #[test]
    fn a_missing_object_says_how_to_build_it() {
        let err = Prefilter::load(Some(Path::new("/nonexistent/otsensor-prefilter.o")))
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains("cargo xtask build-ebpf"), "{text}");
        assert!(text.contains("/nonexistent/otsensor-prefilter.o"), "{text}");
    }
}
