//! The judge of every batch on Citus: `04_verify.sql`, with the batch's users bound so that
//! Citus sends its counts to the shards holding them, and still the reviewed SQL's verdict.

use super::*;

/// With the source distributed: an evaluator that loses a row is caught by the judge in the
/// batch's transaction and nothing commits; and the judge of a batch whose users share a shard
/// runs one task per query, where the file read as it is (the users from its `scope` CTE)
/// sends every query to all 32 shards.
pub(super) fn the_judge_on_citus(url: &str, plan: &str) {
    common::needs_failpoints();
    let o = pgshred(
        url,
        &["apply", plan, "--allow-duplicates"],
        &[("PGSHRED_FAULT", "drop-row")],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}{err}");
    assert!(err.contains("verification failed: "), "{err}");
    assert_eq!(
        count(url, "SELECT count(*) FROM app_distributed.contents"),
        0
    );
    rollback_every_run(url, plan);
    let compiled = pgshred::validate::load_plan(&common::root().join(plan)).unwrap();
    let files = pgshred::codegen::compile(&compiled).unwrap();
    let bound = files
        .verify_bound()
        .expect("a distributed plan binds its scope");
    let words: Vec<&str> = bound.split_whitespace().collect();
    assert!(
        !words.join(" ").contains(pgshred::compiled::SCOPE_READ),
        "{bound}"
    );
    let c = &mut connect(url);
    let users = users_of_one_shard(c);
    let tasks = |rows: Vec<postgres::Row>| -> Vec<String> {
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|l| l.contains("Task Count"))
            .map(|l| l.trim().to_string())
            .collect()
    };
    let mut tx = c.transaction().unwrap();
    let as_bound = tasks(
        tx.query(&format!("EXPLAIN (COSTS OFF) {bound}"), &[&Some(&users)])
            .unwrap(),
    );
    tx.execute(
        "SELECT set_config('pgshred.batch_users', $1::text[]::text, true)",
        &[&users],
    )
    .unwrap();
    let as_read = tasks(
        tx.query(&format!("EXPLAIN (COSTS OFF) {}", files.verify()), &[])
            .unwrap(),
    );
    tx.rollback().unwrap();
    assert!(
        !as_bound.is_empty() && as_bound.iter().all(|t| t == "Task Count: 1"),
        "{as_bound:?}"
    );
    assert!(as_read.iter().any(|t| t == "Task Count: 32"), "{as_read:?}");
}
