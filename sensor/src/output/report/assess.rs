//! Judging what was observed against what was declared: the status of each
//! zone pair (the conduit matrix), the insecure protocols seen, and which
//! requirements of the zones' target security levels the traffic
//! contradicts. `docs/report.md` gives the mapping and its reasoning.

use std::collections::BTreeMap;

use super::sr::{self, Requirement};
use crate::analysis::conduits::{
    DeclaredConduit, DeclaredPolicy, ObservedConduits, ProtocolCrossing, UNZONED, ZonePair,
};
use crate::analysis::policy::UNTRUSTED;
use crate::output::alerts::AlertRecord;

/// A zone pair's cell in the conduit matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Traffic crossed that no conduit permits.
    Violated,
    /// Traffic with addresses outside every declared zone (a gap in the policy).
    Unzoned,
    /// Only layer-2 housekeeping (ARP, LLDP, CDP) crossed: the zones share a
    /// broadcast domain, though nothing routable crossed.
    Adjacent,
    /// Traffic on a declared conduit, all of it permitted.
    Observed,
    /// A conduit is declared; nothing was seen on it.
    Allowed,
    /// Traffic inside one zone.
    Internal,
    Nothing,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Violated => "violated",
            Status::Unzoned => "unzoned",
            Status::Adjacent => "adjacent",
            Status::Observed => "observed",
            Status::Allowed => "allowed",
            Status::Internal => "internal",
            Status::Nothing => "·",
        }
    }
}

/// Whether a conduit lets a protocol cross.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Inside one zone, or an end outside every zone: no conduit applies.
    NotApplicable,
    /// Layer-2 housekeeping, which conduits do not list (see [`Status::Adjacent`]).
    Housekeeping,
    Yes,
    /// Some request classes are not allowed (listed).
    Partly(Vec<String>),
    No,
}

/// One zone pair, judged.
pub struct Verdict<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub pair: Option<&'a ZonePair>,
    pub conduit: Option<&'a DeclaredConduit>,
    pub status: Status,
    /// Why it is violated, readably.
    pub reasons: Vec<String>,
    /// Alerts about this boundary (evidence on SR 5.1/5.2), by rule.
    pub boundary_alerts: BTreeMap<&'a str, u64>,
    /// Both ends are declared zones (a conduit could join them).
    pub both_declared: bool,
}

impl Verdict<'_> {
    pub fn permission(&self, protocol: &ProtocolCrossing) -> Permission {
        if self.from == self.to || !self.both_declared {
            return Permission::NotApplicable;
        }
        if HOUSEKEEPING.contains(&protocol.protocol.as_str()) {
            return Permission::Housekeeping;
        }
        let Some(conduit) = self.conduit else {
            return Permission::No;
        };
        if !conduit
            .allow
            .iter()
            .any(|a| a.protocols.contains(&protocol.protocol))
        {
            return Permission::No;
        }
        let refused: Vec<String> = protocol
            .classes
            .keys()
            .filter(|class| !conduit.covers(&protocol.protocol, class))
            .cloned()
            .collect();
        if refused.is_empty() {
            Permission::Yes
        } else if refused.len() == protocol.classes.len() {
            Permission::No
        } else {
            Permission::Partly(refused)
        }
    }
}

/// The zones in report order: declared ones as the policy lists them, then
/// `untrusted` and `unzoned` when anything is in them.
pub fn zone_order(observed: &ObservedConduits) -> Vec<String> {
    let mut labels: Vec<String> = observed
        .declared
        .zones
        .iter()
        .map(|z| z.name.clone())
        .collect();
    for implicit in [UNTRUSTED, UNZONED] {
        let used = observed
            .pairs
            .iter()
            .any(|p| p.from == implicit || p.to == implicit)
            || observed
                .zones
                .iter()
                .any(|z| z.zone == implicit && !z.assets.is_empty());
        if used && !labels.iter().any(|l| l == implicit) {
            labels.push(implicit.to_string());
        }
    }
    // Zones a store recorded under an older policy.
    let mut extra: Vec<String> = observed
        .pairs
        .iter()
        .flat_map(|p| [&p.from, &p.to])
        .filter(|z| !labels.contains(z))
        .cloned()
        .collect();
    extra.sort();
    extra.dedup();
    labels.extend(extra);
    labels
}

/// Every ordered pair of zones, judged, in report order.
pub fn verdicts<'a>(
    observed: &'a ObservedConduits,
    alerts: &'a [AlertRecord],
    order: &'a [String],
) -> Vec<Verdict<'a>> {
    let mut all = Vec::new();
    for from in order {
        for to in order {
            all.push(judge(observed, alerts, from, to));
        }
    }
    all
}

fn judge<'a>(
    observed: &'a ObservedConduits,
    alerts: &'a [AlertRecord],
    from: &'a str,
    to: &'a str,
) -> Verdict<'a> {
    let declared = &observed.declared;
    let pair = observed
        .pair(from, to)
        .filter(|p| p.events > 0 || p.flows > 0);
    let both_declared = declared.zone(from).is_some() && declared.zone(to).is_some();
    let conduit = if from != to && both_declared {
        declared.conduit_between(from, to)
    } else {
        None
    };
    let mut boundary_alerts = BTreeMap::new();
    if from != to {
        for alert in alerts {
            // The policy engine's zone and conduit checks (docs/rules.md).
            let boundary = alert.rule.starts_with("OT-ZONE-");
            if boundary && alert.src.zone == from && alert.dst.zone == to {
                *boundary_alerts.entry(alert.rule.as_str()).or_default() += 1;
            }
        }
    }
    let mut verdict = Verdict {
        from,
        to,
        pair,
        conduit,
        status: Status::Nothing,
        reasons: Vec::new(),
        boundary_alerts,
        both_declared,
    };
    let Some(pair) = pair else {
        verdict.status = if conduit.is_some() {
            Status::Allowed
        } else {
            Status::Nothing
        };
        return verdict;
    };
    if from == to {
        verdict.status = Status::Internal;
        return verdict;
    }
    let declared_zone = |z: &str| declared.zone(z).is_some();
    if from == UNZONED || to == UNZONED || !(declared_zone(from) || declared_zone(to)) {
        verdict.status = Status::Unzoned;
        return verdict;
    }
    if from == UNTRUSTED || to == UNTRUSTED {
        verdict
            .reasons
            .push("traffic with public addresses outside every zone".into());
    } else if !both_declared {
        verdict.status = Status::Unzoned;
        return verdict;
    } else if conduit.is_none() {
        if routable(pair) {
            verdict.reasons.push("no conduit joins these zones".into());
        }
    } else {
        verdict.reasons.extend(conduit_reasons(&verdict, pair));
    }
    if !verdict.boundary_alerts.is_empty() {
        let rules: Vec<String> = verdict
            .boundary_alerts
            .iter()
            .map(|(rule, n)| format!("{rule} ×{n}"))
            .collect();
        verdict
            .reasons
            .push(format!("boundary alerts: {}", rules.join(", ")));
    }
    verdict.status = if !verdict.reasons.is_empty() {
        Status::Violated
    } else if routable(pair) {
        Status::Observed
    } else {
        Status::Adjacent
    };
    verdict
}

/// Whether anything beyond layer-2 housekeeping crossed.
fn routable(pair: &ZonePair) -> bool {
    pair.protocols
        .iter()
        .any(|p| !HOUSEKEEPING.contains(&p.protocol.as_str()) && (p.events > 0 || p.flows > 0))
        || !pair.services.is_empty()
        || pair.other_services.flows > 0
}

/// The layer-2 protocols of every LAN, which conduits do not list: seen
/// between two zones, they show a shared broadcast domain, not a conduit use.
const HOUSEKEEPING: &[&str] = &["arp", "lldp", "cdp"];

/// What crossed a declared conduit that it does not permit.
fn conduit_reasons(verdict: &Verdict, pair: &ZonePair) -> Vec<String> {
    let mut reasons = Vec::new();
    let conduit = verdict.conduit.expect("judged only with a conduit");
    let mut refused = Vec::new();
    for protocol in &pair.protocols {
        match verdict.permission(protocol) {
            Permission::No => refused.push(protocol.protocol.clone()),
            Permission::Partly(classes) => {
                refused.push(format!("{} ({})", protocol.protocol, classes.join(", ")))
            }
            Permission::Yes | Permission::NotApplicable | Permission::Housekeeping => {}
        }
    }
    refused.extend(pair.services.iter().map(|s| s.service.clone()));
    if pair.other_services.flows > 0 {
        refused.push(format!(
            "{} more undecoded flows",
            pair.other_services.flows
        ));
    }
    if !refused.is_empty() {
        reasons.push(format!("not permitted: {}", refused.join(", ")));
    }
    // Connections, not layer-2 chatter, say who initiates.
    let connections: u64 = pair
        .protocols
        .iter()
        .filter(|p| !LAYER2.contains(&p.protocol.as_str()))
        .map(|p| p.flows.max(p.requests))
        .chain(pair.services.iter().map(|s| s.flows))
        .sum::<u64>()
        + pair.other_services.flows;
    if let Some(initiator) = &conduit.initiator
        && initiator != verdict.from
        && connections > 0
    {
        reasons.push(format!(
            "opened from {}; only {initiator} may initiate",
            verdict.from
        ));
    }
    reasons
}

/// Protocols with no authentication of the sender and no integrity protection.
const UNAUTHENTICATED: &[&str] = &[
    "modbus",
    "dnp3",
    "iec104",
    "s7comm",
    "enip",
    "cip",
    "bacnet",
    "mms",
    "goose",
    "sv",
    "profinet_dcp",
    "profinet_rt",
    "profinet_io",
];

/// Protocols of layer 2 only: seen between two zones, they share a broadcast domain.
const LAYER2: &[&str] = &[
    "arp",
    "lldp",
    "cdp",
    "goose",
    "sv",
    "profinet_dcp",
    "profinet_rt",
];

/// What an observation is, for the insecure-protocol list and the SL-T mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Observation {
    CleartextCredentials,
    SnmpCommunity,
    CleartextSession,
    OpcuaSecurityNone,
    UnauthenticatedCommands,
    UnauthenticatedTraffic,
    NoConduit,
    NotPermitted,
    Untrusted,
    Layer2Adjacency,
}

/// Which requirements an observation across a zone's boundary contradicts,
/// from which SL-T, and why (`docs/report.md` explains each).
pub const MAPPING: &[(Observation, &str, u8, &str)] = &[
    (
        Observation::CleartextCredentials,
        "SR 1.5",
        1,
        "authenticators cross the boundary unprotected",
    ),
    (
        Observation::CleartextCredentials,
        "SR 4.1",
        1,
        "a credential is information that needs read permission, and anyone on the path can read it",
    ),
    (
        Observation::CleartextCredentials,
        "SR 1.1 RE 1",
        2,
        "whoever reads the credential can log in as its owner: the login no longer identifies one user",
    ),
    (
        Observation::SnmpCommunity,
        "SR 1.2",
        2,
        "a community string is a shared password, not device authentication",
    ),
    (
        Observation::CleartextSession,
        "SR 3.8",
        2,
        "sessions in clear text can be hijacked or replayed",
    ),
    (
        Observation::CleartextSession,
        "SR 4.1 RE 2",
        4,
        "the session crosses the boundary unencrypted",
    ),
    (
        Observation::OpcuaSecurityNone,
        "SR 1.2",
        2,
        "with SecurityPolicy None neither application proves its identity",
    ),
    (
        Observation::OpcuaSecurityNone,
        "SR 3.1 RE 1",
        3,
        "messages are neither signed nor encrypted",
    ),
    (
        Observation::UnauthenticatedCommands,
        "SR 1.2",
        2,
        "the device obeys write and control requests from any host that reaches it: the sender is not authenticated",
    ),
    (
        Observation::UnauthenticatedCommands,
        "SR 2.1 RE 1",
        2,
        "authorization cannot be enforced for a sender whose identity is not established",
    ),
    (
        Observation::UnauthenticatedCommands,
        "SR 3.1 RE 1",
        3,
        "commands carry no cryptographic integrity protection",
    ),
    (
        Observation::UnauthenticatedTraffic,
        "SR 3.1 RE 1",
        3,
        "process data crosses with no cryptographic integrity protection",
    ),
    (
        Observation::UnauthenticatedTraffic,
        "SR 4.1 RE 2",
        4,
        "process data crosses the boundary unencrypted",
    ),
    (
        Observation::NoConduit,
        "SR 5.1",
        1,
        "the zones are not segmented: traffic crosses where no conduit is declared",
    ),
    (
        Observation::NoConduit,
        "SR 5.2",
        1,
        "the boundary lets through traffic nobody declared",
    ),
    (
        Observation::NoConduit,
        "SR 5.2 RE 1",
        2,
        "undeclared traffic was not denied",
    ),
    (
        Observation::NotPermitted,
        "SR 5.2 RE 1",
        2,
        "traffic the conduit does not allow crossed: the boundary does not deny by default",
    ),
    (
        Observation::Untrusted,
        "SR 1.13 RE 1",
        2,
        "no conduit can approve traffic with an untrusted network, yet it happened",
    ),
    (
        Observation::Untrusted,
        "SR 5.1 RE 2",
        3,
        "the zone talks to networks outside the control system",
    ),
    (
        Observation::Layer2Adjacency,
        "SR 5.1",
        1,
        "hosts of both zones reach each other at layer 2 (one broadcast domain): nothing between them can filter",
    ),
];

/// An insecure protocol seen between two zones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insecure {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub kind: Observation,
    pub finding: String,
    /// PDUs (or flows) that show it.
    pub count: u64,
    pub crosses: bool,
}

/// A requirement one zone's SL-T makes that the traffic contradicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contradiction {
    pub requirement: &'static Requirement,
    /// Why each kind of evidence contradicts it.
    pub why: Vec<&'static str>,
    /// What showed it, one line per zone pair and protocol.
    pub evidence: Vec<String>,
}

/// One declared zone's contradicted requirements, by SR order.
pub struct ZoneContradictions {
    pub zone: String,
    pub security_level: u8,
    pub contradictions: Vec<Contradiction>,
}

/// The insecure protocols seen: across zones first, then by zone order.
pub fn insecure(verdicts: &[Verdict]) -> Vec<Insecure> {
    let mut found = Vec::new();
    for v in verdicts {
        let Some(pair) = v.pair else { continue };
        for p in &pair.protocols {
            let mut add = |kind, finding: String, count: u64| {
                if count > 0 {
                    found.push(Insecure {
                        from: v.from.to_string(),
                        to: v.to.to_string(),
                        protocol: p.protocol.clone(),
                        kind,
                        finding,
                        count,
                        crosses: v.from != v.to,
                    })
                }
            };
            let note = |name: &str| p.security.get(name).copied().unwrap_or(0);
            add(
                Observation::CleartextCredentials,
                "cleartext credentials".into(),
                note("cleartext_credentials"),
            );
            add(
                Observation::SnmpCommunity,
                "SNMP v1: community string in clear text, no encryption".into(),
                note("snmp_v1"),
            );
            add(
                Observation::SnmpCommunity,
                "SNMP v2c: community string in clear text, no encryption".into(),
                note("snmp_v2c"),
            );
            add(
                Observation::OpcuaSecurityNone,
                "OPC UA SecurityPolicy None: not signed, not encrypted".into(),
                note("opcua_security_none"),
            );
            let session = match p.protocol.as_str() {
                "telnet" => Some("Telnet: remote login in clear text"),
                "ftp" => Some("FTP: logins and files in clear text"),
                "http" => Some("HTTP: web traffic without TLS"),
                "mqtt" => Some("MQTT without TLS"),
                _ => None,
            };
            if let Some(finding) = session {
                add(Observation::CleartextSession, finding.into(), p.events);
            }
            let authenticated = note("dnp3_secure_authentication") > 0;
            if v.from != v.to && UNAUTHENTICATED.contains(&p.protocol.as_str()) && !authenticated {
                let acting = p.acting_requests();
                if acting > 0 {
                    add(
                        Observation::UnauthenticatedCommands,
                        "write/control requests without authentication".into(),
                        acting,
                    );
                } else {
                    add(
                        Observation::UnauthenticatedTraffic,
                        "no authentication or integrity protection".into(),
                        p.events,
                    );
                }
            }
        }
    }
    found.sort_by_key(|f| !f.crosses);
    found
}

/// The requirements each declared zone's SL-T makes that the traffic across
/// its boundary contradicts, with the evidence.
pub fn contradictions(
    declared: &DeclaredPolicy,
    verdicts: &[Verdict],
    insecure: &[Insecure],
) -> Vec<ZoneContradictions> {
    // (observation, zone pair, evidence) for everything crossing a boundary.
    let mut seen: Vec<(Observation, &str, &str, String)> = Vec::new();
    for f in insecure.iter().filter(|f| f.crosses) {
        let evidence = format!(
            "{} → {}: {} ({}, {})",
            f.from, f.to, f.finding, f.protocol, f.count
        );
        // Commands are unauthenticated traffic too.
        if f.kind == Observation::UnauthenticatedCommands {
            seen.push((
                Observation::UnauthenticatedTraffic,
                &f.from,
                &f.to,
                evidence.clone(),
            ));
        }
        seen.push((f.kind, &f.from, &f.to, evidence));
    }
    for v in verdicts.iter().filter(|v| v.from != v.to) {
        let Some(pair) = v.pair else { continue };
        let l2: Vec<&str> = pair
            .protocols
            .iter()
            .map(|p| p.protocol.as_str())
            .filter(|p| LAYER2.contains(p))
            .collect();
        if !l2.is_empty() && v.both_declared {
            seen.push((
                Observation::Layer2Adjacency,
                v.from,
                v.to,
                format!("{} → {}: {}", v.from, v.to, l2.join(", ")),
            ));
        }
        if v.status != Status::Violated {
            continue;
        }
        let what: Vec<&str> = pair
            .protocols
            .iter()
            .map(|p| p.protocol.as_str())
            .filter(|p| !HOUSEKEEPING.contains(p))
            .chain(pair.services.iter().map(|s| s.service.as_str()))
            .collect();
        let what = what.join(", ");
        let kind = if v.from == UNTRUSTED || v.to == UNTRUSTED {
            Observation::Untrusted
        } else if v.conduit.is_none() {
            Observation::NoConduit
        } else {
            Observation::NotPermitted
        };
        let detail = match kind {
            Observation::NotPermitted => v.reasons.join("; "),
            _ => what,
        };
        seen.push((
            kind,
            v.from,
            v.to,
            format!("{} → {}: {detail}", v.from, v.to),
        ));
    }
    let mut zones = Vec::new();
    for zone in &declared.zones {
        let mut by_sr: BTreeMap<(u32, u32, u32, String), Contradiction> = BTreeMap::new();
        for (kind, from, to, evidence) in &seen {
            if *from != zone.name && *to != zone.name {
                continue;
            }
            for (mapped, id, from_sl, why) in MAPPING {
                if mapped != kind || zone.security_level < *from_sl {
                    continue;
                }
                let requirement =
                    sr::find(id).expect("the mapping cites listed requirements (tested)");
                let entry = by_sr.entry(sr::order(id)).or_insert_with(|| Contradiction {
                    requirement,
                    why: Vec::new(),
                    evidence: Vec::new(),
                });
                if !entry.why.contains(why) {
                    entry.why.push(why);
                }
                if !entry.evidence.contains(evidence) {
                    entry.evidence.push(evidence.clone());
                }
            }
        }
        if !by_sr.is_empty() {
            zones.push(ZoneContradictions {
                zone: zone.name.clone(),
                security_level: zone.security_level,
                contradictions: by_sr.into_values().collect(),
            });
        }
    }
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_cites_only_listed_requirements_at_their_levels_or_above() {
        for (_, id, from_sl, _) in MAPPING {
            let requirement = sr::find(id).unwrap_or_else(|| panic!("{id} is not listed"));
            assert!(
                *from_sl >= requirement.from_sl,
                "{id} is cited from SL {from_sl} but first required at SL {}",
                requirement.from_sl
            );
        }
    }
}
