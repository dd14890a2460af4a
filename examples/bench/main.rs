//! Benchmark: `pgshred apply` against the hand-written SQL a DBA would write (bench/baseline.sql),
//! on the same generated users in a throwaway PostgreSQL. Prints figures; asserts nothing.
//!
//!   scripts/bench                     # 2000, 10000 and 40000 users
//!   scripts/bench 1000 5000           # other sizes
//!   scripts/bench --quarantine 2000 10000   # cost of isolating 1, 10, 50 bad users
//!   scripts/bench --graph 2500 5000 10000     # outliner trees: apply and verify per block
//!   scripts/bench --layouts 2000 10000        # plain tables against tables partitioned by user
//!   scripts/bench --roundtrip                 # verify --roundtrip per document size and users
//!   scripts/bench --citus 2000 10000          # Citus, 1 to 3 processes sharing a run
//!
//! Both sides run batches of the same size, one transaction per batch, with audit rows. The data
//! is clean (no messy users): the baseline has no way to survive a bad value.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use pgshred::generate::Shape;
use pgshred::ident::quote_ident;
use pgshred::pgtemp::TempCluster;
use postgres::{Client, NoTls};

mod citus;
mod costs;
mod documents;
mod layouts;

const PLAN: &str = "plans/user_app_state.yaml";
const PARTITIONED: &str = "plans/user_app_state_partitioned.yaml";
const BATCH: usize = 100;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Source table with `users` generated users of `shape`, loaded with COPY.
fn load(c: &mut Client, users: u64, shape: Shape) {
    c.batch_execute(
        "CREATE TABLE user_app_state (id bigint PRIMARY KEY, user_id text NOT NULL, updated_at timestamptz NOT NULL, state jsonb);
         CREATE INDEX ON user_app_state (user_id)",
    )
    .unwrap();
    let mut w = c
        .copy_in("COPY user_app_state (id, user_id, updated_at, state) FROM STDIN (FORMAT csv)")
        .unwrap();
    for (n, user, state) in pgshred::generate::users_of(shape, users, 7, 0.0) {
        let json = state.to_string().replace('"', "\"\"");
        writeln!(w, "{n},{user},2024-11-01T00:00:00Z,\"{json}\"").unwrap();
    }
    w.finish().unwrap();
    c.batch_execute("ANALYZE user_app_state").unwrap();
}

fn prepare(
    cluster: &TempCluster,
    name: &str,
    users: u64,
    files: &pgshred::artifacts::Files,
) -> String {
    let url = cluster.create_database(name).unwrap();
    let mut c = Client::connect(&url, NoTls).unwrap();
    c.batch_execute(include_str!("../../fixtures/supabase_auth_stub.sql"))
        .unwrap();
    load(&mut c, users, Shape::UserAppState);
    for f in ["01_schema.sql", "02_audit.sql", "06_reconstruct.sql"] {
        c.batch_execute(&files[f]).unwrap();
    }
    url
}

/// Rows in the plan's tables.
fn rows(url: &str, plan: &pgshred::ir::Plan) -> i64 {
    let mut c = Client::connect(url, NoTls).unwrap();
    plan.entities
        .iter()
        .map(|e| {
            c.query_one(
                &format!(
                    "SELECT count(*) FROM {}.{}",
                    quote_ident(&plan.target_schema),
                    quote_ident(&e.table)
                ),
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
        })
        .sum()
}

/// The baseline, batch by batch; returns seconds.
fn baseline(url: &str, plan: &pgshred::ir::Plan) -> f64 {
    let statements: Vec<String> = include_str!("../../bench/baseline.sql")
        .split("\n\n")
        .filter(|s| s.trim_start().starts_with("WITH"))
        .map(|s| {
            s.lines()
                .filter(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert_eq!(statements.len(), 7);
    let mut c = Client::connect(url, NoTls).unwrap();
    let users: Vec<String> = c
        .query(
            "SELECT DISTINCT user_id FROM user_app_state ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let setup = include_str!("../../bench/baseline.sql")
        .split("\n\n")
        .find(|s| s.trim_start().starts_with("CREATE TABLE"))
        .expect("baseline.sql creates its audit table");
    c.batch_execute(setup).unwrap();
    let prepared: Vec<_> = statements.iter().map(|s| c.prepare(s).unwrap()).collect();
    let started = Instant::now();
    for chunk in users.chunks(BATCH) {
        let mut tx = c.transaction().unwrap();
        let batch: i64 = tx
            .query_one("SELECT pgshred.begin_batch($1, $2)", &[&plan.name, &chunk])
            .unwrap()
            .get(0);
        let run: i64 = tx
            .query_one("SELECT current_setting('pgshred.run_id')::bigint", &[])
            .unwrap()
            .get(0);
        for s in &prepared {
            tx.execute(s, &[&chunk, &plan.namespace, &run, &batch])
                .unwrap();
        }
        tx.commit().unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// `pgshred apply` as an operator runs it; returns seconds and peak RSS in KB.
// The child is reaped by wait4, which std cannot see; wait4 is what reports its peak memory.
#[allow(clippy::zombie_processes)]
fn apply(url: &str, jobs_args: &[&str]) -> (f64, i64) {
    let (secs, rss, _) = apply_plan(PLAN, url, jobs_args);
    (secs, rss)
}

/// `pgshred apply` of `plan`; returns seconds, peak RSS in KB and what it printed on stdout.
fn apply_plan(plan: &str, url: &str, jobs_args: &[&str]) -> (f64, i64, String) {
    let batch = BATCH.to_string();
    let args = [&["apply", plan, "--batch-size", &batch][..], jobs_args].concat();
    measured(url, &args)
}

/// `pgshred ARGS` against `url`; returns seconds, peak RSS in KB and what it printed on stdout.
// The child is reaped by wait4, which std cannot see; wait4 is what reports its peak memory.
#[allow(clippy::zombie_processes)]
fn measured(url: &str, args: &[&str]) -> (f64, i64, String) {
    let log_path = std::env::temp_dir().join(format!("pgshred-bench-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).expect("creating the log file");
    let out_path = std::env::temp_dir().join(format!("pgshred-bench-{}.out", std::process::id()));
    let out = std::fs::File::create(&out_path).expect("creating the summary file");
    let started = Instant::now();
    let child = pgshred_at(url)
        .args(args)
        .stdout(out)
        // The log (a line per batch) goes to a file, shown only when the command fails.
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "running {}: {e} (build it first: cargo build --release)",
                pgshred_bin().display()
            )
        });
    let mut status = 0;
    // SAFETY: zeroed rusage is valid; wait4 on our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let secs = started.elapsed().as_secs_f64();
    let log_text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let summary = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(&out_path);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "pgshred {args:?} failed:\n{log_text}{summary}"
    );
    (secs, usage.ru_maxrss, summary)
}

/// The seconds per phase of `apply --format json`'s summary, in words.
fn phases(summary: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(summary).expect("apply's JSON summary");
    v["phases"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} {:.2}", v.as_f64().unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `pgshred` against the database at `url`, run from the project root (plans are named from there).
fn pgshred_at(url: &str) -> Command {
    let mut c = Command::new(pgshred_bin());
    c.env("DATABASE_URL", url).current_dir(root());
    c
}

/// The release binary beside this example.
fn pgshred_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join("pgshred")
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let isolate = args.first().is_some_and(|a| a == "--quarantine");
    let verify = args.first().is_some_and(|a| a == "--verify");
    let graph = args.first().is_some_and(|a| a == "--graph");
    let layouts = args.first().is_some_and(|a| a == "--layouts");
    let roundtrip = args.first().is_some_and(|a| a == "--roundtrip");
    let citus = args.first().is_some_and(|a| a == "--citus");
    if isolate || verify || graph || layouts || roundtrip || citus {
        args.remove(0);
    }
    let sizes: Vec<u64> = args
        .iter()
        .map(|a| a.parse().expect("sizes are numbers of users"))
        .collect();
    let sizes = if sizes.is_empty() && graph {
        vec![2_500, 5_000, 10_000]
    } else if sizes.is_empty() && (isolate || verify || layouts || citus) {
        vec![2_000, 10_000]
    } else if sizes.is_empty() {
        vec![2_000, 10_000, 40_000]
    } else {
        sizes
    };
    let plan = pgshred::validate::load_plan(&root().join(PLAN)).unwrap();
    let files = pgshred::codegen::render(&plan).unwrap();
    let cluster = TempCluster::start().unwrap();
    if citus {
        citus::scale_out(&cluster, &sizes);
        return;
    }
    if roundtrip {
        documents::roundtrip_cost(&cluster);
        return;
    }
    if graph {
        documents::graph_cost(&cluster, &sizes);
        return;
    }
    if layouts {
        layouts::compare_layouts(&cluster, &sizes);
        return;
    }
    if isolate {
        costs::quarantine_cost(&cluster, &files, &sizes);
        return;
    }
    if verify {
        costs::verify_cost(&cluster, &files, &sizes);
        return;
    }
    compare_engines(&cluster, &plan, &files, &sizes);
}

/// The baseline, both engines, --bulk, one and two workers, and the COPY limit, as ratios.
fn compare_engines(
    cluster: &TempCluster,
    plan: &pgshred::ir::Plan,
    files: &pgshred::artifacts::Files,
    sizes: &[u64],
) {
    println!(
        "batches of {BATCH} users, one transaction each, audit included; {} cores; seconds, and the ratio to the baseline's",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let variants: [(&str, &[&str]); 6] = [
        ("sql -j1", &["--engine", "sql", "--jobs", "1"]),
        ("sql -j2", &["--engine", "sql", "--jobs", "2"]),
        ("copy -j1", &["--engine", "copy", "--jobs", "1"]),
        ("copy -j2", &["--engine", "copy", "--jobs", "2"]),
        ("bulk -j1", &["--bulk", "--jobs", "1"]),
        ("bulk -j2", &["--bulk", "--jobs", "2"]),
    ];
    let mut head = format!("{:>7} {:>9} | {:>10} |", "users", "rows", "baseline s");
    for (name, _) in variants
        .iter()
        .map(|v| (v.0, ()))
        .chain([("COPY limit", ()), ("limit, built after", ())])
    {
        head.push_str(&format!(" {name:>14} |"));
    }
    println!("{head} {:>8}", "peak MB");
    let mut notes = Vec::new();
    for &n in sizes {
        let base_url = prepare(cluster, &format!("base_{n}"), n, files);
        let base_s = baseline(&base_url, plan);
        let base_rows = rows(&base_url, plan);
        let _ = std::io::stdout().flush();
        let mut line = format!("{n:>7} {base_rows:>9} | {base_s:>10.2} |");
        let mut peak = 0;
        let mut last = String::new();
        for (name, args) in variants {
            let url = prepare(
                cluster,
                &format!("apply_{n}_{}", name.replace([' ', '-'], "_")),
                n,
                files,
            );
            let (secs, rss, summary) =
                apply_plan(PLAN, &url, &[args, &["--format", "json"]].concat());
            notes.push(format!(
                "{n:>7} {name:<8} peak {:>5.1} MB | {}",
                rss as f64 / 1024.0,
                phases(&summary)
            ));
            assert_eq!(
                rows(&url, plan),
                base_rows,
                "{name} must write the baseline's rows"
            );
            peak = peak.max(rss);
            line.push_str(&format!(" {secs:>7.2} {:>5.2}x |", base_s / secs));
            last = url;
        }
        for deferred in [false, true] {
            let limit = copy_limit(cluster, &last, n, plan, files, deferred);
            line.push_str(&format!(" {limit:>7.2} {:>5.2}x |", base_s / limit));
        }
        println!("{line} {:>8.1}", peak as f64 / 1024.0);
    }
    println!("peak memory of each apply, and its seconds per phase summed over the workers:");
    for note in notes {
        println!("{note}");
    }
}

/// The server's own limit for the same rows: every table's rows and the audit, as `apply` wrote
/// them into `from`, dumped with `COPY ... TO` (binary) and timed as `COPY ... FROM` into the
/// same, indexed and foreign-keyed, tables of a fresh database.
fn copy_limit(
    cluster: &TempCluster,
    from: &str,
    n: u64,
    plan: &pgshred::ir::Plan,
    files: &pgshred::artifacts::Files,
    deferred: bool,
) -> f64 {
    let dir = std::env::temp_dir().join(format!("pgshred-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The server writes and reads the files itself.
    let _ = Command::new("chmod").arg("777").arg(&dir).status();
    let mut tables: Vec<String> = vec![
        "pgshred.migration_runs".into(),
        "pgshred.migration_batches".into(),
    ];
    tables.extend(
        plan.entities
            .iter()
            .map(|e| format!("public.{}", quote_ident(&e.table))),
    );
    tables.push("pgshred.migration_audit_sets".into());
    let mut src = Client::connect(from, NoTls).unwrap();
    let file = |i: usize| dir.join(format!("t{i}.bin")).display().to_string();
    for (i, t) in tables.iter().enumerate() {
        src.batch_execute(&format!("COPY {t} TO '{}' (FORMAT binary)", file(i)))
            .unwrap();
    }
    let url = prepare(cluster, &format!("limit_{n}_{deferred}"), 0, files);
    let mut c = Client::connect(&url, NoTls).unwrap();
    // As pg_restore and --bulk do: the target tables' secondary indexes, unique keys and foreign
    // keys dropped before the COPY and built after it, inside the timing.
    let rebuild = if deferred {
        drop_secondary(&mut c, plan)
    } else {
        Vec::new()
    };
    let started = Instant::now();
    for (i, t) in tables.iter().enumerate() {
        c.batch_execute(&format!("COPY {t} FROM '{}' (FORMAT binary)", file(i)))
            .unwrap();
    }
    for statement in &rebuild {
        c.batch_execute(statement).unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    secs
}

/// Drops the secondary indexes, unique keys and foreign keys of the plan's tables; the statements
/// that build them again, indexes first and foreign keys last.
fn drop_secondary(c: &mut Client, plan: &pgshred::ir::Plan) -> Vec<String> {
    let tables: Vec<String> = plan.entities.iter().map(|e| e.table.clone()).collect();
    let schema = &plan.target_schema;
    let constraints: Vec<(String, String, String, String)> = c
        .query(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid), contype::text
               FROM pg_constraint
              WHERE contype IN ('f', 'u') AND connamespace = to_regnamespace($1)
                AND conrelid::regclass::text = ANY (SELECT quote_ident(t) FROM unnest($2::text[]) AS t)
              ORDER BY contype, 1, 2",
            &[&schema, &tables],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let indexes: Vec<(String, String)> = c
        .query(
            "SELECT quote_ident(indexname), indexdef FROM pg_indexes AS i
              WHERE schemaname = $1 AND tablename = ANY ($2)
                AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conname = i.indexname)
              ORDER BY 1",
            &[&schema, &tables],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut build = Vec::new();
    // Foreign keys ('f' sorts first) are dropped first and added last.
    for (table, name, def, _) in &constraints {
        c.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))
            .unwrap();
        build.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
    }
    for (name, def) in &indexes {
        c.batch_execute(&format!("DROP INDEX {}.{name}", quote_ident(schema)))
            .unwrap();
        build.push(def.clone());
    }
    build.reverse();
    build
}
