//! Where `--engine sql` shreds on Citus: `03_forward.sql` as a distributed plan runs it, the
//! batch's users written in (`Compiled::forward_pinned`), explained statement by statement.

use super::*;

/// Each entity's INSERT ... SELECT, as `apply --engine sql` sends it. With the source
/// distributed, a batch of two users of one shard runs every INSERT as one task on the worker
/// holding that shard, where the documents are (`Insert on <table>_<shard>` inside the task);
/// only the ids it returns go back, to the ledger. A batch of three users of three shards runs
/// as three tasks. Read from `batch_users()`, as the file is written, the same INSERT goes to all
/// 32 shards. With the source on the coordinator, the rows are shredded there and sent to the
/// shards: no INSERT runs inside a task.
pub(super) fn where_the_forward_runs(url: &str, plan: &str, source_distributed: bool) {
    let compiled = pgshred::validate::load_plan(&common::root().join(plan)).unwrap();
    let files = pgshred::codegen::compile(&compiled).unwrap();
    let c = &mut connect(url);
    let one_shard = users_of_one_shard(c);
    let three_shards: Vec<String> = c
        .query(
            "SELECT min(user_id) FROM user_app_state \
              GROUP BY get_shard_id_for_distribution_column('app_distributed.orgs', user_id) \
              ORDER BY 1 LIMIT 3",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("SET LOCAL pgshred.run_id = '1'").unwrap();
    tx.batch_execute("SET LOCAL pgshred.batch_id = '1'")
        .unwrap();
    tx.execute(
        "SELECT set_config('pgshred.batch_users', $1::text[]::text, true)",
        &[&one_shard],
    )
    .unwrap();
    // (table, the Task Count lines, whether an INSERT runs inside a task) of each INSERT.
    let mut explain = |sql: &str| -> Vec<(String, Vec<String>, bool)> {
        pgshred::statements::split(sql)
            .into_iter()
            .filter_map(|s| {
                let table = s.split("INSERT INTO \"app_distributed\".\"").nth(1)?;
                Some((table[..table.find('"')?].to_string(), s))
            })
            .map(|(table, statement)| {
                let lines: Vec<String> = tx
                    .query(&format!("EXPLAIN (COSTS OFF) {statement}"), &[])
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<_, String>(0).trim().to_string())
                    .collect();
                let on_a_shard = lines
                    .iter()
                    .any(|l| l.contains(&format!("Insert on {table}_")));
                let tasks = lines
                    .into_iter()
                    .filter(|l| l.starts_with("Task Count"))
                    .collect();
                (table, tasks, on_a_shard)
            })
            .collect()
    };
    let pinned = |users: &[String]| files.forward_pinned(None, &format!("{{{}}}", users.join(",")));
    let one = explain(&pinned(&one_shard));
    assert_eq!(one.len(), 7, "one INSERT per entity: {one:?}");
    if !source_distributed {
        assert!(one.iter().all(|(_, _, on_a_shard)| !on_a_shard), "{one:?}");
        return;
    }
    for (table, tasks, on_a_shard) in &one {
        assert!(
            *on_a_shard && tasks.iter().all(|t| t == "Task Count: 1"),
            "{table}: {tasks:?}"
        );
    }
    for (table, tasks, on_a_shard) in explain(&pinned(&three_shards)) {
        assert!(
            on_a_shard && tasks.contains(&"Task Count: 3".to_string()),
            "{table}: {tasks:?}"
        );
    }
    let (table, tasks, on_a_shard) = &explain(&files.forward(None))[0];
    assert!(
        *on_a_shard && tasks.contains(&"Task Count: 32".to_string()),
        "{table}: {tasks:?}"
    );
    // Why the users are written in rather than bound: Citus plans no such statement with them as
    // a parameter.
    let orgs = pgshred::statements::split(&files.forward(None))
        .into_iter()
        .find(|s| s.contains("INSERT INTO \"app_distributed\".\"orgs\""))
        .unwrap()
        .replace("\"pgshred\".batch_users()", "$1::text[]");
    let refused = tx.query(&format!("EXPLAIN (COSTS OFF) {orgs}"), &[&one_shard]);
    let err = refused.expect_err("Citus plans the statement with the users bound");
    assert_eq!(
        err.as_db_error().map(|e| e.message()),
        Some("could not create distributed plan"),
        "{err:?}"
    );
}

/// An error raised on a worker, by a function the forward statements call there, names its user
/// as on plain tables: with `--engine sql` and the source distributed, a user whose personas
/// repeat an id is quarantined with what is wrong and where; fixed, the user is migrated.
pub(super) fn an_error_raised_on_a_worker(url: &str, plan: &str) {
    let c = &mut connect(url);
    let user: String = c
        .query_one(
            "SELECT min(user_id) FROM user_app_state \
              WHERE jsonb_array_length(state -> 'personas') >= 2",
            &[],
        )
        .unwrap()
        .get(0);
    let personas = || {
        count(
            url,
            &format!("SELECT count(*) FROM app_distributed.personas WHERE user_id = '{user}'"),
        )
    };
    let before = personas();
    ok(
        pgshred(url, &["rollback", plan, "--user", &user, "--yes"], &[]),
        "rollback of a user",
    );
    let set_second_id = |c: &mut postgres::Client, to: &str| {
        c.execute(
            &format!(
                "UPDATE user_app_state SET state = jsonb_set(state, '{{personas,1,id}}', {to}) \
                  WHERE user_id = $1"
            ),
            &[&user],
        )
        .unwrap();
    };
    let second_id: serde_json::Value = c
        .query_one(
            "SELECT state #> '{personas,1,id}' FROM user_app_state WHERE user_id = $1",
            &[&user],
        )
        .unwrap()
        .get(0);
    set_second_id(c, "state #> '{personas,0,id}'");
    let sql = ["--engine", "sql", "--allow-duplicates"];
    let out = ok(
        pgshred(
            url,
            &[&["apply", plan, "--max-bad-users", "1"][..], &sql].concat(),
            &[],
        ),
        "apply --engine sql with a bad user",
    );
    assert!(out.contains("quarantined: 1 user"), "{out}");
    let (entity, error): (String, String) = {
        let r = c
            .query_one(
                "SELECT entity, error FROM pgshred.migration_quarantine WHERE user_id = $1",
                &[&user],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(entity, "personas");
    assert!(
        error.contains("legacy id appears more than once"),
        "{error}"
    );
    set_second_id(c, &format!("'{second_id}'::jsonb"));
    ok(
        pgshred(
            url,
            &[&["apply", plan, "--retry-quarantined"][..], &sql].concat(),
            &[],
        ),
        "retry",
    );
    assert_eq!(personas(), before);
}
