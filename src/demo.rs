//! `pgshred demo`: the whole job against a throwaway PostgreSQL, with nothing set up by hand.
//!
//! Starts a temporary cluster from the machine's PostgreSQL binaries, loads the sample documents,
//! runs `pgshred apply` on them (schema, batches, verification), verifies every user again, shows
//! `pgshred status`, rolls the last batch back exactly with `pgshred rollback`, and removes the
//! cluster.

use crate::compiled::Compiled;
use crate::pg::Context;
use std::path::Path;
use std::time::Instant;

use postgres::{Client, NoTls};
use serde_json::Value;

use crate::executor::{self, ApplyOptions, Lines, RollbackTarget};
use crate::ident::quote_ident;
use crate::ir::Plan;
use crate::pgtemp::TempCluster;
use crate::{Error, codegen, validate};

/// Stands in for Supabase's `auth.uid()` so the shipped RLS policies compile on plain PostgreSQL.
const AUTH_STUB: &str = include_str!("../fixtures/supabase_auth_stub.sql");

/// Runs the demo, narrating on stdout.
pub fn run(plan_path: &Path, input: &Path, batch_size: i32) -> Result<(), Error> {
    let plan = validate::load_plan(plan_path)?;
    let files = codegen::compile(&plan)?;
    let rows = read_rows(input)?;
    let names: Vec<&str> = plan.entities.iter().map(|e| e.name.as_str()).collect();
    crate::outln!(
        "plan `{}`: {} entities in foreign-key order: {}",
        plan.name,
        names.len(),
        names.join(", ")
    );

    let started = Instant::now();
    let cluster = TempCluster::start().map_err(|e| Error::Cluster(e.to_string()))?;
    crate::outln!(
        "started a throwaway PostgreSQL in {} (port {}, loopback only)",
        cluster.socket_dir().display(),
        cluster.port
    );
    let url = cluster
        .create_database("pgshred_demo")
        .map_err(|e| Error::Cluster(e.to_string()))?;
    let mut c = Client::connect(&url, NoTls).context("connecting to the throwaway database")?;
    c.batch_execute(AUTH_STUB)
        .context("creating the auth.uid() stand-in")?;
    load_source(&mut c, &plan, &rows)?;
    crate::outln!("loaded {} source rows from {}", rows.len(), input.display());

    apply(plan_path, &plan, &files, &url, batch_size)?;
    verify(&mut c, &plan, &files)?;
    crate::outln!("\n$ pgshred status {}", plan_path.display());
    crate::out!("{}", executor::status(&plan, &files, &url, None)?.text());
    roll_back_last_batch(&mut c, plan_path, &plan, &files, &url)?;

    drop(c);
    drop(cluster);
    crate::outln!(
        "\nremoved the throwaway cluster; done in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The source rows of the demo: a JSON array of {id, user_id, updated_at, state}.
fn read_rows(input: &Path) -> Result<Vec<Value>, Error> {
    let text = std::fs::read_to_string(input)
        .map_err(|e| Error::io(format!("reading {}", input.display()), e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Input(format!(
            "{}: not a JSON array of source rows: {e}",
            input.display()
        ))
    })
}

/// `pgshred apply --create-schema --allow-duplicates`, as an operator would run it.
fn apply(
    plan_path: &Path,
    plan: &Plan,
    files: &Compiled,
    url: &str,
    batch_size: i32,
) -> Result<(), Error> {
    crate::outln!(
        "\n$ pgshred apply {} --create-schema --allow-duplicates --batch-size {batch_size}",
        plan_path.display()
    );
    let opts = ApplyOptions {
        start: executor::Start::New(executor::Scope::Next {
            limit: None,
            rework: executor::Rework::default(),
        }),
        writer: executor::Writer::Copy,
        batches: executor::Batches {
            size: batch_size,
            lock_timeout: plan.batch.lock_timeout.clone(),
            statement_timeout: plan.batch.statement_timeout.clone(),
            max_bad_users: 0,
        },
        pace: executor::Pace {
            jobs: 1,
            max_rate: None,
            pause_between: None,
            max_replica_lag: None,
        },
        create_schema: true,
        allow_duplicates: true,
    };
    let report = executor::apply(plan, files, url, &opts, &mut Lines::default())?;
    crate::out!("{}", executor::render_report(plan, &report));

    Ok(())
}

/// 04_verify.sql over every user.
fn verify(c: &mut Client, plan: &Plan, files: &Compiled) -> Result<(), Error> {
    let mismatches = c
        .query(files.verify(), &[])
        .context("running 04_verify.sql")?;
    if !mismatches.is_empty() {
        return Err(Error::Verification(
            mismatches.iter().map(executor::mismatch_line).collect(),
        ));
    }
    crate::outln!(
        "\n04_verify.sql over every user: 0 mismatches; {}",
        table_counts(c, plan)?
    );

    Ok(())
}

/// `pgshred rollback --batch` of the run's last batch.
fn roll_back_last_batch(
    c: &mut Client,
    plan_path: &Path,
    plan: &Plan,
    files: &Compiled,
    url: &str,
) -> Result<(), Error> {
    let last: i64 = c
        .query_one(
            &format!(
                "SELECT max(\"id\") FROM {}.\"migration_batches\"",
                quote_ident(&plan.audit_schema)
            ),
            &[],
        )
        .context("finding the last batch")?
        .get(0);
    crate::outln!(
        "\n$ pgshred rollback {} --batch {last} --yes",
        plan_path.display()
    );
    let removed = executor::rollback(
        plan,
        files,
        url,
        &RollbackTarget {
            batch: Some(last),
            ..Default::default()
        },
    )?;
    crate::outln!(
        "rolled back {} rows of batch {last}; none of them remains",
        removed.removed.values().sum::<i64>()
    );
    crate::outln!("after the rollback: {}", table_counts(c, plan)?);

    Ok(())
}

fn load_source(c: &mut Client, plan: &Plan, rows: &[Value]) -> Result<(), Error> {
    let s = crate::source::SourceTable::new(plan);
    let table = &s.table;
    c.batch_execute(&format!(
        "CREATE TABLE {table} (\"id\" bigint PRIMARY KEY, {key} text NOT NULL, {order} timestamptz NOT NULL, {doc} jsonb); \
         CREATE INDEX ON {table} ({key})",
        key = s.key,
        order = s.order,
        doc = s.document,
    ))
    .context("creating the source table")?;
    c.execute(
        &format!(
            "INSERT INTO {table} SELECT (r->>'id')::bigint, r->>'user_id', (r->>'updated_at')::timestamptz, r->'state' \
             FROM jsonb_array_elements($1::jsonb) AS r"
        ),
        &[&Value::Array(rows.to_vec())],
    )
    .context("loading the source rows")?;
    Ok(())
}

fn table_counts(c: &mut Client, plan: &Plan) -> Result<String, Error> {
    let mut parts = Vec::new();
    for e in &plan.entities {
        let n: i64 = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM {}.{}",
                    quote_ident(&plan.target_schema),
                    quote_ident(&e.table)
                ),
                &[],
            )
            .context("counting rows")?
            .get(0);
        parts.push(format!("{n} {}", e.table));
    }
    Ok(parts.join(", "))
}
