//! `otsensor live --xdp`: loads the eBPF prefilter, fills its pass list
//! (the decoders' registered ports and ethertypes, the ports the policy
//! names, `--pass-port`), and attaches it — XDP on the interface, or a
//! socket filter on each capture socket where XDP is not available (said on
//! stderr). SIGHUP re-reads the policy and rewrites the pass list in place.

use std::os::fd::BorrowedFd;

use std::path::PathBuf;

use otsensor::analysis::policy::{PassPort, Policy};
use otsensor::capture::live::Interface;
use otsensor::capture::live::prefilter::{
    Attachment, PassTables, Prefilter, PrefilterError, ProtocolCounts,
};
use otsensor::protocols::wire_signatures;
use serde::Serialize;

use crate::live::LiveArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum XdpMode {
    /// Driver (native) XDP where the driver has it, else generic; else the socket filter.
    Auto,
    /// Driver XDP only.
    Native,
    /// Generic (skb) XDP only.
    Skb,
    /// No XDP: the socket filter on each capture socket.
    Socket,
}

/// What the prefilter counted, for the statistics.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PrefilterStats {
    /// "xdp (driver)", "xdp (generic)" or "socket filter".
    pub attached: String,
    pub passed_packets: u64,
    pub dropped_packets: u64,
    pub dropped_bytes: u64,
    /// By protocol (or class of traffic not on the pass list) and verdict.
    pub protocols: Vec<ProtocolCounts>,
}

pub struct PrefilterSetup {
    prefilter: Prefilter,
    /// `--pass-port`, kept for the lists made on SIGHUP.
    cli_ports: Vec<PassPort>,
}

impl PrefilterSetup {
    pub fn describe(&self) -> String {
        match self.prefilter.attachment() {
            Attachment::Xdp(mode) => {
                let refused = match self.prefilter.refused_mode() {
                    Some(why) => format!("; not {why}"),
                    None => String::new(),
                };
                format!("XDP ({mode} mode{refused}), bulk traffic dropped in the kernel")
            }
            Attachment::SocketFilter => {
                "socket filter on each capture socket, bulk traffic dropped in the kernel".into()
            }
            Attachment::Detached => "not attached".into(),
        }
    }

    pub fn stats(&self) -> PrefilterStats {
        let attached = match self.prefilter.attachment() {
            Attachment::Xdp(mode) => format!("xdp ({mode})"),
            Attachment::SocketFilter => "socket filter".into(),
            Attachment::Detached => "detached".into(),
        };
        let protocols = match self.prefilter.counts() {
            Ok(counts) => counts,
            Err(e) => {
                eprintln!("otsensor: reading the prefilter's counters: {e}");
                Vec::new()
            }
        };
        PrefilterStats {
            attached,
            passed_packets: protocols.iter().map(|p| p.passed_packets).sum(),
            dropped_packets: protocols.iter().map(|p| p.dropped_packets).sum(),
            dropped_bytes: protocols.iter().map(|p| p.dropped_bytes).sum(),
            protocols,
        }
    }

    /// Detaches the prefilter from the interface or sockets.
    pub fn detach(self) {
        self.prefilter.detach();
    }
}

/// The pass list of `policy` with the command line's extra ports.
fn pass_tables(policy: &Policy, cli_ports: &[PassPort]) -> Result<PassTables, PrefilterError> {
    let mut extra = policy.prefilter_ports();
    extra.extend_from_slice(cli_ports);
    PassTables::with_extra(&wire_signatures(), &extra)
}

pub fn setup(
    args: &LiveArgs,
    policy: &Policy,
    interface: &Interface,
    sockets: &[Option<libc::c_int>],
) -> Result<PrefilterSetup, PrefilterError> {
    let mut prefilter = Prefilter::load(args.xdp_object.as_deref())?;
    prefilter.set_pass_list(&pass_tables(policy, &args.pass_port)?)?;
    let setup = |prefilter| PrefilterSetup {
        prefilter,
        cli_ports: args.pass_port.clone(),
    };
    use otsensor::capture::live::prefilter::XdpMode as Mode;
    let xdp = match args.xdp_mode {
        XdpMode::Auto => Some(None),
        XdpMode::Native => Some(Some(Mode::Driver)),
        XdpMode::Skb => Some(Some(Mode::Skb)),
        XdpMode::Socket => None,
    };
    if let Some(mode) = xdp {
        match prefilter.attach_xdp(interface, mode) {
            Ok(()) => return Ok(setup(prefilter)),
            // A missing capability is the operator's to fix, not a reason to fall back.
            Err(e) if args.xdp_mode == XdpMode::Auto && !e.is_permission() => {
                eprintln!(
                    "otsensor: XDP is not available here ({e}); using the socket filter instead"
                );
            }
            Err(e) => return Err(e),
        }
    }
    let fds: Option<Vec<BorrowedFd<'_>>> = sockets
        .iter()
        // SAFETY: the capture sockets stay open for as long as the capture runs.
        .map(|fd| fd.map(|fd| unsafe { BorrowedFd::borrow_raw(fd) }))
        .collect();
    let fds = fds.ok_or_else(|| {
        PrefilterError::SocketAttach(
            "the libpcap backend takes no socket filter: use --bpf, or the afpacket backend".into(),
        )
    })?;
    prefilter.attach_socket_filters(&fds)?;
    Ok(setup(prefilter))
}

/// Re-reads the policy at `paths` (SIGHUP) and rewrites the pass list from
/// it, without reloading the program. A policy with mistakes changes
/// nothing: they are printed (file:line:column) and the list stays.
pub fn reload(setup: &mut PrefilterSetup, paths: &[PathBuf]) {
    let policy = match crate::rules::read_policy(paths) {
        Ok(policy) => policy,
        Err(e) => {
            eprintln!(
                "otsensor: SIGHUP: the policy has mistakes; the prefilter's pass list stays as it was:\n{e}"
            );
            return;
        }
    };
    let tables = match pass_tables(&policy, &setup.cli_ports) {
        Ok(tables) => tables,
        Err(e) => {
            eprintln!("otsensor: SIGHUP: {e}; the prefilter's pass list stays as it was");
            return;
        }
    };
    match setup.prefilter.set_pass_list(&tables) {
        Ok(()) => {
            let (tcp, udp, ether_types) = tables.sizes();
            let named: Vec<String> = policy
                .prefilter_ports()
                .iter()
                .map(PassPort::to_string)
                .collect();
            eprintln!(
                "otsensor: SIGHUP: policy re-read; the prefilter passes {tcp} TCP ports, {udp} UDP ports \
                 and {ether_types} ethertypes (the policy's own: {}); the analysis keeps the rules it started with",
                if named.is_empty() {
                    "none".into()
                } else {
                    named.join(", ")
                }
            );
        }
        Err(e) => eprintln!("otsensor: SIGHUP: rewriting the prefilter's pass list: {e}"),
    }
}
