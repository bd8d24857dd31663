//! Evaluates the policy over what the sensor sees, in packet order: events
//! against detection rules and conduits, flow starts against zones and
//! conduits, and inventory changes against change rules. Repeats of an alert
//! within the deduplication window are counted, not raised again.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::alert::{AlertEnd, EVIDENCE_PACKETS, Evidence, addr};
use super::baseline::{
    Addr, Baseline, Deviation, Request, SavedBaseline, UNTRUSTED, UNZONED, ZoneId,
};
use super::memo::{Memo, Signature, Step};
use super::thresholds::{Group, Groups, Seen, SlotRef};
use super::{
    ACTING, Alert, AlertPer, By, Distinct, FieldValue, Matcher, Policy, Principal, Severity,
    Threshold, Trigger,
};
use crate::analysis::inventory::{Change, ChangeKind, HostKey, Inventory, Role};
use crate::event::{Event, FunctionClass, Mac, Nest, Protocol, Value, Visitor};
use crate::flow::Side;
use crate::pipeline::{FlowRecord, FlowStart, SecondCount};
use crate::time::Timestamp;

/// Repeats of one alert within this much packet time are counted on it.
const DEDUP_WINDOW_SECS: i64 = 300;
/// Alerts kept; beyond, they are counted only.
const MAX_ALERTS: usize = 100_000;
/// Matches waiting for their clearing window; beyond, matches alert at once.
const MAX_PENDING: usize = 10_000;
/// Addresses whose DNS or TLS names are remembered.
const MAX_NAMES: usize = 65_536;
/// Packet time a UDP server has to answer before flow thresholds count the
/// flow as an unanswered probe (devices answer polls within milliseconds).
const ANSWER_WAIT: Timestamp = Timestamp(5_000_000_000);
/// UDP flows waiting for an answer; beyond, new ones count at once.
const MAX_UNANSWERED: usize = 65_536;

/// The built-in conduit checks (they apply once zones and conduits are declared).
struct Builtin {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    severity: Severity,
    iec62443: &'static [&'static str],
    mitre: &'static [&'static str],
}

const NO_CONDUIT: Builtin = Builtin {
    id: "OT-ZONE-001",
    title: "Traffic between zones that no conduit joins",
    description: "Two declared zones exchanged traffic although no conduit joins them: the zone model says they do not talk at all (deny all, permit by exception).",
    severity: Severity::High,
    iec62443: &["SR 5.1", "SR 5.2"],
    mitre: &["T0886"],
};
const NOT_PERMITTED: Builtin = Builtin {
    id: "OT-ZONE-002",
    title: "Traffic the conduit does not permit",
    description: "A message, or an undecoded flow, crossed a conduit that permits nothing like it: its protocol, function class or function code is in none of the conduit's allows.",
    severity: Severity::High,
    iec62443: &["SR 5.2", "SR 5.2 RE 1"],
    mitre: &["T0886"],
};
const WRONG_INITIATOR: Builtin = Builtin {
    id: "OT-ZONE-003",
    title: "Connection opened from the wrong side of a conduit",
    description: "A connection across a conduit was opened from the zone that the conduit does not let initiate: the direction of trust is reversed.",
    severity: Severity::Medium,
    iec62443: &["SR 5.2"],
    mitre: &["T0886"],
};
const WRITER_NOT_ALLOWED: Builtin = Builtin {
    id: "OT-ZONE-004",
    title: "Write or control across a conduit by an asset the conduit does not name as a writer",
    description: "A write, control, program or firmware request crossed a conduit from an asset that is not among the writers of the allow that permits it.",
    severity: Severity::High,
    iec62443: &["SR 2.1", "SR 5.2"],
    mitre: &["T0855", "T0836"],
};

const STORM: Builtin = Builtin {
    id: "OT-NET-001",
    title: "Broadcast or multicast storm",
    description: "So many broadcast or multicast frames within one second that every device on the segment must handle them: a switching loop, a flooding or failing device, or a denial of service. Controllers can miss their cycle under such load.",
    severity: Severity::High,
    iec62443: &["SR 7.1", "SR 7.2"],
    mitre: &["T0814"],
};

/// Group-addressed frames in one second of packet time from which a storm
/// is raised. The multicast streams OT publishes by design (GOOSE, SV,
/// PROFINET RT) are not counted; ARP, DHCP, discovery and IP multicast
/// of a healthy cell stay far below it, a switching loop far above.
pub const STORM_FRAMES_PER_SECOND: u64 = 1000;

const NEW_ASSET: Builtin = Builtin {
    id: "OT-BASE-001",
    title: "New asset after the baseline",
    description: "A device appeared that was not seen while the baseline was learned.",
    severity: Severity::Medium,
    iec62443: &["SR 7.8", "SR 6.2"],
    mitre: &["T0848"],
};
const NEW_TALKER: Builtin = Builtin {
    id: "OT-BASE-002",
    title: "New talker pair after the baseline",
    description: "Two assets talk a protocol they did not use with each other while the baseline was learned.",
    severity: Severity::Medium,
    iec62443: &["SR 6.2", "SR 5.1"],
    mitre: &["T0886"],
};
const NEW_FUNCTION: Builtin = Builtin {
    id: "OT-BASE-003",
    title: "New function between known talkers",
    description: "Two assets that talked while the baseline was learned now use a function they did not use then (a write where they only read, a restart…).",
    severity: Severity::Medium,
    iec62443: &["SR 6.2", "SR 2.1"],
    mitre: &["T0855"],
};
const NEW_CONDUIT: Builtin = Builtin {
    id: "OT-BASE-004",
    title: "New conduit: zones that did not talk while learning",
    description: "Two zones exchanged traffic that did not talk at all while the baseline was learned.",
    severity: Severity::High,
    iec62443: &["SR 5.1", "SR 5.2"],
    mitre: &["T0886"],
};
const NEW_PROTOCOL: Builtin = Builtin {
    id: "OT-BASE-005",
    title: "New protocol on a conduit",
    description: "Two zones that talked while the baseline was learned now talk a protocol they did not use then.",
    severity: Severity::Medium,
    iec62443: &["SR 5.2", "SR 6.2"],
    mitre: &["T0869"],
};
const RATE_ABOVE: Builtin = Builtin {
    id: "OT-BASE-006",
    title: "Message rate far above the baseline",
    description: "Two assets exchanged far more requests within 10 s than they ever did while the baseline was learned: a flood, a scan or a misbehaving client.",
    severity: Severity::Medium,
    iec62443: &["SR 7.1", "SR 6.2"],
    mitre: &["T0814", "T0806"],
};
const SILENCE: Builtin = Builtin {
    id: "OT-BASE-007",
    title: "Cyclic traffic resumed after a silence far beyond the baseline",
    description: "Cyclic requests between two assets resumed after a silence far longer than any gap learned: the poller, the link or the process was down.",
    severity: Severity::Low,
    iec62443: &["SR 6.2"],
    mitre: &["T0815"],
};

/// Every built-in check: a policy may switch one off by its id
/// (`enabled = false`), not replace it.
const BUILTINS: [&Builtin; 12] = [
    &NO_CONDUIT,
    &NOT_PERMITTED,
    &WRONG_INITIATOR,
    &WRITER_NOT_ALLOWED,
    &STORM,
    &NEW_ASSET,
    &NEW_TALKER,
    &NEW_FUNCTION,
    &NEW_CONDUIT,
    &NEW_PROTOCOL,
    &RATE_ABOVE,
    &SILENCE,
];

/// Whether `id` is a built-in check's.
pub fn is_builtin(id: &str) -> bool {
    BUILTINS.iter().any(|b| b.id == id)
}

/// The two ends of what is being judged.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Ends {
    src_ip: Option<IpAddr>,
    dst_ip: Option<IpAddr>,
    src_mac: Option<Mac>,
    dst_mac: Option<Mac>,
}

/// What every event has and most rules test first: its protocol,
/// direction, function class and whether it has anomalies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EventKind {
    protocol: Protocol,
    is_response: bool,
    class: FunctionClass,
    anomalous: bool,
}

impl EventKind {
    const COUNT: usize = Protocol::ALL.len() * 2 * FunctionClass::ALL.len() * 2;

    fn of(event: &Event) -> EventKind {
        EventKind {
            protocol: event.pdu.protocol,
            is_response: event.pdu.is_response,
            class: event.pdu.class,
            anomalous: !event.pdu.anomalies.is_empty(),
        }
    }

    fn all() -> impl Iterator<Item = EventKind> {
        Protocol::ALL.iter().flat_map(|&protocol| {
            [false, true].into_iter().flat_map(move |is_response| {
                FunctionClass::ALL.iter().flat_map(move |&class| {
                    [false, true].map(|anomalous| EventKind {
                        protocol,
                        is_response,
                        class,
                        anomalous,
                    })
                })
            })
        })
    }

    fn index(self) -> usize {
        let at = self.protocol as usize;
        let at = at * 2 + usize::from(self.is_response);
        let at = at * FunctionClass::ALL.len() + self.class as usize;
        at * 2 + usize::from(self.anomalous)
    }

    /// Whether an event of this kind can pass `matcher`'s tests of these
    /// four things (the rest is left to [`Matcher::matches_event`]).
    fn may_match(self, matcher: &Matcher) -> bool {
        // The cheapest tests first.
        matcher.is_response.is_none_or(|r| r == self.is_response)
            && matcher.classes.is_none_or(|c| c.contains(self.class))
            // Any wanted anomaly needs at least one.
            && (matcher.anomalies.is_none() || self.anomalous)
            && matcher
                .protocols
                .as_ref()
                .is_none_or(|ps| ps.contains(&self.protocol))
    }
}

pub struct Engine {
    policy: Policy,
    /// Event rules that can match an event, by what every event has (see
    /// [`EventKind`]): most rules are ruled out once, not for each event.
    candidates: Vec<Vec<usize>>,
    /// Whether an event of each kind can take back a held match (some
    /// rule's `cleared_by` may match it): the others skip the held list.
    clears: Vec<bool>,
    flow_rules: Vec<usize>,
    change_rules: Vec<usize>,
    windows: Vec<Groups>,
    /// The event rules' verdicts by signature.
    memo: Memo,
    /// The rules that fired on the event being judged (kept for its room).
    fired: Vec<usize>,
    /// Open alerts by (rule id, what they are about), to count repeats.
    open: HashMap<(String, String), usize>,
    alerts: Vec<Alert>,
    alerts_dropped: u64,
    /// Conduit verdicts already reached per (flow, function code, class, direction).
    verdicts: foldhash::HashMap<(u64, u32, u8, bool), Option<&'static Builtin>>,
    /// Matches of rules with `cleared_by`, waiting out their window.
    pending: Vec<Pending>,
    /// The earliest deadline among `pending`.
    next_deadline: Timestamp,
    /// Names of addresses, from DNS answers and TLS server names, to say
    /// which Internet service an alert is about.
    names: HashMap<IpAddr, String>,
    /// The learned baseline, when learning or judging.
    baseline: Option<Baseline>,
    deviations: Vec<Deviation>,
    /// Group-addressed frames of the second being counted, and whether it
    /// was raised already.
    storm: (SecondCount, bool),
    /// UDP flows whose server has not answered yet, for the flow thresholds
    /// (a poll answered is not a probe), by flow id; with their deadlines
    /// in the order they opened.
    unanswered: HashMap<u64, Opening>,
    unanswered_order: VecDeque<(Timestamp, u64)>,
}

/// A flow's first packet, as flow rules judge it.
struct Opening {
    ends: Ends,
    context: Context,
    key: crate::flow::FlowKey,
    dst_port: u16,
}

/// What the engine leaves when the input ends.
pub struct Outcome {
    /// In the order they first happened.
    pub alerts: Vec<Alert>,
    /// Alerts not kept because [`MAX_ALERTS`] were.
    pub alerts_dropped: u64,
    pub baseline: Option<SavedBaseline>,
}

/// A match held until its rule's clearing window has passed.
struct Pending {
    rule: usize,
    deadline: Timestamp,
    ends: Ends,
    context: Context,
    detail: String,
}

impl Engine {
    pub fn new(policy: Policy) -> Engine {
        let mut candidates = vec![Vec::new(); EventKind::COUNT];
        let mut clears = vec![false; EventKind::COUNT];
        let mut flow_rules = Vec::new();
        let mut change_rules = Vec::new();
        for (i, rule) in policy.rules.iter().enumerate() {
            match rule.trigger {
                Trigger::Event => {
                    for kind in EventKind::all() {
                        if kind.may_match(&rule.matcher) {
                            candidates[kind.index()].push(i);
                        }
                        if rule
                            .cleared_by
                            .as_ref()
                            .is_some_and(|c| kind.may_match(&c.matcher))
                        {
                            clears[kind.index()] = true;
                        }
                    }
                }
                Trigger::Flow => flow_rules.push(i),
                Trigger::AssetChange => change_rules.push(i),
            }
        }
        let windows = policy.rules.iter().map(|_| Default::default()).collect();
        Engine {
            policy,
            candidates,
            clears,
            flow_rules,
            change_rules,
            windows,
            memo: Memo::default(),
            fired: Vec::new(),
            open: HashMap::new(),
            alerts: Vec::new(),
            alerts_dropped: 0,
            verdicts: Default::default(),
            pending: Vec::new(),
            next_deadline: Timestamp(i64::MAX),
            names: HashMap::new(),
            baseline: None,
            deviations: Vec::new(),
            storm: (SecondCount::default(), false),
            unanswered: HashMap::new(),
            unanswered_order: VecDeque::new(),
        }
    }

    /// Learns or judges with `baseline` from now on.
    pub fn set_baseline(&mut self, baseline: Baseline) {
        self.baseline = Some(baseline);
    }

    pub fn baseline(&self) -> Option<&Baseline> {
        self.baseline.as_ref()
    }

    /// A zone for the baseline: declared, or the untrusted or unzoned rest.
    fn zone_id(&self, ip: Option<IpAddr>, mac: Option<Mac>) -> ZoneId {
        match self.policy.zone_of(ip, mac) {
            Some(z) => z as ZoneId,
            None if ip.is_some_and(is_public) => UNTRUSTED,
            None => UNZONED,
        }
    }

    /// A request against the baseline; deviations become alerts.
    fn judge_baseline(&mut self, event: &Event, ends: &Ends, inventory: &Inventory) {
        let pdu = &event.pdu;
        if pdu.is_response || is_chatter(pdu.protocol) {
            return;
        }
        let (Some(src), Some(dst)) = (
            Addr::of(ends.src_ip, ends.src_mac),
            Addr::of(ends.dst_ip, ends.dst_mac),
        ) else {
            return;
        };
        if !is_one_host(dst) {
            return;
        }
        let request = Request {
            ts: event.header.ts,
            src,
            dst,
            protocol: pdu.protocol,
            function: pdu.function,
            zones: [
                self.zone_id(ends.src_ip, ends.src_mac),
                self.zone_id(ends.dst_ip, ends.dst_mac),
            ],
        };
        let mut deviations = std::mem::take(&mut self.deviations);
        deviations.clear();
        if let Some(baseline) = &mut self.baseline {
            baseline.request(&request, &mut deviations);
        }
        for deviation in deviations.drain(..) {
            let (builtin, detail) = self.deviation_detail(&deviation, event, ends);
            self.raise_builtin(builtin, ends, event_context(event), None, detail, inventory);
        }
        self.deviations = deviations;
    }

    fn deviation_detail(
        &self,
        deviation: &Deviation,
        event: &Event,
        ends: &Ends,
    ) -> (&'static Builtin, String) {
        let what = describe(event);
        let zones = || {
            format!(
                "{} and {}",
                zone_label(
                    &self.policy,
                    self.policy.zone_of(ends.src_ip, ends.src_mac),
                    ends.src_ip
                ),
                zone_label(
                    &self.policy,
                    self.policy.zone_of(ends.dst_ip, ends.dst_mac),
                    ends.dst_ip
                )
            )
        };
        match deviation {
            Deviation::NewTalker => (
                &NEW_TALKER,
                format!(
                    "{what}: this pair did not talk {} while learning",
                    event.pdu.protocol.name()
                ),
            ),
            Deviation::NewFunction { learned } => (
                &NEW_FUNCTION,
                format!(
                    "{what}: while learning this pair used only {}",
                    learned.join(", ")
                ),
            ),
            Deviation::NewConduit => (
                &NEW_CONDUIT,
                format!("{what}: first traffic between {}", zones()),
            ),
            Deviation::NewProtocolOnConduit { learned } => {
                let learned: Vec<&str> = learned.iter().map(|p| p.name()).collect();
                (
                    &NEW_PROTOCOL,
                    format!(
                        "{what}: between {} only {} while learning",
                        zones(),
                        learned.join(", ")
                    ),
                )
            }
            Deviation::RateAbove {
                count,
                learned_max,
                learned_p99,
            } => (
                &RATE_ABOVE,
                format!(
                    "{what}: {count} requests within {}s; learned at most {learned_max} (p99 {learned_p99})",
                    super::baseline::RATE_WINDOW.0 / 1_000_000_000
                ),
            ),
            Deviation::Silence {
                gap_ms,
                learned_p99_ms,
            } => (
                &SILENCE,
                format!(
                    "{what}: first request after {:.1}s; learned gaps p99 {:.1}s",
                    *gap_ms as f64 / 1000.0,
                    *learned_p99_ms as f64 / 1000.0
                ),
            ),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Alerts raised so far, in the order raised, without ids (see [`Engine::finish`]).
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// An event: the rules for its protocol, and the conduit it crosses.
    pub fn event(&mut self, event: &Event, inventory: &Inventory) {
        let h = &event.header;
        let ends = Ends {
            src_ip: h.src_ip,
            dst_ip: h.dst_ip,
            src_mac: h.src_mac,
            dst_mac: h.dst_mac,
        };
        let kind = EventKind::of(event).index();
        let seen = Occurrence {
            ts: h.ts,
            flow: h.flow,
            dst_port: h.dst_port,
            event: Some(event),
        };
        if !self.pending.is_empty() {
            self.expire_pending(h.ts, inventory);
            if self.clears[kind] {
                self.clear_pending(event, &ends, inventory);
            }
        }
        self.learn_names(event);
        if self.baseline.is_some() {
            self.judge_baseline(event, &ends, inventory);
        }
        let mut fired = std::mem::take(&mut self.fired);
        if !self.candidates[kind].is_empty() {
            self.fired_rules(event, kind, &ends, &seen, inventory, &mut fired);
        }
        for &rule in &fired {
            let mut detail = describe(event);
            // A rule on anomalies says which ones it saw.
            if self.policy.rules[rule].matcher.anomalies.is_some() {
                let anomalies: Vec<&str> = event.pdu.anomalies.iter().collect();
                detail = format!("{detail}: {}", anomalies.join(", "));
            }
            match &self.policy.rules[rule].cleared_by {
                Some(clearing) if self.pending.len() < MAX_PENDING => {
                    let deadline = Timestamp(h.ts.0 + clearing.within.0);
                    self.next_deadline = self.next_deadline.min(deadline);
                    self.pending.push(Pending {
                        rule,
                        deadline,
                        ends,
                        context: event_context(event),
                        detail,
                    });
                }
                _ => self.raise_rule(rule, &ends, event_context(event), detail, inventory),
            }
        }
        fired.clear();
        self.fired = fired;
        if !self.policy.conduits.is_empty() || !self.policy.zones.is_empty() {
            self.judge_conduit(event, &ends, inventory);
        }
    }

    /// The first packet from one side of a flow: at the flow's opening, the
    /// flow rules (from the client to the server); from the client, the zones it joins.
    pub fn flow_started(&mut self, start: &FlowStart, inventory: &Inventory) {
        let ip = |side: Side| {
            (start.key.ether_type == 0)
                .then(|| std::net::Ipv6Addr::from(start.key.endpoint(side).addr).to_canonical())
        };
        if !self.pending.is_empty() {
            self.expire_pending(start.ts, inventory);
        }
        let from_client = start.first == start.client;
        let (client_mac, server_mac) = if from_client {
            (start.src_mac, start.dst_mac)
        } else {
            (start.dst_mac, start.src_mac)
        };
        let ends = Ends {
            src_ip: ip(start.client),
            dst_ip: ip(start.client.other()),
            src_mac: client_mac,
            dst_mac: server_mac,
        };
        let context = Context {
            ts: start.ts,
            seq: start.seq,
            capture: start.capture,
            packet: start.packet,
            flow: Some(start.id),
            protocol: None,
            function: None,
        };
        if !self.unanswered_order.is_empty() {
            if !start.opens {
                // The other side's first packet: the flow was answered.
                self.unanswered.remove(&start.id);
            }
            self.count_unanswered(Some(start.ts), inventory);
        }
        if start.opens {
            let opening = Opening {
                ends,
                context: context.clone(),
                key: start.key,
                dst_port: start.key.endpoint(start.client.other()).port,
            };
            self.judge_opening(&opening, false, inventory);
            // Thresholds count connection attempts: TCP flows not open before
            // the capture, and UDP flows once their server leaves them unanswered.
            let udp = start.key.ether_type == 0 && start.key.proto == 17;
            if udp && self.unanswered_order.len() < MAX_UNANSWERED {
                self.unanswered_order
                    .push_back((Timestamp(start.ts.0 + ANSWER_WAIT.0), start.id));
                self.unanswered.insert(start.id, opening);
            } else if !start.midstream {
                self.judge_opening(&opening, true, inventory);
            }
        }
        // Only the client's first packet says who initiated.
        if !from_client || self.policy.zones.is_empty() {
            return;
        }
        let (zs, zd) = (
            self.policy.zone_of(ends.src_ip, ends.src_mac),
            self.policy.zone_of(ends.dst_ip, ends.dst_mac),
        );
        let (Some(a), Some(b)) = (zs, zd) else {
            return;
        };
        if a == b {
            return;
        }
        match self.policy.conduit_between(a, b) {
            None => self.raise_builtin(
                &NO_CONDUIT,
                &ends,
                context,
                None,
                "no conduit joins these zones".into(),
                inventory,
            ),
            Some(c) => {
                let conduit = &self.policy.conduits[c];
                if conduit.initiator.is_some_and(|z| z != a) {
                    let detail = format!(
                        "opened from {}; the conduit lets only {} initiate",
                        self.policy.zone_name(Some(a)),
                        self.policy.zone_name(conduit.initiator)
                    );
                    self.raise_builtin(
                        &WRONG_INITIATOR,
                        &ends,
                        context,
                        Some(c),
                        detail,
                        inventory,
                    );
                }
            }
        }
    }

    /// The flow rules without a threshold (`counted` false), or those with one, on a flow's opening.
    fn judge_opening(&mut self, opening: &Opening, counted: bool, inventory: &Inventory) {
        let seen = Occurrence {
            ts: opening.context.ts,
            flow: opening.context.flow.unwrap_or(0),
            dst_port: Some(opening.dst_port),
            event: None,
        };
        for at in 0..self.flow_rules.len() {
            let rule = self.flow_rules[at];
            if self.policy.rules[rule].threshold.is_some() != counted {
                continue;
            }
            if self.policy.rules[rule].fires_on_ends(
                &opening.ends,
                Some(opening.dst_port),
                &self.policy,
                inventory,
            ) && self.threshold_reached(rule, &seen, &opening.ends)
            {
                let detail = self.flow_detail(&opening.key, opening.dst_port);
                self.raise_rule(
                    rule,
                    &opening.ends,
                    opening.context.clone(),
                    detail,
                    inventory,
                );
            }
        }
    }

    /// Counts the UDP flows left unanswered past their deadline (before
    /// `now`; all of them at the end of the input) on the flow thresholds.
    fn count_unanswered(&mut self, now: Option<Timestamp>, inventory: &Inventory) {
        while let Some(&(deadline, id)) = self.unanswered_order.front() {
            if now.is_some_and(|now| deadline >= now) {
                break;
            }
            self.unanswered_order.pop_front();
            if let Some(opening) = self.unanswered.remove(&id) {
                self.judge_opening(&opening, true, inventory);
            }
        }
        if self.unanswered.is_empty() {
            self.unanswered_order.clear();
        }
    }

    /// A flow ended: undecoded traffic across a conduit is not permitted traffic.
    pub fn flow_ended(&mut self, flow: &FlowRecord, inventory: &Inventory) {
        self.verdicts.retain(|(id, ..), _| *id != flow.id);
        if flow.protocol.is_some() || flow.key.ether_type != 0 || self.policy.conduits.is_empty() {
            return;
        }
        let server = flow.client.other();
        let ip = |side: Side| {
            Some(std::net::Ipv6Addr::from(flow.key.endpoint(side).addr).to_canonical())
        };
        let ends = Ends {
            src_ip: ip(flow.client),
            dst_ip: ip(server),
            src_mac: None,
            dst_mac: None,
        };
        let (Some(a), Some(b)) = (
            self.policy.zone_of(ends.src_ip, None),
            self.policy.zone_of(ends.dst_ip, None),
        ) else {
            return;
        };
        if a == b || flow.bytes == [0, 0] {
            return;
        }
        if let Some(c) = self.policy.conduit_between(a, b) {
            let transport = if flow.key.proto == 6 { "tcp" } else { "udp" };
            let detail = format!(
                "{transport}/{} is not a protocol the conduit carries",
                flow.key.endpoint(server).port
            );
            let context = Context {
                ts: flow.first_seen,
                seq: flow.id,
                capture: 0,
                packet: 0,
                flow: Some(flow.id),
                protocol: None,
                function: None,
            };
            self.raise_builtin(&NOT_PERMITTED, &ends, context, Some(c), detail, inventory);
        }
    }

    /// A change in the inventory: the change rules, and a new asset once
    /// the baseline is established.
    pub fn change(&mut self, change: &Change, inventory: &Inventory) {
        let (ip, mac) = match change.host {
            HostKey::Ip(ip) => (Some(ip), None),
            HostKey::Mac(mac) => (None, Some(mac)),
        };
        let ends = Ends {
            src_ip: ip,
            dst_ip: None,
            src_mac: mac,
            dst_mac: None,
        };
        let context = Context {
            ts: change.seen.ts,
            seq: change.seen.packet,
            capture: change.seen.capture,
            packet: change.seen.packet,
            flow: None,
            protocol: None,
            function: None,
        };
        if change.kind == ChangeKind::NewAsset
            && self
                .baseline
                .as_ref()
                .is_some_and(|b| b.judges_at(change.seen.ts))
        {
            let detail = format!(
                "{} first seen after the baseline was learned",
                addr(ends.src_ip, ends.src_mac)
            );
            self.raise_builtin(&NEW_ASSET, &ends, context.clone(), None, detail, inventory);
        }
        for at in 0..self.change_rules.len() {
            let rule = self.change_rules[at];
            if self.policy.rules[rule].fires_on_change(change, &ends, &self.policy, inventory) {
                self.raise_rule(
                    rule,
                    &ends,
                    context.clone(),
                    change.detail.clone(),
                    inventory,
                );
            }
        }
    }

    /// Packets by second of packet time, as the dispatcher counted them (a
    /// second may come in parts): raises a storm once a second's
    /// group-addressed frames reach [`STORM_FRAMES_PER_SECOND`].
    pub fn seconds(&mut self, counted: &[SecondCount], inventory: &Inventory) {
        for count in counted {
            let (current, raised) = &mut self.storm;
            if count.second != current.second {
                (*current, *raised) = (*count, false);
            } else {
                current.group.merge(&count.group);
                current.last = current.last.max(count.last);
            }
            let group = current.group;
            if *raised || group.frames < STORM_FRAMES_PER_SECOND {
                continue;
            }
            *raised = true;
            let sender = group.sender.filter(|_| group.votes > 0);
            let ends = Ends {
                src_ip: None,
                dst_ip: None,
                src_mac: sender,
                dst_mac: None,
            };
            let context = Context {
                ts: current.last,
                seq: group.seq,
                capture: group.capture,
                packet: group.packet,
                flow: None,
                protocol: None,
                function: None,
            };
            let detail = format!(
                "{} broadcast/multicast frames within one second (limit {STORM_FRAMES_PER_SECOND}){}",
                group.frames,
                if sender.is_some() {
                    "; most from the source"
                } else {
                    "; from many sources"
                }
            );
            self.raise_builtin(&STORM, &ends, context, None, detail, inventory);
        }
    }

    /// Remembers the names DNS answers give addresses, and the server name a
    /// TLS client asks its server for.
    fn learn_names(&mut self, event: &Event) {
        let pdu = &event.pdu;
        let mut learned = Vec::new();
        match pdu.protocol {
            Protocol::Dns | Protocol::Mdns | Protocol::Llmnr if pdu.is_response => {
                learned = dns_answers(event);
            }
            Protocol::Tls if !pdu.is_response => {
                if let (Some(server), Some(sni)) = (event.header.dst_ip, field_value(event, "sni"))
                {
                    learned.push((server, sni));
                }
            }
            _ => return,
        }
        for (ip, name) in learned {
            if self.names.len() < MAX_NAMES || self.names.contains_key(&ip) {
                self.names.insert(ip, name);
            }
        }
    }

    /// Raises the held matches whose clearing window ended before `now`.
    fn expire_pending(&mut self, now: Timestamp, inventory: &Inventory) {
        if now <= self.next_deadline {
            return;
        }
        let (due, waiting): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.deadline < now);
        self.pending = waiting;
        self.next_deadline = self
            .pending
            .iter()
            .map(|p| p.deadline)
            .min()
            .unwrap_or(Timestamp(i64::MAX));
        for held in due {
            self.raise_rule(held.rule, &held.ends, held.context, held.detail, inventory);
        }
    }

    /// Drops the held matches that this event, between the same hosts, takes back.
    fn clear_pending(&mut self, event: &Event, ends: &Ends, inventory: &Inventory) {
        let rules = &self.policy.rules;
        let policy = &self.policy;
        self.pending.retain(|held| {
            let clears = held.ends == *ends
                && rules[held.rule]
                    .cleared_by
                    .as_ref()
                    .is_some_and(|c| c.matcher.matches_event(event, ends, policy, inventory));
            !clears
        });
    }

    /// All alerts raised, in the order they first happened. Matches still
    /// inside their clearing window when the input ends are not raised: the
    /// capture ended before it could tell. UDP flows still waiting for an
    /// answer count as unanswered: none came before the capture ended.
    pub fn finish(mut self, inventory: &Inventory) -> Outcome {
        self.count_unanswered(None, inventory);
        self.alerts.sort_by_key(|a| (a.seq, a.ts));
        // Names learned after an alert was raised (a TLS server name follows the connection).
        for alert in &mut self.alerts {
            for end in [&mut alert.src, &mut alert.dst] {
                if end.name.is_none()
                    && let Some(ip) = end.ip
                {
                    end.name = self.names.get(&ip).cloned();
                }
            }
        }
        for (n, alert) in self.alerts.iter_mut().enumerate() {
            alert.id = format!("A{:06}", n + 1);
        }
        let policy = &self.policy;
        let baseline = self.baseline.as_ref().map(|b| {
            b.save(|zone| match zone {
                UNTRUSTED => super::UNTRUSTED.to_string(),
                UNZONED => "unzoned".to_string(),
                z => policy.zone_name(Some(z as usize)).to_string(),
            })
        });
        Outcome {
            alerts: self.alerts,
            alerts_dropped: self.alerts_dropped,
            baseline,
        }
    }

    /// What a flow rule saw: the transport and server port, or the ethertype.
    fn flow_detail(&self, key: &crate::flow::FlowKey, dst_port: u16) -> String {
        match (key.ether_type, key.proto) {
            (0, 6) => format!("tcp/{dst_port}"),
            (0, 17) => format!("udp/{dst_port}"),
            (0, proto) => format!("ip protocol {proto}"),
            (ether_type, _) => format!("ethertype 0x{ether_type:04x}"),
        }
    }

    /// The event rules that fire on `event` (of kind `kind`), in order,
    /// into `fired`: their conditions matched and their thresholds, if
    /// any, were reached. What the event's signature settles is worked out
    /// once per signature (see [`memo`](super::memo)).
    fn fired_rules(
        &mut self,
        event: &Event,
        kind: usize,
        ends: &Ends,
        seen: &Occurrence,
        inventory: &Inventory,
        fired: &mut Vec<usize>,
    ) {
        let Engine {
            policy,
            candidates,
            windows,
            memo,
            ..
        } = self;
        let (h, pdu) = (&event.header, &event.pdu);
        let signature = Signature {
            flow: h.flow,
            src_port: h.src_port,
            kind,
            function_code: pdu.function_code,
            function: pdu.function.as_ptr() as usize,
        };
        let verdicts = memo.verdicts(signature, ends, h.dst_port, || {
            steps(policy, &candidates[kind], event, ends, inventory)
        });
        for step in &mut verdicts.steps {
            let rule = &policy.rules[step.rule];
            if step.test && !rule.fires_given_signature(event, ends, policy, inventory) {
                continue;
            }
            if let Some(threshold) = &rule.threshold {
                let groups = &mut windows[step.rule];
                if !count_match(groups, threshold, &mut step.slot, policy, seen, ends) {
                    continue;
                }
            }
            fired.push(step.rule);
        }
    }

    /// Whether a rule's threshold (if any) is reached by this match.
    fn threshold_reached(&mut self, rule: usize, seen: &Occurrence, ends: &Ends) -> bool {
        let Some(threshold) = &self.policy.rules[rule].threshold else {
            return true;
        };
        let groups = &mut self.windows[rule];
        count_match(groups, threshold, &mut None, &self.policy, seen, ends)
    }

    /// Checks an event against the conduit its ends' zones share. A response
    /// is judged as part of its exchange: from the client to the server.
    fn judge_conduit(&mut self, event: &Event, ends: &Ends, inventory: &Inventory) {
        let pdu = &event.pdu;
        let swapped;
        let ends = if pdu.is_response {
            swapped = Ends {
                src_ip: ends.dst_ip,
                dst_ip: ends.src_ip,
                src_mac: ends.dst_mac,
                dst_mac: ends.src_mac,
            };
            &swapped
        } else {
            ends
        };
        let key = (
            event.header.flow,
            pdu.function_code.unwrap_or(u32::MAX),
            pdu.class as u8,
            pdu.is_response,
        );
        if let Some(verdict) = self.verdicts.get(&key) {
            if let Some(builtin) = verdict {
                self.raise_builtin(
                    builtin,
                    ends,
                    event_context(event),
                    None,
                    describe(event),
                    inventory,
                );
            }
            return;
        }
        let verdict = self.conduit_verdict(event, ends, inventory);
        if self.verdicts.len() < MAX_ALERTS {
            self.verdicts.insert(key, verdict.map(|(b, _)| b));
        }
        if let Some((builtin, conduit)) = verdict {
            self.raise_builtin(
                builtin,
                ends,
                event_context(event),
                conduit,
                describe(event),
                inventory,
            );
        }
    }

    fn conduit_verdict(
        &self,
        event: &Event,
        ends: &Ends,
        inventory: &Inventory,
    ) -> Option<(&'static Builtin, Option<usize>)> {
        let policy = &self.policy;
        let (a, b) = (
            policy.zone_of(ends.src_ip, ends.src_mac)?,
            policy.zone_of(ends.dst_ip, ends.dst_mac)?,
        );
        if a == b {
            return None;
        }
        let Some(c) = policy.conduit_between(a, b) else {
            return Some((&NO_CONDUIT, None));
        };
        let pdu = &event.pdu;
        let acting = pdu.class.bit() & ACTING != 0 && !pdu.is_response;
        let mut permitted = false;
        for allow in &policy.conduits[c].allow {
            let protocol = allow.protocols.contains(&pdu.protocol);
            let class = allow.classes.is_none_or(|c| c.contains(pdu.class));
            let code = allow
                .function_codes
                .as_ref()
                .is_none_or(|codes| pdu.function_code.is_some_and(|f| codes.contains(&f)));
            if !(protocol && class && code) {
                continue;
            }
            permitted = true;
            if acting
                && let Some(writers) = &allow.writers
                && !writers
                    .iter()
                    .any(|w| principal_matches(w, ends, policy, inventory))
            {
                return Some((&WRITER_NOT_ALLOWED, Some(c)));
            }
        }
        (!permitted).then_some((&NOT_PERMITTED, Some(c)))
    }

    fn raise_rule(
        &mut self,
        rule: usize,
        ends: &Ends,
        context: Context,
        detail: String,
        inventory: &Inventory,
    ) {
        let rule = &self.policy.rules[rule];
        let detail = match &rule.threshold {
            Some(t) => format!("{detail}; {}", t.describe()),
            None => detail,
        };
        let source = Raise {
            id: rule.id.clone(),
            per: rule.alert_per,
            title: rule.title.clone(),
            description: rule.description.clone(),
            severity: rule.severity,
            iec62443: rule.iec62443.clone(),
            mitre: rule.mitre.clone(),
        };
        self.raise(source, ends, context, None, detail, inventory);
    }

    fn raise_builtin(
        &mut self,
        builtin: &Builtin,
        ends: &Ends,
        context: Context,
        conduit: Option<usize>,
        detail: String,
        inventory: &Inventory,
    ) {
        if self
            .policy
            .disabled_builtins
            .iter()
            .any(|id| id == builtin.id)
        {
            return;
        }
        let source = Raise {
            id: builtin.id.to_string(),
            per: AlertPer::Function,
            title: builtin.title.to_string(),
            description: builtin.description.to_string(),
            severity: builtin.severity,
            iec62443: builtin.iec62443.iter().map(|s| s.to_string()).collect(),
            mitre: builtin.mitre.iter().map(|s| s.to_string()).collect(),
        };
        self.raise(source, ends, context, conduit, detail, inventory);
    }

    fn raise(
        &mut self,
        source: Raise,
        ends: &Ends,
        context: Context,
        conduit: Option<usize>,
        detail: String,
        inventory: &Inventory,
    ) {
        let (src, dst) = (
            addr(ends.src_ip, ends.src_mac),
            addr(ends.dst_ip, ends.dst_mac),
        );
        let about = match source.per {
            AlertPer::Function => format!("{src}>{dst}|{}", context.function.unwrap_or_default()),
            AlertPer::Pair => format!("{src}>{dst}"),
            AlertPer::Src => src,
            AlertPer::Dst => dst,
        };
        let key = (source.id.clone(), about);
        if let Some(&open) = self.open.get(&key) {
            let alert = &mut self.alerts[open];
            if context.ts.0 - alert.last_ts.0 <= DEDUP_WINDOW_SECS * 1_000_000_000 {
                alert.count += 1;
                alert.last_ts = alert.last_ts.max(context.ts);
                let packets = &mut alert.evidence.packets;
                if packets.len() < EVIDENCE_PACKETS
                    && context.packet != 0
                    && packets.last() != Some(&context.packet)
                {
                    packets.push(context.packet);
                }
                return;
            }
        }
        if self.alerts.len() >= MAX_ALERTS {
            self.alerts_dropped += 1;
            return;
        }
        let policy = &self.policy;
        let (zs, zd) = (
            policy.zone_of(ends.src_ip, ends.src_mac),
            policy.zone_of(ends.dst_ip, ends.dst_mac),
        );
        let names = &self.names;
        let end = |ip: Option<IpAddr>, mac: Option<Mac>, zone: Option<usize>| AlertEnd {
            ip,
            mac,
            name: ip.and_then(|ip| names.get(&ip).cloned()),
            asset: inventory.asset_id(ip, mac),
            zone: zone_label(policy, zone, ip),
            role: inventory
                .role_of(ip, mac)
                .filter(|r| *r != Role::Unknown)
                .map(Role::name),
        };
        let src = end(ends.src_ip, ends.src_mac, zs);
        let dst = if ends.dst_ip.is_some() || ends.dst_mac.is_some() {
            end(ends.dst_ip, ends.dst_mac, zd)
        } else {
            AlertEnd::default()
        };
        let mut zones = vec![src.zone.clone()];
        if !dst.zone.is_empty() && dst.zone != src.zone {
            zones.push(dst.zone.clone());
        }
        let conduit = conduit
            .or_else(|| zs.zip(zd).and_then(|(a, b)| policy.conduit_between(a, b)))
            .map(|c| policy.conduits[c].name.clone());
        let alert = Alert {
            id: String::new(),
            ts: context.ts,
            last_ts: context.ts,
            severity: source.severity,
            rule: source.id,
            title: source.title,
            description: source.description,
            src,
            dst,
            zones,
            conduit,
            protocol: context.protocol.map(Protocol::name),
            function: context.function,
            evidence: Evidence {
                packets: if context.packet != 0 {
                    vec![context.packet]
                } else {
                    Vec::new()
                },
                capture: (context.capture != 0).then_some(context.capture),
                flow: context.flow,
                detail,
            },
            iec62443: source.iec62443,
            mitre: source.mitre,
            count: 1,
            seq: context.seq,
        };
        self.open.insert(key, self.alerts.len());
        self.alerts.push(alert);
    }
}

/// Where an alert comes from.
struct Raise {
    id: String,
    per: AlertPer,
    title: String,
    description: String,
    severity: Severity,
    iec62443: Vec<String>,
    mitre: Vec<String>,
}

/// What a rule matched, as thresholds count it.
struct Occurrence<'a> {
    ts: Timestamp,
    flow: u64,
    dst_port: Option<u16>,
    /// The event, for rules on events.
    event: Option<&'a Event>,
}

/// When and where a match happened.
#[derive(Clone)]
struct Context {
    ts: Timestamp,
    seq: u64,
    capture: u16,
    packet: u64,
    flow: Option<u64>,
    protocol: Option<Protocol>,
    function: Option<&'static str>,
}

fn event_context(event: &Event) -> Context {
    let h = &event.header;
    Context {
        ts: h.ts,
        seq: h.seq,
        capture: h.capture,
        packet: h.packet,
        flow: Some(h.flow),
        protocol: Some(event.pdu.protocol),
        function: Some(event.pdu.function),
    }
}

/// What an event was, readably: `modbus write_multiple_registers (16) to unit 1`.
fn describe(event: &Event) -> String {
    let pdu = &event.pdu;
    match pdu.function_code {
        Some(code) => format!("{} {} ({code})", pdu.protocol.name(), pdu.function),
        None => format!("{} {}", pdu.protocol.name(), pdu.function),
    }
}

/// Discovery and name-service chatter, which the baseline leaves out.
fn is_chatter(protocol: Protocol) -> bool {
    matches!(
        protocol,
        Protocol::Arp
            | Protocol::Lldp
            | Protocol::Cdp
            | Protocol::Dhcp
            | Protocol::Mdns
            | Protocol::Llmnr
            | Protocol::Nbns
            | Protocol::Nbdgm
    )
}

/// An address of one host (not broadcast or multicast).
fn is_one_host(addr: Addr) -> bool {
    match addr {
        Addr::Ip(IpAddr::V4(v4)) => {
            !(v4.is_multicast() || v4.is_broadcast() || v4.octets()[3] == 255)
        }
        Addr::Ip(IpAddr::V6(v6)) => !v6.is_multicast(),
        Addr::Mac(mac) => mac[0] & 1 == 0,
    }
}

/// A zone's name; outside every zone, `untrusted` for public addresses and `unzoned` otherwise.
fn zone_label(policy: &Policy, zone: Option<usize>, ip: Option<IpAddr>) -> String {
    match zone {
        Some(z) => policy.zones[z].name.clone(),
        None if ip.is_some_and(is_public) => super::UNTRUSTED.to_string(),
        None => "unzoned".to_string(),
    }
}

/// An address routed on the Internet (not private, loopback, link-local, multicast…).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b);
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || shared)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            let unique_local = first & 0xfe00 == 0xfc00;
            let link_local = first & 0xffc0 == 0xfe80;
            !(v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unspecified()
                || unique_local
                || link_local)
        }
    }
}

/// Whether the source of `ends` is one that `principal` names.
fn principal_matches(
    principal: &Principal,
    ends: &Ends,
    policy: &Policy,
    inventory: &Inventory,
) -> bool {
    let ip = ends.src_ip;
    match principal {
        Principal::Net(net) => ip.is_some_and(|ip| net.contains(&ip)),
        Principal::Role(role) => inventory.role_of(ip, None) == Some(*role),
        Principal::Tag(tag) => policy.has_tag(ip, ends.src_mac, tag),
    }
}

/// The rules of `candidates` that may fire on events of `event`'s
/// signature: those the signature settles, if they match; the others
/// unless a settled part of their conditions already fails.
fn steps(
    policy: &Policy,
    candidates: &[usize],
    event: &Event,
    ends: &Ends,
    inventory: &Inventory,
) -> Vec<Step> {
    let step = |rule: usize| {
        let r = &policy.rules[rule];
        let test = !r.is_settled_by_signature();
        let may_fire = if test {
            r.matcher.matches_signature(event, ends, policy)
        } else {
            r.fires_on_event(event, ends, policy, inventory)
        };
        may_fire.then_some(Step {
            rule,
            test,
            slot: None,
        })
    };
    candidates.iter().filter_map(|&rule| step(rule)).collect()
}

/// Counts a match in its group's window, the one at `slot` while it still
/// holds it (else looked up and kept there), and says whether `threshold`
/// is reached.
fn count_match(
    groups: &mut Groups,
    threshold: &Threshold,
    slot: &mut Option<SlotRef>,
    policy: &Policy,
    seen: &Occurrence,
    ends: &Ends,
) -> bool {
    let at = match *slot {
        Some(at) if groups.holds(at) => at,
        _ => {
            let group = group_of(threshold.by, policy, seen.flow, ends);
            let at = groups.slot(group, seen.ts, threshold.window);
            *slot = Some(at);
            at
        }
    };
    let value = (threshold.distinct.as_ref()).map(|d| distinct_value(d, seen, ends));
    groups.count(at, threshold, seen.ts, value)
}

/// The group a threshold counts a match in.
fn group_of(by: By, policy: &Policy, flow: u64, ends: &Ends) -> Group {
    match by {
        By::Src => Group::End(Addr::of(ends.src_ip, ends.src_mac)),
        By::Dst => Group::End(Addr::of(ends.dst_ip, ends.dst_mac)),
        By::Pair => Group::Pair(
            Addr::of(ends.src_ip, ends.src_mac),
            Addr::of(ends.dst_ip, ends.dst_mac),
        ),
        By::Flow => Group::Flow(flow),
        By::Conduit => Group::Zones(
            policy.zone_of(ends.src_ip, ends.src_mac),
            policy.zone_of(ends.dst_ip, ends.dst_mac),
        ),
    }
}

fn distinct_value(distinct: &Distinct, seen: &Occurrence, ends: &Ends) -> Seen {
    match distinct {
        Distinct::Dst => Seen::End(Addr::of(ends.dst_ip, ends.dst_mac)),
        Distinct::DstPort => Seen::Number(seen.dst_port.unwrap_or(0).into()),
        Distinct::FunctionCode => seen
            .event
            .and_then(|e| e.pdu.function_code)
            .map_or(Seen::Nothing, |c| Seen::Number(c.into())),
        Distinct::Field(name) => seen
            .event
            .and_then(|e| field_seen(e, name))
            .unwrap_or(Seen::Nothing),
    }
}

/// The address records of a DNS answer, named by the question asked (the
/// name a user looked up, not the end of a CNAME chain): (address, name).
fn dns_answers(event: &Event) -> Vec<(IpAddr, String)> {
    #[derive(Default)]
    struct Answers {
        path: Vec<String>,
        question: Option<String>,
        name: Option<String>,
        address: Option<IpAddr>,
        found: Vec<(IpAddr, String)>,
    }
    impl Visitor for Answers {
        fn field(&mut self, name: &str, value: Value<'_>) {
            let list = self.path.first().map(String::as_str);
            if list == Some("questions") && name == "name" && self.question.is_none() {
                if let Value::Str(v) = value {
                    self.question = Some(v.to_string());
                }
                return;
            }
            if list != Some("answers") {
                return;
            }
            match (name, value) {
                ("name", Value::Str(v)) => self.name = Some(v.to_string()),
                ("data", Value::Str(v)) => self.address = v.parse().ok(),
                _ => {}
            }
        }
        fn begin(&mut self, name: &str, _: Nest) {
            self.path.push(name.to_string());
            self.name = None;
            self.address = None;
        }
        fn end(&mut self) {
            if let (Some(ip), Some(name)) = (self.address.take(), self.name.take()) {
                self.found.push((ip, name));
            }
            self.path.pop();
        }
    }
    let mut answers = Answers::default();
    event.pdu.fields.visit(&mut answers);
    match answers.question {
        Some(question) => answers
            .found
            .into_iter()
            .map(|(ip, _)| (ip, question.clone()))
            .collect(),
        None => answers.found,
    }
}

/// Whether any field of the event is a credential (a [`Value::Secret`]).
fn carries_credentials(event: &Event) -> bool {
    if !event.pdu.fields.may_carry_secret() {
        return false;
    }
    struct Find(bool);
    impl Visitor for Find {
        fn field(&mut self, _: &str, value: Value<'_>) {
            self.0 |= matches!(value, Value::Secret(_));
        }
        fn begin(&mut self, _: &str, _: Nest) {}
        fn end(&mut self) {}
    }
    let mut find = Find(false);
    event.pdu.fields.visit(&mut find);
    find.0
}

/// A protocol field's value as text, found through the fields' visitor.
fn field_value(event: &Event, name: &str) -> Option<String> {
    find_field(event, name, |value| match value {
        Value::U64(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::F64(v) => v.to_string(),
        Value::Bool(v) => v.to_string(),
        Value::Str(v) | Value::Secret(v) => v.to_string(),
        Value::Hex(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// A protocol field's value as a distinct threshold counts it.
fn field_seen(event: &Event, name: &str) -> Option<Seen> {
    find_field(event, name, |value| match value {
        Value::U64(v) => Seen::Number(v),
        Value::I64(v) => Seen::Number(v as u64),
        Value::F64(v) => Seen::Number(v.to_bits()),
        Value::Bool(v) => Seen::Number(v.into()),
        Value::Str(v) | Value::Secret(v) => Seen::Text(v.into()),
        Value::Hex(bytes) => Seen::Text(bytes.iter().map(|b| format!("{b:02x}")).collect()),
    })
}

/// The first top-level field called `name`, converted by `convert`.
fn find_field<T>(event: &Event, name: &str, convert: fn(Value<'_>) -> T) -> Option<T> {
    if let Some(value) = event.pdu.fields.header_field(name) {
        return Some(convert(value));
    }
    struct Find<'a, T> {
        name: &'a str,
        depth: usize,
        convert: fn(Value<'_>) -> T,
        found: Option<T>,
    }
    impl<T> Visitor for Find<'_, T> {
        fn field(&mut self, name: &str, value: Value<'_>) {
            if self.depth == 0 && self.found.is_none() && name == self.name {
                self.found = Some((self.convert)(value));
            }
        }
        fn begin(&mut self, _: &str, _: Nest) {
            self.depth += 1;
        }
        fn end(&mut self) {
            self.depth = self.depth.saturating_sub(1);
        }
    }
    let mut find = Find {
        name,
        depth: 0,
        convert,
        found: None,
    };
    event.pdu.fields.visit(&mut find);
    find.found
}

impl super::Rule {
    fn fires_on_event(
        &self,
        event: &Event,
        ends: &Ends,
        policy: &Policy,
        inventory: &Inventory,
    ) -> bool {
        self.matcher.matches_signature(event, ends, policy)
            && self.fires_given_signature(event, ends, policy, inventory)
    }

    /// [`Rule::fires_on_event`] for an event whose signature already met
    /// the conditions it settles (see [`Matcher::matches_signature`]).
    fn fires_given_signature(
        &self,
        event: &Event,
        ends: &Ends,
        policy: &Policy,
        inventory: &Inventory,
    ) -> bool {
        self.matcher.matches_this_event(event, ends, inventory)
            && !self
                .unless
                .iter()
                .any(|u| u.matches_event(event, ends, policy, inventory))
    }

    /// Whether every event of one signature meets the rule's conditions
    /// alike (see [`Matcher::is_settled_by_signature`]).
    fn is_settled_by_signature(&self) -> bool {
        self.matcher.is_settled_by_signature()
            && self.unless.iter().all(Matcher::is_settled_by_signature)
    }

    fn fires_on_ends(
        &self,
        ends: &Ends,
        dst_port: Option<u16>,
        policy: &Policy,
        inventory: &Inventory,
    ) -> bool {
        self.matcher.matches_ends(ends, dst_port, policy, inventory)
            && !self
                .unless
                .iter()
                .any(|u| u.matches_ends(ends, dst_port, policy, inventory))
    }

    fn fires_on_change(
        &self,
        change: &Change,
        ends: &Ends,
        policy: &Policy,
        inventory: &Inventory,
    ) -> bool {
        let kind = |m: &Matcher| m.changes.as_ref().is_none_or(|k| k.contains(&change.kind));
        kind(&self.matcher)
            && self.matcher.matches_ends(ends, None, policy, inventory)
            && !self
                .unless
                .iter()
                .any(|u| kind(u) && u.matches_ends(ends, None, policy, inventory))
    }
}

impl Matcher {
    /// Whether every event of one signature (a direction of a flow, the
    /// event's kind and function) meets these conditions alike: they look
    /// at no fields, credentials or particular anomalies, which differ from
    /// event to event, and at no roles, which the inventory learns as it goes.
    fn is_settled_by_signature(&self) -> bool {
        self.fields.is_none()
            && self.credentials.is_none()
            && self.anomalies.as_ref().is_none_or(Vec::is_empty)
            && self.src_role.is_none()
            && self.dst_role.is_none()
    }

    fn matches_event(
        &self,
        event: &Event,
        ends: &Ends,
        policy: &Policy,
        inventory: &Inventory,
    ) -> bool {
        self.matches_signature(event, ends, policy)
            && self.matches_this_event(event, ends, inventory)
    }

    /// The conditions that every event of one signature meets alike (see
    /// [`Matcher::is_settled_by_signature`]): kind, function, function code,
    /// any anomaly, addresses, ports and zones.
    fn matches_signature(&self, event: &Event, ends: &Ends, policy: &Policy) -> bool {
        let pdu = &event.pdu;
        // The cheapest tests first: most events fail one of them.
        if !EventKind::of(event).may_match(self)
            || self
                .functions
                .as_ref()
                .is_some_and(|fs| !fs.contains(&pdu.function))
            || self
                .function_codes
                .as_ref()
                .is_some_and(|codes| pdu.function_code.is_none_or(|c| !codes.contains(&c)))
        {
            return false;
        }
        self.matches_places(ends, event.header.dst_port, policy)
    }

    /// The conditions that differ from event to event of one signature:
    /// particular anomalies, credentials, fields and roles.
    fn matches_this_event(&self, event: &Event, ends: &Ends, inventory: &Inventory) -> bool {
        let pdu = &event.pdu;
        if let Some(wanted) = self.anomalies.as_ref().filter(|w| !w.is_empty())
            && !wanted.iter().any(|w| pdu.anomalies.contains(w))
        {
            return false;
        }
        if self
            .credentials
            .is_some_and(|wanted| wanted != carries_credentials(event))
        {
            return false;
        }
        if let Some(fields) = &self.fields {
            let all = fields.iter().all(|(name, expected)| {
                field_value(event, name).is_some_and(|found| {
                    expected.iter().any(|value| match value {
                        FieldValue::Number(n) => found == n.to_string(),
                        FieldValue::Text(t) => found == *t,
                        FieldValue::Bool(b) => found == b.to_string(),
                    })
                })
            });
            if !all {
                return false;
            }
        }
        self.matches_roles(ends, inventory)
    }

    /// The conditions on addresses, ports, zones and roles.
    fn matches_ends(
        &self,
        ends: &Ends,
        dst_port: Option<u16>,
        policy: &Policy,
        inventory: &Inventory,
    ) -> bool {
        self.matches_places(ends, dst_port, policy) && self.matches_roles(ends, inventory)
    }

    /// The conditions on addresses, ports and zones.
    fn matches_places(&self, ends: &Ends, dst_port: Option<u16>, policy: &Policy) -> bool {
        if self
            .dst_ports
            .as_ref()
            .is_some_and(|ports| dst_port.is_none_or(|p| !ports.contains(&p)))
        {
            return false;
        }
        let in_nets = |nets: &Option<Vec<ipnet::IpNet>>, ip: Option<IpAddr>| {
            nets.as_ref()
                .is_none_or(|nets| ip.is_some_and(|ip| nets.iter().any(|n| n.contains(&ip))))
        };
        if !in_nets(&self.src, ends.src_ip) || !in_nets(&self.dst, ends.dst_ip) {
            return false;
        }
        let needs_zones =
            self.src_zone.is_some() || self.dst_zone.is_some() || self.cross_zone.is_some();
        if needs_zones {
            let zs = policy.zone_of(ends.src_ip, ends.src_mac);
            let zd = policy.zone_of(ends.dst_ip, ends.dst_mac);
            // The untrusted zone holds public addresses outside every declared zone.
            let in_zone =
                |wanted: &Option<Vec<Option<usize>>>, zone: Option<usize>, ip: Option<IpAddr>| {
                    wanted.as_ref().is_none_or(|zones| {
                        zones.iter().any(|z| match z {
                            Some(z) => zone == Some(*z),
                            None => zone.is_none() && ip.is_some_and(is_public),
                        })
                    })
                };
            if !in_zone(&self.src_zone, zs, ends.src_ip)
                || !in_zone(&self.dst_zone, zd, ends.dst_ip)
            {
                return false;
            }
            if let Some(cross) = self.cross_zone {
                let crossing = zs != zd && (zs.is_some() || zd.is_some());
                if crossing != cross {
                    return false;
                }
            }
        }
        true
    }

    /// The conditions on the ends' roles, which the inventory learns as it goes.
    fn matches_roles(&self, ends: &Ends, inventory: &Inventory) -> bool {
        let has_role = |roles: &Option<Vec<Role>>, ip: Option<IpAddr>, mac: Option<Mac>| {
            roles.as_ref().is_none_or(|roles| {
                inventory
                    .role_of(ip, mac)
                    .is_some_and(|r| roles.contains(&r))
            })
        };
        has_role(&self.src_role, ends.src_ip, ends.src_mac)
            && has_role(&self.dst_role, ends.dst_ip, ends.dst_mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_has_its_own_list_of_candidate_rules() {
        let mut seen = vec![false; EventKind::COUNT];
        for kind in EventKind::all() {
            assert!(
                !std::mem::replace(&mut seen[kind.index()], true),
                "{kind:?}"
            );
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn candidate_rules_leave_out_only_rules_that_cannot_match() {
        use crate::event::Classes;
        let matcher = Matcher {
            protocols: Some(vec![Protocol::Modbus]),
            is_response: Some(false),
            classes: Some(Classes(FunctionClass::Write.bit())),
            anomalies: Some(Vec::new()),
            ..Matcher::default()
        };
        let write = EventKind {
            protocol: Protocol::Modbus,
            is_response: false,
            class: FunctionClass::Write,
            anomalous: true,
        };
        assert!(write.may_match(&matcher));
        for other in [
            EventKind {
                protocol: Protocol::Dnp3,
                ..write
            },
            EventKind {
                is_response: true,
                ..write
            },
            EventKind {
                class: FunctionClass::Read,
                ..write
            },
            EventKind {
                anomalous: false,
                ..write
            },
        ] {
            assert!(!other.may_match(&matcher), "{other:?}");
        }
        assert!(
            EventKind::all().all(|kind| kind.may_match(&Matcher::default())),
            "a rule without these tests is a candidate for every event"
        );
    }

    #[test]
    fn a_signature_keeps_its_verdicts_for_its_ends_and_works_them_out_again_for_others() {
        let ends = |client: u8| Ends {
            src_ip: Some(IpAddr::from([10, 0, 0, client])),
            dst_ip: Some(IpAddr::from([10, 0, 0, 1])),
            src_mac: None,
            dst_mac: None,
        };
        let signature = Signature {
            flow: 7,
            src_port: Some(50_000),
            kind: 3,
            function_code: Some(3),
            function: 0,
        };
        let mut memo = Memo::default();
        let mut worked_out = 0;
        let seen = [(2, 502), (2, 502), (9, 502), (9, 502), (9, 503), (2, 502)];
        for (client, port) in seen {
            let steps = || {
                worked_out += 1;
                vec![Step {
                    rule: usize::from(client),
                    test: false,
                    slot: None,
                }]
            };
            let verdicts = memo.verdicts(signature, &ends(client), Some(port), steps);
            assert_eq!(verdicts.steps[0].rule, usize::from(client));
        }
        assert_eq!(worked_out, 4, "once for each change of ends or port");
    }

    #[test]
    fn a_signature_rules_out_what_it_settles_and_the_rest_is_tested_on_each_event() {
        use crate::analysis::policy::{Source, load};
        use crate::event::Fields;
        use crate::protocols::modbus::ModbusFields;
        let policy = load(&[Source {
            name: "plant.toml".into(),
            text: r#"
[[rule]]
id = "PLANT-1"
title = "Requests to unit 5 on the standard port"
severity = "low"
match = { protocol = "modbus", dst_port = 502, fields = { unit_id = 5 } }
"#
            .into(),
        }])
        .unwrap();
        let mut engine = Engine::new(policy);
        let inventory = Inventory::new();
        // One client polls units 5 and 6 of a gateway on port 502, then the
        // same units on port 503 (another flow): only unit 5 on 502 fires.
        let polls = [(502, 5), (502, 6), (502, 5), (503, 5), (503, 6), (502, 6)];
        for (at, (port, unit_id)) in (1..).zip(polls) {
            let client = IpAddr::from([10, 0, 0, 2]);
            let mut event = Event::modbus_read_request(at, client, IpAddr::from([10, 0, 0, 1]));
            event.header.flow = u64::from(port);
            event.header.dst_port = Some(port);
            event.pdu.fields = Fields::Modbus(ModbusFields {
                unit_id,
                ..ModbusFields::default()
            });
            engine.event(&event, &inventory);
        }
        let fired: Vec<(u64, Vec<u64>)> = (engine.alerts().iter())
            .filter(|a| a.rule == "PLANT-1")
            .map(|a| (a.count, a.evidence.packets.clone()))
            .collect();
        assert_eq!(fired, [(2, vec![1, 3])]);
    }

    #[test]
    fn every_built_in_check_and_rule_of_the_pack_has_a_description() {
        for builtin in BUILTINS {
            assert!(!builtin.title.is_empty(), "{}", builtin.id);
            assert!(!builtin.description.is_empty(), "{}", builtin.id);
        }
        let rules = Policy::default_pack().rules;
        let bare: Vec<&str> = rules
            .iter()
            .filter(|r| r.description.is_empty())
            .map(|r| r.id.as_str())
            .collect();
        assert!(
            bare.is_empty(),
            "rules of the pack without a description: {bare:?}"
        );
    }
}
