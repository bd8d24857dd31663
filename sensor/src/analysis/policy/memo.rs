//! The event rules' verdicts, worked out once per signature: one direction
//! of a flow (its ends) and what the event is (its kind and function).
//! Most events repeat a signature their flow had before (a polling loop),
//! so the rules that cannot match them are not tried again, the rules whose
//! conditions the signature settles are known to match, and a threshold's
//! group is not looked up again.

use super::engine::Ends;
use super::thresholds::SlotRef;

/// Signatures remembered; beyond, the memo starts afresh.
const MAX_SIGNATURES: usize = 65_536;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Signature {
    pub flow: u64,
    /// Tells a flow's two directions apart; the ends kept with the
    /// verdicts settle it.
    pub src_port: Option<u16>,
    /// The event's kind (protocol, direction, class, anomalous), as an index.
    pub kind: usize,
    pub function_code: Option<u32>,
    /// The function's name by address: names are the decoders' constants.
    pub function: usize,
}

/// A rule that may fire on the events of a signature.
pub(super) struct Step {
    pub rule: usize,
    /// Whether its conditions must be tested on each event (they look at
    /// fields, credentials or roles).
    pub test: bool,
    /// Its threshold group's window, once counted.
    pub slot: Option<SlotRef>,
}

/// What the event rules come to for one signature.
pub(super) struct Verdicts {
    ends: Ends,
    dst_port: Option<u16>,
    pub steps: Vec<Step>,
}

#[derive(Default)]
pub(super) struct Memo {
    signatures: foldhash::HashMap<Signature, Verdicts>,
}

impl Memo {
    /// The verdicts for `signature` between `ends`, from `steps` when they
    /// were not worked out yet (or were for other ends: a flow whose
    /// directions share a port, or an address that moved).
    pub fn verdicts(
        &mut self,
        signature: Signature,
        ends: &Ends,
        dst_port: Option<u16>,
        steps: impl FnOnce() -> Vec<Step>,
    ) -> &mut Verdicts {
        use std::collections::hash_map::Entry;
        if self.signatures.len() >= MAX_SIGNATURES && !self.signatures.contains_key(&signature) {
            self.signatures.clear();
        }
        let fresh = |steps: Vec<Step>| Verdicts {
            ends: *ends,
            dst_port,
            steps,
        };
        match self.signatures.entry(signature) {
            Entry::Occupied(known)
                if known.get().ends == *ends && known.get().dst_port == dst_port =>
            {
                known.into_mut()
            }
            Entry::Occupied(mut other) => {
                *other.get_mut() = fresh(steps());
                other.into_mut()
            }
            Entry::Vacant(new) => new.insert(fresh(steps())),
        }
    }
}
