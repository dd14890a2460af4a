//! `scripts/bench --citus`: the distributed plan on a Citus cluster on this machine, one to three
//! processes sharing a run, each connected to a node of its own.

use std::process::Stdio;
use std::time::Instant;

use pgshred::generate::Shape;
use pgshred::pgtemp::{CitusCluster, TempCluster};
use postgres::{Client, NoTls};

use super::{BATCH, PLAN, apply_plan, load, pgshred_at, phases, prepare, root, rows};

const DISTRIBUTED: &str = "plans/user_app_state_distributed.yaml";

/// The distributed plan on a Citus coordinator and two workers, all on this machine, against the
/// plain plan on one plain PostgreSQL: with the source table on the coordinator and one process,
/// then with the source distributed by user and one, two and three `apply` processes sharing one
/// run (`--join`), the first on the coordinator and each other on a worker of its own, then
/// `--engine sql` with one and three processes. Prints
/// seconds, users/s, rows/s and seconds per phase summed over the processes.
pub fn scale_out(plain: &TempCluster, sizes: &[u64]) {
    if !pgshred::pgtemp::citus_installed() {
        eprintln!("Citus is not installed: ../shared/citus/install.sh builds it");
        std::process::exit(1);
    }
    let citus = CitusCluster::start(2).unwrap();
    let url = citus.url();
    let nodes = [url.clone(), citus.worker_url(0), citus.worker_url(1)];
    let mut c = Client::connect(&format!("{url}?sslmode=disable"), NoTls).unwrap();
    c.batch_execute(include_str!("../../fixtures/supabase_auth_stub.sql"))
        .unwrap();
    let plan = pgshred::validate::load_plan(&root().join(PLAN)).unwrap();
    let files = pgshred::codegen::render(&plan).unwrap();
    println!(
        "batches of {BATCH} users, the default engine unless said; Citus: a coordinator and 2 workers on this machine ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>7} {:<42} | {:>8} | {:>8} | {:>8} | seconds per phase, summed over the processes",
        "users", "run", "seconds", "users/s", "rows/s"
    );
    for &n in sizes {
        let plain_url = prepare(plain, &format!("citus_plain_{n}"), n, &files);
        let (secs, _, summary) = apply_plan(PLAN, &plain_url, &["--format", "json"]);
        let rows = rows(&plain_url, &plan) as f64;
        let line = |run: &str, secs: f64, phases: String| {
            println!(
                "{n:>7} {run:<42} | {secs:>8.2} | {:>8.0} | {:>8.0} | {phases}",
                n as f64 / secs,
                rows / secs,
            )
        };
        line("plain PostgreSQL, 1 process", secs, phases(&summary));
        c.batch_execute("DROP TABLE IF EXISTS public.user_app_state")
            .unwrap();
        load(&mut c, n, Shape::UserAppState);
        let (secs, summaries) = fresh_run(&mut c, &url, &nodes[..1], &[]);
        line(
            "Citus, source on coordinator, 1 process",
            secs,
            summed_phases(&summaries),
        );
        // Distributed by user and colocated with the targets, the source every node can read.
        c.batch_execute(
            "ALTER TABLE public.user_app_state DROP CONSTRAINT IF EXISTS user_app_state_pkey; \
             SELECT create_distributed_table('public.user_app_state', 'user_id', \
                    colocate_with => 'app_distributed.orgs')",
        )
        .unwrap();
        for processes in 1..=3 {
            let (secs, summaries) = fresh_run(&mut c, &url, &nodes[..processes], &[]);
            let on = ["1 process", "2 (+ worker 1)", "3 (+ worker 2)"][processes - 1];
            line(
                &format!("Citus, source distributed, {on}"),
                secs,
                summed_phases(&summaries),
            );
        }
        // The reviewed SQL, each batch's INSERTs run on the worker holding its users.
        for processes in [1, 3] {
            let engine = ["--engine", "sql"];
            let (secs, summaries) = fresh_run(&mut c, &url, &nodes[..processes], &engine);
            line(
                &format!("Citus, distributed, --engine sql, {processes} proc."),
                secs,
                summed_phases(&summaries),
            );
        }
        c.batch_execute("DROP TABLE public.user_app_state").unwrap();
    }
}

/// The distributed plan's tables made again, empty, then a run led on `nodes[0]` and joined
/// from each other node, each `apply` given `more` arguments: seconds until all are done, and
/// each process's summary.
fn fresh_run(c: &mut Client, url: &str, nodes: &[String], more: &[&str]) -> (f64, Vec<String>) {
    c.batch_execute(
        "DROP SCHEMA IF EXISTS app_distributed CASCADE; DROP SCHEMA IF EXISTS pgshred CASCADE",
    )
    .unwrap();
    // The schema first, so every process times the same work: a run of no user.
    let status = pgshred_at(url)
        .args(["apply", DISTRIBUTED, "--create-schema", "--user", "nobody"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "a run of no user stops after the schema");
    let (secs, summaries) = apply_with_joiners(DISTRIBUTED, nodes, more);
    let written: i64 = c
        .query_one("SELECT count(*) FROM pgshred.migration_audit", &[])
        .unwrap()
        .get(0);
    assert!(written > 0, "the run wrote rows");
    (secs, summaries)
}

/// `apply --format json` on `nodes[0]` and, once its run is planned, an `apply --join` on each
/// other node, each given `more` arguments: seconds until all are done, and each one's summary.
fn apply_with_joiners(plan: &str, nodes: &[String], more: &[&str]) -> (f64, Vec<String>) {
    let spawn = |url: &str, join: &[&str]| {
        pgshred_at(url)
            .args([
                "apply",
                plan,
                "--batch-size",
                &BATCH.to_string(),
                "--format",
                "json",
            ])
            .args(more)
            .args(join)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    let first = spawn(&nodes[0], &[]);
    let mut c = Client::connect(&format!("{}?sslmode=disable", nodes[0]), NoTls).unwrap();
    // --join needs the run planned: its batches in the ledger.
    while nodes.len() > 1
        && c.query_one("SELECT count(*) FROM pgshred.migration_batches", &[])
            .map_or(0, |r| r.get::<_, i64>(0))
            == 0
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let others: Vec<_> = nodes[1..].iter().map(|u| spawn(u, &["--join"])).collect();
    let mut summaries = Vec::new();
    for child in std::iter::once(first).chain(others) {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "apply failed");
        summaries.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    (started.elapsed().as_secs_f64(), summaries)
}

/// The seconds per phase of several `apply --format json` summaries, added up.
fn summed_phases(summaries: &[String]) -> String {
    let mut sum: std::collections::BTreeMap<String, f64> = Default::default();
    for s in summaries {
        let v: serde_json::Value = serde_json::from_str(s).expect("apply's JSON summary");
        for (k, v) in v["phases"].as_object().into_iter().flatten() {
            *sum.entry(k.clone()).or_default() += v.as_f64().unwrap_or(0.0);
        }
    }
    sum.iter()
        .filter(|(_, v)| **v >= 0.005)
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}
