//! The zones and conduits a policy declares, as plain data: written into
//! `conduits.json` and the store, so that a report can set what was declared
//! beside what was observed without the policy files at hand.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::analysis::inventory::{format_mac, parse_mac};
use crate::analysis::policy::{Allow, Conduit, Policy, Principal, Zone};
use crate::event::FunctionClass;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredPolicy {
    pub zones: Vec<DeclaredZone>,
    pub conduits: Vec<DeclaredConduit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredZone {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub cidrs: Vec<String>,
    #[serde(default)]
    pub macs: Vec<String>,
    /// Target security level, SL-T 1–4.
    pub security_level: u8,
    #[serde(default)]
    pub purdue_level: Option<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredConduit {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub zones: [String; 2],
    /// The zone that may open connections; either when absent.
    #[serde(default)]
    pub initiator: Option<String>,
    #[serde(default)]
    pub allow: Vec<DeclaredAllow>,
}

/// One permitted kind of traffic, as names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredAllow {
    pub protocols: Vec<String>,
    /// All classes when absent.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    #[serde(default)]
    pub function_codes: Option<Vec<u32>>,
    /// IPs, CIDRs or `role:NAME` that may write or control; anyone when absent.
    #[serde(default)]
    pub writers: Option<Vec<String>>,
}

impl DeclaredAllow {
    fn from_allow(allow: &Allow) -> DeclaredAllow {
        DeclaredAllow {
            protocols: allow
                .protocols
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
            classes: allow
                .classes
                .map(|c| c.iter().map(|c| c.name().to_string()).collect()),
            function_codes: allow.function_codes.clone(),
            writers: allow
                .writers
                .as_ref()
                .map(|writers| writers.iter().map(Principal::to_string).collect()),
        }
    }

    /// `modbus, s7comm: read, write (codes 3, 16; writers role:hmi)`.
    pub fn describe(&self) -> String {
        let mut text = self.protocols.join(", ");
        text.push_str(": ");
        match &self.classes {
            Some(classes) => text.push_str(&classes.join(", ")),
            None => text.push_str("all classes"),
        }
        let mut limits = Vec::new();
        if let Some(codes) = &self.function_codes {
            let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
            limits.push(format!("codes {}", codes.join(", ")));
        }
        if let Some(writers) = &self.writers {
            limits.push(format!("writers {}", writers.join(", ")));
        }
        if !limits.is_empty() {
            text.push_str(&format!(" ({})", limits.join("; ")));
        }
        text
    }

    /// Whether it lets `class` of `protocol` cross (function codes and writers aside).
    pub fn covers(&self, protocol: &str, class: &str) -> bool {
        self.protocols.iter().any(|p| p == protocol)
            && self
                .classes
                .as_ref()
                .is_none_or(|classes| classes.iter().any(|c| c == class))
    }
}

impl DeclaredConduit {
    fn from_conduit(conduit: &Conduit, policy: &Policy) -> DeclaredConduit {
        let name = |z: usize| policy.zones[z].name.clone();
        DeclaredConduit {
            name: conduit.name.clone(),
            description: conduit.description.clone(),
            zones: [name(conduit.zones[0]), name(conduit.zones[1])],
            initiator: conduit.initiator.map(name),
            allow: conduit
                .allow
                .iter()
                .map(DeclaredAllow::from_allow)
                .collect(),
        }
    }

    pub fn joins(&self, a: &str, b: &str) -> bool {
        (self.zones[0] == a && self.zones[1] == b) || (self.zones[0] == b && self.zones[1] == a)
    }

    /// Whether any allowance lets `class` of `protocol` cross.
    pub fn covers(&self, protocol: &str, class: &str) -> bool {
        self.allow.iter().any(|a| a.covers(protocol, class))
    }
}

impl DeclaredPolicy {
    pub fn from_policy(policy: &Policy) -> DeclaredPolicy {
        DeclaredPolicy {
            zones: policy
                .zones
                .iter()
                .map(|z| DeclaredZone {
                    name: z.name.clone(),
                    description: z.description.clone(),
                    cidrs: z.nets.iter().map(IpNet::to_string).collect(),
                    macs: z.macs.iter().map(format_mac).collect(),
                    security_level: z.security_level,
                    purdue_level: z.purdue_level,
                })
                .collect(),
            conduits: policy
                .conduits
                .iter()
                .map(|c| DeclaredConduit::from_conduit(c, policy))
                .collect(),
        }
    }

    pub fn zone(&self, name: &str) -> Option<&DeclaredZone> {
        self.zones.iter().find(|z| z.name == name)
    }

    pub fn conduit_between(&self, a: &str, b: &str) -> Option<&DeclaredConduit> {
        self.conduits.iter().find(|c| c.joins(a, b))
    }

    /// The declaration as a policy file (the schema of `rules/`), to be
    /// loaded again where the files are not at hand.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        #[derive(Serialize)]
        struct PolicyFile<'a> {
            zone: &'a [DeclaredZone],
            conduit: &'a [DeclaredConduit],
        }
        toml::to_string(&PolicyFile {
            zone: &self.zones,
            conduit: &self.conduits,
        })
    }

    /// A policy with these zones (and nothing else), to place addresses in
    /// them. Addresses that do not parse (a store written by hand) are left out.
    pub fn zone_lookup(&self) -> Policy {
        let zones = self
            .zones
            .iter()
            .map(|z| Zone {
                name: z.name.clone(),
                description: z.description.clone(),
                nets: z
                    .cidrs
                    .iter()
                    .filter_map(|c| {
                        c.parse::<IpNet>()
                            .ok()
                            .or_else(|| c.parse::<IpAddr>().ok().map(IpNet::from))
                    })
                    .collect(),
                macs: z.macs.iter().filter_map(|m| parse_mac(m)).collect(),
                security_level: z.security_level,
                purdue_level: z.purdue_level,
            })
            .collect();
        Policy {
            zones,
            ..Policy::default()
        }
    }
}

/// The function classes, by name, that change the process or the device.
pub fn is_acting(class: &str) -> bool {
    [
        FunctionClass::Write,
        FunctionClass::Control,
        FunctionClass::Program,
        FunctionClass::Firmware,
    ]
    .iter()
    .any(|c| c.name() == class)
}
