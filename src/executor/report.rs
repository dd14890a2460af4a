//! What a run did, as the operator reads it: rows per table, quarantined users, speed.

use crate::stdout::plural;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::ir::Plan;

/// Rows created per target table.
pub type RowCounts = BTreeMap<String, i64>;

/// A legacy id -> new id example: (table, legacy id, new id).
pub type Sample = (String, String, String);

/// A user set aside by `--max-bad-users`, and why.
#[derive(Debug, Clone)]
pub struct BadUser {
    pub user: String,
    pub message: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    pub run: Option<i64>,
    pub dry_run: bool,
    pub batches: usize,
    pub users: usize,
    pub rows: BTreeMap<String, i64>,
    /// A few legacy id -> new id pairs per table (dry runs).
    pub samples: Vec<(String, String, String)>,
    /// Users this run quarantined.
    pub quarantined: Vec<BadUser>,
    pub elapsed: Duration,
    /// Time per phase of the batches (and of restoring what --bulk deferred), summed over the
    /// workers: what bounds the run.
    pub phases: BTreeMap<String, Duration>,
}

impl Report {
    pub fn total_rows(&self) -> i64 {
        self.rows.values().sum()
    }
}

pub(super) fn merge(total: &mut BTreeMap<String, i64>, rows: &BTreeMap<String, i64>) {
    for (t, n) in rows {
        *total.entry(t.clone()).or_default() += n;
    }
}

/// Prints a finished report the way operators read it.
pub fn render_report(plan: &Plan, r: &Report) -> String {
    let rows: Vec<String> = plan
        .entities
        .iter()
        .map(|e| format!("{} {}", r.rows.get(&e.table).copied().unwrap_or(0), e.table))
        .collect();
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    if !r.dry_run && r.run.is_none() {
        return "nothing to do: no selected user needs migrating (each is migrated, or quarantined: see --retry-quarantined); no run was recorded\n"
            .into();
    }
    let mut s = if r.dry_run {
        format!(
            "dry run: {} users in {} would create {} rows, all rolled back\n",
            r.users,
            plural(r.batches, "batch", "batches"),
            r.total_rows()
        )
    } else {
        format!(
            "run {}: {} users in {}, {} rows created, verified and committed\n",
            r.run.map_or("-".into(), |x| x.to_string()),
            r.users,
            plural(r.batches, "batch", "batches"),
            r.total_rows()
        )
    };
    s.push_str(&format!("  rows: {}\n", rows.join(", ")));
    if plan.source.not_a_document == crate::ir::NotADocument::Skip {
        s.push_str("  policy: documents that are not JSON objects are migrated with no rows (source.not_a_document: skip); `pgshred verify` counts them\n");
    }
    if r.dry_run && !r.quarantined.is_empty() {
        s.push_str(&format!(
            "  would quarantine: {} (set aside by --max-bad-users; rolled back with the rest)\n",
            plural(r.quarantined.len(), "user", "users")
        ));
    } else if !r.quarantined.is_empty() {
        s.push_str(&format!(
            "  quarantined: {} (no rows written for them; `pgshred status PLAN` lists them)\n",
            plural(r.quarantined.len(), "user", "users")
        ));
    }
    s.push_str(&format!(
        "  time: {:.2}s ({:.0} users/s, {:.0} rows/s)\n",
        secs,
        r.users as f64 / secs,
        r.total_rows() as f64 / secs
    ));
    if !r.phases.is_empty() {
        let phases: Vec<String> = r
            .phases
            .iter()
            .map(|(p, d)| format!("{p} {:.2}", d.as_secs_f64()))
            .collect();
        s.push_str(&format!(
            "  seconds per phase, all workers: {}\n",
            phases.join(", ")
        ));
    }
    if !r.samples.is_empty() {
        s.push_str("  sample ids (legacy -> new):\n");
        for (t, legacy, id) in &r.samples {
            s.push_str(&format!("    {t:<12} {legacy:<24} -> {id}\n"));
        }
    }
    s
}
