//! `pgshred preview`: what a plan will write, and what in the data would stop it, without a
//! database. Rows stream through one user at a time; only counts, a few examples per kind of
//! finding, and an 8-byte fingerprint per user (to notice duplicate users) are kept.

pub mod input;

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::Error;
use crate::eval::{self, Finding, Kind, Row, Severity};
use crate::ir::Plan;
use crate::stdout::plural;
use input::SourceRow;

/// Where the source rows come from.
pub enum Source<'a> {
    File(&'a Path),
    Database { url: &'a str, limit: Option<i64> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

/// Examples kept per kind of finding.
const EXAMPLES: usize = 3;

/// Findings of one kind for one entity and path: how many, and the first few.
#[derive(Debug, Default)]
pub struct Group {
    pub count: u64,
    pub users: u64,
    pub examples: Vec<Finding>,
    last_user: Option<String>,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub source_rows: u64,
    pub users: u64,
    pub rows: BTreeMap<String, u64>,
    pub lint: BTreeMap<(Severity, &'static str, String, String), Group>,
    /// Users whose batch would fail.
    pub failing_users: u64,
}

impl Summary {
    pub fn aborts(&self) -> u64 {
        self.lint
            .iter()
            .filter(|((s, ..), _)| *s == Severity::Abort)
            .map(|(_, g)| g.count)
            .sum()
    }

    fn add(&mut self, f: Finding) {
        let g = self
            .lint
            .entry((
                f.severity,
                f.kind.as_str(),
                f.entity.clone(),
                f.path.clone(),
            ))
            .or_default();
        g.count += 1;
        if g.last_user.as_deref() != Some(f.user_id.as_str()) {
            g.users += 1;
            g.last_user = Some(f.user_id.clone());
        }
        if g.examples.len() < EXAMPLES {
            g.examples.push(f);
        }
    }
}

struct Previewer<'a> {
    plan: &'a Plan,
    format: Format,
    only_user: Option<&'a str>,
    out: &'a mut dyn Write,
    summary: Summary,
    seen: HashSet<u64>,
    /// The current user's newest row: input sorted by user (backups, the source table) lets
    /// duplicates be resolved the way the forward script does, newest wins.
    pending: Option<SourceRow>,
    user_rows: Vec<Row>,
}

fn fingerprint(user: &str) -> u64 {
    let mut h = DefaultHasher::new();
    user.hash(&mut h);
    h.finish()
}

fn write_err(e: std::io::Error) -> Error {
    Error::io("writing the preview", e)
}

impl Previewer<'_> {
    fn push(&mut self, row: SourceRow) -> Result<(), Error> {
        if let Some(only) = self.only_user
            && row.user_id != only
        {
            self.summary.source_rows += 1;
            return Ok(());
        }
        self.summary.source_rows += 1;
        match &mut self.pending {
            Some(p) if p.user_id == row.user_id => {
                self.summary.add(duplicate_user(
                    &row.user_id,
                    "several source rows; the newest is migrated, and apply refuses unless --allow-duplicates",
                ));
                if row.updated_at >= p.updated_at {
                    *p = row;
                }
                Ok(())
            }
            _ => {
                let previous = self.pending.replace(row);
                match previous {
                    Some(p) => self.evaluate(p),
                    None => Ok(()),
                }
            }
        }
    }

    fn evaluate(&mut self, row: SourceRow) -> Result<(), Error> {
        if !self.seen.insert(fingerprint(&row.user_id)) {
            self.summary.add(duplicate_user(
                &row.user_id,
                "several source rows, not next to each other: sort the input by user to preview only the newest",
            ));
        }
        self.summary.users += 1;
        let mut findings = Vec::new();
        let rows = eval::evaluate(self.plan, &row.user_id, &row.state, &mut findings);
        if findings.iter().any(|f| f.severity == Severity::Abort) {
            self.summary.failing_users += 1;
        }
        for r in &rows {
            *self.summary.rows.entry(r.table.clone()).or_default() += 1;
        }
        if self.format == Format::Json {
            for r in &rows {
                writeln!(self.out, "{}", json!({"table": r.table, "row": r.values}))
                    .map_err(write_err)?;
            }
            for f in &findings {
                writeln!(self.out, "{}", json!({"finding": finding_json(f)})).map_err(write_err)?;
            }
        } else if self.only_user.is_some() {
            self.user_rows.extend(rows);
        }
        for f in findings {
            self.summary.add(f);
        }
        Ok(())
    }
}

fn duplicate_user(user: &str, message: &str) -> Finding {
    Finding {
        severity: Severity::Note,
        kind: Kind::DuplicateUser,
        entity: String::new(),
        user_id: user.to_string(),
        legacy_id: None,
        path: String::new(),
        value: None,
        message: message.to_string(),
    }
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "severity": if f.severity == Severity::Abort { "abort" } else { "note" },
        "kind": f.kind.as_str(),
        "entity": f.entity,
        "user_id": f.user_id,
        "legacy_id": f.legacy_id,
        "path": f.path,
        "value": f.value,
        "message": f.message,
    })
}

/// Previews the plan over `source`, writing rows (JSON) or a report (human) to `out`.
pub fn run(
    plan: &Plan,
    source: Source,
    format: Format,
    only_user: Option<&str>,
    out: &mut dyn Write,
) -> Result<Summary, Error> {
    let mut p = Previewer {
        plan,
        format,
        only_user,
        out,
        summary: Summary::default(),
        seen: HashSet::new(),
        pending: None,
        user_rows: Vec::new(),
    };
    match source {
        Source::File(path) => {
            input::from_file(path, &input::Fields::of(plan), &mut |row| p.push(row))?
        }
        Source::Database { url, limit } => {
            input::from_database(url, plan, limit, &mut |row| p.push(row))?
        }
    };
    if let Some(last) = p.pending.take() {
        p.evaluate(last)?;
    }
    let Previewer {
        summary,
        user_rows,
        out,
        ..
    } = p;
    match format {
        Format::Json => {
            let lint: Vec<Value> = summary
                .lint
                .iter()
                .map(|((sev, kind, entity, path), g)| {
                    json!({"severity": if *sev == Severity::Abort { "abort" } else { "note" }, "kind": kind,
                           "entity": entity, "path": path, "count": g.count, "users": g.users})
                })
                .collect();
            writeln!(
                out,
                "{}",
                json!({"summary": {"source_rows": summary.source_rows, "users": summary.users, "rows": summary.rows,
                                   "failing_users": summary.failing_users, "lint": lint}})
            )
            .map_err(write_err)?;
        }
        Format::Human => out
            .write_all(render(plan, &summary, &user_rows).as_bytes())
            .map_err(write_err)?,
    }
    Ok(summary)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// How much of a value a lint example shows: enough to recognise it, not a whole document.
const SHOWN_CHARS: usize = 120;

/// `show(v)`, cut after `limit` characters with the full size said, so one huge value does
/// not bury the report.
fn show_at_most(v: &Value, limit: usize) -> String {
    let full = show(v);
    match full.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}... ({} bytes in all)", &full[..cut], full.len()),
        None => full,
    }
}

fn render(plan: &Plan, s: &Summary, user_rows: &[Row]) -> String {
    let mut out = user_rows_text(plan, user_rows);
    out.push_str(&format!(
        "{}, {}\nrows that would be written:\n",
        plural(s.source_rows as usize, "source row", "source rows"),
        plural(s.users as usize, "user", "users")
    ));
    let width = plan
        .entities
        .iter()
        .map(|e| e.table.len())
        .max()
        .unwrap_or(0)
        .max(14);
    for e in &plan.entities {
        out.push_str(&format!(
            "  {:<width$} {}\n",
            e.table,
            s.rows.get(&e.table).copied().unwrap_or(0)
        ));
    }
    out.push_str(&lint_text(s));
    let aborts = s.aborts();
    if aborts == 0 {
        out.push_str("every batch would succeed\n");
    } else {
        out.push_str(&format!(
            "{} would fail their batch ({} marked ABORT); fix the data or the mapping first\n",
            plural(s.failing_users as usize, "user", "users"),
            plural(aborts as usize, "problem", "problems"),
        ));
    }
    out
}

/// The rows of the one user `--user` asked for, per table.
fn user_rows_text(plan: &Plan, user_rows: &[Row]) -> String {
    let mut out = String::new();
    if !user_rows.is_empty() {
        for e in &plan.entities {
            let rows: Vec<&Row> = user_rows.iter().filter(|r| r.entity == e.name).collect();
            if rows.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "{} ({} row{})\n",
                e.table,
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            ));
            for r in rows {
                out.push_str(&format!(
                    "  {} -> {}\n",
                    show(&r.values["legacy_id"]),
                    r.values["id"].as_str().unwrap_or("?")
                ));
                for (k, v) in &r.values {
                    if !matches!(k.as_str(), "id" | "legacy_id" | "user_id") {
                        out.push_str(&format!("      {k:<18} {}\n", show(v)));
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The findings, grouped by severity, kind, entity and path, with a few examples each.
fn lint_text(s: &Summary) -> String {
    let mut out = String::new();
    if s.lint.is_empty() {
        out.push_str("lint: nothing to report\n");
    } else {
        out.push_str("lint:\n");
        for ((sev, kind, entity, path), g) in &s.lint {
            let level = if *sev == Severity::Abort {
                "ABORT"
            } else {
                "note "
            };
            let place = match (entity.is_empty(), path.is_empty()) {
                (true, true) => String::new(),
                (true, false) => format!(" {path}"),
                (false, true) => format!(" {entity}"),
                (false, false) => format!(" {entity} {path}"),
            };
            out.push_str(&format!(
                "  {level} {kind}{place}: {}, {}\n",
                plural(g.count as usize, "time", "times"),
                plural(g.users as usize, "user", "users")
            ));
            for f in &g.examples {
                let id = f
                    .legacy_id
                    .as_ref()
                    .map(|l| format!(" {l}"))
                    .unwrap_or_default();
                let value = f
                    .value
                    .as_ref()
                    .map(|v| format!(" value {}", show_at_most(v, SHOWN_CHARS)))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "      user {}{id}{value}: {}\n",
                    crate::ids::shown_user(&f.user_id),
                    f.message
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_in_examples() {
        let short = Value::String("ok".into());
        assert_eq!(show_at_most(&short, 10), "\"ok\"");
        let long = serde_json::json!({"body": "é".repeat(500)});
        let shown = show_at_most(&long, 20);
        assert!(shown.starts_with("{\"body\":\"ééé"), "{shown}");
        assert!(shown.ends_with("... (1011 bytes in all)"), "{shown}");
        assert_eq!(shown.chars().count(), 20 + "... (1011 bytes in all)".len());
    }
}
