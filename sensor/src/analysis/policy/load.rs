//! Reading and checking policy files: every mistake is reported with its
//! file, line and column, and the sensor refuses a policy that has any.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use toml::Spanned;

use super::schema::{
    AllowSpec, AssetSpec, ConduitSpec, MatchSpec, OneOrMany, PolicyFile, RuleSpec, ThresholdSpec,
    ZoneSpec,
};
use super::{
    AlertPer, Allow, By, Clearing, Conduit, Distinct, FieldValue, Matcher, PassPort, Policy,
    Principal, Rule, Severity, Tagged, Threshold, Trigger, UNTRUSTED, Zone, is_builtin,
};
use crate::analysis::inventory::{ChangeKind, HostKey, Role, format_mac, parse_mac};
use crate::event::{Classes, FunctionClass, Protocol};
use crate::protocols;
use crate::time::Timestamp;

/// One mistake in a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: the file as a whole (it could not be read).
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// All the mistakes found, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(PolicyError::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for PolicyErrors {}

/// The rule pack built into the sensor (`rules/default.toml`).
pub const DEFAULT_PACK: (&str, &str) = (
    "rules/default.toml",
    include_str!("../../../../rules/default.toml"),
);

/// A policy source: a name for messages, and its text.
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    /// The `.toml` files of `dir` (or `dir` itself if it is a file), in name order.
    pub fn read(path: &Path) -> Result<Vec<Source>, PolicyErrors> {
        let fail = |message: String| {
            PolicyErrors(vec![PolicyError {
                file: path.display().to_string(),
                line: 0,
                column: 0,
                message,
            }])
        };
        let mut files = Vec::new();
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| fail(e.to_string()))?;
            for entry in entries {
                let file = entry.map_err(|e| fail(e.to_string()))?.path();
                if file.extension().is_some_and(|e| e == "toml") {
                    files.push(file);
                }
            }
            files.sort();
            if files.is_empty() {
                return Err(fail("no .toml policy files in this directory".into()));
            }
        } else {
            files.push(path.to_path_buf());
        }
        files
            .into_iter()
            .map(|file| {
                let name = file.display().to_string();
                match std::fs::read_to_string(&file) {
                    Ok(text) => Ok(Source { name, text }),
                    Err(e) => Err(PolicyErrors(vec![PolicyError {
                        file: name,
                        line: 0,
                        column: 0,
                        message: format!("cannot read: {e}"),
                    }])),
                }
            })
            .collect()
    }

    pub fn default_pack() -> Source {
        Source {
            name: DEFAULT_PACK.0.to_string(),
            text: DEFAULT_PACK.1.to_string(),
        }
    }
}

/// Builds one policy from `sources`, in order: zones and conduits add up,
/// and a rule with the id of an earlier one replaces it.
pub fn load(sources: &[Source]) -> Result<Policy, PolicyErrors> {
    let mut checker = Checker::default();
    let mut files = Vec::new();
    for source in sources {
        match toml::from_str::<PolicyFile>(&source.text) {
            Ok(file) => files.push((source, file)),
            Err(e) => {
                let at = e.span().map_or(0, |s| s.start);
                checker.error(source, at, e.message().trim_end().to_string());
            }
        }
    }
    let mut policy = Policy::default();
    for (source, file) in &files {
        for zone in &file.zone {
            if let Some(zone) = checker.zone(source, zone, &policy.zones) {
                policy.zones.push(zone);
            }
        }
        for asset in &file.asset {
            checker.asset(source, asset, &mut policy.tagged);
        }
    }
    for (source, file) in &files {
        for conduit in &file.conduit {
            if let Some(conduit) = checker.conduit(source, conduit, &policy) {
                policy.conduits.push(conduit);
            }
        }
        for rule in &file.rule {
            if let Some(rule) = checker.rule(source, rule, &policy) {
                match policy.rules.iter().position(|r| r.id == rule.id) {
                    Some(at) => policy.rules[at] = rule,
                    None => policy.rules.push(rule),
                }
            }
        }
    }
    for (source, file) in &files {
        for text in file.prefilter.iter().flat_map(|p| &p.pass_ports) {
            match PassPort::parse(text.get_ref()) {
                Ok(port) => policy.pass_ports.push(port),
                Err(e) => checker.error_at(source, text, format!("pass_ports: {e}")),
            }
        }
    }
    policy.disabled_builtins = policy
        .rules
        .iter()
        .filter(|r| !r.enabled && is_builtin(&r.id))
        .map(|r| r.id.clone())
        .collect();
    policy.rules.retain(|r| r.enabled);
    if checker.errors.is_empty() {
        Ok(policy)
    } else {
        Err(PolicyErrors(checker.errors))
    }
}

#[derive(Default)]
struct Checker {
    errors: Vec<PolicyError>,
}

impl Checker {
    fn error(&mut self, source: &Source, at: usize, message: String) {
        let (line, column) = line_column(&source.text, at);
        self.errors.push(PolicyError {
            file: source.name.clone(),
            line,
            column,
            message,
        });
    }

    fn error_at<T: Pinpoint>(&mut self, source: &Source, value: &Spanned<T>, message: String) {
        let span = value.span();
        // Items of a list share the list's span: point at the item itself.
        let within = value.get_ref().needle().and_then(|needle| {
            source
                .text
                .get(span.clone())
                .and_then(|text| text.find(&needle))
        });
        self.error(source, span.start + within.unwrap_or(0), message);
    }

    fn zone(&mut self, source: &Source, spec: &ZoneSpec, earlier: &[Zone]) -> Option<Zone> {
        let before = self.errors.len();
        let name = spec.name.get_ref().clone();
        if name == UNTRUSTED {
            self.error_at(
                source,
                &spec.name,
                format!("zone name {UNTRUSTED:?} is reserved for addresses outside every zone"),
            );
        }
        if earlier.iter().any(|z| z.name == name) {
            self.error_at(
                source,
                &spec.name,
                format!("zone {name:?} is defined twice"),
            );
        }
        let mut nets = Vec::new();
        for cidr in &spec.cidrs {
            match parse_net(cidr.get_ref()) {
                Some(net) => {
                    let overlap = earlier
                        .iter()
                        .flat_map(|z| z.nets.iter().map(move |n| (z, n)))
                        .find(|(_, n)| n.contains(&net.network()) || net.contains(&n.network()));
                    match overlap {
                        Some((zone, other)) => self.error_at(
                            source,
                            cidr,
                            format!("{net} overlaps {other} of zone {:?}: an address must belong to one zone", zone.name),
                        ),
                        None => nets.push(net),
                    }
                }
                None => self.error_at(
                    source,
                    cidr,
                    format!("bad CIDR {:?} (expected like 10.10.1.0/24)", cidr.get_ref()),
                ),
            }
        }
        let mut macs = Vec::new();
        for mac in &spec.macs {
            match parse_mac(mac.get_ref()) {
                Some(m) => match earlier.iter().find(|z| z.macs.contains(&m)) {
                    Some(zone) => self.error_at(
                        source,
                        mac,
                        format!(
                            "{} is already in zone {:?}: an address must belong to one zone",
                            format_mac(&m),
                            zone.name
                        ),
                    ),
                    None => macs.push(m),
                },
                None => self.error_at(source, mac, format!("bad MAC address {:?}", mac.get_ref())),
            }
        }
        if nets.is_empty() && macs.is_empty() && self.errors.len() == before {
            self.error_at(
                source,
                &spec.name,
                format!("zone {name:?} has neither cidrs nor macs"),
            );
        }
        let level = *spec.security_level.get_ref();
        if !(1..=4).contains(&level) {
            self.error_at(
                source,
                &spec.security_level,
                format!("security_level must be 1 to 4 (SL-T), not {level}"),
            );
        }
        let purdue = spec.purdue_level.as_ref().map(|p| (p, *p.get_ref()));
        if let Some((at, level)) = purdue
            && !(0..=5).contains(&level)
        {
            self.error_at(
                source,
                at,
                format!("purdue_level must be 0 to 5, not {level}"),
            );
        }
        (self.errors.len() == before).then(|| Zone {
            name,
            description: spec.description.clone(),
            nets,
            macs,
            security_level: level as u8,
            purdue_level: purdue.map(|(_, l)| l as u8),
        })
    }

    /// Tags for an asset; an address tagged again gets the new tags too.
    fn asset(&mut self, source: &Source, spec: &AssetSpec, tagged: &mut Vec<Tagged>) {
        let before = self.errors.len();
        let address = match (&spec.ip, &spec.mac) {
            (Some(ip), None) => ip.get_ref().parse().map(HostKey::Ip).ok().or_else(|| {
                self.error_at(source, ip, format!("bad IP address {:?}", ip.get_ref()));
                None
            }),
            (None, Some(mac)) => parse_mac(mac.get_ref()).map(HostKey::Mac).or_else(|| {
                self.error_at(source, mac, format!("bad MAC address {:?}", mac.get_ref()));
                None
            }),
            (Some(_), Some(mac)) => {
                self.error_at(
                    source,
                    mac,
                    "an asset is named by its ip or by its mac, not both".into(),
                );
                None
            }
            (None, None) => {
                self.error_at(
                    source,
                    &spec.tags,
                    "an asset needs its ip (or, for a device seen only at layer 2, its mac)".into(),
                );
                None
            }
        };
        if spec.tags.get_ref().is_empty() {
            self.error_at(source, &spec.tags, "an asset needs at least one tag".into());
        }
        for tag in spec.tags.get_ref() {
            let name = tag.get_ref();
            let fine = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !fine {
                self.error_at(
                    source,
                    tag,
                    format!("bad tag {name:?} (letters, digits, '-', '_' and '.')"),
                );
            }
        }
        let Some(address) = address.filter(|_| self.errors.len() == before) else {
            return;
        };
        let tags = spec.tags.get_ref().iter().map(|t| t.get_ref().clone());
        match tagged.iter_mut().find(|t| t.address == address) {
            Some(known) => {
                for tag in tags {
                    if !known.tags.contains(&tag) {
                        known.tags.push(tag);
                    }
                }
            }
            None => tagged.push(Tagged {
                address,
                tags: tags.collect(),
            }),
        }
    }

    fn zone_index(
        &mut self,
        source: &Source,
        name: &Spanned<String>,
        policy: &Policy,
    ) -> Option<usize> {
        let found = policy.zone_index(name.get_ref());
        if found.is_none() {
            let known: Vec<&str> = policy.zones.iter().map(|z| z.name.as_str()).collect();
            self.error_at(
                source,
                name,
                format!(
                    "unknown zone {:?} (zones: {})",
                    name.get_ref(),
                    known.join(", ")
                ),
            );
        }
        found
    }

    fn conduit(&mut self, source: &Source, spec: &ConduitSpec, policy: &Policy) -> Option<Conduit> {
        let before = self.errors.len();
        let name = spec.name.get_ref().clone();
        if policy.conduits.iter().any(|c| c.name == name) {
            self.error_at(
                source,
                &spec.name,
                format!("conduit {name:?} is defined twice"),
            );
        }
        let zones: Vec<Option<usize>> = spec
            .zones
            .get_ref()
            .iter()
            .map(|z| self.zone_index(source, z, policy))
            .collect();
        if zones.len() != 2 {
            self.error_at(
                source,
                &spec.zones,
                format!("a conduit joins exactly two zones, not {}", zones.len()),
            );
        }
        let initiator = match &spec.initiator {
            Some(zone) if zone.get_ref() == "either" => None,
            Some(zone) => {
                let index = self.zone_index(source, zone, policy);
                if index.is_some() && !zones.contains(&index) {
                    self.error_at(
                        source,
                        zone,
                        format!(
                            "initiator {:?} is not one of the conduit's zones",
                            zone.get_ref()
                        ),
                    );
                }
                index
            }
            None => None,
        };
        let allow: Vec<Allow> = spec
            .allow
            .iter()
            .filter_map(|a| self.allow(source, a, policy))
            .collect();
        (self.errors.len() == before).then(|| Conduit {
            name,
            description: spec.description.clone(),
            zones: [zones[0].unwrap_or(0), zones[1].unwrap_or(0)],
            initiator,
            allow,
        })
    }

    fn allow(&mut self, source: &Source, spec: &AllowSpec, policy: &Policy) -> Option<Allow> {
        let before = self.errors.len();
        let protocols = spec
            .protocols
            .iter()
            .filter_map(|p| self.protocol(source, p))
            .collect();
        let classes = spec
            .classes
            .as_ref()
            .map(|classes| self.classes(source, classes.iter()));
        let function_codes = spec
            .function_codes
            .as_ref()
            .map(|codes| codes.iter().filter_map(|c| self.code(source, c)).collect());
        let writers = spec.writers.as_ref().map(|writers| {
            writers
                .iter()
                .filter_map(|w| self.principal(source, w, policy))
                .collect()
        });
        (self.errors.len() == before).then_some(Allow {
            protocols,
            classes,
            function_codes,
            writers,
        })
    }

    fn protocol(&mut self, source: &Source, name: &Spanned<String>) -> Option<Protocol> {
        let found = Protocol::from_name(name.get_ref());
        if found.is_none() {
            let known: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
            self.error_at(
                source,
                name,
                format!(
                    "unknown protocol {:?} (known: {})",
                    name.get_ref(),
                    known.join(", ")
                ),
            );
        }
        found
    }

    fn classes<'a>(
        &mut self,
        source: &Source,
        names: impl Iterator<Item = &'a Spanned<String>>,
    ) -> Classes {
        let mut classes = Classes::default();
        for name in names {
            match FunctionClass::ALL
                .iter()
                .find(|c| c.name() == name.get_ref())
            {
                Some(class) => classes.0 |= class.bit(),
                None => {
                    let known: Vec<&str> = FunctionClass::ALL.iter().map(|c| c.name()).collect();
                    self.error_at(
                        source,
                        name,
                        format!(
                            "unknown function class {:?} (known: {})",
                            name.get_ref(),
                            known.join(", ")
                        ),
                    );
                }
            }
        }
        classes
    }

    fn code(&mut self, source: &Source, code: &Spanned<i64>) -> Option<u32> {
        let value = *code.get_ref();
        let ok = u32::try_from(value).ok();
        if ok.is_none() {
            self.error_at(source, code, format!("bad function code {value}"));
        }
        ok
    }

    fn principal(
        &mut self,
        source: &Source,
        text: &Spanned<String>,
        policy: &Policy,
    ) -> Option<Principal> {
        if let Some(role) = text.get_ref().strip_prefix("role:") {
            return self.role(source, text, role).map(Principal::Role);
        }
        if let Some(tag) = text.get_ref().strip_prefix("tag:") {
            let mut known: Vec<&str> = policy
                .tagged
                .iter()
                .flat_map(|t| t.tags.iter().map(String::as_str))
                .collect();
            known.sort_unstable();
            known.dedup();
            if known.contains(&tag) {
                return Some(Principal::Tag(tag.to_string()));
            }
            let listed = if known.is_empty() {
                "no [[asset]] has tags".to_string()
            } else {
                format!("tags: {}", known.join(", "))
            };
            self.error_at(source, text, format!("unknown tag {tag:?} ({listed})"));
            return None;
        }
        let net = parse_net(text.get_ref());
        if net.is_none() {
            self.error_at(
                source,
                text,
                format!(
                    "bad writer {:?} (expected an IP address, a CIDR, role:NAME or tag:NAME)",
                    text.get_ref()
                ),
            );
        }
        net.map(Principal::Net)
    }

    fn role(&mut self, source: &Source, at: &Spanned<String>, name: &str) -> Option<Role> {
        let found = Role::from_name(name);
        if found.is_none() {
            let known: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            self.error_at(
                source,
                at,
                format!("unknown role {name:?} (known: {})", known.join(", ")),
            );
        }
        found
    }

    fn rule(&mut self, source: &Source, spec: &RuleSpec, policy: &Policy) -> Option<Rule> {
        let before = self.errors.len();
        let id = spec.id.get_ref().clone();
        let replaces = policy.rules.iter().any(|r| r.id == id);
        let builtin = is_builtin(&id);
        if !spec.enabled {
            if !replaces && !builtin {
                self.error_at(
                    source,
                    &spec.id,
                    format!(
                        "rule {id:?} is disabled but no earlier rule or built-in check has that id"
                    ),
                );
            }
            return Some(Rule::disabled(id));
        }
        if builtin {
            self.error_at(
                source,
                &spec.id,
                format!("{id:?} is a built-in check: it can be switched off (enabled = false), not replaced"),
            );
        }
        let title = match &spec.title {
            Some(title) => title.get_ref().clone(),
            None => {
                self.error_at(source, &spec.id, format!("rule {id:?} has no title"));
                String::new()
            }
        };
        let severity = match &spec.severity {
            Some(text) => Severity::from_name(text.get_ref()).or_else(|| {
                self.error_at(
                    source,
                    text,
                    format!(
                        "unknown severity {:?} (info, low, medium, high, critical)",
                        text.get_ref()
                    ),
                );
                None
            }),
            None => Some(Severity::Medium),
        };
        let trigger = match spec.on.as_ref().map(|o| (o, o.get_ref().as_str())) {
            None | Some((_, "event")) => Trigger::Event,
            Some((_, "flow")) => Trigger::Flow,
            Some((_, "asset_change")) => Trigger::AssetChange,
            Some((at, other)) => {
                self.error_at(
                    source,
                    at,
                    format!("unknown trigger {other:?} (event, flow, asset_change)"),
                );
                Trigger::Event
            }
        };
        if let Some(on) = &spec.on
            && trigger != Trigger::Event
            && (spec.matches.about_pdus()
                || spec
                    .unless
                    .as_ref()
                    .is_some_and(|u| u.items().iter().any(|m| m.about_pdus())))
        {
            self.error_at(source, on, format!("rules with on = {:?} cannot match protocol, function, class, anomaly, credentials or fields: those belong to events", on.get_ref()));
        }
        let matcher = self.matcher(source, &spec.matches, trigger, policy);
        let unless = spec.unless.as_ref().map_or(Vec::new(), |u| {
            u.items()
                .iter()
                .map(|u| self.matcher(source, u, trigger, policy))
                .collect()
        });
        let cleared_by = self.clearing(source, spec, trigger, policy);
        let alert_per = match spec.alert_per.as_ref().map(|a| (a, a.get_ref().as_str())) {
            None | Some((_, "function")) => AlertPer::Function,
            Some((_, "pair")) => AlertPer::Pair,
            Some((_, "src")) => AlertPer::Src,
            Some((_, "dst")) => AlertPer::Dst,
            Some((at, other)) => {
                self.error_at(
                    source,
                    at,
                    format!("unknown alert_per {other:?} (function, pair, src, dst)"),
                );
                AlertPer::Function
            }
        };
        let threshold = spec
            .threshold
            .as_ref()
            .and_then(|t| self.threshold(source, t));
        if let (Some(t), Some(spec)) = (&threshold, &spec.threshold)
            && trigger != Trigger::Event
            && matches!(
                t.distinct,
                Some(Distinct::FunctionCode | Distinct::Field(_))
            )
            && let Some(at) = &spec.distinct
        {
            self.error_at(
                source,
                at,
                format!(
                    "distinct {:?} needs events; rules on flows and asset changes count dst or dst_port",
                    at.get_ref()
                ),
            );
        }
        for sr in &spec.iec62443 {
            if !is_system_requirement(sr.get_ref()) {
                self.error_at(source, sr, format!("{:?} is not an IEC 62443-3-3 requirement (like \"SR 5.2\" or \"SR 5.2 RE 1\")", sr.get_ref()));
            }
        }
        for technique in &spec.mitre {
            if !is_ics_technique(technique.get_ref()) {
                self.error_at(
                    source,
                    technique,
                    format!(
                        "{:?} is not a MITRE ATT&CK for ICS technique id (like \"T0836\")",
                        technique.get_ref()
                    ),
                );
            }
        }
        (self.errors.len() == before).then(|| Rule {
            id,
            title,
            description: spec.description.clone(),
            severity: severity.unwrap_or(Severity::Medium),
            enabled: true,
            trigger,
            matcher,
            unless,
            cleared_by,
            alert_per,
            threshold,
            iec62443: spec.iec62443.iter().map(|s| s.get_ref().clone()).collect(),
            mitre: spec.mitre.iter().map(|s| s.get_ref().clone()).collect(),
        })
    }

    fn clearing(
        &mut self,
        source: &Source,
        spec: &RuleSpec,
        trigger: Trigger,
        policy: &Policy,
    ) -> Option<Clearing> {
        match (&spec.cleared_by, &spec.clear_within) {
            (None, None) => None,
            (Some(_), None) => {
                self.error_at(
                    source,
                    &spec.id,
                    format!(
                        "rule {:?}: cleared_by needs clear_within (like \"30s\")",
                        spec.id.get_ref()
                    ),
                );
                None
            }
            (None, Some(within)) => {
                self.error_at(source, within, "clear_within needs cleared_by".into());
                None
            }
            (Some(_), Some(within)) if trigger != Trigger::Event || spec.threshold.is_some() => {
                self.error_at(
                    source,
                    within,
                    "cleared_by applies only to rules on events without a threshold".into(),
                );
                None
            }
            (Some(clear), Some(within)) => {
                let matcher = self.matcher(source, clear, trigger, policy);
                let within = match parse_duration(within.get_ref()) {
                    Some(d) => d,
                    None => {
                        self.error_at(
                            source,
                            within,
                            format!(
                                "bad clear_within {:?} (like \"30s\", \"5m\")",
                                within.get_ref()
                            ),
                        );
                        return None;
                    }
                };
                Some(Clearing { matcher, within })
            }
        }
    }

    fn matcher(
        &mut self,
        source: &Source,
        spec: &MatchSpec,
        trigger: Trigger,
        policy: &Policy,
    ) -> Matcher {
        let protocols: Option<Vec<Protocol>> = spec.protocol.as_ref().map(|p| {
            p.items()
                .into_iter()
                .filter_map(|p| self.protocol(source, p))
                .collect()
        });
        // Function and anomaly names are checked against the protocols named, or all of them.
        let scope: Vec<Protocol> = protocols.clone().unwrap_or_else(|| Protocol::ALL.to_vec());
        let functions = spec.function.as_ref().map(|names| {
            self.names(source, names, "function", &scope, |p| {
                protocols::function_names(p).iter().copied()
            })
        });
        let anomalies = spec.anomaly.as_ref().map(|names| {
            let any = names.items().iter().any(|n| n.get_ref() == "any");
            if any {
                Vec::new()
            } else {
                self.names(source, names, "anomaly", &scope, |p| {
                    protocols::anomaly_names(p)
                })
            }
        });
        let changes = spec.change.as_ref().map(|kinds| {
            kinds
                .items()
                .into_iter()
                .filter_map(|k| {
                    let kind = serde_json::from_value::<ChangeKind>(serde_json::Value::String(k.get_ref().clone())).ok();
                    if kind.is_none() {
                        self.error_at(source, k, format!("unknown change kind {:?} (new_asset, new_ip_for_mac, ip_claimed_by_other_mac, firmware_changed, identity_changed)", k.get_ref()));
                    }
                    kind
                })
                .collect()
        });
        if let Some(change) = &spec.change
            && trigger != Trigger::AssetChange
        {
            let at = change.items()[0];
            self.error_at(
                source,
                at,
                "`change` applies only to rules with on = \"asset_change\"".into(),
            );
        }

        let zones = |checker: &mut Checker, list: &Option<OneOrMany<String>>| {
            list.as_ref().map(|names| {
                names
                    .items()
                    .into_iter()
                    .filter_map(|name| {
                        if name.get_ref() == UNTRUSTED {
                            Some(None)
                        } else {
                            checker.zone_index(source, name, policy).map(Some)
                        }
                    })
                    .collect()
            })
        };
        let roles = |checker: &mut Checker, list: &Option<OneOrMany<String>>| {
            list.as_ref().map(|names| {
                names
                    .items()
                    .into_iter()
                    .filter_map(|n| checker.role(source, n, n.get_ref()))
                    .collect()
            })
        };
        let nets = |checker: &mut Checker, list: &Option<OneOrMany<String>>| {
            list.as_ref().map(|items| {
                items
                    .items()
                    .into_iter()
                    .filter_map(|item| {
                        let net = parse_net(item.get_ref());
                        if net.is_none() {
                            checker.error_at(
                                source,
                                item,
                                format!(
                                    "bad address {:?} (expected an IP address or a CIDR)",
                                    item.get_ref()
                                ),
                            );
                        }
                        net
                    })
                    .collect()
            })
        };
        let fields = spec.fields.as_ref().map(|fields| {
            fields
                .iter()
                .filter_map(|(name, value)| {
                    let one = |v: &toml::Value| match v {
                        toml::Value::Integer(n) if *n >= 0 => Some(FieldValue::Number(*n as u64)),
                        toml::Value::String(s) => Some(FieldValue::Text(s.clone())),
                        toml::Value::Boolean(b) => Some(FieldValue::Bool(*b)),
                        _ => None,
                    };
                    let parsed: Option<Vec<FieldValue>> = match value.get_ref() {
                        toml::Value::Array(items) if !items.is_empty() => {
                            items.iter().map(one).collect()
                        }
                        single => one(single).map(|v| vec![v]),
                    };
                    if parsed.is_none() {
                        self.error_at(source, value, format!("field {name:?}: expected a non-negative integer, a string or a boolean, or a list of them"));
                    }
                    parsed.map(|v| (name.clone(), v))
                })
                .collect()
        });
        Matcher {
            protocols,
            functions,
            function_codes: spec.function_code.as_ref().map(|codes| {
                codes
                    .items()
                    .into_iter()
                    .filter_map(|c| self.code(source, c))
                    .collect()
            }),
            classes: spec
                .class
                .as_ref()
                .map(|c| self.classes(source, c.items().into_iter())),
            is_response: spec.is_response,
            anomalies,
            src: nets(self, &spec.src),
            dst: nets(self, &spec.dst),
            dst_ports: spec.dst_port.as_ref().map(|ports| {
                ports
                    .items()
                    .into_iter()
                    .filter_map(|p| {
                        let port = u16::try_from(*p.get_ref()).ok();
                        if port.is_none() {
                            self.error_at(
                                source,
                                p,
                                format!("bad port {} (0 to 65535)", p.get_ref()),
                            );
                        }
                        port
                    })
                    .collect()
            }),
            src_zone: zones(self, &spec.src_zone),
            dst_zone: zones(self, &spec.dst_zone),
            src_role: roles(self, &spec.src_role),
            dst_role: roles(self, &spec.dst_role),
            cross_zone: spec.cross_zone,
            credentials: spec.credentials,
            fields,
            changes,
        }
    }

    /// Names checked against what the protocols in `scope` emit.
    fn names<Names>(
        &mut self,
        source: &Source,
        names: &OneOrMany<String>,
        what: &str,
        scope: &[Protocol],
        known: impl Fn(Protocol) -> Names,
    ) -> Vec<&'static str>
    where
        Names: IntoIterator<Item = &'static str>,
    {
        let known: Vec<&'static str> = scope.iter().flat_map(|p| known(*p)).collect();
        names
            .items()
            .into_iter()
            .filter_map(|name| {
                let found = known.iter().find(|n| **n == name.get_ref());
                if found.is_none() {
                    let protocols: Vec<&str> = scope.iter().map(|p| p.name()).collect();
                    self.error_at(
                        source,
                        name,
                        format!(
                            "unknown {what} name {:?} for {}",
                            name.get_ref(),
                            protocols.join(", ")
                        ),
                    );
                }
                found.copied()
            })
            .collect()
    }

    fn threshold(&mut self, source: &Source, spec: &ThresholdSpec) -> Option<Threshold> {
        let before = self.errors.len();
        let count = *spec.count.get_ref();
        if count < 1 {
            self.error_at(
                source,
                &spec.count,
                format!("count must be at least 1, not {count}"),
            );
        }
        let window = parse_duration(spec.window.get_ref());
        if window.is_none() {
            self.error_at(
                source,
                &spec.window,
                format!(
                    "bad window {:?} (like \"30s\", \"5m\", \"1h\")",
                    spec.window.get_ref()
                ),
            );
        }
        let by = match spec.by.as_ref().map(|b| (b, b.get_ref().as_str())) {
            None | Some((_, "src")) => By::Src,
            Some((_, "dst")) => By::Dst,
            Some((_, "pair")) => By::Pair,
            Some((_, "flow")) => By::Flow,
            Some((_, "conduit")) => By::Conduit,
            Some((at, other)) => {
                self.error_at(
                    source,
                    at,
                    format!("unknown grouping {other:?} (src, dst, pair, flow, conduit)"),
                );
                By::Src
            }
        };
        let distinct = spec.distinct.as_ref().map(|d| match d.get_ref().as_str() {
            "dst" => Distinct::Dst,
            "dst_port" => Distinct::DstPort,
            "function_code" => Distinct::FunctionCode,
            field => Distinct::Field(field.to_string()),
        });
        (self.errors.len() == before).then(|| Threshold {
            count: count as u32,
            window: window.unwrap_or(Timestamp::ZERO),
            by,
            distinct,
        })
    }
}

/// How a value is written in a policy file, to find it within a list.
trait Pinpoint {
    fn needle(&self) -> Option<String> {
        None
    }
}

impl Pinpoint for String {
    fn needle(&self) -> Option<String> {
        Some(format!("\"{self}\""))
    }
}

impl Pinpoint for i64 {
    fn needle(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl Pinpoint for toml::Value {}
impl<T> Pinpoint for Vec<T> {}

fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// `"30s"`, `"5m"`, `"1h"`, `"2d"` as a duration.
pub fn parse_duration(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    (secs > 0).then(|| Timestamp::from_secs(secs))
}

/// "SR 5.2" or "SR 5.2 RE 1".
fn is_system_requirement(text: &str) -> bool {
    let mut parts = text.split(' ');
    let sr = parts.next() == Some("SR");
    let number = parts.next().is_some_and(|n| {
        let mut digits = n.split('.');
        let ok = |d: Option<&str>| {
            d.is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
        };
        ok(digits.next()) && ok(digits.next()) && digits.next().is_none()
    });
    let rest: Vec<&str> = parts.collect();
    let enhancement = rest.is_empty()
        || (rest.len() == 2 && rest[0] == "RE" && rest[1].chars().all(|c| c.is_ascii_digit()));
    sr && number && enhancement
}

/// "T0836" (and sub-techniques "T0836.001").
fn is_ics_technique(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest.split_once('.').unwrap_or((rest, "000"));
    main.len() == 4 && sub.len() == 3 && main.chars().chain(sub.chars()).all(|c| c.is_ascii_digit())
}

/// 1-based line and column of byte offset `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Zones by name, for messages and reports.
pub fn zone_names(policy: &Policy) -> BTreeMap<usize, &str> {
    policy
        .zones
        .iter()
        .enumerate()
        .map(|(i, z)| (i, z.name.as_str()))
        .collect()
}
