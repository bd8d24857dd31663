//! Ports the live prefilter must pass beyond the decoders' registered ones:
//! those a plant declares (`[prefilter] pass_ports`, `--pass-port`) and those
//! its rules name (`dst_port`), so that the traffic a rule looks for reaches
//! the sensor.

use std::fmt;

use super::{Policy, Rule};
use crate::event::Protocol;
use crate::protocols::wire_signatures;

/// A TCP or UDP port to pass, and the protocol it carries when known
/// (its packets are then counted under that protocol's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PassPort {
    pub tcp: bool,
    pub port: u16,
    pub protocol: Option<Protocol>,
}

impl PassPort {
    /// `tcp/5020`, `udp/20000=dnp3`.
    pub fn parse(text: &str) -> Result<PassPort, String> {
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
            .map_err(|_| format!("{port:?}: not a port number (0 to 65535)"))?;
        let protocol = match name {
            Some(n) => Some(Protocol::from_name(n).ok_or_else(|| {
                format!("{n:?}: not a decoded protocol (see `otsensor rules names`)")
            })?),
            None => None,
        };
        Ok(PassPort {
            tcp,
            port,
            protocol,
        })
    }
}

impl fmt::Display for PassPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = if self.tcp { "tcp" } else { "udp" };
        write!(f, "{transport}/{}", self.port)?;
        if let Some(p) = self.protocol {
            write!(f, "={}", p.name())?;
        }
        Ok(())
    }
}

impl Policy {
    /// Every port this policy asks the prefilter to pass: the declared
    /// `[prefilter] pass_ports`, then each rule's `dst_port` (and its
    /// `cleared_by` one) on the transports of the rule's protocols, both TCP
    /// and UDP when it names none. Sorted, without repeats.
    pub fn prefilter_ports(&self) -> Vec<PassPort> {
        let mut ports = self.pass_ports.clone();
        for rule in &self.rules {
            rule_ports(rule, &mut ports);
        }
        ports.sort();
        ports.dedup();
        ports
    }
}

fn rule_ports(rule: &Rule, out: &mut Vec<PassPort>) {
    let matchers = std::iter::once(&rule.matcher).chain(rule.cleared_by.iter().map(|c| &c.matcher));
    for matcher in matchers {
        let Some(dst_ports) = &matcher.dst_ports else {
            continue;
        };
        let protocols: Vec<Option<Protocol>> = match &matcher.protocols {
            Some(list) => list.iter().copied().map(Some).collect(),
            None => vec![None],
        };
        for &port in dst_ports {
            for &protocol in &protocols {
                let (tcp, udp) = protocol.map_or((true, true), transports);
                for (yes, tcp) in [(tcp, true), (udp, false)] {
                    if yes {
                        out.push(PassPort {
                            tcp,
                            port,
                            protocol,
                        });
                    }
                }
            }
        }
    }
}

/// Whether `protocol` is decoded over TCP and over UDP; both when the
/// registry has no port for it (it rides on another protocol, e.g. S7comm
/// on COTP), so that a port a rule names is never missed.
fn transports(protocol: Protocol) -> (bool, bool) {
    let signatures = wire_signatures();
    let Some(s) = signatures.iter().find(|s| s.protocol == protocol) else {
        return (true, true);
    };
    match (s.tcp_ports.is_empty(), s.udp_ports.is_empty()) {
        (true, true) => (true, true),
        (tcp_none, udp_none) => (!tcp_none, !udp_none),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::policy::{Source, load};

    fn policy(text: &str) -> Policy {
        load(&[Source {
            name: "plant.toml".into(),
            text: text.into(),
        }])
        .unwrap()
    }

    #[test]
    fn pass_ports_name_a_transport_a_port_and_maybe_a_protocol() {
        assert_eq!(
            PassPort::parse("tcp/5020=modbus"),
            Ok(PassPort {
                tcp: true,
                port: 5020,
                protocol: Some(Protocol::Modbus)
            })
        );
        assert_eq!(
            PassPort::parse("udp/9999"),
            Ok(PassPort {
                tcp: false,
                port: 9999,
                protocol: None
            })
        );
        assert!(
            PassPort::parse("sctp/1")
                .unwrap_err()
                .contains("tcp or udp")
        );
        assert!(
            PassPort::parse("tcp/70000")
                .unwrap_err()
                .contains("not a port")
        );
        assert!(
            PassPort::parse("tcp/1=nope")
                .unwrap_err()
                .contains("not a decoded protocol")
        );
        assert_eq!(
            PassPort::parse("udp/20000=dnp3").unwrap().to_string(),
            "udp/20000=dnp3"
        );
    }

    #[test]
    fn declared_ports_and_rule_ports_on_their_protocols_transports() {
        let p = policy(
            r#"
[prefilter]
pass_ports = ["tcp/5020=modbus", "udp/9999"]

[[rule]]
id = "PLANT-1"
title = "DNP3 on the plant's own port"
severity = "low"
match = { protocol = "dnp3", dst_port = 20001 }

[[rule]]
id = "PLANT-2"
title = "Anything to the historian's port"
severity = "low"
on = "flow"
match = { dst_port = 7000 }
"#,
        );
        let shown: Vec<String> = p.prefilter_ports().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            shown,
            [
                "udp/7000",
                "udp/9999",
                "udp/20001=dnp3",
                "tcp/5020=modbus",
                "tcp/7000",
                "tcp/20001=dnp3"
            ]
        );
    }

    #[test]
    fn the_default_pack_names_no_port() {
        assert!(Policy::default_pack().prefilter_ports().is_empty());
    }
}
