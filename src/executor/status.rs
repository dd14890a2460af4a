//! `pgshred status`: runs, batches, mapping versions and quarantined users, as text.

use postgres::Client;

use super::sql::Queries;
use crate::Error;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::versions::Versions;

/// Runs of the plan and the batches of one run (the newest unless `run` is given), as text.
pub fn status(plan: &Plan, files: &Compiled, url: &str, run: Option<i64>) -> Result<String, Error> {
    let q = Queries::new(plan);
    let mut c = crate::pg::connect(url)?;
    let ledger = format!("{}.\"migration_runs\"", q.a);
    let exists = crate::pg::relation_exists(&mut c, &ledger)?;
    let mut out = format!("plan {} on {}\n", plan.name, crate::pg::describe(url));
    if !exists {
        out.push_str("no runs: the audit schema is not installed (pgshred apply --create-schema installs it)\n");
        return Ok(out);
    }
    let runs = q.runs(&mut c, &plan.name)?;
    if runs.is_empty() {
        out.push_str("no runs yet\n");
        return Ok(out);
    }
    out.push_str(&runs_text(&runs));
    out.push_str(&versions_status(&mut c, plan, files, &q)?);
    let shown = run.unwrap_or_else(|| runs[0].get(0));
    if !q.run_exists(&mut c, &plan.name, shown)? {
        return Err(Error::Input(format!(
            "there is no run {shown} of plan {}",
            plan.name
        )));
    }
    out.push_str(&batches_text(&mut c, &q, shown)?);
    out.push_str(&quarantine_text(&mut c, plan, &q)?);
    Ok(out)
}

/// The runs, newest first, a line each.
fn runs_text(runs: &[postgres::Row]) -> String {
    let mut out = String::new();
    out.push_str("runs (newest first):\n");
    for r in runs {
        let (id, status, started, done, total, users, rows, error): (
            i64,
            String,
            String,
            i64,
            i64,
            i64,
            i64,
            Option<String>,
        ) = (
            r.get(0),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
        );
        out.push_str(&format!(
            "  run {id:<4} {status:<11} started {started} UTC  batches {done}/{total}  users {users}  rows {rows}{}\n",
            error.map(|e| format!("\n           error: {e}")).unwrap_or_default()
        ));
    }
    out
}

/// The batches of one run, a line each.
fn batches_text(c: &mut Client, q: &Queries, shown: i64) -> Result<String, Error> {
    let mut out = String::new();
    out.push_str(&format!("batches of run {shown}:\n"));
    for b in q.batches(c, shown)? {
        let (id, seq, status): (i64, i32, String) = (b.get(0), b.get(1), b.get(2));
        let (users, rows, ms): (i32, i64, Option<i64>) = (b.get(3), b.get(4), b.get(5));
        let (error, ids): (Option<String>, Vec<String>) = (b.get(6), b.get(7));
        let range = match (ids.first(), ids.last()) {
            (Some(a), Some(z)) if a != z => format!("{a} .. {z}"),
            (Some(a), _) => a.clone(),
            _ => "-".into(),
        };
        out.push_str(&format!(
            "  batch {id:<5} seq {seq:<4} {status:<11} users {users:<4} rows {rows:<6} {:>8}  {range}{}\n",
            ms.map(|m| format!("{m} ms")).unwrap_or_default(),
            error.map(|e| format!("\n             error: {e}")).unwrap_or_default()
        ));
    }
    Ok(out)
}

/// The quarantined users, with where and why.
fn quarantine_text(c: &mut Client, plan: &Plan, q: &Queries) -> Result<String, Error> {
    let mut out = String::new();
    let quarantine = format!("{}.\"migration_quarantine\"", q.a);
    let bad = if crate::pg::relation_exists(c, &quarantine)? {
        q.quarantined(c, &plan.name)?
    } else {
        Vec::new()
    };
    if !bad.is_empty() {
        out.push_str(&format!(
            "quarantined users ({}; no rows written for them; `pgshred apply PLAN --retry-quarantined` after a fix):\n",
            bad.len()
        ));
        for r in &bad {
            let user: String = r.get(0);
            let user = crate::ids::shown_user(&user);
            let (error, run, batch): (String, i64, i64) = (r.get(5), r.get(6), r.get(7));
            let at = ["entity", "legacy id", "path", "value"]
                .iter()
                .enumerate()
                .filter_map(|(i, label)| {
                    r.get::<_, Option<String>>(i + 1)
                        .map(|v| format!("{label} {}", v.chars().take(80).collect::<String>()))
                })
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "  user {user}  run {run} batch {batch}{}\n             error: {error}\n",
                if at.is_empty() {
                    String::new()
                } else {
                    format!("  ({at})")
                }
            ));
        }
    }
    Ok(out)
}

/// Per entity, how many users were migrated with its current mapping, an older one, or not at all,
/// and what `apply` will do about it.
fn versions_status(
    c: &mut postgres::Client,
    plan: &Plan,
    files: &Compiled,
    q: &Queries,
) -> Result<String, Error> {
    let versions = Versions::compiled(plan, files);
    let counts = q.version_counts(c, &plan.name, &versions.map(None))?;
    let users = q.source_users(c)?;
    let mut out = format!(
        "mappings ({users} source users; migrated with the current mapping / an older one / not at all):\n"
    );
    let migrated = counts.values().map(|(c, o)| c + o).max().unwrap_or(0);
    for name in versions.names() {
        let (current, older) = counts.get(name).copied().unwrap_or((0, 0));
        let none = (users - current - older).max(0);
        let lacking = migrated - current - older;
        let note = if older > 0 {
            format!("  changed: `apply --remap {name}` re-migrates it")
        } else if lacking > 0 {
            format!("  new: `apply` backfills it for {lacking} migrated users")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {name:<12} {current:>8} {older:>8} {none:>8}{note}\n"
        ));
    }
    Ok(out)
}
