//! The learned baseline (`--learn DURATION`): for the first DURATION of
//! packet time the sensor only watches — who talks to whom over which
//! protocol, with which functions, how often, and which zones talk at all.
//! Afterwards what falls outside it is a deviation, which the engine raises
//! as an alert. The baseline is kept in the `--db` store, so a restarted
//! sensor goes on detecting without learning again.
//!
//! Thresholds (documented in docs/rules.md):
//! - rate: requests of a pair per [`RATE_WINDOW`]; a window above
//!   `max(RATE_FACTOR × learned p99, learned max + RATE_MARGIN)` deviates,
//!   once the pair has at least [`MIN_RATE_WINDOWS`] learned windows;
//! - timing: a request after a silence longer than
//!   `max(SILENCE_FACTOR × learned p99 gap, MIN_SILENCE)` deviates, once the
//!   pair has at least [`MIN_GAPS`] learned gaps.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::event::{Mac, Protocol};
use crate::time::Timestamp;

/// Requests are counted per pair in windows of this much packet time.
pub const RATE_WINDOW: Timestamp = Timestamp(10_000_000_000);
pub const RATE_FACTOR: u64 = 3;
pub const RATE_MARGIN: u64 = 10;
pub const MIN_RATE_WINDOWS: u64 = 6;
pub const SILENCE_FACTOR: u64 = 10;
pub const MIN_SILENCE: Timestamp = Timestamp(60_000_000_000);
pub const MIN_GAPS: u64 = 20;
/// Talker pairs learned; beyond, new pairs are neither learned nor judged.
const MAX_PAIRS: usize = 100_000;
/// Functions learned per pair.
const MAX_FUNCTIONS: usize = 256;
/// Zone pairs (with their protocols) learned.
const MAX_CONDUITS: usize = 10_000;
/// Histograms count milliseconds (gaps) and requests (rates) up to this.
const HISTOGRAM_MAX: u64 = 1 << 40;

/// One end of a talker pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Addr {
    Ip(IpAddr),
    Mac(Mac),
}

/// Hashed as one integer: the threshold rules and the conduit map hash an
/// address or two per event, and the derived hash fed the hasher a
/// discriminant, a length and the bytes one by one.
impl Hash for Addr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(self.bits());
    }
}

impl Addr {
    /// The address as one integer: IPv4 mapped into IPv6, a MAC address in
    /// the low 48 bits with a bit above them set. Different addresses may
    /// share it (an IPv6 address can look like either); equality does not
    /// rely on it.
    pub fn bits(self) -> u128 {
        match self {
            Addr::Ip(IpAddr::V4(ip)) => ip.to_ipv6_mapped().to_bits(),
            Addr::Ip(IpAddr::V6(ip)) => ip.to_bits(),
            Addr::Mac(mac) => {
                let mut bytes = [0u8; 16];
                bytes[9] = 1;
                bytes[10..].copy_from_slice(&mac);
                u128::from_be_bytes(bytes)
            }
        }
    }

    /// [`Addr::bits`] of an end that may have no address (`u128::MAX`).
    pub fn bits_of(addr: Option<Addr>) -> u128 {
        addr.map_or(u128::MAX, Addr::bits)
    }

    pub fn of(ip: Option<IpAddr>, mac: Option<Mac>) -> Option<Addr> {
        // Not `or(mac.map(..))`: building both variants and picking one costs
        // a stalled copy on every event of the threshold rules.
        match ip {
            Some(ip) => Some(Addr::Ip(ip)),
            None => mac.map(Addr::Mac),
        }
    }
}

/// What the learned traffic of a pair was.
struct PairStats {
    functions: BTreeSet<String>,
    /// Requests per [`RATE_WINDOW`].
    rate: Histogram<u64>,
    /// Milliseconds between requests.
    gaps: Histogram<u64>,
    window_start: Timestamp,
    window_count: u64,
    last_request: Option<Timestamp>,
}

impl PairStats {
    fn new(ts: Timestamp) -> PairStats {
        PairStats {
            functions: BTreeSet::new(),
            rate: histogram(),
            gaps: histogram(),
            window_start: ts,
            window_count: 0,
            last_request: None,
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX, 2).expect("valid histogram bounds")
}

/// Where learning is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Learning for this long from the first request seen.
    Starting(Timestamp),
    Learning {
        until: Timestamp,
    },
    /// Judging; since when, if learnt in this run.
    Established {
        since: Option<Timestamp>,
    },
}

/// A zone: a declared zone's index, or [`UNZONED`] or [`UNTRUSTED`].
pub type ZoneId = u32;
pub const UNZONED: ZoneId = u32::MAX;
pub const UNTRUSTED: ZoneId = u32::MAX - 1;

/// A request as the baseline sees it.
pub struct Request<'a> {
    pub ts: Timestamp,
    pub src: Addr,
    pub dst: Addr,
    pub protocol: Protocol,
    pub function: &'a str,
    /// The zones of the two ends (for new conduits).
    pub zones: [ZoneId; 2],
}

/// What fell outside the baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deviation {
    NewTalker,
    NewFunction {
        learned: Vec<String>,
    },
    NewConduit,
    NewProtocolOnConduit {
        learned: Vec<Protocol>,
    },
    RateAbove {
        count: u64,
        learned_max: u64,
        learned_p99: u64,
    },
    Silence {
        gap_ms: u64,
        learned_p99_ms: u64,
    },
}

pub struct Baseline {
    phase: Phase,
    pairs: HashMap<(Addr, Addr, Protocol), PairStats>,
    /// Zone pairs (in order) and the protocols seen between them.
    conduits: HashMap<(ZoneId, ZoneId), BTreeSet<Protocol>>,
    /// Pairs not learned because the table was full.
    pub pairs_untracked: u64,
}

impl Baseline {
    /// A baseline that learns for `duration` of packet time, starting with the first request.
    pub fn learn(duration: Timestamp) -> Baseline {
        Baseline {
            phase: Phase::Starting(duration),
            pairs: HashMap::new(),
            conduits: HashMap::new(),
            pairs_untracked: 0,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn established(&self) -> bool {
        matches!(self.phase, Phase::Established { .. })
    }

    /// Whether what happened at `ts` is judged (learning had ended by then).
    pub fn judges_at(&self, ts: Timestamp) -> bool {
        match self.phase {
            Phase::Starting(_) => false,
            Phase::Learning { until } => ts >= until,
            Phase::Established { since } => since.is_none_or(|since| ts >= since),
        }
    }

    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }

    /// Learns from a request, or judges it; deviations are pushed to `out`.
    pub fn request(&mut self, r: &Request, out: &mut Vec<Deviation>) {
        match self.phase {
            Phase::Starting(duration) => {
                self.phase = Phase::Learning {
                    until: Timestamp(r.ts.0 + duration.0),
                }
            }
            Phase::Learning { until } if r.ts >= until => {
                self.phase = Phase::Established { since: Some(until) }
            }
            _ => {}
        }
        let learning = !self.established();
        self.conduit(r, learning, out);
        let key = (r.src, r.dst, r.protocol);
        if !self.pairs.contains_key(&key) {
            if self.pairs.len() >= MAX_PAIRS {
                self.pairs_untracked += 1;
                return;
            }
            if !learning {
                out.push(Deviation::NewTalker);
            }
            // Learned from now on, so that a new talker alerts once.
            self.pairs.insert(key, PairStats::new(r.ts));
        }
        let pair = self.pairs.get_mut(&key).expect("inserted above");
        if !pair.functions.contains(r.function) {
            if !learning && !out.contains(&Deviation::NewTalker) {
                out.push(Deviation::NewFunction {
                    learned: pair.functions.iter().cloned().collect(),
                });
            }
            if pair.functions.len() < MAX_FUNCTIONS {
                pair.functions.insert(r.function.to_string());
            }
        }
        if let Some(last) = pair.last_request {
            let gap_ms = ((r.ts.0 - last.0).max(0) / 1_000_000) as u64;
            if learning {
                record(&mut pair.gaps, gap_ms);
            } else if pair.gaps.len() >= MIN_GAPS {
                let p99 = pair.gaps.value_at_quantile(0.99);
                let limit = (SILENCE_FACTOR * p99).max((MIN_SILENCE.0 / 1_000_000) as u64);
                if gap_ms > limit {
                    out.push(Deviation::Silence {
                        gap_ms,
                        learned_p99_ms: p99,
                    });
                }
            }
        }
        pair.last_request = Some(r.ts);
        // Close the windows that ended; an idle stretch counts as empty windows.
        while r.ts.0 - pair.window_start.0 >= RATE_WINDOW.0 {
            if learning {
                record(&mut pair.rate, pair.window_count);
            }
            pair.window_count = 0;
            pair.window_start = Timestamp(pair.window_start.0 + RATE_WINDOW.0);
            if r.ts.0 - pair.window_start.0 >= 64 * RATE_WINDOW.0 {
                // Long idle: skip ahead rather than count every empty window.
                let skipped = (r.ts.0 - pair.window_start.0) / RATE_WINDOW.0;
                if learning {
                    let _ = pair.rate.record_n(0, skipped as u64);
                }
                pair.window_start = Timestamp(pair.window_start.0 + skipped * RATE_WINDOW.0);
            }
        }
        pair.window_count += 1;
        if !learning && pair.rate.len() >= MIN_RATE_WINDOWS {
            let max = pair.rate.max();
            let p99 = pair.rate.value_at_quantile(0.99);
            let limit = (RATE_FACTOR * p99).max(max + RATE_MARGIN);
            // Once per window: when the count first passes the limit.
            if pair.window_count == limit + 1 {
                out.push(Deviation::RateAbove {
                    count: pair.window_count,
                    learned_max: max,
                    learned_p99: p99,
                });
            }
        }
    }

    fn conduit(&mut self, r: &Request, learning: bool, out: &mut Vec<Deviation>) {
        let [a, b] = r.zones;
        let key = (a.min(b), a.max(b));
        let full = self.conduits.len() >= MAX_CONDUITS;
        match self.conduits.get_mut(&key) {
            Some(protocols) if protocols.contains(&r.protocol) => {}
            Some(protocols) => {
                if !learning {
                    out.push(Deviation::NewProtocolOnConduit {
                        learned: protocols.iter().copied().collect(),
                    });
                }
                protocols.insert(r.protocol);
            }
            None if !full => {
                if !learning {
                    out.push(Deviation::NewConduit);
                }
                self.conduits.insert(key, BTreeSet::from([r.protocol]));
            }
            None => {}
        }
    }

    /// The baseline as stored, zones by name.
    pub fn save(&self, zone_name: impl Fn(ZoneId) -> String) -> SavedBaseline {
        let mut pairs: Vec<SavedPair> = self
            .pairs
            .iter()
            .map(|((src, dst, protocol), stats)| SavedPair {
                src: *src,
                dst: *dst,
                protocol: *protocol,
                functions: stats.functions.iter().cloned().collect(),
                rate: recorded(&stats.rate),
                gaps: recorded(&stats.gaps),
            })
            .collect();
        pairs.sort_by_key(|p| (p.src, p.dst, p.protocol));
        let mut conduits: Vec<SavedConduit> = self
            .conduits
            .iter()
            .map(|((a, b), protocols)| SavedConduit {
                zones: [zone_name(*a), zone_name(*b)],
                protocols: protocols.iter().copied().collect(),
            })
            .collect();
        conduits.sort_by(|x, y| x.zones.cmp(&y.zones));
        let (complete, until) = match self.phase {
            Phase::Established { .. } => (true, None),
            Phase::Learning { until } => (false, Some(until)),
            Phase::Starting(_) => (false, None),
        };
        SavedBaseline {
            complete,
            until,
            pairs,
            conduits,
        }
    }

    /// A stored baseline: complete ones judge at once; an incomplete one
    /// goes on learning until its end (or for `duration` if it had not begun).
    /// Zones are found by name; conduits of zones no longer declared are forgotten.
    pub fn restore(
        saved: SavedBaseline,
        duration: Timestamp,
        zone_id: impl Fn(&str) -> Option<ZoneId>,
    ) -> Baseline {
        let phase = match (saved.complete, saved.until) {
            (true, _) => Phase::Established { since: None },
            (false, Some(until)) => Phase::Learning { until },
            (false, None) => Phase::Starting(duration),
        };
        let mut pairs = HashMap::new();
        for p in saved.pairs.into_iter().take(MAX_PAIRS) {
            let mut stats = PairStats::new(Timestamp::ZERO);
            stats.functions = p.functions.into_iter().take(MAX_FUNCTIONS).collect();
            replay_into(&mut stats.rate, &p.rate);
            replay_into(&mut stats.gaps, &p.gaps);
            pairs.insert((p.src, p.dst, p.protocol), stats);
        }
        let conduits = saved
            .conduits
            .into_iter()
            .take(MAX_CONDUITS)
            .filter_map(|c| {
                let (a, b) = (zone_id(&c.zones[0])?, zone_id(&c.zones[1])?);
                Some(((a.min(b), a.max(b)), c.protocols.into_iter().collect()))
            })
            .collect();
        Baseline {
            phase,
            pairs,
            conduits,
            pairs_untracked: 0,
        }
    }
}

fn record(histogram: &mut Histogram<u64>, value: u64) {
    let _ = histogram.record(value.min(HISTOGRAM_MAX));
}

fn recorded(histogram: &Histogram<u64>) -> Vec<(u64, u64)> {
    histogram
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

fn replay_into(histogram: &mut Histogram<u64>, values: &[(u64, u64)]) {
    for &(value, count) in values {
        let _ = histogram.record_n(value.min(HISTOGRAM_MAX), count);
    }
}

/// The baseline as the store keeps it (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedBaseline {
    /// Learning finished: deviations are judged.
    pub complete: bool,
    /// When learning ends, if it has begun and not finished.
    pub until: Option<Timestamp>,
    pub pairs: Vec<SavedPair>,
    pub conduits: Vec<SavedConduit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPair {
    pub src: Addr,
    pub dst: Addr,
    pub protocol: Protocol,
    pub functions: Vec<String>,
    /// (requests per window, windows)
    pub rate: Vec<(u64, u64)>,
    /// (milliseconds, gaps)
    pub gaps: Vec<(u64, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedConduit {
    pub zones: [String; 2],
    pub protocols: Vec<Protocol>,
}
