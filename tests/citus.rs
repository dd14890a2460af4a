//! Citus: the distributed plan on a coordinator and two workers started by the test, every
//! operator step as on plain tables, both placements of the source table, and reading through
//! row-level security. Where Citus is not installed the tests say so on stderr and skip, unless
//! PGSHRED_REQUIRE_CITUS is set (as `scripts/test` sets it when it built Citus).

mod common;
#[path = "citus/forward.rs"]
mod forward;
#[path = "citus/join.rs"]
mod join;
#[path = "citus/judge.rs"]
mod judge;
#[path = "citus/reading.rs"]
mod reading;
#[path = "citus/shapes.rs"]
mod shapes;
#[path = "citus/steps.rs"]
mod steps;

use common::layouts::*;
use common::{TempDir, connect, count, text};

/// A Citus cluster of a coordinator and two workers, the shipped fixture as its source table on
/// the coordinator; `None` where this machine has no Citus, said loudly on stderr (and a failure
/// where the suite requires Citus: `scripts/test` sets PGSHRED_REQUIRE_CITUS once it installed it).
fn citus_cluster(test: &str) -> Option<(pgshred::pgtemp::CitusCluster, String)> {
    use std::io::Write;
    if !pgshred::pgtemp::citus_installed() {
        assert!(
            std::env::var_os("PGSHRED_REQUIRE_CITUS").is_none(),
            "{test}: Citus is required here (PGSHRED_REQUIRE_CITUS) but not installed"
        );
        // Written past the test harness's capture, so a skipped run is visible.
        let _ = writeln!(
            std::io::stderr(),
            "layouts: SKIPPED {test}: Citus is not installed; ../shared/citus/install.sh builds it \
             (docs/citus.md: Getting Citus)"
        );
        return None;
    }
    let cluster = pgshred::pgtemp::CitusCluster::start(2).expect("a Citus cluster");
    let url = cluster.url();
    common::load_fixture(&mut connect(&url), common::FIXTURE);
    Some((cluster, url))
}

/// On a Citus cluster of three nodes, reached with libpq's default sslmode (Citus's own
/// certificate, X.509 version 1), `apply --create-schema` distributes the plan's tables by user_id,
/// colocated, with their row-level security; a run with the default engine, `verify` and the run's
/// rollback work on them. (`--engine sql` and the other operator steps: issue 31.)
#[test]
fn on_citus_the_tables_are_distributed_by_user_and_colocated() {
    let Some((_cluster, url)) =
        citus_cluster("on_citus_the_tables_are_distributed_by_user_and_colocated")
    else {
        return;
    };
    let c = &mut connect(&url);
    let plan = "plans/user_app_state_distributed.yaml";
    // The schema alone: a run of a user with no source row stops after it, refused.
    let o = pgshred(
        &url,
        &[
            "apply",
            plan,
            "--create-schema",
            "--allow-duplicates",
            "--user",
            "nobody",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("applied 01_schema.sql, 01b_distribute.sql, 02_audit.sql, 06_reconstruct.sql")
            && err.contains("no source row for user nobody"),
        "{err}"
    );
    let groups: Vec<(String, i32, bool)> = c
        .query(
            "SELECT p.logicalrelid::text, p.colocationid, c.relrowsecurity \
               FROM pg_dist_partition AS p JOIN pg_class AS c ON c.oid = p.logicalrelid \
              WHERE p.logicalrelid::text LIKE 'app_distributed.%' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(groups.len(), common::TABLES.len(), "{groups:?}");
    assert!(
        groups.iter().all(|g| g.1 == groups[0].1 && g.2),
        "colocated, with row-level security: {groups:?}"
    );
    // Spread over the two workers.
    let placed: i64 = c
        .query_one(
            "SELECT count(DISTINCT p.nodeport) FROM pg_dist_shard_placement AS p \
               JOIN pg_dist_shard AS s ON s.shardid = p.shardid \
              WHERE s.logicalrelid::text LIKE 'app_distributed.%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(placed, 2);
    // The ledger stays on the coordinator, in the cluster's metadata (so every node reaches it),
    // without the foreign keys between its tables that Citus would not let a batch write under.
    let ledger: Vec<(String, String, i32)> = c
        .query(
            "SELECT p.logicalrelid::text, p.partmethod::text, pl.groupid \
               FROM pg_dist_partition AS p JOIN pg_dist_shard AS s ON s.logicalrelid = p.logicalrelid \
               JOIN pg_dist_placement AS pl ON pl.shardid = s.shardid \
              WHERE p.logicalrelid::text LIKE 'pgshred.%' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(ledger.len(), 8, "{ledger:?}");
    assert!(ledger.iter().all(|l| l.1 == "n" && l.2 == 0), "{ledger:?}");
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' \
              AND conrelid = 'pgshred.migration_batches'::regclass"
        ),
        0
    );
    // A run with the default engine, each batch proven by 04_verify.sql; verify; its rollback.
    let out = ok(
        pgshred(&url, &["apply", plan, "--allow-duplicates"], &[]),
        "apply",
    );
    assert!(
        out.contains("357 rows created, verified and committed"),
        "{out}"
    );
    counts_match(&url, plan);
    ok(
        pgshred(&url, &["rollback", plan, "--run", "1", "--yes"], &[]),
        "rollback",
    );
    assert_eq!(
        count(&url, "SELECT count(*) FROM app_distributed.contents"),
        0
    );
    // The schema again, on the distributed tables: one statement per message, no trigger.
    let o = pgshred(
        &url,
        &[
            "apply",
            plan,
            "--create-schema",
            "--allow-duplicates",
            "--dry-run",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let o = pgshred(
        &url,
        &["apply", plan, "--create-schema", "--allow-duplicates"],
        &[],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("applied 01_schema.sql, 01b_distribute.sql"),
        "{err}"
    );
    let run = run_of(&String::from_utf8_lossy(&o.stdout));
    let triggers = count(
        &url,
        "SELECT count(*) FROM pg_trigger WHERE tgrelid::regclass::text LIKE 'app_distributed.%' \
           AND tgname LIKE '%touch_updated_at'",
    );
    assert_eq!(triggers, 0);
    // The SQL engine, the reviewed 03_forward.sql run on the cluster, writes what the default
    // engine wrote: the same rows, ids and values, in every table.
    let copied = tables_on_citus(&url);
    ok(
        pgshred(&url, &["rollback", plan, "--run", &run, "--yes"], &[]),
        "rollback",
    );
    let out = ok(
        pgshred(
            &url,
            &[
                "apply",
                plan,
                "--allow-duplicates",
                "--engine",
                "sql",
                "--batch-size",
                "4",
            ],
            &[],
        ),
        "apply --engine sql",
    );
    assert!(
        out.contains("357 rows created, verified and committed"),
        "{out}"
    );
    assert_eq!(tables_on_citus(&url), copied);
    forward::where_the_forward_runs(&url, plan, false);
    rollback_every_run(&url, plan);
    assert_eq!(
        count(&url, "SELECT count(*) FROM app_distributed.contents"),
        0
    );
    steps::operator_steps_on_citus(&url, &_cluster.worker_url(0), plan);
}

/// Every shape of document the fixtures under tests/plans/ hold, on a cluster of its own.
#[test]
fn on_citus_every_shape_writes_what_plain_tables_hold() {
    let Some((_cluster, url)) = citus_cluster("on_citus_every_shape_writes_what_plain_tables_hold")
    else {
        return;
    };
    shapes::every_shape_on_citus(&url);
}

/// Two users or more whose documents and rows share one shard, as a batch planned shard by shard
/// holds them.
fn users_of_one_shard(c: &mut postgres::Client) -> Vec<String> {
    let users: Vec<String> = c
        .query_one(
            "SELECT array_agg(u ORDER BY u)::text[] FROM (SELECT DISTINCT user_id AS u, \
                    get_shard_id_for_distribution_column('app_distributed.orgs', user_id) AS shard \
               FROM user_app_state) AS x \
              WHERE shard = (SELECT get_shard_id_for_distribution_column('app_distributed.orgs', user_id) \
                               FROM user_app_state GROUP BY 1 HAVING count(DISTINCT user_id) > 1 \
                              ORDER BY 1 LIMIT 1)",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(users.len() > 1, "{users:?}");
    users
}

/// Every row of the seven distributed tables (without timestamps), one text per table.
fn tables_on_citus(url: &str) -> Vec<String> {
    common::TABLES
        .iter()
        .map(|t| {
            let table = pgshred::ident::quote_ident(t);
            connect(url)
                .query_one(
                    &format!(
                        "SELECT coalesce(string_agg((to_jsonb(x) - 'created_at' - 'updated_at')::text, E'\\n' \
                                ORDER BY x.id), '') FROM app_distributed.{table} AS x"
                    ),
                    &[],
                )
                .unwrap()
                .get(0)
        })
        .collect()
}

/// `verify` finds every user's row counts right.
fn counts_match(url: &str, plan: &str) {
    let out = ok(pgshred(url, &["verify", plan], &[]), "verify");
    assert!(
        out.contains("row counts match for every user and entity"),
        "{out}"
    );
}

/// `verify --roundtrip` finds what it finds on plain tables: the shipped plan keeps no empty
/// top-level lists, nor 2024 in a text tag.
fn loses_what_plain_tables_lose(url: &str, plan: &str) {
    let o = pgshred(url, &["verify", plan, "--roundtrip"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("22 users compared, 9 lost something (9 lost,"),
        "{out}"
    );
}

/// The run number in an apply's summary ("run 3: ...").
fn run_of(out: &str) -> String {
    out.split_once("run ")
        .and_then(|(_, r)| r.split_once(':'))
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| panic!("{out}"))
}

/// Every run of `plan` not rolled back yet, rolled back, newest first.
fn rollback_every_run(url: &str, plan: &str) {
    let runs: Vec<i64> = connect(url)
        .query(
            "SELECT id FROM pgshred.migration_runs WHERE status <> 'rolled_back' ORDER BY id DESC",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for r in runs {
        ok(
            pgshred(
                url,
                &["rollback", plan, "--run", &r.to_string(), "--yes"],
                &[],
            ),
            "rollback of a run",
        );
    }
}

const DISTRIBUTED: &str = "  layout:\n    distribute_by: user_id\n";
