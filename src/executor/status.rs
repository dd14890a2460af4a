//! `pgshred status`: runs, batches, mapping versions and quarantined users, read once and shown as
//! text or as one JSON object.

use postgres::Client;
use serde_json::{Value, json};

use super::sql::Queries;
use crate::Error;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::pg::Context;
use crate::versions::Versions;

/// What `status` shows: `None` fields when there is nothing of that kind yet.
pub struct Status {
    pub plan: String,
    pub database: String,
    /// `None`: the audit schema is not installed.
    pub runs: Option<Vec<Run>>,
    /// Per entity: users with its current mapping, an older one, none; and what apply would do.
    pub versions: Vec<(String, i64, i64, i64, String)>,
    pub source_users: i64,
    pub shown_run: Option<i64>,
    pub batches: Vec<Batch>,
    pub quarantined: Vec<Quarantined>,
}

pub struct Run {
    pub id: i64,
    pub status: String,
    pub started: String,
    pub done: i64,
    pub total: i64,
    pub users: i64,
    pub rows: i64,
    pub error: Option<String>,
    /// A --bulk run's indexes and keys: deferred, and restored so far.
    pub deferred: Option<(i64, i64)>,
}

pub struct Batch {
    pub id: i64,
    pub seq: i32,
    pub status: String,
    pub users: i32,
    pub rows: i64,
    pub ms: Option<i64>,
    pub error: Option<String>,
    pub user_ids: Vec<String>,
}

pub struct Quarantined {
    pub user: String,
    /// entity, legacy id, path, value, as recorded.
    pub at: [Option<String>; 4],
    pub error: String,
    pub run: i64,
    pub batch: i64,
}

/// Runs of the plan and the batches of one run (the newest unless `run` is given).
pub fn status(plan: &Plan, files: &Compiled, url: &str, run: Option<i64>) -> Result<Status, Error> {
    let q = Queries::new(plan);
    let mut c = crate::pg::connect(url)?;
    let mut s = Status {
        plan: plan.name.clone(),
        database: crate::pg::describe(url),
        runs: None,
        versions: Vec::new(),
        source_users: 0,
        shown_run: None,
        batches: Vec::new(),
        quarantined: Vec::new(),
    };
    if !crate::pg::relation_exists(&mut c, &format!("{}.\"migration_runs\"", q.a))? {
        return Ok(s);
    }
    let runs: Vec<Run> = q
        .runs(&mut c, &plan.name)?
        .iter()
        .map(|r| Run {
            id: r.get(0),
            status: r.get(1),
            started: r.get(2),
            done: r.get(3),
            total: r.get(4),
            users: r.get(5),
            rows: r.get(6),
            error: r.get(7),
            deferred: None,
        })
        .collect();
    let mut runs = runs;
    for (run, total, restored) in deferred(&mut c, &q)? {
        if let Some(r) = runs.iter_mut().find(|r| r.id == run) {
            r.deferred = Some((total, restored));
        }
    }
    let Some(newest) = runs.first().map(|r| r.id) else {
        s.runs = Some(runs);
        return Ok(s);
    };
    let shown = run.unwrap_or(newest);
    if !q.run_exists(&mut c, &plan.name, shown)? {
        return Err(Error::Input(format!(
            "there is no run {shown} of plan {}",
            plan.name
        )));
    }
    s.runs = Some(runs);
    versions(&mut c, plan, files, &q, &mut s)?;
    s.shown_run = Some(shown);
    s.batches = q
        .batches(&mut c, shown)?
        .iter()
        .map(|b| Batch {
            id: b.get(0),
            seq: b.get(1),
            status: b.get(2),
            users: b.get(3),
            rows: b.get(4),
            ms: b.get(5),
            error: b.get(6),
            user_ids: b.get(7),
        })
        .collect();
    s.quarantined = quarantined(&mut c, plan, &q)?;
    Ok(s)
}

/// Per --bulk run: the indexes and keys it deferred, and how many are restored.
fn deferred(c: &mut Client, q: &Queries) -> Result<Vec<(i64, i64, i64)>, Error> {
    if !crate::pg::relation_exists(c, &format!("{}.\"migration_deferred\"", q.a))? {
        return Ok(Vec::new());
    }
    let rows = c
        .query(
            &format!(
                "SELECT \"run_id\", count(*), count(\"restored_at\") FROM {}.\"migration_deferred\" GROUP BY 1",
                q.a
            ),
            &[],
        )
        .context("reading what --bulk deferred")?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

fn quarantined(c: &mut Client, plan: &Plan, q: &Queries) -> Result<Vec<Quarantined>, Error> {
    if !crate::pg::relation_exists(c, &format!("{}.\"migration_quarantine\"", q.a))? {
        return Ok(Vec::new());
    }
    Ok(q.quarantined(c, &plan.name)?
        .iter()
        .map(|r| Quarantined {
            user: r.get(0),
            at: [r.get(1), r.get(2), r.get(3), r.get(4)],
            error: r.get(5),
            run: r.get(6),
            batch: r.get(7),
        })
        .collect())
}

/// Per entity, how many users were migrated with its current mapping, an older one, or not at
/// all, and what `apply` will do about it.
fn versions(
    c: &mut Client,
    plan: &Plan,
    files: &Compiled,
    q: &Queries,
    s: &mut Status,
) -> Result<(), Error> {
    let versions = Versions::compiled(plan, files);
    let counts = q.version_counts(c, &plan.name, &versions.map(None))?;
    s.source_users = q.source_users(c)?;
    let migrated = counts.values().map(|(c, o)| c + o).max().unwrap_or(0);
    for name in versions.names() {
        let (current, older) = counts.get(name).copied().unwrap_or((0, 0));
        let none = (s.source_users - current - older).max(0);
        let lacking = migrated - current - older;
        let note = if older > 0 {
            format!("changed: `apply --remap {name}` re-migrates it")
        } else if lacking > 0 {
            format!("new: `apply` backfills it for {lacking} migrated users")
        } else {
            String::new()
        };
        s.versions
            .push((name.to_string(), current, older, none, note));
    }
    Ok(())
}

impl Status {
    /// As the operator reads it.
    pub fn text(&self) -> String {
        let mut out = format!("plan {} on {}\n", self.plan, self.database);
        let Some(runs) = &self.runs else {
            out.push_str("no runs: the audit schema is not installed (pgshred apply --create-schema installs it)\n");
            return out;
        };
        if runs.is_empty() {
            out.push_str("no runs yet\n");
            return out;
        }
        out.push_str("runs (newest first):\n");
        for r in runs {
            out.push_str(&format!(
                "  run {:<4} {:<11} started {} UTC  batches {}/{}  users {}  rows {}{}\n",
                r.id,
                r.status,
                r.started,
                r.done,
                r.total,
                r.users,
                r.rows,
                r.error
                    .as_ref()
                    .map(|e| format!("\n           error: {e}"))
                    .unwrap_or_default()
            ));
            if let Some((total, restored)) = r.deferred.filter(|(t, r)| r < t) {
                out.push_str(&format!(
                    "           {} of {total} indexes and keys deferred by --bulk are not restored yet: the tables lack them until `pgshred apply PLAN --resume` finishes the run\n",
                    total - restored
                ));
            }
        }
        out.push_str(&format!(
            "mappings ({} source users; migrated with the current mapping / an older one / not at all):\n",
            self.source_users
        ));
        // The names' column as wide as the longest, so the counts stay in line.
        let width = self
            .versions
            .iter()
            .map(|v| v.0.chars().count())
            .max()
            .unwrap_or(0)
            .max(12);
        for (name, current, older, none, note) in &self.versions {
            let note = if note.is_empty() {
                String::new()
            } else {
                format!("  {note}")
            };
            out.push_str(&format!(
                "  {name:<width$} {current:>8} {older:>8} {none:>8}{note}\n"
            ));
        }
        out.push_str(&format!(
            "batches of run {}:\n",
            self.shown_run.unwrap_or_default()
        ));
        for b in &self.batches {
            let range = match (b.user_ids.first(), b.user_ids.last()) {
                (Some(a), Some(z)) if a != z => format!("{a} .. {z}"),
                (Some(a), _) => a.clone(),
                _ => "-".into(),
            };
            out.push_str(&format!(
                "  batch {:<5} seq {:<4} {:<11} users {:<4} rows {:<6} {:>8}  {range}{}\n",
                b.id,
                b.seq,
                b.status,
                b.users,
                b.rows,
                b.ms.map(|m| format!("{m} ms")).unwrap_or_default(),
                b.error
                    .as_ref()
                    .map(|e| format!("\n             error: {e}"))
                    .unwrap_or_default()
            ));
        }
        out.push_str(&self.quarantine_text());
        out
    }

    fn quarantine_text(&self) -> String {
        if self.quarantined.is_empty() {
            return String::new();
        }
        let mut out = format!(
            "quarantined users ({}; no rows written for them; `pgshred apply PLAN --retry-quarantined` after a fix):\n",
            self.quarantined.len()
        );
        for q in &self.quarantined {
            let at = ["entity", "legacy id", "path", "value"]
                .iter()
                .zip(&q.at)
                .filter_map(|(label, v)| {
                    v.as_ref()
                        .map(|v| format!("{label} {}", v.chars().take(80).collect::<String>()))
                })
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "  user {}  run {} batch {}{}\n             error: {}\n",
                crate::ids::shown_user(&q.user),
                q.run,
                q.batch,
                if at.is_empty() {
                    String::new()
                } else {
                    format!("  ({at})")
                },
                q.error
            ));
        }
        out
    }

    /// One JSON object, for scripts.
    pub fn json(&self) -> Value {
        let runs = self.runs.as_ref().map(|runs| {
            runs.iter()
                .map(|r| json!({"run": r.id, "status": r.status, "started": r.started, "batches_done": r.done,
                                "batches": r.total, "users": r.users, "rows": r.rows, "error": r.error,
                                "deferred": r.deferred.map(|(t, _)| t), "restored": r.deferred.map(|(_, n)| n)}))
                .collect::<Vec<_>>()
        });
        json!({
            "plan": self.plan,
            "installed": self.runs.is_some(),
            "runs": runs.unwrap_or_default(),
            "source_users": self.source_users,
            "mappings": self.versions.iter().map(|(n, c, o, none, note)| json!({"entity": n, "current": c, "older": o, "none": none, "note": note})).collect::<Vec<_>>(),
            "shown_run": self.shown_run,
            "batches": self.batches.iter().map(|b| json!({"batch": b.id, "seq": b.seq, "status": b.status, "users": b.users,
                                                          "rows": b.rows, "ms": b.ms, "error": b.error, "user_ids": b.user_ids})).collect::<Vec<_>>(),
            "quarantined": self.quarantined.iter().map(|q| json!({"user_id": q.user, "entity": q.at[0], "legacy_id": q.at[1], "path": q.at[2],
                                                                "value": q.at[3], "error": q.error, "run": q.run, "batch": q.batch})).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Status;

    /// The counts of every entity stand in one column, however long the names.
    #[test]
    fn the_mapping_counts_stay_in_line_past_long_entity_names() {
        let status = Status {
            plan: "p".into(),
            database: "db".into(),
            runs: Some(vec![super::Run {
                id: 1,
                status: "completed".into(),
                started: "2026-12-04 10:00:00".into(),
                done: 1,
                total: 1,
                users: 25,
                rows: 100,
                error: None,
                deferred: None,
            }]),
            versions: vec![
                ("orgs".into(), 1, 0, 0, String::new()),
                ("a_rather_long_entity_name".into(), 22, 0, 3, String::new()),
            ],
            source_users: 25,
            shown_run: None,
            batches: Vec::new(),
            quarantined: Vec::new(),
        };
        let text = status.text();
        let ends: Vec<usize> = text
            .lines()
            .filter(|l| l.starts_with("  orgs") || l.starts_with("  a_rather"))
            .map(str::len)
            .collect();
        assert_eq!(ends.len(), 2, "{text}");
        assert_eq!(ends[0], ends[1], "{text}");
    }
}
