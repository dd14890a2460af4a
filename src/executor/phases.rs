//! Where a run's time goes: each worker adds the time of every phase of every batch (claim,
//! read, shred, COPY of the rows, COPY of the audit, verify (the judge), ledger, commit, restoring what
//! --bulk deferred), and the report shows the totals. Measured always (an `Instant` per phase
//! costs nothing next to a round trip), so every run can say what bounds it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static TOTALS: Mutex<BTreeMap<&'static str, Duration>> = Mutex::new(BTreeMap::new());

/// Adds the time since `since` to `phase`, and returns now (the start of the next phase).
pub(crate) fn lap(phase: &'static str, since: Instant) -> Instant {
    let now = Instant::now();
    let mut totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    *totals.entry(phase).or_default() += now - since;
    now
}

/// The totals so far; a run's are the difference between two of these.
pub(crate) fn snapshot() -> BTreeMap<&'static str, Duration> {
    TOTALS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// What was added since `before`, phases with no time left out.
pub(crate) fn since(before: &BTreeMap<&'static str, Duration>) -> BTreeMap<String, Duration> {
    snapshot()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v - before.get(k).copied().unwrap_or_default(),
            )
        })
        .filter(|(_, v)| !v.is_zero())
        .collect()
}
