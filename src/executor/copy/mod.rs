//! The COPY write path (`apply --engine copy`): a batch's documents read once, evaluated in Rust
//! by the evaluator `preview` uses (held equal to `03_forward.sql` row for row), and the rows of
//! every entity, then the audit, streamed with `COPY ... FROM STDIN (FORMAT binary)` in the
//! batch's transaction, parents first. The batch's checks stay the SQL's: `04_verify.sql` runs
//! after it as after the SQL path.

pub(crate) mod encode;
pub(crate) mod prefetch;

use std::collections::BTreeMap;
use std::io::Write;

use postgres::Transaction;
use serde_json::Value;

use crate::ident::quote_ident;
use crate::ir::{Entity, Plan};
use crate::preview::eval::{self, Severity};
use crate::source::SourceTable;
use encode::Kind;

/// Why the COPY path could not write a batch: the server's error, or a document the evaluator
/// finds a batch-stopping problem in (what the SQL path would raise), naming the user.
pub(crate) enum CopyError {
    Db(postgres::Error),
    Data {
        user: String,
        message: String,
    },
    /// A document the evaluator refuses, in the words, DETAIL and SQLSTATE (22023) the SQL
    /// path's `fail()` raises for it, so the report and the quarantine read the same.
    Document {
        message: String,
        detail: Value,
        hint: String,
    },
}

impl From<postgres::Error> for CopyError {
    fn from(e: postgres::Error) -> Self {
        CopyError::Db(e)
    }
}

/// Writes the batch's users (`pgshred.batch_users`, as set for the batch or the part being
/// tried) for `entities` (all when `None`), then checks what the tables hold of them: the rows
/// per user and entity equal the evaluator's (the check `04_verify.sql` makes for the SQL path,
/// without reading the documents again). With `counted` (a --bulk run, whose user_id indexes are
/// deferred) the check is COPY's count of the rows it wrote per entity. Returns the mismatches
/// in words.
pub(crate) fn write(
    tx: &mut Transaction,
    plan: &Plan,
    entities: Option<&[String]>,
    counted: bool,
    prepared: Option<prefetch::Prepared>,
) -> Result<Vec<String>, CopyError> {
    use crate::executor::phases::lap;
    let t = std::time::Instant::now();
    let a = quote_ident(&plan.audit_schema);
    tx.batch_execute(&format!(
        "SET LOCAL TIME ZONE 'UTC'; SELECT {a}.{}()",
        quote_ident(&format!("{}_begin_forward", plan.name))
    ))?;
    let ids = tx.query_one(
        &format!("SELECT {a}.batch_users(), {a}.run_id(), {a}.batch_id()"),
        &[],
    )?;
    let (users, run, batch): (Vec<String>, i64, i64) = (ids.get(0), ids.get(1), ids.get(2));
    let t = lap("begin", t);
    let selected: Vec<bool> = plan
        .entities
        .iter()
        .map(|e| entities.is_none_or(|list| list.contains(&e.name)))
        .collect();
    let cols: Vec<Vec<(String, Kind)>> = plan.entities.iter().map(columns).collect();
    let (shred, mut t) = match read_ahead_still_valid(tx, plan, &users, prepared)? {
        Some(shred) => (shred, lap("check read-ahead", t)),
        None => {
            let raw = tx.query(
                &SourceTable::new(plan).batch_documents(&plan.source.key_type),
                &[&users],
            )?;
            let t = lap("read", t);
            let shred = shred_all(plan, &selected, &cols, &raw)?;
            (shred, lap("shred", t))
        }
    };
    // When the users have no rows yet, COPY's counts prove what the per-user count would.
    let counted = counted || no_rows_yet(tx, plan, &selected, &users)?;
    t = lap("check", t);
    let mut mismatches = Vec::new();
    for (i, e) in plan
        .entities
        .iter()
        .enumerate()
        .filter(|(i, _)| selected[*i])
    {
        let wrote = copy_tuples(tx, plan, e, &cols[i], &shred.tuples[i])?;
        t = lap("copy rows", t);
        let sent: usize = shred.audit[i].values().map(Vec::len).sum();
        if wrote != sent as u64 {
            mismatches.push(format!(
                "{}: {sent} rows sent, {wrote} written by COPY",
                e.name
            ));
        }
        copy_audit(tx, plan, e, &shred.audit[i], run, batch)?;
        t = lap("copy audit", t);
    }
    if counted {
        return Ok(mismatches);
    }
    mismatches.extend(check(tx, plan, &selected, &shred, &users)?);
    lap("check", t);
    Ok(mismatches)
}

/// Whether some of the batch's users were migrated before and the batch does not replace their
/// rows (`apply --user` taking migrated users again): their rows may be there already, which
/// COPY cannot skip. Such a batch runs `03_forward.sql`, whose inserts skip what exists.
pub(crate) fn rows_may_exist(tx: &mut Transaction, plan: &Plan) -> Result<bool, postgres::Error> {
    let a = quote_ident(&plan.audit_schema);
    Ok(tx
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {a}.\"migration_users\" AS m \
                  WHERE m.\"plan\" = $1 AND m.\"user_id\" = ANY ({a}.batch_users())) \
                    AND NOT coalesce((SELECT b.\"replace\" FROM {a}.\"migration_batches\" AS b WHERE b.\"id\" = {a}.batch_id()), false)"
            ),
            &[&plan.name],
        )?
        .get(0))
}

/// The shred read ahead for these users, if the rows it was read from are the very versions this
/// transaction sees.
fn read_ahead_still_valid(
    tx: &mut Transaction,
    plan: &Plan,
    users: &[String],
    prepared: Option<prefetch::Prepared>,
) -> Result<Option<Shred>, CopyError> {
    let Some(p) = prepared.filter(|p| p.users == users && p.shred.is_some()) else {
        return Ok(None);
    };
    Ok((prefetch::versions(tx, plan, users)? == p.versions)
        .then_some(p.shred)
        .flatten())
}

/// What a batch's documents give, encoded as each is evaluated (so only one document's rows are
/// held at a time, per core): per entity, in the plan's order, the COPY tuples of its rows and,
/// per user, the (legacy id, id) pairs of the audit.
pub(crate) struct Shred {
    tuples: Vec<Vec<u8>>,
    audit: Vec<BTreeMap<String, Vec<(String, String)>>>,
}

impl Shred {
    fn new(n: usize) -> Shred {
        Shred {
            tuples: vec![Vec::new(); n],
            audit: vec![BTreeMap::new(); n],
        }
    }

    fn merge(&mut self, other: Shred) {
        for (mine, theirs) in self.tuples.iter_mut().zip(other.tuples) {
            mine.extend_from_slice(&theirs);
        }
        for (mine, theirs) in self.audit.iter_mut().zip(other.audit) {
            for (user, pairs) in theirs {
                mine.entry(user).or_default().extend(pairs);
            }
        }
    }
}

/// Whether none of `users` has a row in the tables of the selected entities yet: an index probe
/// per user and table, which stays cheap as the tables grow, where counting the users' rows after
/// the COPY reads them all back.
fn no_rows_yet(
    tx: &mut Transaction,
    plan: &Plan,
    selected: &[bool],
    users: &[String],
) -> Result<bool, CopyError> {
    let probes: Vec<String> = plan
        .entities
        .iter()
        .zip(selected)
        .filter(|(_, s)| **s)
        .map(|(e, _)| {
            format!(
                "EXISTS (SELECT 1 FROM {}.{} AS t WHERE t.\"user_id\" = u.\"user_id\")",
                quote_ident(&plan.target_schema),
                quote_ident(&e.table)
            )
        })
        .collect();
    if probes.is_empty() {
        return Ok(true);
    }
    // One correlated probe per user: `user_id = ANY ($1)` in an EXISTS is planned as a
    // sequential scan that stops at the first match, and reads the whole table when there is
    // none, which is the case this checks for.
    let sql = format!(
        "SELECT NOT EXISTS (SELECT 1 FROM unnest($1::text[]) AS u(\"user_id\") WHERE {})",
        probes.join(" OR ")
    );
    Ok(tx.query_one(&sql, &[&users])?.get(0))
}

/// The rows each user of the batch has in each table written against the rows written for them,
/// in one query; the mismatches in words.
fn check(
    tx: &mut Transaction,
    plan: &Plan,
    selected: &[bool],
    shred: &Shred,
    users: &[String],
) -> Result<Vec<String>, CopyError> {
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut counts = Vec::new();
    for (i, e) in plan
        .entities
        .iter()
        .enumerate()
        .filter(|(i, _)| selected[*i])
    {
        for (user, pairs) in &shred.audit[i] {
            expected.insert((e.name.clone(), user.clone()), pairs.len() as i64);
        }
        counts.push(format!(
            "SELECT {}::text, t.\"user_id\", count(*) FROM {}.{} AS t WHERE t.\"user_id\" = ANY($1) GROUP BY 2",
            crate::ident::quote_literal(&e.name),
            quote_ident(&plan.target_schema),
            quote_ident(&e.table)
        ));
    }
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    let present: BTreeMap<(String, String), i64> = tx
        .query(&counts.join(" UNION ALL "), &[&users])?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    let all: std::collections::BTreeSet<&(String, String)> =
        expected.keys().chain(present.keys()).collect();
    Ok(all
        .into_iter()
        .filter_map(|k| {
            let want = expected.get(k).copied().unwrap_or(0);
            let have = present.get(k).copied().unwrap_or(0);
            (want != have).then(|| {
                format!(
                    "user {} {}: {want} rows expected, {have} present",
                    crate::ids::shown_user(&k.1),
                    k.0
                )
            })
        })
        .collect())
}

/// Every document of the batch evaluated and encoded, on every core (the server waits
/// meanwhile); the first batch-stopping problem in document order, as the SQL path would raise it.
fn shred_all(
    plan: &Plan,
    selected: &[bool],
    cols: &[Vec<(String, Kind)>],
    raw: &[postgres::Row],
) -> Result<Shred, CopyError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = raw.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Shred, CopyError>> = std::thread::scope(|s| {
        let handles: Vec<_> = raw
            .chunks(chunk)
            .map(|part| s.spawn(move || shred_part(plan, selected, cols, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the evaluator does not panic"))
            .collect()
    });
    let mut shred = Shred::new(plan.entities.len());
    for p in parts {
        shred.merge(p?);
    }
    Ok(shred)
}

fn shred_part(
    plan: &Plan,
    selected: &[bool],
    cols: &[Vec<(String, Kind)>],
    raw: &[postgres::Row],
) -> Result<Shred, CopyError> {
    let index: BTreeMap<&str, usize> = plan
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    let mut shred = Shred::new(plan.entities.len());
    for r in raw {
        let user: String = r.get(0);
        let doc: Value = r.get::<_, Option<Value>>(1).unwrap_or(Value::Null);
        let mut findings = Vec::new();
        let rows = eval::evaluate(plan, &user, &doc, &mut findings);
        if let Some(f) = findings.iter().find(|f| f.severity == Severity::Abort) {
            return Err(refused(&user, f));
        }
        for row in rows {
            let Some(&i) = index.get(row.entity.as_str()).filter(|&&i| selected[i]) else {
                continue;
            };
            encode::tuple_start(&mut shred.tuples[i], cols[i].len());
            for (name, kind) in &cols[i] {
                let v = row.values.get(name).unwrap_or(&Value::Null);
                encode::field(&mut shred.tuples[i], *kind, v).map_err(|m| CopyError::Data {
                    user: user.clone(),
                    message: format!("{}.{name}: {m}", row.table),
                })?;
            }
            let s = |k: &str| {
                row.values
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            shred.audit[i]
                .entry(user.clone())
                .or_default()
                .push((s("legacy_id"), s("id")));
        }
    }
    Ok(shred)
}

/// A finding that stops the batch, as `fail()` in `01_schema.sql` words it.
fn refused(user: &str, f: &eval::Finding) -> CopyError {
    let value = f.value.as_ref().map_or_else(
        || "missing".to_string(),
        |v| v.to_string().chars().take(200).collect(),
    );
    let hint = match f.kind {
        "cast" => "fix the value in the source document, or change the column type in the mapping",
        "missing_required" => {
            "add the value to the document, give the column a default, or make it optional in the mapping"
        }
        _ => "pgshred preview PLAN --input-file FILE names every problem of the documents",
    };
    // A legacy id twice is a fact about the ids, which the SQL path names so.
    let path = if f.kind == "duplicate_id" {
        "legacy id"
    } else {
        f.path.as_str()
    };
    CopyError::Document {
        message: format!(
            "pgshred: {} (user {}, entity {}, legacy id {}, path {path}, value {value})",
            f.message,
            crate::ids::shown_user(user),
            f.entity,
            f.legacy_id.as_deref().unwrap_or("?"),
        ),
        detail: serde_json::json!({
            "user_id": user, "entity": f.entity, "legacy_id": f.legacy_id,
            "path": path, "value": f.value, "problem": f.message,
        }),
        hint: hint.to_string(),
    }
}

/// The columns COPY writes for an entity, in the table's terms, with their types.
fn columns(e: &Entity) -> Vec<(String, Kind)> {
    let mut cols = vec![
        ("id".to_string(), Kind::UUID),
        ("user_id".to_string(), Kind::TEXT),
        ("legacy_id".to_string(), Kind::TEXT),
    ];
    if let Some(p) = &e.position {
        cols.push((p.clone(), Kind::INTEGER));
    }
    if let Some(p) = &e.parent {
        cols.push((p.column.clone(), Kind::UUID));
    }
    if let Some(t) = &e.recursive {
        cols.push((t.column.clone(), Kind::UUID));
        cols.push((t.depth_column.clone(), Kind::INTEGER));
    }
    for r in &e.references {
        cols.push((r.column.clone(), Kind::UUID));
    }
    for c in &e.columns {
        cols.push((c.name.clone(), Kind::Mapped(c.ty)));
        if let Some(p) = &c.parsed {
            cols.push((p.name.clone(), Kind::Mapped(p.ty)));
        }
    }
    if let Some(x) = &e.extra {
        cols.push((x.clone(), Kind::JSONB));
    }
    cols
}

fn copy_tuples(
    tx: &mut Transaction,
    plan: &Plan,
    e: &Entity,
    cols: &[(String, Kind)],
    tuples: &[u8],
) -> Result<u64, CopyError> {
    if tuples.is_empty() {
        return Ok(0);
    }
    let names: Vec<String> = cols.iter().map(|(n, _)| quote_ident(n)).collect();
    let sql = format!(
        "COPY {}.{} ({}) FROM STDIN (FORMAT binary)",
        quote_ident(&plan.target_schema),
        quote_ident(&e.table),
        names.join(", ")
    );
    let mut head = Vec::new();
    encode::header(&mut head);
    let mut tail = Vec::new();
    encode::trailer(&mut tail);
    send(tx, &sql, &[&head, tuples, &tail])
}

/// Streams COPY data (in pieces, so the tuples are not copied again) and ends the COPY; the
/// rows the server says it wrote.
fn send(tx: &mut Transaction, sql: &str, pieces: &[&[u8]]) -> Result<u64, CopyError> {
    let mut w = tx.copy_in(sql)?;
    for p in pieces {
        w.write_all(p).map_err(|e| CopyError::Data {
            user: String::new(),
            message: format!("writing COPY data: {e}"),
        })?;
    }
    Ok(w.finish()?)
}

/// One audit set per user: its legacy ids and the new ids, in the SQL path's order (by legacy id,
/// then id).
fn copy_audit(
    tx: &mut Transaction,
    plan: &Plan,
    e: &Entity,
    per_user: &BTreeMap<String, Vec<(String, String)>>,
    run: i64,
    batch: i64,
) -> Result<(), CopyError> {
    if per_user.is_empty() {
        return Ok(());
    }
    let mut buf = Vec::new();
    encode::header(&mut buf);
    for (user, pairs) in per_user {
        let mut pairs = pairs.clone();
        pairs.sort();
        let legacy: Vec<Value> = pairs.iter().map(|p| Value::from(p.0.as_str())).collect();
        let ids: Vec<Value> = pairs.iter().map(|p| Value::from(p.1.as_str())).collect();
        let fields = [
            (Kind::BIGINT, Value::from(run)),
            (Kind::BIGINT, Value::from(batch)),
            (Kind::TEXT, Value::from(user.as_str())),
            (Kind::TEXT, Value::from(e.name.as_str())),
            (Kind::TEXT, Value::from(e.table.as_str())),
            (
                Kind::Mapped(crate::ir::SqlType::TextArray),
                Value::Array(legacy),
            ),
            (Kind::UuidArray, Value::Array(ids)),
        ];
        encode::tuple_start(&mut buf, fields.len());
        for (kind, v) in &fields {
            encode::field(&mut buf, *kind, v).map_err(|m| CopyError::Data {
                user: user.clone(),
                message: m,
            })?;
        }
    }
    encode::trailer(&mut buf);
    let sql = format!(
        "COPY {}.\"migration_audit_sets\" (\"run_id\", \"batch_id\", \"user_id\", \"source_entity\", \"target_table\", \"legacy_ids\", \"target_ids\") FROM STDIN (FORMAT binary)",
        quote_ident(&plan.audit_schema)
    );
    send(tx, &sql, &[&buf]).map(drop)
}
