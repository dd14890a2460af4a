//! `pgshred verify`: counts per user and entity (04_verify.sql) and, with `--roundtrip`, each
//! user's document rebuilt from the tables (06_reconstruct.sql) against the source.

use crate::pg::Context;
use std::io::Write;

use serde_json::Value;

use crate::Error;
use crate::compiled::Compiled;
use crate::ident::quote_ident;
use crate::ir::Plan;
use crate::roundtrip::{self, Difference};

/// What verification found.
#[derive(Debug, Default)]
pub struct Verdict {
    pub count_mismatches: Vec<String>,
    /// Users `apply --max-bad-users` set aside: not migrated (or, after a sync, not up to date).
    pub quarantined: Vec<String>,
    /// Users whose document is not a JSON object, under `not_a_document: error`: nothing of them
    /// is migrated, and nothing else would say so.
    pub not_documents: Vec<String>,
    /// Users whose id is too long to migrate (see [`crate::ids::MAX_ID_BYTES`]).
    pub overlong_users: Vec<String>,
    /// Documents that are not JSON objects, skipped under `not_a_document: skip`.
    pub skipped_documents: u64,
    pub users_compared: u64,
    pub users_differing: u64,
    pub differences: u64,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.count_mismatches.is_empty()
            && self.quarantined.is_empty()
            && self.not_documents.is_empty()
            && self.overlong_users.is_empty()
            && self.differences == 0
    }
}

fn show(v: &Option<Value>) -> String {
    v.as_ref()
        .map_or_else(|| "(absent)".into(), |v| v.to_string())
}

/// Verifies every user (or one), writing what differs to `out`.
pub fn verify(
    plan: &Plan,
    files: &Compiled,
    url: &str,
    roundtrip: bool,
    user: Option<&str>,
    out: &mut dyn Write,
) -> Result<Verdict, Error> {
    let w = |e| Error::io("writing the verification", e);
    let mut c = crate::pg::connect(url)?;
    let mut verdict = Verdict::default();
    let mut tx = c.transaction().context("starting verification")?;
    // JIT compiles the long, nested expressions of these queries for seconds and saves nothing.
    tx.batch_execute("SET TRANSACTION READ ONLY; SET LOCAL TIME ZONE 'UTC'; SET LOCAL jit = off")
        .context("starting verification")?;
    if let Some(u) = user {
        tx.execute(
            "SELECT set_config('pgshred.batch_users', ARRAY[$1]::text, true)",
            &[&u],
        )
        .context("selecting the user")?;
    }
    for r in tx
        .query(files.verify(), &[])
        .context("running 04_verify.sql")?
    {
        let line = super::mismatch_line(&r);
        writeln!(out, "{line}").map_err(w)?;
        verdict.count_mismatches.push(line);
    }
    let q = super::sql::Queries::new(plan);
    if crate::pg::relation_exists(&mut tx, &format!("{}.\"migration_quarantine\"", q.a))? {
        for r in q.quarantined(&mut tx, &plan.name)? {
            let (who, error): (String, String) = (r.get(0), r.get(5));
            if user.is_none_or(|u| u == who) {
                let line = format!(
                    "user {who}: quarantined, not migrated as its document stands: {error}"
                );
                writeln!(out, "{line}").map_err(w)?;
                verdict.quarantined.push(line);
            }
        }
    }
    let quarantined: Vec<&str> = verdict
        .quarantined
        .iter()
        .filter_map(|l| l.strip_prefix("user ")?.split(':').next())
        .collect();
    let mut not_documents = Vec::new();
    for (who, kind) in non_documents(&mut tx, plan, user)? {
        match plan.source.not_a_document {
            crate::ir::NotADocument::Skip => verdict.skipped_documents += 1,
            crate::ir::NotADocument::Error if !quarantined.contains(&who.as_str()) => {
                let line = format!(
                    "user {who}: the document is {kind}, not a JSON object: nothing of it is migrated (source.not_a_document: error)"
                );
                writeln!(out, "{line}").map_err(w)?;
                not_documents.push(line);
            }
            crate::ir::NotADocument::Error => {}
        }
    }
    verdict.not_documents = not_documents;
    if user.is_none() {
        let (n, first) = q.overlong_users(&mut tx)?;
        for (who, len) in &first {
            let line = format!(
                "user {who:?}... ({len} bytes): the user id is longer than {} bytes; not migrated",
                crate::ids::MAX_ID_BYTES
            );
            writeln!(out, "{line}").map_err(w)?;
            verdict.overlong_users.push(line);
        }
        if n > first.len() as i64 {
            let line = format!(
                "... and {} more users with ids that long",
                n - first.len() as i64
            );
            writeln!(out, "{line}").map_err(w)?;
            verdict.overlong_users.push(line);
        }
    }
    if !roundtrip {
        return Ok(verdict);
    }
    let view = format!(
        "{}.{}",
        quote_ident(&plan.audit_schema),
        quote_ident(&format!("{}_reconstructed", plan.name))
    );
    if !crate::pg::relation_exists(&mut tx, &view)? {
        return Err(Error::refused(
            format!("the reconstruction view {view} does not exist"),
            format!(
                "run generated/{}/06_reconstruct.sql, or pgshred apply --create-schema",
                plan.name
            ),
        ));
    }
    let s = &plan.source;
    // Both sides in byte order of user id (COLLATE "C"), so they merge in Rust's string order.
    let key = format!("s.{}::text COLLATE \"C\"", quote_ident(&s.key_column));
    let source_sql = format!(
        "SELECT DISTINCT ON ({key}) {key}, s.{doc} FROM {schema}.{table} AS s \
          WHERE $1::text IS NULL OR s.{k}::text = $1 ORDER BY {key}, s.{order} DESC, s.ctid DESC",
        doc = quote_ident(&s.document_column),
        schema = quote_ident(&s.schema),
        table = quote_ident(&s.table),
        k = quote_ident(&s.key_column),
        order = quote_ident(&s.order_column),
    );
    let view_sql = format!(
        "SELECT v.\"user_id\" COLLATE \"C\", v.\"state\" FROM {view} AS v WHERE $1::text IS NULL OR v.\"user_id\" = $1 ORDER BY 1"
    );
    let src = tx
        .bind(source_sql.as_str(), &[&user])
        .context("reading the source")?;
    let rebuilt = tx
        .bind(view_sql.as_str(), &[&user])
        .context("reading the reconstruction view")?;
    let next = |portal: &postgres::Portal,
                buf: &mut std::collections::VecDeque<(String, Value)>,
                tx: &mut postgres::Transaction| {
        if buf.is_empty() {
            for r in tx.query_portal(portal, 200)? {
                let state: Option<Value> = r.get(1);
                buf.push_back((r.get(0), state.unwrap_or(Value::Null)));
            }
        }
        Ok::<_, postgres::Error>(buf.pop_front())
    };
    let (mut sbuf, mut rbuf) = (Default::default(), Default::default());
    let mut a = next(&src, &mut sbuf, &mut tx).context("reading the source")?;
    let mut b = next(&rebuilt, &mut rbuf, &mut tx).context("reading the reconstruction view")?;
    let empty = Value::Object(Default::default());
    loop {
        let (user_id, diffs): (String, Vec<Difference>) = match (&a, &b) {
            (None, None) => break,
            (Some((u, doc)), Some((v, state))) if u == v => {
                let d = roundtrip::compare(plan, &roundtrip::expected(plan, u, doc), state);
                let u = u.clone();
                a = next(&src, &mut sbuf, &mut tx).context("reading the source")?;
                b = next(&rebuilt, &mut rbuf, &mut tx)
                    .context("reading the reconstruction view")?;
                (u, d)
            }
            (Some((u, doc)), other) if other.as_ref().is_none_or(|(v, _)| u < v) => {
                // Nothing in the tables for this user: fine if the document maps to nothing.
                let d = roundtrip::compare(plan, &roundtrip::expected(plan, u, doc), &empty);
                let u = u.clone();
                a = next(&src, &mut sbuf, &mut tx).context("reading the source")?;
                (u, d)
            }
            (_, Some((v, state))) => {
                let d = vec![Difference {
                    path: "(user)".into(),
                    expected: None,
                    rebuilt: Some(state.clone()),
                }];
                let v = v.clone();
                b = next(&rebuilt, &mut rbuf, &mut tx)
                    .context("reading the reconstruction view")?;
                (v, d)
            }
            (Some(_), None) => unreachable!("handled above"),
        };
        verdict.users_compared += 1;
        if !diffs.is_empty() {
            verdict.users_differing += 1;
            verdict.differences += diffs.len() as u64;
            for d in &diffs {
                writeln!(
                    out,
                    "user {user_id}: {}: source {}, rebuilt {}",
                    d.path,
                    show(&d.expected),
                    show(&d.rebuilt)
                )
                .map_err(w)?;
            }
        }
    }
    Ok(verdict)
}

/// Users in scope whose newest document is not a JSON object, with its JSON type.
fn non_documents(
    tx: &mut postgres::Transaction,
    plan: &Plan,
    user: Option<&str>,
) -> Result<Vec<(String, String)>, Error> {
    let s = &plan.source;
    let sql = format!(
        "SELECT d.user_id, coalesce(jsonb_typeof(d.doc), 'SQL NULL') \
           FROM (SELECT DISTINCT ON (s.{k}) s.{k}::text AS user_id, s.{doc} AS doc FROM {schema}.{table} AS s \
                  WHERE $1::text IS NULL OR s.{k}::text = $1 ORDER BY s.{k}, s.{order} DESC, s.ctid DESC) AS d \
          WHERE jsonb_typeof(d.doc) IS DISTINCT FROM 'object' ORDER BY 1",
        doc = quote_ident(&s.document_column),
        schema = quote_ident(&s.schema),
        table = quote_ident(&s.table),
        k = quote_ident(&s.key_column),
        order = quote_ident(&s.order_column),
    );
    Ok(tx
        .query(sql.as_str(), &[&user])
        .context("looking for documents that are not JSON objects")?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}
