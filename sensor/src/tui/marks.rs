//! Acknowledged and muted alerts, by fingerprint, so that they hold for
//! repeats and later runs; kept in the store when there is one.

use std::collections::HashMap;

use crate::output::store::{AlertMark, Store};
use crate::time::Timestamp;

/// Where marks are kept.
pub trait MarkStore {
    fn save(&mut self, mark: &AlertMark) -> Result<(), String>;

    /// Where the marks are kept, as the dashboard tells the operator.
    fn place(&self) -> &'static str {
        "the store"
    }
}

impl MarkStore for Store {
    fn save(&mut self, mark: &AlertMark) -> Result<(), String> {
        // When an operator acted: wall-clock time, for the record only.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| Timestamp::from_parts(d.as_secs() as i64, d.subsec_nanos()))
            .unwrap_or_default();
        self.save_mark(mark, &now.to_string())
            .map_err(|e| e.to_string())
    }
}

pub struct Marks {
    marks: HashMap<String, AlertMark>,
    store: Option<Box<dyn MarkStore>>,
}

impl Marks {
    pub fn new(initial: Vec<AlertMark>, store: Option<Box<dyn MarkStore>>) -> Marks {
        Marks {
            marks: initial
                .into_iter()
                .map(|m| (m.fingerprint.clone(), m))
                .collect(),
            store,
        }
    }

    /// Where marks are kept beyond this session, if they are.
    pub fn kept_in(&self) -> Option<&'static str> {
        self.store.as_ref().map(|store| store.place())
    }

    pub fn acknowledged(&self, fingerprint: &str) -> bool {
        self.marks.get(fingerprint).is_some_and(|m| m.acknowledged)
    }

    pub fn muted(&self, fingerprint: &str) -> bool {
        self.marks.get(fingerprint).is_some_and(|m| m.muted)
    }

    /// Flips the acknowledgement; returns the new state, or why it could not be kept.
    pub fn toggle_acknowledged(&mut self, fingerprint: &str) -> Result<bool, String> {
        self.change(fingerprint, |m| m.acknowledged = !m.acknowledged)
            .map(|m| m.acknowledged)
    }

    pub fn toggle_muted(&mut self, fingerprint: &str) -> Result<bool, String> {
        self.change(fingerprint, |m| m.muted = !m.muted)
            .map(|m| m.muted)
    }

    fn change(
        &mut self,
        fingerprint: &str,
        edit: impl FnOnce(&mut AlertMark),
    ) -> Result<AlertMark, String> {
        let mut mark = self.marks.get(fingerprint).cloned().unwrap_or(AlertMark {
            fingerprint: fingerprint.to_string(),
            ..AlertMark::default()
        });
        edit(&mut mark);
        if let Some(store) = &mut self.store {
            store.save(&mark)?;
        }
        self.marks.insert(mark.fingerprint.clone(), mark.clone());
        Ok(mark)
    }
}
