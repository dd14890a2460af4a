//! `pgshred verify`: counts per user and entity (04_verify.sql) and, with `--roundtrip`, each
//! user's document rebuilt from the tables (06_reconstruct.sql) against the source.

use crate::pg::Context;
use std::io::Write;

use std::collections::{BTreeMap, VecDeque};

use postgres::Transaction;
use serde_json::Value;

use crate::Error;
use crate::compiled::Compiled;
use crate::ident::quote_ident;
use crate::ir::{NotADocument, Plan};
use crate::roundtrip::{self, Class, Difference};
use crate::source::SourceTable;

/// What verification found.
#[derive(Debug, Default)]
pub struct Verdict {
    pub count_mismatches: Vec<String>,
    /// Users with rows to migrate, none of them in the tables, and no ledger entry (never
    /// migrated, or rolled back): one line each rather than one per entity.
    pub not_migrated: Vec<String>,
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
    /// Users with at least one lost difference.
    pub users_differing: u64,
    /// Round-trip differences by class and kind.
    pub by_kind: BTreeMap<(Class, &'static str), u64>,
    /// Normalized differences fail the check too.
    pub strict: bool,
    /// One JSON object per difference on `out`, instead of lines for people.
    pub json: bool,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.count_mismatches.is_empty()
            && self.not_migrated.is_empty()
            && self.quarantined.is_empty()
            && self.not_documents.is_empty()
            && self.overlong_users.is_empty()
            && self.count(Class::Lost) == 0
            && (!self.strict || self.count(Class::Normalized) == 0)
    }

    /// Round-trip differences of a class.
    pub fn count(&self, class: Class) -> u64 {
        self.by_kind
            .iter()
            .filter(|((c, _), _)| *c == class)
            .map(|(_, n)| n)
            .sum()
    }
}

/// A value of a difference in words: its JSON, cut after [`SHOWN`] characters (a difference
/// between two whole arrays of a large document would otherwise print megabytes per line).
fn show(v: &Option<Value>) -> String {
    let Some(v) = v else {
        return "(absent)".into();
    };
    let text = v.to_string();
    let length = text.chars().count();
    if length <= SHOWN {
        return text;
    }
    let head: String = text.chars().take(SHOWN).collect();
    format!("{head}... ({} more characters)", length - SHOWN)
}

/// Characters of a value a difference shows (`--format json` gives them whole).
const SHOWN: usize = 300;

/// What `pgshred verify` checks, and how it says it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Check<'a> {
    /// Also rebuild each user's document and compare it with the source.
    pub roundtrip: bool,
    /// Only this user.
    pub user: Option<&'a str>,
    /// Normalized round-trip differences fail the check too.
    pub strict: bool,
    /// One JSON object per finding.
    pub json: bool,
}

/// Verifies every user (or one), writing what differs to `out`.
pub fn verify(
    plan: &Plan,
    files: &Compiled,
    url: &str,
    check: &Check,
    out: &mut dyn Write,
) -> Result<Verdict, Error> {
    let Check {
        roundtrip,
        user,
        strict,
        json,
    } = *check;
    let mut c = crate::pg::connect(url)?;
    let mut verdict = Verdict {
        strict,
        json,
        ..Verdict::default()
    };
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
    let mut say = |line: String, into: &mut Vec<String>| {
        let shown = if json {
            serde_json::json!({ "problem": line }).to_string()
        } else {
            line.clone()
        };
        let written =
            writeln!(out, "{shown}").map_err(|e| Error::io("writing the verification", e));
        into.push(line);
        written
    };
    let mismatches =
        super::judge::run_04_verify(&mut tx, plan, files).context("running 04_verify.sql")?;
    let absent = not_migrated(&mut tx, plan, &mismatches)?;
    for r in &mismatches {
        if r.get::<_, Option<String>>(0)
            .is_some_and(|u| absent.contains(&u))
        {
            continue;
        }
        say(super::mismatch_line(r), &mut verdict.count_mismatches)?;
    }
    for who in &absent {
        say(
            format!(
                "user {}: not migrated: none of its rows is in the tables (`pgshred apply PLAN` migrates it)",
                crate::ids::shown_user(who)
            ),
            &mut verdict.not_migrated,
        )?;
    }
    for line in quarantined(&mut tx, plan, user)? {
        say(line, &mut verdict.quarantined)?;
    }
    for (who, kind) in non_documents(&mut tx, plan, user)? {
        let who = crate::ids::shown_user(&who);
        match plan.source.not_a_document {
            NotADocument::Skip => verdict.skipped_documents += 1,
            NotADocument::Error
                if !verdict
                    .quarantined
                    .iter()
                    .any(|l| l.starts_with(&format!("user {who}: "))) =>
            {
                say(
                    format!(
                        "user {who}: the document is {kind}, not a JSON object: nothing of it is migrated (source.not_a_document: error)"
                    ),
                    &mut verdict.not_documents,
                )?;
            }
            NotADocument::Error => {}
        }
    }
    if user.is_none() {
        for line in overlong_users(&mut tx, plan)? {
            say(line, &mut verdict.overlong_users)?;
        }
    }
    if roundtrip {
        round_trip(&mut tx, plan, user, out, &mut verdict)?;
    }
    Ok(verdict)
}

/// The users of `mismatches` that have none of their rows in the tables and are neither in the
/// ledger (whose rows would have gone missing: each entity is worth a line then) nor quarantined
/// (which says so itself).
fn not_migrated(
    tx: &mut Transaction,
    plan: &Plan,
    mismatches: &[postgres::Row],
) -> Result<std::collections::BTreeSet<String>, Error> {
    let mut candidates: BTreeMap<String, bool> = BTreeMap::new();
    for r in mismatches {
        if let Some(user) = r.get::<_, Option<String>>(0) {
            let none_present = r.get::<_, i64>(3) == 0;
            *candidates.entry(user).or_insert(true) &= none_present;
        }
    }
    let users: Vec<String> = candidates
        .into_iter()
        .filter_map(|(u, none)| none.then_some(u))
        .collect();
    let q = super::sql::Queries::new(plan);
    if users.is_empty() || !crate::pg::relation_exists(tx, &format!("{}.\"migration_users\"", q.a))?
    {
        return Ok(users.into_iter().collect());
    }
    let known: Vec<String> = tx
        .query(
            &format!(
                "SELECT m.\"user_id\" FROM {a}.\"migration_users\" AS m \
                  WHERE m.\"plan\" = $1 AND m.\"user_id\" = ANY ($2) \
                 UNION SELECT q.\"user_id\" FROM {a}.\"migration_quarantine\" AS q \
                  WHERE q.\"plan\" = $1 AND q.\"user_id\" = ANY ($2)",
                a = q.a
            ),
            &[&plan.name, &users],
        )
        .context("reading which users the ledger knows")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(users.into_iter().filter(|u| !known.contains(u)).collect())
}

/// Users `apply --max-bad-users` set aside, in words.
fn quarantined(
    tx: &mut Transaction,
    plan: &Plan,
    user: Option<&str>,
) -> Result<Vec<String>, Error> {
    let q = super::sql::Queries::new(plan);
    if !crate::pg::relation_exists(tx, &format!("{}.\"migration_quarantine\"", q.a))? {
        return Ok(Vec::new());
    }
    Ok(q.quarantined(tx, &plan.name)?
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, String>(5)))
        .filter(|(who, _)| user.is_none_or(|u| u == who))
        .map(|(who, error)| {
            let who = crate::ids::shown_user(&who);
            format!("user {who}: quarantined, not migrated as its document stands: {error}")
        })
        .collect())
}

/// Users whose ids are too long to be migrated, in words (the first few, then how many more).
fn overlong_users(tx: &mut Transaction, plan: &Plan) -> Result<Vec<String>, Error> {
    let (n, first) = super::sql::Queries::new(plan).overlong_users(tx)?;
    let mut lines: Vec<String> = first
        .iter()
        .map(|(who, len)| {
            format!(
                "user {who:?}... ({len} bytes): the user id is longer than {} bytes; not migrated",
                crate::ids::MAX_ID_BYTES
            )
        })
        .collect();
    if n > first.len() as i64 {
        lines.push(format!(
            "... and {} more users with ids that long",
            n - first.len() as i64
        ));
    }
    Ok(lines)
}

/// Users in scope whose newest document is not a JSON object, with its JSON type.
fn non_documents(
    tx: &mut Transaction,
    plan: &Plan,
    user: Option<&str>,
) -> Result<Vec<(String, String)>, Error> {
    let sql = format!(
        "SELECT d.user_id, coalesce(jsonb_typeof(d.doc), 'SQL NULL') FROM ({}) AS d \
          WHERE jsonb_typeof(d.doc) IS DISTINCT FROM 'object' ORDER BY 1",
        SourceTable::new(plan).newest_documents()
    );
    Ok(tx
        .query(sql.as_str(), &[&user])
        .context("looking for documents that are not JSON objects")?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// A sorted stream of (user, document) read from a portal, each fetch holding about
/// [`FETCH_BYTES`] of documents (one at least, at most [`FETCH_ROWS`]): the memory of the round
/// trip follows the size of the documents, not the number of users.
struct Stream<'p> {
    portal: &'p postgres::Portal,
    buf: VecDeque<(String, Value)>,
    what: &'static str,
    /// Rows of the next fetch, from the documents' sizes so far.
    rows: i32,
}

/// Bytes of documents (their JSON text) one fetch aims at.
const FETCH_BYTES: usize = 4 << 20;
/// Rows one fetch takes at most, however small the documents.
const FETCH_ROWS: i32 = 200;

impl Stream<'_> {
    fn new<'p>(portal: &'p postgres::Portal, what: &'static str) -> Stream<'p> {
        // The first fetch is one row: nothing is known yet of the documents' size.
        Stream {
            portal,
            buf: VecDeque::new(),
            what,
            rows: 1,
        }
    }

    fn next(&mut self, tx: &mut Transaction) -> Result<Option<(String, Value)>, Error> {
        if self.buf.is_empty() {
            let rows = tx.query_portal(self.portal, self.rows).context(self.what)?;
            let bytes: usize = rows
                .iter()
                .map(|r| {
                    r.get::<_, Option<crate::json::WireSize>>(1)
                        .map_or(0, |s| s.0)
                })
                .sum();
            if !rows.is_empty() {
                self.rows = fetch_rows(bytes / rows.len());
            }
            for r in rows {
                self.buf.push_back((r.get(0), crate::json::column(&r, 1)));
            }
        }
        Ok(self.buf.pop_front())
    }
}

/// Rows per fetch for documents of `average` bytes.
fn fetch_rows(average: usize) -> i32 {
    (FETCH_BYTES / average.max(1)).clamp(1, FETCH_ROWS as usize) as i32
}

/// Each user's document rebuilt from the tables against the source, merged in user order.
fn round_trip(
    tx: &mut Transaction,
    plan: &Plan,
    user: Option<&str>,
    out: &mut dyn Write,
    verdict: &mut Verdict,
) -> Result<(), Error> {
    let view = format!(
        "{}.{}",
        quote_ident(&plan.audit_schema),
        quote_ident(&format!("{}_reconstructed", plan.name))
    );
    if !crate::pg::relation_exists(tx, &view)? {
        return Err(Error::refused(
            format!("the reconstruction view {view} does not exist"),
            format!(
                "run generated/{}/06_reconstruct.sql, or pgshred apply --create-schema",
                plan.name
            ),
        ));
    }
    let view_sql = format!(
        "SELECT v.\"user_id\" COLLATE \"C\", v.\"state\" FROM {view} AS v WHERE $1::text IS NULL OR v.\"user_id\" = $1 ORDER BY 1"
    );
    let source_sql = SourceTable::new(plan).newest_documents();
    let src_portal = tx
        .bind(source_sql.as_str(), &[&user])
        .context("reading the source")?;
    let view_portal = tx
        .bind(view_sql.as_str(), &[&user])
        .context("reading the reconstruction view")?;
    let mut src = Stream::new(&src_portal, "reading the source");
    let mut rebuilt = Stream::new(&view_portal, "reading the reconstruction view");
    let (mut a, mut b) = (src.next(tx)?, rebuilt.next(tx)?);
    let empty = Value::Object(Default::default());
    loop {
        let (user_id, diffs): (String, Vec<Difference>) = match (&a, &b) {
            (None, None) => break,
            (Some((u, doc)), Some((v, state))) if u == v => {
                let d = roundtrip::compare(plan, u, doc, state);
                let u = u.clone();
                (a, b) = (src.next(tx)?, rebuilt.next(tx)?);
                (u, d)
            }
            (Some((u, doc)), other) if other.as_ref().is_none_or(|(v, _)| u < v) => {
                // Nothing in the tables for this user: fine if the document maps to nothing.
                let d = roundtrip::compare(plan, u, doc, &empty);
                let u = u.clone();
                a = src.next(tx)?;
                (u, d)
            }
            (_, Some((v, state))) => {
                let d = vec![Difference {
                    path: "(user)".into(),
                    class: Class::Lost,
                    kind: "user not in the source",
                    source: None,
                    rebuilt: Some(state.clone()),
                }];
                let v = v.clone();
                b = rebuilt.next(tx)?;
                (v, d)
            }
            (Some(_), None) => unreachable!("handled above"),
        };
        report_differences(&user_id, &diffs, out, verdict)?;
    }
    Ok(())
}

fn report_differences(
    user_id: &str,
    diffs: &[Difference],
    out: &mut dyn Write,
    verdict: &mut Verdict,
) -> Result<(), Error> {
    verdict.users_compared += 1;
    if diffs.iter().any(|d| d.class == Class::Lost) {
        verdict.users_differing += 1;
    }
    for d in diffs {
        *verdict.by_kind.entry((d.class, d.kind)).or_default() += 1;
        let line = if verdict.json {
            Some(
                serde_json::json!({
                    "user": user_id,
                    "path": d.path,
                    "class": d.class.name(),
                    "kind": d.kind,
                    "source": d.source,
                    "rebuilt": d.rebuilt,
                })
                .to_string(),
            )
        } else if d.class == Class::Lost || (verdict.strict && d.class == Class::Normalized) {
            Some(format!(
                "user {}: {}: {} ({}): source {}, rebuilt {}",
                crate::ids::shown_user(user_id),
                d.path,
                d.class.name(),
                d.kind,
                show(&d.source),
                show(&d.rebuilt)
            ))
        } else {
            None
        };
        if let Some(line) = line {
            writeln!(out, "{line}").map_err(|e| Error::io("writing the verification", e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// A long value is shown cut, saying how much is left out; a short one whole.
    #[test]
    fn a_difference_shows_a_bounded_excerpt() {
        let long = serde_json::json!(vec!["block"; 100_000]);
        let shown = super::show(&Some(long.clone()));
        assert!(shown.len() < 400, "{}", shown.len());
        let left = long.to_string().len() - super::SHOWN;
        assert!(
            shown.ends_with(&format!("... ({left} more characters)")),
            "{shown}"
        );
        assert_eq!(super::show(&Some(serde_json::json!([1, 2]))), "[1,2]");
        assert_eq!(super::show(&None), "(absent)");
    }

    /// A fetch of the round trip holds about 4 MB of documents: many small ones, one huge one.
    #[test]
    fn a_fetch_takes_as_many_documents_as_fit_in_its_bytes() {
        assert_eq!(super::fetch_rows(2_000), 200);
        assert_eq!(super::fetch_rows(1 << 20), 4);
        assert_eq!(super::fetch_rows(50 << 20), 1);
        assert_eq!(super::fetch_rows(0), 200);
    }
}
