//! The COPY write path (`apply --engine copy`): a batch's documents read once, evaluated in Rust
//! by the evaluator `preview` uses (held equal to `03_forward.sql` row for row), and the rows of
//! every entity, then the audit, streamed with `COPY ... FROM STDIN (FORMAT binary)` in the
//! batch's transaction, parents first. The batch's checks stay the SQL's: `04_verify.sql` runs
//! after it as after the SQL path.

pub(crate) mod encode;

use std::collections::BTreeMap;
use std::io::Write;

use postgres::Transaction;
use serde_json::Value;

use crate::ident::quote_ident;
use crate::ir::{Entity, Plan};
use crate::preview::eval::{self, Row, Severity};
use crate::source::SourceTable;
use encode::Kind;

/// Why the COPY path could not write a batch: the server's error, or a document the evaluator
/// finds a batch-stopping problem in (what the SQL path would raise), naming the user.
pub(crate) enum CopyError {
    Db(postgres::Error),
    Data { user: String, message: String },
}

impl From<postgres::Error> for CopyError {
    fn from(e: postgres::Error) -> Self {
        CopyError::Db(e)
    }
}

/// Writes the batch's users (`pgshred.batch_users`, as set for the batch or the part being
/// tried) for `entities` (all when `None`), then checks what the tables hold of them: the rows
/// per user and entity equal the evaluator's (the check `04_verify.sql` makes for the SQL path,
/// without reading the documents again). Returns the mismatches in words.
pub(crate) fn write(
    tx: &mut Transaction,
    plan: &Plan,
    entities: Option<&[String]>,
) -> Result<Vec<String>, CopyError> {
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
    // Each batch's documents, their rows and the COPY buffers are held one at a time: the raw
    // rows go once parsed, the documents once evaluated.
    let raw = tx.query(
        &SourceTable::new(plan).batch_documents(&plan.source.key_type),
        &[&users],
    )?;
    let docs: Vec<(String, Value)> = raw
        .iter()
        .map(|d| {
            (
                d.get(0),
                d.get::<_, Option<Value>>(1).unwrap_or(Value::Null),
            )
        })
        .collect();
    drop(raw);
    let evaluated = evaluate_all(plan, &docs)?;
    drop(docs);
    let mut rows: BTreeMap<&str, Vec<Row>> = BTreeMap::new();
    for r in evaluated {
        if let Some(e) = plan.entities.iter().find(|e| e.name == r.entity) {
            rows.entry(e.name.as_str()).or_default().push(r);
        }
    }
    let selected = |e: &Entity| entities.is_none_or(|list| list.contains(&e.name));
    let empty = Vec::new();
    let mut written = Vec::new();
    for e in plan.entities.iter().filter(|e| selected(e)) {
        let mine = rows.get(e.name.as_str()).unwrap_or(&empty);
        copy_rows(tx, plan, e, mine)?;
        copy_audit(tx, plan, e, mine, run, batch)?;
        written.push((e, mine.as_slice()));
    }
    check(tx, plan, &written, &users)
}

/// The rows each user of the batch has in each table written against the rows written for them,
/// in one query; the mismatches in words.
fn check(
    tx: &mut Transaction,
    plan: &Plan,
    written: &[(&Entity, &[Row])],
    users: &[String],
) -> Result<Vec<String>, CopyError> {
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (e, rows) in written {
        for r in *rows {
            let u = r
                .values
                .get("user_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            *expected.entry((e.name.clone(), u.to_string())).or_default() += 1;
        }
    }
    if written.is_empty() {
        return Ok(Vec::new());
    }
    let counts: Vec<String> = written
        .iter()
        .map(|(e, _)| {
            format!(
                "SELECT {}::text, t.\"user_id\", count(*) FROM {}.{} AS t WHERE t.\"user_id\" = ANY($1) GROUP BY 2",
                crate::ident::quote_literal(&e.name),
                quote_ident(&plan.target_schema),
                quote_ident(&e.table)
            )
        })
        .collect();
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

/// The rows of every document, evaluated on every core (the server waits meanwhile); the first
/// batch-stopping problem, in document order, as the SQL path would raise one.
fn evaluate_all(plan: &Plan, docs: &[(String, Value)]) -> Result<Vec<Row>, CopyError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = docs.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Row>, CopyError>> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|part| s.spawn(move || evaluate_part(plan, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the evaluator does not panic"))
            .collect()
    });
    let mut rows = Vec::new();
    for p in parts {
        rows.extend(p?);
    }
    Ok(rows)
}

fn evaluate_part(plan: &Plan, docs: &[(String, Value)]) -> Result<Vec<Row>, CopyError> {
    let mut rows = Vec::new();
    for (user, doc) in docs {
        let mut findings = Vec::new();
        rows.extend(eval::evaluate(plan, user, doc, &mut findings));
        if let Some(f) = findings.iter().find(|f| f.severity == Severity::Abort) {
            let message = format!(
                "{} (user {}, entity {}, legacy id {}, path {})",
                f.message,
                crate::ids::shown_user(user),
                f.entity,
                f.legacy_id.as_deref().unwrap_or("?"),
                f.path
            );
            return Err(CopyError::Data {
                user: user.clone(),
                message,
            });
        }
    }
    Ok(rows)
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

fn copy_rows(tx: &mut Transaction, plan: &Plan, e: &Entity, rows: &[Row]) -> Result<(), CopyError> {
    if rows.is_empty() {
        return Ok(());
    }
    let cols = columns(e);
    let mut buf = Vec::with_capacity(rows.len() * 256);
    encode::header(&mut buf);
    for r in rows {
        encode::tuple_start(&mut buf, cols.len());
        for (name, kind) in &cols {
            let v = r.values.get(name).unwrap_or(&Value::Null);
            encode::field(&mut buf, *kind, v).map_err(|m| CopyError::Data {
                user: r.values["user_id"].as_str().unwrap_or_default().to_string(),
                message: format!("{}.{name}: {m}", e.table),
            })?;
        }
    }
    encode::trailer(&mut buf);
    let names: Vec<String> = cols.iter().map(|(n, _)| quote_ident(n)).collect();
    let sql = format!(
        "COPY {}.{} ({}) FROM STDIN (FORMAT binary)",
        quote_ident(&plan.target_schema),
        quote_ident(&e.table),
        names.join(", ")
    );
    let mut w = tx.copy_in(sql.as_str())?;
    w.write_all(&buf).map_err(|e| CopyError::Data {
        user: String::new(),
        message: format!("writing COPY data: {e}"),
    })?;
    w.finish()?;
    Ok(())
}

/// One audit set per user: its legacy ids and the new ids, in the SQL path's order (by legacy id,
/// then id).
fn copy_audit(
    tx: &mut Transaction,
    plan: &Plan,
    e: &Entity,
    rows: &[Row],
    run: i64,
    batch: i64,
) -> Result<(), CopyError> {
    let mut per_user: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for r in rows {
        let s = |k: &str| r.values.get(k).and_then(Value::as_str).unwrap_or_default();
        per_user
            .entry(s("user_id"))
            .or_default()
            .push((s("legacy_id"), s("id")));
    }
    if per_user.is_empty() {
        return Ok(());
    }
    let mut buf = Vec::new();
    encode::header(&mut buf);
    for (user, mut pairs) in per_user {
        pairs.sort();
        let legacy: Vec<Value> = pairs.iter().map(|p| Value::from(p.0)).collect();
        let ids: Vec<Value> = pairs.iter().map(|p| Value::from(p.1)).collect();
        let fields = [
            (Kind::BIGINT, Value::from(run)),
            (Kind::BIGINT, Value::from(batch)),
            (Kind::TEXT, Value::from(user)),
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
                user: user.to_string(),
                message: m,
            })?;
        }
    }
    encode::trailer(&mut buf);
    let sql = format!(
        "COPY {}.\"migration_audit_sets\" (\"run_id\", \"batch_id\", \"user_id\", \"source_entity\", \"target_table\", \"legacy_ids\", \"target_ids\") FROM STDIN (FORMAT binary)",
        quote_ident(&plan.audit_schema)
    );
    let mut w = tx.copy_in(sql.as_str())?;
    w.write_all(&buf).map_err(|e| CopyError::Data {
        user: String::new(),
        message: format!("writing COPY data: {e}"),
    })?;
    w.finish()?;
    Ok(())
}
