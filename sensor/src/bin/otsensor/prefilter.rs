//! `otsensor live --xdp`: loads the eBPF prefilter, fills its pass list from
//! the decoders' registry (plus `--pass-port`), and attaches it — XDP on the
//! interface, or a socket filter on each capture socket where XDP is not
//! available (said on stderr).

use std::os::fd::BorrowedFd;

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

/// An extra port for the pass list: `tcp/5020` or `udp/20000=dnp3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassPort {
    pub tcp: bool,
    pub port: u16,
    pub name: &'static str,
}

pub fn parse_pass_port(text: &str) -> Result<PassPort, String> {
    let (spec, name) = match text.split_once('=') {
        Some((spec, name)) => (spec, Some(name)),
        None => (text, None),
    };
    let (transport, port) = spec
        .split_once('/')
        .ok_or_else(|| format!("{text:?}: expected tcp/PORT or udp/PORT[=PROTOCOL]"))?;
    let tcp = match transport {
        "tcp" => true,
        "udp" => false,
        other => return Err(format!("{other:?}: expected tcp or udp")),
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{port:?}: not a port number"))?;
    // Names must live as long as the counters that show them.
    let name: &'static str = match name {
        Some(n) => match wire_signatures().iter().find(|s| s.protocol.name() == n) {
            Some(s) => s.protocol.name(),
            None => {
                return Err(format!(
                    "{n:?}: not a decoded protocol (see `otsensor rules names`)"
                ));
            }
        },
        None => "extra",
    };
    Ok(PassPort { tcp, port, name })
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
}

impl PrefilterSetup {
    pub fn describe(&self) -> String {
        match self.prefilter.attachment() {
            Attachment::Xdp(mode) => {
                format!("XDP ({mode} mode), bulk traffic dropped in the kernel")
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

pub fn setup(
    args: &LiveArgs,
    interface: &Interface,
    sockets: &[Option<libc::c_int>],
) -> Result<PrefilterSetup, PrefilterError> {
    let mut prefilter = Prefilter::load(args.xdp_object.as_deref())?;
    let mut tables = PassTables::from_signatures(&wire_signatures())?;
    for extra in &args.pass_port {
        tables.add_port(extra.tcp, extra.port, extra.name);
    }
    prefilter.set_pass_list(&tables)?;
    use otsensor::capture::live::prefilter::XdpMode as Mode;
    let xdp = match args.xdp_mode {
        XdpMode::Auto => Some(None),
        XdpMode::Native => Some(Some(Mode::Driver)),
        XdpMode::Skb => Some(Some(Mode::Skb)),
        XdpMode::Socket => None,
    };
    if let Some(mode) = xdp {
        match prefilter.attach_xdp(interface, mode) {
            Ok(()) => return Ok(PrefilterSetup { prefilter }),
            Err(e) if args.xdp_mode == XdpMode::Auto => {
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
    Ok(PrefilterSetup { prefilter })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_ports_name_a_transport_a_port_and_maybe_a_protocol() {
        assert_eq!(
            parse_pass_port("tcp/5020=modbus"),
            Ok(PassPort {
                tcp: true,
                port: 5020,
                name: "modbus"
            })
        );
        assert_eq!(
            parse_pass_port("udp/9999"),
            Ok(PassPort {
                tcp: false,
                port: 9999,
                name: "extra"
            })
        );
        assert!(
            parse_pass_port("sctp/1")
                .unwrap_err()
                .contains("tcp or udp")
        );
        assert!(
            parse_pass_port("tcp/70000")
                .unwrap_err()
                .contains("not a port")
        );
        assert!(
            parse_pass_port("tcp/1=nope")
                .unwrap_err()
                .contains("not a decoded protocol")
        );
    }
}
