//! `pgshred demo`: the whole job against a throwaway PostgreSQL, with nothing set up by hand.
//!
//! Starts a temporary cluster from the machine's PostgreSQL binaries, loads the sample documents,
//! runs the compiled scripts of the plan batch by batch (forward + verify in one transaction per
//! batch), verifies every user, rolls the last batch back exactly, and removes the cluster.

use std::path::Path;
use std::time::Instant;

use postgres::{Client, NoTls, Transaction};
use serde_json::Value;

use crate::artifacts::Files;
use crate::ir::Plan;
use crate::pgtemp::TempCluster;
use crate::{Error, codegen, validate};

/// Stands in for Supabase's `auth.uid()` so the shipped RLS policies compile on plain PostgreSQL.
const AUTH_STUB: &str = include_str!("../fixtures/supabase_auth_stub.sql");

fn db(context: &str) -> impl FnOnce(postgres::Error) -> Error + '_ {
    move |source| Error::Database {
        context: context.to_string(),
        source,
    }
}

/// Runs the demo; `out` receives the narration.
pub fn run(
    plan_path: &Path,
    input: &Path,
    batch_size: usize,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    let mut say = |line: String| {
        let _ = writeln!(out, "{line}");
    };
    let plan = validate::load_plan(plan_path)?;
    let files = codegen::render(&plan)?;
    let rows: Vec<Value> = {
        let text = std::fs::read_to_string(input)
            .map_err(|e| Error::io(format!("reading {}", input.display()), e))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Input(format!(
                "{}: not a JSON array of source rows: {e}",
                input.display()
            ))
        })?
    };
    say(format!(
        "plan `{}`: {} entities in foreign-key order: {}",
        plan.name,
        plan.entities.len(),
        entity_names(&plan)
    ));

    let started = Instant::now();
    let cluster = TempCluster::start().map_err(|e| Error::Cluster(e.to_string()))?;
    say(format!(
        "started a throwaway PostgreSQL in {} (port {}, loopback only)",
        cluster.socket_dir().display(),
        cluster.port
    ));
    let url = cluster
        .create_database("pgshred_demo")
        .map_err(|e| Error::Cluster(e.to_string()))?;
    let mut c = Client::connect(&url, NoTls).map_err(db("connecting to the throwaway database"))?;

    load_source(&mut c, &plan, &rows)?;
    let users: Vec<String> = c
        .query(
            &format!(
                "SELECT DISTINCT {key}::text FROM {schema}.{table} ORDER BY 1",
                key = crate::ident::quote_ident(&plan.source.key_column),
                schema = crate::ident::quote_ident(&plan.source.schema),
                table = crate::ident::quote_ident(&plan.source.table),
            ),
            &[],
        )
        .map_err(db("listing users"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    say(format!(
        "loaded {} source rows for {} users from {}",
        rows.len(),
        users.len(),
        input.display()
    ));

    c.batch_execute(AUTH_STUB)
        .map_err(db("creating the auth.uid() stand-in"))?;
    c.batch_execute(&files["01_schema.sql"])
        .map_err(db("running 01_schema.sql"))?;
    c.batch_execute(&files["02_audit.sql"])
        .map_err(db("running 02_audit.sql"))?;
    say("applied 01_schema.sql and 02_audit.sql".into());

    let mut last_batch = 0i64;
    for (i, chunk) in users.chunks(batch_size.max(1)).enumerate() {
        let mut tx = c.transaction().map_err(db("starting a batch"))?;
        let batch: i64 = tx
            .query_one(
                &format!(
                    "SELECT {}.begin_batch($1, $2)",
                    crate::ident::quote_ident(&plan.audit_schema)
                ),
                &[&plan.name, &chunk],
            )
            .map_err(db("recording the batch"))?
            .get(0);
        tx.batch_execute(&files["03_forward.sql"])
            .map_err(|e| Error::Database {
                context: format!(
                    "batch {} (users {}): 03_forward.sql",
                    i + 1,
                    chunk.join(", ")
                ),
                source: e,
            })?;
        let mismatches = verify(&mut tx, &files)?;
        if !mismatches.is_empty() {
            return Err(Error::Verification(mismatches));
        }
        let created = created_by_batch(&mut tx, &plan, batch)?;
        tx.commit().map_err(db("committing a batch"))?;
        say(format!(
            "batch {batch}: {} users -> {created}; verify: ok",
            chunk.len()
        ));
        last_batch = batch;
    }

    let mismatches = verify_all(&mut c, &files)?;
    if !mismatches.is_empty() {
        return Err(Error::Verification(mismatches));
    }
    say(format!(
        "verify over all users: 0 mismatches; {}",
        table_counts(&mut c, &plan)?
    ));

    let mut tx = c.transaction().map_err(db("starting the rollback"))?;
    let created = created_by_batch(&mut tx, &plan, last_batch)?;
    tx.execute(
        "SELECT set_config('pgshred.rollback_batch', $1, true)",
        &[&last_batch.to_string()],
    )
    .map_err(db("selecting the batch to roll back"))?;
    tx.batch_execute(&files["05_rollback.sql"])
        .map_err(db("running 05_rollback.sql"))?;
    tx.commit().map_err(db("committing the rollback"))?;
    say(format!(
        "rolled back batch {last_batch} exactly (it had created {created})"
    ));
    say(format!("after rollback: {}", table_counts(&mut c, &plan)?));

    drop(c);
    drop(cluster);
    say(format!(
        "removed the throwaway cluster; done in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn entity_names(plan: &Plan) -> String {
    plan.entities
        .iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn load_source(c: &mut Client, plan: &Plan, rows: &[Value]) -> Result<(), Error> {
    let s = &plan.source;
    let q = crate::ident::quote_ident;
    let table = format!("{}.{}", q(&s.schema), q(&s.table));
    c.batch_execute(&format!(
        "CREATE TABLE {table} (\"id\" bigint PRIMARY KEY, {key} text NOT NULL, {order} timestamptz NOT NULL, {doc} jsonb)",
        key = q(&s.key_column),
        order = q(&s.order_column),
        doc = q(&s.document_column),
    ))
    .map_err(db("creating the source table"))?;
    c.execute(
        &format!(
            "INSERT INTO {table} SELECT (r->>'id')::bigint, r->>'user_id', (r->>'updated_at')::timestamptz, r->'state' \
             FROM jsonb_array_elements($1::jsonb) AS r"
        ),
        &[&Value::Array(rows.to_vec())],
    )
    .map_err(db("loading the source rows"))?;
    Ok(())
}

fn mismatch_lines(rows: &[postgres::Row]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            format!(
                "user {} entity {}: expected {} rows, found {}",
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, i64>(2),
                r.get::<_, i64>(3)
            )
        })
        .collect()
}

fn verify(tx: &mut Transaction, files: &Files) -> Result<Vec<String>, Error> {
    let rows = tx
        .query(files["04_verify.sql"].as_str(), &[])
        .map_err(db("running 04_verify.sql"))?;
    Ok(mismatch_lines(&rows))
}

fn verify_all(c: &mut Client, files: &Files) -> Result<Vec<String>, Error> {
    let rows = c
        .query(files["04_verify.sql"].as_str(), &[])
        .map_err(db("running 04_verify.sql"))?;
    Ok(mismatch_lines(&rows))
}

/// "3 orgs, 5 personas, ..." as the audit records them for one batch.
fn created_by_batch(tx: &mut Transaction, plan: &Plan, batch: i64) -> Result<String, Error> {
    let rows = tx
        .query(
            &format!(
                "SELECT target_table, count(*) FROM {}.\"migration_audit\" WHERE batch_id = $1 GROUP BY 1",
                crate::ident::quote_ident(&plan.audit_schema)
            ),
            &[&batch],
        )
        .map_err(db("reading the audit"))?;
    let counts: std::collections::HashMap<String, i64> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(plan
        .entities
        .iter()
        .map(|e| format!("{} {}", counts.get(&e.table).copied().unwrap_or(0), e.table))
        .collect::<Vec<_>>()
        .join(", "))
}

fn table_counts(c: &mut Client, plan: &Plan) -> Result<String, Error> {
    let q = crate::ident::quote_ident;
    let mut parts = Vec::new();
    for e in &plan.entities {
        let n: i64 = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM {}.{}",
                    q(&plan.target_schema),
                    q(&e.table)
                ),
                &[],
            )
            .map_err(db("counting rows"))?
            .get(0);
        parts.push(format!("{n} {}", e.table));
    }
    Ok(parts.join(", "))
}
