//! What one flow (one publisher, one multicast group) has said per GOOSE
//! control block, to judge the next frame against the retransmission scheme
//! of IEC 61850-8-1: a new state increments `stNum` and restarts `sqNum` at
//! 0 (1 in some Ed. 2 devices); each retransmission of the same state
//! increments `sqNum`; both are 32-bit counters that roll over; the next
//! frame must come within the previous one's time allowed to live.

use super::GooseFields;
use super::anomaly::*;
use crate::event::Anomalies;
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
    seen: Timestamp,
    data_hash: Option<u64>,
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
        now: Timestamp,
        a: &mut Anomalies,
    ) {
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
            seen: now,
            data_hash,
        };
        let Some(p) = self.list.iter_mut().find(|p| p.gocb_ref == gocb_ref) else {
            if self.list.len() >= MAX_PUBLISHERS {
                let oldest = (self.list.iter().enumerate())
                    .min_by_key(|(_, p)| p.seen)
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
        if let Some(ttl) = p.ttl_ms {
            let elapsed = now.0.saturating_sub(p.seen.0);
            let allowed = i64::try_from(ttl)
                .unwrap_or(i64::MAX)
                .saturating_mul(NANOS_PER_MS);
            if elapsed > allowed {
                a.add(TTL_EXPIRED);
                f.ttl_late_ms = Some(((elapsed - allowed) as u64).div_ceil(NANOS_PER_MS as u64));
            }
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
}
