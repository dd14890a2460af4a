//! `scripts/bench --layouts`: plain tables against tables partitioned by user.

use std::process::Stdio;
use std::time::Instant;

use pgshred::pgtemp::TempCluster;
use postgres::{Client, NoTls};

use super::{BATCH, PARTITIONED, PLAN, apply_plan, pgshred_at, prepare, root, rows};

/// Plain tables against tables hash-partitioned by user_id (`plans/user_app_state_partitioned.yaml`,
/// 16 partitions), on the same users: apply with each write path, a second process joining the
/// run (`--join`, as a worker on another host would), and the rollback of the run.
pub fn compare_layouts(cluster: &TempCluster, sizes: &[u64]) {
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
