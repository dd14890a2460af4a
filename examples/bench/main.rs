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
use std::process::{Command, Stdio};
use std::time::Instant;

use pgshred::generate::Shape;
use pgshred::ident::quote_ident;
use pgshred::pgtemp::TempCluster;
use postgres::{Client, NoTls};

mod citus;

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

/// One page of `blocks` blocks in trees up to 6 levels deep, up to 8 children each, every 50th
/// block referencing an earlier one: the shape of `tests/plans/outline/`, as large as asked.
fn big_page(blocks: usize) -> serde_json::Value {
    use serde_json::json;
    fn block(n: &mut usize, max: usize, depth: u32, seed: &mut u64) -> serde_json::Value {
        *n += 1;
        let id = *n;
        let mut b =
            json!({"uid": format!("b{id}"), "text": format!("block {id} of the page, some words")});
        if id.is_multiple_of(50) {
            b["ref"] = json!(format!("b{}", id / 2));
        }
        // A small linear congruential generator: the same page every run.
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let kids = if depth < 6 { (*seed >> 33) % 9 } else { 0 };
        let mut children = Vec::new();
        for _ in 0..kids {
            if *n >= max {
                break;
            }
            children.push(block(n, max, depth + 1, seed));
        }
        if !children.is_empty() {
            b["children"] = json!(children);
        }
        b
    }
    let (mut n, mut seed, mut tops) = (0, 7u64, Vec::new());
    while n < blocks {
        tops.push(block(&mut n, blocks, 1, &mut seed));
    }
    json!({"pages": [{"id": "p1", "title": "a long page", "blocks": tops}]})
}

/// `verify --roundtrip`'s time and peak memory per document size and per number of users: one
/// page of 1,000 to 50,000 blocks, then 1, 3 and 60 users of one size.
fn roundtrip_cost(cluster: &TempCluster) {
    const OUTLINE: &str = "tests/plans/outline/plan.yaml";
    let plan = pgshred::validate::load_plan(&root().join(OUTLINE)).unwrap();
    let files = pgshred::codegen::render(&plan).unwrap();
    println!("verify --roundtrip (release build): one page of N blocks per user");
    println!(
        "{:>6} {:>7} {:>8} | {:>8} {:>9} {:>9} | {:>7}",
        "users", "blocks", "doc MB", "seconds", "s/user", "us/block", "peak MB"
    );
    let cases = [
        (1, 1_000),
        (1, 8_000),
        (1, 16_000),
        (1, 50_000),
        (3, 16_000),
        (60, 16_000),
    ];
    for (users, blocks) in cases {
        let url = cluster
            .create_database(&format!("roundtrip_{users}_{blocks}"))
            .unwrap();
        let mut c = Client::connect(&url, NoTls).unwrap();
        c.batch_execute(
            "CREATE TABLE user_app_state (id bigint PRIMARY KEY, user_id text NOT NULL, updated_at timestamptz NOT NULL, state jsonb);
             CREATE INDEX ON user_app_state (user_id)",
        )
        .unwrap();
        let doc = big_page(blocks);
        let text = doc.to_string();
        for u in 0..users {
            c.execute(
                "INSERT INTO user_app_state VALUES ($1, $2, now(), $3::text::jsonb)",
                &[&(u as i64), &format!("u{u:04}"), &text],
            )
            .unwrap();
        }
        for f in ["01_schema.sql", "02_audit.sql", "06_reconstruct.sql"] {
            c.batch_execute(&files[f]).unwrap();
        }
        apply_plan(OUTLINE, &url, &["--jobs", "1"]);
        c.batch_execute("ANALYZE").unwrap();
        let (secs, rss, out) = measured(&url, &["verify", OUTLINE, "--roundtrip"]);
        assert!(out.contains("0 lost something"), "{out}");
        println!(
            "{users:>6} {blocks:>7} {:>8.2} | {secs:>8.2} {:>9.3} {:>9.1} | {:>7.1}",
            text.len() as f64 / 1e6,
            secs / users as f64,
            secs * 1e6 / (users * blocks) as f64,
            rss as f64 / 1024.0
        );
    }
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

/// Breaks `k` users spread evenly over the `n` (an uncastable value in their first content).
fn break_users(url: &str, n: u64, k: u64) {
    if k == 0 {
        return;
    }
    let mut c = Client::connect(url, NoTls).unwrap();
    let broken = c
        .execute(
            "UPDATE user_app_state SET state = jsonb_set(state, '{contents,0,wordCount}', '\"lots\"') \
              WHERE id % $1 = 0",
            &[&((n / k) as i64)],
        )
        .unwrap();
    assert_eq!(broken, k, "{n} users, {k} to break");
}

/// The cost of isolating k bad users among n: apply --max-bad-users k against apply on clean data.
/// Seconds `pgshred verify` takes on a migrated database: counts only, and with the round trip.
fn verify_cost(cluster: &TempCluster, files: &pgshred::artifacts::Files, sizes: &[u64]) {
    println!("verify on migrated users (release build); seconds, and seconds per 10,000 users");
    println!(
        "{:>7} | {:>9} {:>9} | {:>12} {:>9}",
        "users", "counts s", "/10k", "roundtrip s", "/10k"
    );
    for &n in sizes {
        let url = prepare(cluster, &format!("verify_{n}"), n, files);
        apply(&url, &["--jobs", "2"]);
        let mut line = format!("{n:>7} |");
        for extra in [&[][..], &["--roundtrip"][..]] {
            let started = Instant::now();
            let o = pgshred_at(&url)
                .args(["verify", PLAN])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .status()
                .unwrap();
            let secs = started.elapsed().as_secs_f64();
            // The generated users hold top-level empty arrays, lost without a root entity: the
            // check may fail; what is measured is its time.
            assert!(o.code().is_some_and(|c| c <= 1), "pgshred verify failed");
            line.push_str(&format!(
                " {secs:>9.2} {:>9.2} |",
                secs * 10_000.0 / n as f64
            ));
        }
        println!("{line}");
    }
}

fn quarantine_cost(cluster: &TempCluster, files: &pgshred::artifacts::Files, sizes: &[u64]) {
    println!(
        "isolating bad users: apply --jobs 1 --max-bad-users k, batches of {BATCH}, one bad value per bad user"
    );
    println!(
        "{:>7} {:>5} | {:>8} | {:>8} | {:>16}",
        "users", "bad", "apply s", "extra s", "per bad user ms"
    );
    for &n in sizes {
        let mut clean = 0.0;
        for k in [0, 1, 10, 50] {
            let url = prepare(cluster, &format!("q_{n}_{k}"), n, files);
            break_users(&url, n, k);
            let (secs, _) = apply(&url, &["--jobs", "1", "--max-bad-users", &k.to_string()]);
            let mut c = Client::connect(&url, NoTls).unwrap();
            let quarantined: i64 = c
                .query_one("SELECT count(*) FROM pgshred.migration_quarantine", &[])
                .unwrap()
                .get(0);
            assert_eq!(quarantined, k as i64, "every broken user, and only they");
            if k == 0 {
                clean = secs;
                println!("{n:>7} {k:>5} | {secs:>8.2} |");
            } else {
                println!(
                    "{n:>7} {k:>5} | {secs:>8.2} | {:>8.2} | {:>16.0}",
                    secs - clean,
                    (secs - clean) * 1000.0 / k as f64
                );
            }
        }
    }
}

/// Trees of blocks (the outliner example, 100-160 blocks per user, up to 12 levels deep): apply,
/// verify and verify --roundtrip, in seconds and microseconds per block, to show they grow with
/// the number of blocks and nothing else.
fn graph_cost(cluster: &TempCluster, sizes: &[u64]) {
    const GRAPH: &str = "plans/outliner.yaml";
    let plan = pgshred::validate::load_plan(&root().join(GRAPH)).unwrap();
    let files = pgshred::codegen::render(&plan).unwrap();
    println!(
        "outliner trees (release build, apply --jobs 1, batches of {BATCH}); seconds, and microseconds per block"
    );
    println!(
        "{:>7} {:>9} {:>5} | {:>8} {:>6} | {:>8} {:>6} | {:>11} {:>6}",
        "users", "blocks", "depth", "apply s", "us/b", "verify s", "us/b", "roundtrip s", "us/b"
    );
    for &n in sizes {
        let url = cluster.create_database(&format!("graph_{n}")).unwrap();
        let mut c = Client::connect(&url, NoTls).unwrap();
        load(&mut c, n, Shape::Outliner);
        for f in ["01_schema.sql", "02_audit.sql", "06_reconstruct.sql"] {
            c.batch_execute(&files[f]).unwrap();
        }
        let (apply_s, _, _) = apply_plan(GRAPH, &url, &["--jobs", "1"]);
        // Fresh tables: statistics now, rather than whenever autovacuum gets to them mid-measure.
        c.batch_execute("ANALYZE").unwrap();
        let (blocks, depth): (i64, i32) = c
            .query_one("SELECT count(*), max(depth) FROM outliner.blocks", &[])
            .map(|r| (r.get(0), r.get(1)))
            .unwrap();
        let mut line = format!(
            "{n:>7} {blocks:>9} {depth:>5} | {apply_s:>8.2} {:>6.1} |",
            apply_s * 1e6 / blocks as f64
        );
        for extra in [&[][..], &["--roundtrip"][..]] {
            let started = Instant::now();
            let o = pgshred_at(&url)
                .args(["verify", GRAPH])
                .args(extra)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(o.success(), "pgshred verify {extra:?} failed");
            let secs = started.elapsed().as_secs_f64();
            line.push_str(&format!(
                " {secs:>8.2} {:>6.1} |",
                secs * 1e6 / blocks as f64
            ));
        }
        println!("{line}");
    }
}

/// The release binary beside this example.
/// `pgshred` against the database at `url`, run from the project root (plans are named from there).
fn pgshred_at(url: &str) -> Command {
    let mut c = Command::new(pgshred_bin());
    c.env("DATABASE_URL", url).current_dir(root());
    c
}

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
        roundtrip_cost(&cluster);
        return;
    }
    if graph {
        graph_cost(&cluster, &sizes);
        return;
    }
    if layouts {
        compare_layouts(&cluster, &sizes);
        return;
    }
    if isolate {
        quarantine_cost(&cluster, &files, &sizes);
        return;
    }
    if verify {
        verify_cost(&cluster, &files, &sizes);
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

/// Plain tables against tables hash-partitioned by user_id (`plans/user_app_state_partitioned.yaml`,
/// 16 partitions), on the same users: apply with each write path, a second process joining the
/// run (`--join`, as a worker on another host would), and the rollback of the run.
fn compare_layouts(cluster: &TempCluster, sizes: &[u64]) {
    let plans: Vec<(&str, pgshred::ir::Plan)> = [PLAN, PARTITIONED]
        .into_iter()
        .map(|p| (p, pgshred::validate::load_plan(&root().join(p)).unwrap()))
        .collect();
    let variants: [(&str, &[&str]); 4] = [
        ("sql -j1", &["--engine", "sql"]),
        ("copy -j1", &["--engine", "copy"]),
        ("bulk -j1", &["--bulk"]),
        ("copy + join", &["--engine", "copy"]),
    ];
    println!(
        "plain tables against tables PARTITION BY HASH (user_id) into 16; batches of {BATCH}; {} cores; seconds, and partitioned / plain",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>7} {:<12} | {:>8} | {:>11} | {:>6} | {:>11} | {:>18} |",
        "users", "apply", "plain s", "partition s", "ratio", "rollback s", "rollback partition"
    );
    for &n in sizes {
        for (name, args) in variants {
            let mut secs = Vec::new();
            let mut rollback = Vec::new();
            for (path, plan) in &plans {
                let files = pgshred::codegen::render(plan).unwrap();
                let db = format!(
                    "layout_{n}_{}_{}",
                    plan.name,
                    name.replace([' ', '-', '+'], "_")
                );
                let url = prepare(cluster, &db, n, &files);
                let s = if name.ends_with("join") {
                    apply_with_joiner(path, &url, args)
                } else {
                    apply_plan(path, &url, args).0
                };
                let expected = rows(&url, plan);
                assert!(expected > 0, "{name} wrote rows");
                secs.push(s);
                if name == "sql -j1" {
                    rollback.push(rollback_run(path, &url));
                    assert_eq!(rows(&url, plan), 0, "the rollback removed every row");
                }
            }
            let rb = match rollback.as_slice() {
                [a, b] => format!("{a:>11.2} | {b:>11.2} {:>5.2}x |", b / a),
                _ => format!("{:>11} | {:>18} |", "", ""),
            };
            println!(
                "{n:>7} {name:<12} | {:>8.2} | {:>11.2} | {:>5.2}x | {rb}",
                secs[0],
                secs[1],
                secs[1] / secs[0]
            );
        }
    }
}

/// `apply` and, once the run is planned, a second `apply --join` on the same run: seconds until
/// both are done.
fn apply_with_joiner(plan: &str, url: &str, args: &[&str]) -> f64 {
    let spawn = |more: &[&str]| {
        pgshred_at(url)
            .args(["apply", plan, "--batch-size", &BATCH.to_string()])
            .args(args)
            .args(more)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    let mut first = spawn(&[]);
    let mut c = Client::connect(url, NoTls).unwrap();
    // --join needs the run planned: its batches in the ledger.
    while c
        .query_one("SELECT count(*) FROM pgshred.migration_batches", &[])
        .map_or(0, |r| r.get::<_, i64>(0))
        == 0
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut joiner = spawn(&["--join"]);
    assert!(first.wait().unwrap().success(), "apply failed");
    assert!(joiner.wait().unwrap().success(), "apply --join failed");
    started.elapsed().as_secs_f64()
}

/// `pgshred rollback PLAN --run 1 --yes`; seconds.
fn rollback_run(plan: &str, url: &str) -> f64 {
    let started = Instant::now();
    let status = pgshred_at(url)
        .args(["rollback", plan, "--run", "1", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "rollback failed");
    started.elapsed().as_secs_f64()
}
