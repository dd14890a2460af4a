//! `scripts/bench --verify` and `--quarantine`: what `verify` costs on a migrated database, and
//! what isolating bad users costs a run.

use std::process::Stdio;
use std::time::Instant;

use pgshred::pgtemp::TempCluster;
use postgres::{Client, NoTls};

use super::{BATCH, PLAN, apply, pgshred_at, prepare};

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

/// Seconds `pgshred verify` takes on a migrated database: counts only, and with the round trip.
pub fn verify_cost(cluster: &TempCluster, files: &pgshred::artifacts::Files, sizes: &[u64]) {
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

/// The cost of isolating k bad users among n: apply --max-bad-users k against apply on clean data.
pub fn quarantine_cost(cluster: &TempCluster, files: &pgshred::artifacts::Files, sizes: &[u64]) {
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
