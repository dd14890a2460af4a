//! Where a run's time goes: each worker adds the time of every phase of every batch (claim,
//! read, shred, COPY of the rows, COPY of the audit, verify (the judge), ledger, commit, restoring what
//! --bulk deferred), and the report shows the totals. Measured always (an `Instant` per phase
//! costs nothing next to a round trip), so every run can say what bounds it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One run's seconds per phase, summed over its workers.
#[derive(Debug, Default)]
pub(crate) struct Phases(Mutex<BTreeMap<&'static str, Duration>>);

impl Phases {
    /// Adds the time since `since` to `phase`, and returns now (the start of the next phase).
    pub(crate) fn lap(&self, phase: &'static str, since: Instant) -> Instant {
        let now = Instant::now();
        let mut totals = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *totals.entry(phase).or_default() += now - since;
        now
    }

    /// The totals, phases with no time left out.
    pub(crate) fn totals(&self) -> BTreeMap<String, Duration> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (k.to_string(), *v))
            .collect()
    }
}
