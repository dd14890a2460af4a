//! `scripts/bench --roundtrip` and `--graph`: documents of trees, as large as asked, through
//! apply, verify and the round trip.

use std::process::Stdio;
use std::time::Instant;

use pgshred::generate::Shape;
use pgshred::pgtemp::TempCluster;
use postgres::{Client, NoTls};

use super::{BATCH, apply_plan, load, measured, pgshred_at, root};

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
pub fn roundtrip_cost(cluster: &TempCluster) {
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

/// Trees of blocks (the outliner example, 100-160 blocks per user, up to 12 levels deep): apply,
/// verify and verify --roundtrip, in seconds and microseconds per block, to show they grow with
/// the number of blocks and nothing else.
pub fn graph_cost(cluster: &TempCluster, sizes: &[u64]) {
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
