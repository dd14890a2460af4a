//! Where `--engine sql` shreds on Citus: `03_forward.sql` as a distributed plan runs it, the
//! batch's users written in (`Compiled::forward_pinned`), explained statement by statement.

use super::*;

/// Each entity's INSERT ... SELECT, as `apply --engine sql` sends it for a batch of two users of
/// one shard: with the source distributed, every one runs as one task, on the worker holding that
/// shard, where the documents are (`Insert on <table>_<shard>` inside the task); only the ids it
/// returns go back, to the ledger. Read from `batch_users()`, as the file is written, the same
/// INSERT goes to all 32 shards. With the source on the coordinator, the rows are shredded there
/// and sent to the shards.
pub(super) fn where_the_forward_runs(url: &str, plan: &str, source_distributed: bool) {
    let compiled = pgshred::validate::load_plan(&common::root().join(plan)).unwrap();
    let files = pgshred::codegen::compile(&compiled).unwrap();
    let c = &mut connect(url);
    let users = users_of_one_shard(c);
    let literal = format!("{{{}}}", users.join(","));
    let pinned = files.forward_pinned(None, &literal);
    let as_written = files.forward(None);
    let inserts = |sql: &str| -> Vec<(String, String)> {
        pgshred::statements::split(sql)
            .into_iter()
            .filter_map(|s| {
                let table = s.split("INSERT INTO \"app_distributed\".\"").nth(1)?;
                Some((table[..table.find('"')?].to_string(), s.to_string()))
            })
            .collect()
    };
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("SET LOCAL pgshred.run_id = '1'").unwrap();
    tx.batch_execute("SET LOCAL pgshred.batch_id = '1'")
        .unwrap();
    tx.execute(
        "SELECT set_config('pgshred.batch_users', $1::text[]::text, true)",
        &[&users],
    )
    .unwrap();
    let mut explain = |statement: &str| -> String {
        tx.query(&format!("EXPLAIN (COSTS OFF) {statement}"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let statements = inserts(&pinned);
    assert_eq!(statements.len(), 7, "one INSERT per entity");
    for (table, statement) in &statements {
        let explained = explain(statement);
        let on_a_shard = explained.contains(&format!("Insert on {table}_"));
        let tasks: Vec<&str> = explained
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("Task Count"))
            .collect();
        if source_distributed {
            assert!(
                on_a_shard && tasks.iter().all(|t| *t == "Task Count: 1"),
                "{table}: {explained}"
            );
        } else {
            assert!(!on_a_shard, "{table}: {explained}");
        }
    }
    if source_distributed {
        let (table, orgs) = &inserts(&as_written)[0];
        let explained = explain(orgs);
        assert!(
            explained.contains(&format!("Insert on {table}_"))
                && explained.contains("Task Count: 32"),
            "{explained}"
        );
    }
    tx.rollback().unwrap();
}
