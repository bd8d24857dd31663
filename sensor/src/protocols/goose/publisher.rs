//! What one flow (one publisher, one multicast group) has said per GOOSE
//! control block, to judge the next frame against the retransmission scheme
//! of IEC 61850-8-1: a new state increments `stNum` and restarts `sqNum` at
//! 0 (1 in some Ed. 2 devices); each retransmission of the same state
//! increments `sqNum`; both are 32-bit counters that roll over; the next
//! frame must come within the previous one's time allowed to live.
//!
//! A publisher that falls silent sends no frame to judge: [`Publishers::silent`]
//! finds those whose time allowed to live ran out by a given packet time, once
//! per silence, so that the loss of a publisher is reported when it happens.

use super::GooseFields;
use super::anomaly::*;
use crate::event::{Anomalies, Header};
use crate::time::Timestamp;

/// Control blocks tracked per flow (a publisher rarely has more than a few
/// per multicast address); beyond, the least recently seen is forgotten.
pub const MAX_PUBLISHERS: usize = 16;
/// stNum and sqNum are INT32U.
const COUNTER_MAX: u64 = u32::MAX as u64;
const NANOS_PER_MS: i64 = 1_000_000;

#[derive(Debug, Default)]
pub struct Publishers {
    list: Vec<Publisher>,
}

#[derive(Debug)]
struct Publisher {
    gocb_ref: String,
    st_num: u64,
    sq_num: u64,
    conf_rev: Option<u64>,
    ttl_ms: Option<u64>,
    /// The header of its last frame: when it was seen, and what a report of
    /// its silence is stamped with.
    last: Header,
    data_hash: Option<u64>,
    /// The silence since the last frame was reported as `ttl_expired`.
    silence_reported: bool,
}

impl Publisher {
    /// When its time allowed to live runs out, if it gave one.
    fn deadline(&self) -> Option<Timestamp> {
        let ttl = i64::try_from(self.ttl_ms?).unwrap_or(i64::MAX);
        Some(Timestamp(
            self.last
                .ts
                .0
                .saturating_add(ttl.saturating_mul(NANOS_PER_MS)),
        ))
    }
}

/// A publisher whose time allowed to live ran out with no frame after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Silence {
    /// The header of its last frame.
    pub last: Header,
    /// What its last frame said, and when its time allowed to live ran out.
    pub fields: GooseFields,
}

/// `cur` comes right after `prev` on a counter that rolls over to 0 or 1.
fn follows(cur: u64, prev: u64) -> bool {
    cur == prev.wrapping_add(1) || (prev >= COUNTER_MAX && cur <= 1)
}

impl Publishers {
    /// Judges the frame in `f` (seen at `now`) against the previous frame of
    /// its control block and remembers it. Frames without `gocbRef`, `stNum`
    /// or `sqNum` are not tracked.
    pub fn track(
        &mut self,
        f: &mut GooseFields,
        data_hash: Option<u64>,
        header: Header,
        a: &mut Anomalies,
    ) {
        let now = header.ts;
        let (Some(gocb_ref), Some(st), Some(sq)) = (f.gocb_ref.as_deref(), f.st_num, f.sq_num)
        else {
            return;
        };
        let current = Publisher {
            gocb_ref: String::new(),
            st_num: st,
            sq_num: sq,
            conf_rev: f.conf_rev,
            ttl_ms: f.time_allowed_to_live,
            last: header,
            data_hash,
            silence_reported: false,
        };
        let Some(p) = self.list.iter_mut().find(|p| p.gocb_ref == gocb_ref) else {
            if self.list.len() >= MAX_PUBLISHERS {
                let oldest = (self.list.iter().enumerate())
                    .min_by_key(|(_, p)| p.last.ts)
                    .map(|(i, _)| i);
                if let Some(oldest) = oldest {
                    self.list.swap_remove(oldest);
                }
                a.add(PUBLISHER_TABLE_FULL);
            }
            self.list.push(Publisher {
                gocb_ref: gocb_ref.to_string(),
                ..current
            });
            return;
        };
        // A silence already reported (by `silent`) is not reported again.
        if let Some(deadline) = p.deadline()
            && now > deadline
            && !p.silence_reported
        {
            a.add(TTL_EXPIRED);
            let late = now.0.saturating_sub(deadline.0) as u64;
            f.ttl_late_ms = Some(late.div_ceil(NANOS_PER_MS as u64));
        }
        if let (Some(prev), Some(cur)) = (p.conf_rev, f.conf_rev)
            && prev != cur
        {
            a.add(CONF_REV_CHANGED);
            f.previous_conf_rev = Some(prev);
        }
        let data_changed = matches!((p.data_hash, data_hash), (Some(x), Some(y)) if x != y);
        if st == p.st_num {
            f.state_change = Some(false);
            if !follows(sq, p.sq_num) {
                f.previous_sq_num = Some(p.sq_num);
                if sq == p.sq_num {
                    if !data_changed {
                        a.add(SQ_NUM_REPEATED);
                    }
                } else if sq > p.sq_num {
                    a.add(SQ_NUM_GAP);
                } else {
                    a.add(SQ_NUM_RESET_WITHOUT_STATE_CHANGE);
                }
            }
            if data_changed {
                a.add(DATA_CHANGED_WITHOUT_STATE_CHANGE);
            }
        } else if follows(st, p.st_num) || st > p.st_num {
            f.state_change = Some(true);
            f.previous_st_num = Some(p.st_num);
            if !follows(st, p.st_num) {
                a.add(ST_NUM_GAP);
            }
            if sq > 1 {
                f.previous_sq_num = Some(p.sq_num);
                a.add(SQ_NUM_GAP);
            }
        } else {
            f.state_change = Some(false);
            f.previous_st_num = Some(p.st_num);
            a.add(ST_NUM_REGRESSED);
        }
        let gocb_ref = std::mem::take(&mut p.gocb_ref);
        *p = Publisher {
            gocb_ref,
            conf_rev: current.conf_rev.or(p.conf_rev),
            ttl_ms: current.ttl_ms.or(p.ttl_ms),
            data_hash: current.data_hash.or(p.data_hash),
            ..current
        };
    }

    /// Reports, once per silence, each control block whose time allowed to
    /// live ran out before `now` (packet time) with no frame after its last.
    pub fn silent(&mut self, now: Timestamp, mut report: impl FnMut(Silence)) {
        for p in &mut self.list {
            let Some(deadline) = p.deadline() else {
                continue;
            };
            if p.silence_reported || now <= deadline {
                continue;
            }
            p.silence_reported = true;
            report(Silence {
                last: p.last,
                fields: GooseFields {
                    gocb_ref: Some(p.gocb_ref.clone()),
                    time_allowed_to_live: p.ttl_ms,
                    st_num: Some(p.st_num),
                    sq_num: Some(p.sq_num),
                    conf_rev: p.conf_rev,
                    ttl_expired_at: Some(deadline),
                    ..GooseFields::default()
                },
            });
        }
    }
}
