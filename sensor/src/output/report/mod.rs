//! The IEC 62443 compliance report (`otsensor report`): per zone its target
//! level and assets; declared against observed conduits; alerts grouped by
//! the 62443-3-3 system requirement they give evidence on; the insecure
//! protocols seen; and which requirements of the zones' target security
//! levels the traffic contradicts. Written as Markdown and as self-contained
//! HTML from one document, deterministically (everything sorted, no clock).
//! `docs/report.md` describes it.

mod assess;
mod doc;
mod input;
pub mod sr;

pub use assess::{MAPPING, Observation, Status};
pub use input::{InputError, from_dir, from_store};

use std::collections::BTreeMap;

use assess::{Permission, Verdict};
use doc::{Document, Span, code, strong, text};

use crate::analysis::conduits::{DeclaredPolicy, ObservedConduits, UNZONED, ZoneAsset, ZonePair};
use crate::analysis::policy::{Severity, UNTRUSTED};
use crate::output::alerts::AlertRecord;
use crate::output::summary::count;
use crate::time::Timestamp;

/// The sort key of an SR reference ([`sr::order`]).
type SrOrder = (u32, u32, u32, String);

/// Alerts listed one by one at the end; beyond, they are counted.
const MAX_LISTED_ALERTS: usize = 500;
/// Functions named per protocol in a zone pair's table.
const MAX_FUNCTIONS: usize = 8;
/// Evidence lines per contradicted requirement.
const MAX_EVIDENCE: usize = 6;

/// What a report is made from.
#[derive(Clone, Debug, Default)]
pub struct ReportInput {
    /// Where the findings come from, for the reader.
    pub source: String,
    pub captures: Vec<String>,
    pub packets: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Every asset of the inventory.
    pub assets: Vec<ZoneAsset>,
    pub observed: ObservedConduits,
    pub alerts: Vec<AlertRecord>,
}

impl ReportInput {
    /// Judges by `declared` (a policy given to `report`) instead of the one recorded.
    pub fn with_policy(mut self, declared: DeclaredPolicy) -> ReportInput {
        self.observed.declared = declared;
        self
    }
}

/// The report, ready to write.
pub struct Report {
    doc: Document,
}

impl Report {
    pub fn new(mut input: ReportInput) -> Report {
        let declared = input.observed.declared.clone();
        input.observed.rejudge(declared, &input.assets);
        input.alerts.sort_by(|a, b| {
            (a.ts, &a.rule, a.src.address(), a.dst.address()).cmp(&(
                b.ts,
                &b.rule,
                b.src.address(),
                b.dst.address(),
            ))
        });
        Report { doc: build(&input) }
    }

    pub fn markdown(&self) -> String {
        self.doc.markdown()
    }

    pub fn html(&self) -> String {
        self.doc.html()
    }
}

fn build(input: &ReportInput) -> Document {
    let observed = &input.observed;
    let order = assess::zone_order(observed);
    let verdicts = assess::verdicts(observed, &input.alerts, &order);
    let insecure = assess::insecure(&verdicts);
    let contradictions = assess::contradictions(&observed.declared, &verdicts, &insecure);
    let mut doc = Document {
        title: "IEC 62443 compliance report".into(),
        ..Document::default()
    };
    doc.paragraph(vec![text(format!(
        "From {}, by otsensor {}. Zones, conduits and target security levels (SL-T) are those of the plant policy; \
         what crossed is what the sensor saw. The same input always gives the same report.",
        input.source,
        env!("CARGO_PKG_VERSION")
    ))]);
    summary(&mut doc, input, &verdicts, &insecure, &contradictions);
    zones(&mut doc, observed, &order);
    conduits(&mut doc, observed, &order, &verdicts);
    violations(&mut doc, &input.alerts);
    insecure_protocols(&mut doc, &insecure);
    sl_contradictions(&mut doc, observed, &contradictions);
    alert_list(&mut doc, &input.alerts);
    requirements(&mut doc);
    doc
}

fn period(first: Option<Timestamp>, last: Option<Timestamp>) -> String {
    match (first, last) {
        (Some(first), Some(last)) => {
            format!("{first} – {last} ({})", duration(last.secs_since(first)))
        }
        _ => "no packets".into(),
    }
}

fn duration(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

fn summary(
    doc: &mut Document,
    input: &ReportInput,
    verdicts: &[Verdict],
    insecure: &[assess::Insecure],
    contradictions: &[assess::ZoneContradictions],
) {
    let observed = &input.observed;
    let declared = &observed.declared;
    doc.heading(2, "Summary");
    let mut roles: BTreeMap<&str, usize> = BTreeMap::new();
    for asset in &input.assets {
        *roles.entry(asset.role.as_str()).or_default() += 1;
    }
    let mut roles: Vec<(&str, usize)> = roles.into_iter().collect();
    roles.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let roles: Vec<String> = roles.iter().map(|(r, n)| format!("{n} {r}")).collect();
    let mut captures: Vec<String> = input.captures.iter().take(10).cloned().collect();
    if input.captures.len() > 10 {
        captures.push(format!("… {} more", input.captures.len() - 10));
    }
    let zones: Vec<String> = declared
        .zones
        .iter()
        .map(|z| format!("{} (SL-T {})", z.name, z.security_level))
        .collect();
    let crossing: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| v.from != v.to && v.pair.is_some())
        .collect();
    let mut by_status: BTreeMap<Status, usize> = BTreeMap::new();
    for v in &crossing {
        *by_status.entry(v.status).or_default() += 1;
    }
    let by_status: Vec<String> = by_status
        .iter()
        .map(|(s, n)| format!("{n} {}", s.word()))
        .collect();
    let mut severities: Vec<String> = Vec::new();
    for severity in Severity::ALL.iter().rev() {
        let n = input
            .alerts
            .iter()
            .filter(|a| a.severity() == *severity)
            .count();
        severities.push(format!("{} {n}", severity.name()));
    }
    let requirements: usize = contradictions.iter().map(|z| z.contradictions.len()).sum();
    let rows = vec![
        ("Capture period", period(input.first_ts, input.last_ts)),
        ("Captures", captures.join(", ")),
        ("Packets", count(input.packets)),
        (
            "Assets",
            format!("{} ({})", input.assets.len(), roles.join(", ")),
        ),
        (
            "Zones",
            if zones.is_empty() {
                "none declared".into()
            } else {
                format!("{}: {}", zones.len(), zones.join(", "))
            },
        ),
        (
            "Conduits",
            format!(
                "{} declared; {} zone pairs with traffic across zones{}",
                declared.conduits.len(),
                crossing.len(),
                if by_status.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", by_status.join(", "))
                }
            ),
        ),
        (
            "Alerts",
            format!("{}: {}", input.alerts.len(), severities.join(", ")),
        ),
        (
            "Insecure protocols",
            format!(
                "{} findings, {} across zones",
                insecure.len(),
                insecure.iter().filter(|f| f.crosses).count()
            ),
        ),
        (
            "SL-T contradictions",
            format!(
                "{requirements} requirements in {} zones",
                contradictions.len()
            ),
        ),
    ];
    doc.table(
        &["Item", "Value"],
        rows.into_iter()
            .map(|(k, v)| vec![vec![strong(k)], vec![text(v)]])
            .collect(),
    );
    if declared.zones.is_empty() {
        doc.paragraph(vec![
            text("No zones are declared: every address is "),
            code(UNZONED),
            text(" or "),
            code(UNTRUSTED),
            text(". Give the plant policy (zones and conduits) with "),
            code("--policy"),
            text(" to judge conduits and security levels."),
        ]);
    }
}

fn zones(doc: &mut Document, observed: &ObservedConduits, order: &[String]) {
    doc.heading(2, "Zones and assets");
    for name in order {
        let assets = observed
            .zones
            .iter()
            .find(|z| &z.zone == name)
            .map(|z| z.assets.as_slice())
            .unwrap_or_default();
        match observed.declared.zone(name) {
            Some(zone) => {
                let purdue = zone
                    .purdue_level
                    .map(|l| format!(", Purdue level {l}"))
                    .unwrap_or_default();
                doc.heading(
                    3,
                    format!("{} (SL-T {}{purdue})", zone.name, zone.security_level),
                );
                let mut spans = Vec::new();
                if !zone.description.is_empty() {
                    let end = if zone.description.ends_with(['.', '!', '?']) {
                        " "
                    } else {
                        ". "
                    };
                    spans.push(text(format!("{}{end}", zone.description)));
                }
                let mut members: Vec<String> = zone.cidrs.clone();
                members.extend(zone.macs.iter().cloned());
                spans.push(text("Addresses: "));
                spans.push(code(members.join(", ")));
                spans.push(text(format!(". {} assets.", assets.len())));
                doc.paragraph(spans);
            }
            None => {
                let what = if name == UNTRUSTED {
                    "public addresses outside every declared zone"
                } else if name == UNZONED {
                    "private addresses outside every declared zone"
                } else {
                    "a zone of an earlier policy"
                };
                doc.heading(3, format!("{name} ({what})"));
                doc.paragraph(vec![text(format!("{} assets.", assets.len()))]);
            }
        }
        if assets.is_empty() {
            continue;
        }
        let rows = assets
            .iter()
            .map(|a| {
                let mut addresses = a.ips.clone();
                addresses.extend(a.macs.iter().cloned());
                vec![
                    vec![code(&a.id)],
                    vec![text(&a.role)],
                    vec![text(a.vendor.clone().unwrap_or_default())],
                    vec![text(a.model.clone().unwrap_or_default())],
                    vec![text(a.firmware.clone().unwrap_or_default())],
                    vec![text(addresses.join(" "))],
                ]
            })
            .collect();
        doc.table(
            &["Asset", "Role", "Vendor", "Model", "Firmware", "Addresses"],
            rows,
        );
    }
}

fn status(status: Status) -> Span {
    Span::Status(status.word(), status.word().to_string())
}

fn conduits(
    doc: &mut Document,
    observed: &ObservedConduits,
    order: &[String],
    verdicts: &[Verdict],
) {
    doc.heading(2, "Conduits: declared and observed");
    doc.paragraph(vec![
        text("Rows are the zones that initiate (clients, requesters), columns the zones that respond. "),
        strong("violated"),
        text(": traffic crossed that no conduit permits; "),
        text("observed: traffic on a declared conduit, all of it permitted; "),
        text("allowed: a conduit is declared, nothing crossed it; "),
        text("unzoned: traffic with private addresses outside every zone (a gap in the policy); "),
        text("adjacent: only ARP, LLDP or CDP crossed (the zones share a broadcast domain); "),
        text("internal: traffic inside the zone; ·: nothing."),
    ]);
    let mut header = vec!["Initiating zone"];
    header.extend(order.iter().map(String::as_str));
    let rows = order
        .iter()
        .map(|from| {
            let mut row = vec![vec![strong(from)]];
            row.extend(
                verdicts
                    .iter()
                    .filter(|v| v.from == from)
                    .map(|v| vec![status(v.status)]),
            );
            row
        })
        .collect();
    doc.table(&header, rows);

    doc.heading(3, "Declared conduits");
    if observed.declared.conduits.is_empty() {
        doc.paragraph(vec![text("None declared.")]);
    } else {
        let rows = observed
            .declared
            .conduits
            .iter()
            .map(|c| {
                let allows: Vec<String> = c.allow.iter().map(|a| a.describe()).collect();
                let seen: Vec<String> = verdicts
                    .iter()
                    .filter(|v| v.pair.is_some() && v.conduit.is_some_and(|vc| vc.name == c.name))
                    .map(|v| format!("{} → {}: {}", v.from, v.to, v.status.word()))
                    .collect();
                vec![
                    vec![code(&c.name)],
                    vec![text(format!("{} ↔ {}", c.zones[0], c.zones[1]))],
                    vec![text(c.initiator.clone().unwrap_or_else(|| "either".into()))],
                    vec![text(allows.join("; "))],
                    vec![text(if seen.is_empty() {
                        "nothing crossed".to_string()
                    } else {
                        seen.join("; ")
                    })],
                ]
            })
            .collect();
        doc.table(
            &["Conduit", "Zones", "Initiator", "Allows", "Observed"],
            rows,
        );
    }

    for v in verdicts.iter().filter(|v| v.from != v.to) {
        let Some(pair) = v.pair else { continue };
        pair_section(doc, v, pair);
    }
    let internal: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| v.from == v.to && v.pair.is_some())
        .collect();
    if !internal.is_empty() {
        doc.heading(3, "Traffic inside zones");
        let rows = internal
            .iter()
            .filter_map(|v| v.pair)
            .map(|p| {
                let protocols: Vec<String> =
                    p.protocols.iter().map(|x| x.protocol.clone()).collect();
                vec![
                    vec![strong(&p.from)],
                    vec![text(count(p.events))],
                    vec![text(count(p.flows))],
                    vec![text(count(p.bytes))],
                    vec![text(protocols.join(", "))],
                ]
            })
            .collect();
        doc.table(&["Zone", "Events", "Flows", "Bytes", "Protocols"], rows);
    }
}

fn pair_section(doc: &mut Document, v: &Verdict, pair: &ZonePair) {
    doc.heading(3, format!("{} → {}", v.from, v.to));
    let mut items = vec![vec![text("Status: "), status(v.status)]];
    match v.conduit {
        Some(c) => {
            let allows: Vec<String> = c.allow.iter().map(|a| a.describe()).collect();
            items.push(vec![
                text("Conduit: "),
                code(&c.name),
                text(format!(
                    " (initiator {}) allows {}",
                    c.initiator.as_deref().unwrap_or("either"),
                    if allows.is_empty() {
                        "nothing".to_string()
                    } else {
                        allows.join("; ")
                    }
                )),
            ]);
        }
        None if v.both_declared => items.push(vec![text("Conduit: none declared")]),
        None => {}
    }
    for reason in &v.reasons {
        items.push(vec![text(format!("Why: {reason}"))]);
    }
    items.push(vec![text(format!(
        "Traffic: {} events, {} flows, {} packets, {} bytes, {}",
        count(pair.events),
        count(pair.flows),
        count(pair.packets),
        count(pair.bytes),
        period(pair.first_seen, pair.last_seen)
    ))]);
    doc.list(items);
    if !pair.protocols.is_empty() {
        let rows = pair
            .protocols
            .iter()
            .map(|p| {
                let classes: Vec<String> = p
                    .classes
                    .iter()
                    .map(|(c, n)| format!("{c} {}", count(*n)))
                    .collect();
                let mut functions: Vec<(&String, &u64)> = p.functions.iter().collect();
                functions.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let mut named: Vec<String> = functions
                    .iter()
                    .take(MAX_FUNCTIONS)
                    .map(|(f, n)| format!("{f} {}", count(**n)))
                    .collect();
                if functions.len() > MAX_FUNCTIONS {
                    named.push(format!("… {} more", functions.len() - MAX_FUNCTIONS));
                }
                let permitted = match v.permission(p) {
                    Permission::NotApplicable => vec![text("—")],
                    Permission::Housekeeping => vec![text("— (layer 2)")],
                    Permission::Yes => vec![Span::Status("observed", "yes".into())],
                    Permission::No => vec![Span::Status("violated", "no".into())],
                    Permission::Partly(refused) => vec![Span::Status(
                        "violated",
                        format!("not {}", refused.join(", ")),
                    )],
                };
                vec![
                    vec![code(&p.protocol)],
                    vec![text(count(p.events))],
                    vec![text(count(p.requests))],
                    vec![text(count(p.responses))],
                    vec![text(count(p.flows))],
                    vec![text(count(p.bytes))],
                    vec![text(classes.join(", "))],
                    vec![text(named.join(", "))],
                    permitted,
                ]
            })
            .collect();
        doc.table(
            &[
                "Protocol",
                "Events",
                "Requests",
                "Responses",
                "Flows",
                "Bytes",
                "Request classes",
                "Functions",
                "Permitted",
            ],
            rows,
        );
    }
    if !pair.services.is_empty() || pair.other_services.flows > 0 {
        let mut rows: Vec<Vec<Vec<Span>>> = pair
            .services
            .iter()
            .map(|s| {
                vec![
                    vec![code(&s.service)],
                    vec![text(count(s.flows))],
                    vec![text(count(s.bytes))],
                ]
            })
            .collect();
        if pair.other_services.flows > 0 {
            rows.push(vec![
                vec![text("other services")],
                vec![text(count(pair.other_services.flows))],
                vec![text(count(pair.other_services.bytes))],
            ]);
        }
        doc.paragraph(vec![text("Flows no decoder recognised:")]);
        doc.table(&["Service", "Flows", "Bytes"], rows);
    }
    doc.paragraph(vec![text("Talkers, busiest first:")]);
    let mut rows: Vec<Vec<Vec<Span>>> = pair
        .talkers
        .iter()
        .map(|t| {
            vec![
                vec![code(&t.src)],
                vec![code(&t.dst)],
                vec![text(count(t.events))],
                vec![text(count(t.flows))],
                vec![text(count(t.bytes))],
            ]
        })
        .collect();
    let other = &pair.other_talkers;
    if !other.is_empty() {
        let pairs = if other.untracked {
            format!("{}+ other pairs", other.pairs)
        } else {
            format!("{} other pairs", other.pairs)
        };
        rows.push(vec![
            vec![text(pairs)],
            vec![],
            vec![text(count(other.events))],
            vec![text(count(other.flows))],
            vec![text(count(other.bytes))],
        ]);
    }
    doc.table(
        &["Initiator", "Responder", "Events", "Flows", "Bytes"],
        rows,
    );
}

fn severity_span(severity: &str) -> Span {
    let class = match severity {
        "critical" => "critical",
        "high" => "high",
        "medium" => "medium",
        _ => "",
    };
    Span::Status(class, severity.to_string())
}

fn violations(doc: &mut Document, alerts: &[AlertRecord]) {
    doc.heading(2, "Violations by IEC 62443-3-3 system requirement");
    // Base SR → rule → alerts.
    let mut by_sr: BTreeMap<SrOrder, BTreeMap<&str, Vec<&AlertRecord>>> = BTreeMap::new();
    for alert in alerts {
        let mut bases: Vec<&str> = alert.iec62443.iter().map(|r| sr::base(r)).collect();
        bases.sort();
        bases.dedup();
        for base in bases {
            by_sr
                .entry(sr::order(base))
                .or_default()
                .entry(alert.rule.as_str())
                .or_default()
                .push(alert);
        }
    }
    if by_sr.is_empty() {
        doc.paragraph(vec![text("No alert was raised.")]);
        return;
    }
    doc.paragraph(vec![text(
        "Each alert is listed under every requirement it gives evidence on; one row per rule.",
    )]);
    for ((.., id), rules) in by_sr {
        let title = sr::find(&id).map_or("(not in IEC 62443-3-3)", |r| r.title);
        doc.heading(3, format!("{id} {title}"));
        let mut rows: Vec<(Severity, Vec<Vec<Span>>)> = rules
            .into_iter()
            .map(|(rule, alerts)| {
                let first = alerts[0];
                let occurrences: u64 = alerts.iter().map(|a| a.count).sum();
                let mut pairs: Vec<String> = alerts
                    .iter()
                    .map(|a| {
                        if a.dst.zone.is_empty() || a.dst.zone == a.src.zone {
                            a.src.zone.clone()
                        } else {
                            format!("{} → {}", a.src.zone, a.dst.zone)
                        }
                    })
                    .collect();
                pairs.sort();
                pairs.dedup();
                let refs: Vec<&str> = first
                    .iec62443
                    .iter()
                    .filter(|r| sr::base(r) == id && r.as_str() != id)
                    .map(String::as_str)
                    .collect();
                let last = alerts
                    .iter()
                    .map(|a| a.last_ts)
                    .max()
                    .unwrap_or(first.last_ts);
                let severity = alerts
                    .iter()
                    .map(|a| a.severity())
                    .max()
                    .unwrap_or(Severity::Info);
                let mut title = first.title.clone();
                if !refs.is_empty() {
                    title.push_str(&format!(" ({})", refs.join(", ")));
                }
                (
                    severity,
                    vec![
                        vec![code(rule)],
                        vec![text(title)],
                        vec![severity_span(severity.name())],
                        vec![text(count(alerts.len() as u64))],
                        vec![text(count(occurrences))],
                        vec![text(pairs.join(", "))],
                        vec![text(first.ts.to_string())],
                        vec![text(last.to_string())],
                        vec![text(example(first))],
                    ],
                )
            })
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        doc.table(
            &[
                "Rule",
                "Title",
                "Severity",
                "Alerts",
                "Occurrences",
                "Zones",
                "First seen",
                "Last seen",
                "Example",
            ],
            rows.into_iter().map(|(_, row)| row).collect(),
        );
    }
}

/// `10.10.1.10 → 10.10.2.1 modbus write_single_register: detail`.
fn example(alert: &AlertRecord) -> String {
    let mut what = String::new();
    for part in [&alert.protocol, &alert.function].into_iter().flatten() {
        what.push(' ');
        what.push_str(part);
    }
    let mut text = alert.src.address().to_string();
    if !alert.dst.address().is_empty() {
        text.push_str(&format!(" → {}", alert.dst.address()));
    }
    text.push_str(&what);
    // The detail often repeats protocol and function: say them once.
    let detail = &alert.evidence.detail;
    match detail.strip_prefix(what.trim_start()) {
        Some(rest) if !what.is_empty() => text.push_str(rest),
        _ if !detail.is_empty() => text.push_str(&format!(": {detail}")),
        _ => {}
    }
    text
}

fn insecure_protocols(doc: &mut Document, insecure: &[assess::Insecure]) {
    doc.heading(2, "Insecure protocols");
    if insecure.is_empty() {
        doc.paragraph(vec![text(
            "None seen: no cleartext credentials, Telnet, FTP, HTTP, MQTT without TLS, SNMP v1/v2c, \
             OPC UA without security, or unauthenticated industrial protocols across zones.",
        )]);
        return;
    }
    let rows = insecure
        .iter()
        .map(|f| {
            vec![
                vec![text(format!("{} → {}", f.from, f.to))],
                vec![code(&f.protocol)],
                vec![text(&f.finding)],
                vec![text(count(f.count))],
                vec![if f.crosses {
                    Span::Status("violated", "yes".into())
                } else {
                    text("no")
                }],
            ]
        })
        .collect();
    doc.table(
        &["Zones", "Protocol", "Finding", "PDUs", "Across zones"],
        rows,
    );
}

fn sl_contradictions(
    doc: &mut Document,
    observed: &ObservedConduits,
    zones: &[assess::ZoneContradictions],
) {
    doc.heading(2, "SL-T requirements the observed traffic contradicts");
    if observed.declared.zones.is_empty() {
        doc.paragraph(vec![text(
            "No zones are declared, so no target security level applies.",
        )]);
        return;
    }
    doc.paragraph(vec![
        text("For each zone, the requirements its target security level makes (at that level or below) \
              that traffic across its boundary shows unmet. The mapping and its reasoning: "),
        code("docs/report.md"),
        text("."),
    ]);
    if zones.is_empty() {
        doc.paragraph(vec![text(
            "None: the traffic seen contradicts no requirement of the declared zones' target levels.",
        )]);
        return;
    }
    for zone in zones {
        doc.heading(3, format!("{} (SL-T {})", zone.zone, zone.security_level));
        let rows = zone
            .contradictions
            .iter()
            .map(|c| {
                let mut evidence: Vec<String> =
                    c.evidence.iter().take(MAX_EVIDENCE).cloned().collect();
                if c.evidence.len() > MAX_EVIDENCE {
                    evidence.push(format!("… {} more", c.evidence.len() - MAX_EVIDENCE));
                }
                vec![
                    vec![strong(c.requirement.id)],
                    vec![text(c.requirement.title)],
                    vec![text(format!("SL {}", c.requirement.from_sl))],
                    vec![text(c.why.join("; "))],
                    vec![text(evidence.join("; "))],
                ]
            })
            .collect();
        doc.table(&["Requirement", "Title", "From", "Why", "Evidence"], rows);
    }
}

fn alert_list(doc: &mut Document, alerts: &[AlertRecord]) {
    doc.heading(2, "Alerts");
    if alerts.is_empty() {
        doc.paragraph(vec![text("None.")]);
        return;
    }
    if alerts.len() > MAX_LISTED_ALERTS {
        doc.paragraph(vec![text(format!(
            "The first {MAX_LISTED_ALERTS} of {} alerts, in the order they first happened.",
            count(alerts.len() as u64)
        ))]);
    }
    let rows = alerts
        .iter()
        .take(MAX_LISTED_ALERTS)
        .map(|a| {
            let what = [a.protocol.as_deref(), a.function.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            vec![
                vec![text(&a.id)],
                vec![text(a.ts.to_string())],
                vec![severity_span(&a.severity)],
                vec![code(&a.rule)],
                vec![text(&a.title)],
                vec![text(end(&a.src))],
                vec![text(end(&a.dst))],
                vec![text(what)],
                vec![text(count(a.count))],
                vec![text(a.iec62443.join(", "))],
            ]
        })
        .collect();
    doc.table(
        &[
            "Id",
            "First seen",
            "Severity",
            "Rule",
            "Title",
            "Source",
            "Destination",
            "Protocol",
            "Count",
            "IEC 62443-3-3",
        ],
        rows,
    );
}

fn end(end: &crate::output::alerts::EndRecord) -> String {
    let address = end.address();
    if address.is_empty() {
        return String::new();
    }
    let mut text = address.to_string();
    if let Some(name) = &end.name {
        text.push_str(&format!(" “{name}”"));
    }
    if let Some(role) = &end.role {
        text.push_str(&format!(" ({role})"));
    }
    if !end.zone.is_empty() {
        text.push_str(&format!(" in {}", end.zone));
    }
    text
}

fn requirements(doc: &mut Document) {
    doc.heading(2, "IEC 62443-3-3 system requirements");
    doc.paragraph(vec![text(
        "Titles of the standard's requirements, the lowest security level that asks for each, \
         and what each asks in a few words (ours, not the standard's text).",
    )]);
    let mut all: Vec<&sr::Requirement> = sr::SYSTEM_REQUIREMENTS
        .iter()
        .chain(sr::ENHANCEMENTS)
        .collect();
    all.sort_by_key(|r| sr::order(r.id));
    let rows = all
        .into_iter()
        .map(|r| {
            vec![
                vec![strong(r.id)],
                vec![text(r.title)],
                vec![text(format!("SL {}", r.from_sl))],
                vec![text(r.asks)],
            ]
        })
        .collect();
    doc.table(&["Requirement", "Title", "From", "Asks"], rows);
}
