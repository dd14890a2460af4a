//! Citus: the distributed plan on a coordinator and two workers started by the test, every
//! operator step as on plain tables, both placements of the source table, and reading through
//! row-level security. Where Citus is not installed the tests say so on stderr and skip, unless
//! PGSHRED_REQUIRE_CITUS is set (as `scripts/test` sets it when it built Citus).

mod common;

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
    rollback_every_run(&url, plan);
    assert_eq!(
        count(&url, "SELECT count(*) FROM app_distributed.contents"),
        0
    );
    operator_steps_on_citus(&url, &_cluster.worker_url(0), plan);
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

/// The operator's steps on the cluster, as on plain tables: quarantine and retry, a crash and
/// --resume, a second process joining the run, --sync, the reconstruction view, verify
/// --roundtrip, and rollbacks of a batch and of a user that say what they removed.
fn operator_steps_on_citus(url: &str, worker: &str, plan: &str) {
    let rows = || count(url, "SELECT count(*) FROM app_distributed.contents");
    let c = &mut connect(url);
    // A value that cannot be cast quarantines its user; fixed, the user is retried.
    c.batch_execute(
        "UPDATE user_app_state SET state = jsonb_set(state, '{contents,0,wordCount}', '\"lots\"') \
          WHERE user_id = 'user-05'",
    )
    .unwrap();
    let out = ok(
        pgshred(
            url,
            &[
                "apply",
                plan,
                "--allow-duplicates",
                "--max-bad-users",
                "2",
                "--batch-size",
                "5",
            ],
            &[],
        ),
        "apply with a bad user",
    );
    assert!(out.contains("quarantined: 1 user"), "{out}");
    c.batch_execute(
        "UPDATE user_app_state SET state = jsonb_set(state, '{contents,0,wordCount}', '12') \
          WHERE user_id = 'user-05'",
    )
    .unwrap();
    ok(
        pgshred(
            url,
            &["apply", plan, "--allow-duplicates", "--retry-quarantined"],
            &[],
        ),
        "retry",
    );
    assert_eq!(rows(), 105);
    counts_match(url, plan);
    // The round trip reads the reconstruction view on the coordinator.
    loses_what_plain_tables_lose(url, plan);
    let view = count(
        url,
        "SELECT count(*) FROM pgshred.user_app_state_distributed_reconstructed",
    );
    // Every user but the one whose document gives no rows.
    assert_eq!(view, 21);
    // --sync takes a changed document again.
    c.batch_execute(
        "UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,name}', '\"Renamed\"'), \
                updated_at = now() WHERE user_id = 'user-02'",
    )
    .unwrap();
    ok(
        pgshred(url, &["apply", plan, "--sync", "--allow-duplicates"], &[]),
        "sync",
    );
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM app_distributed.orgs WHERE name = 'Renamed'"
        ),
        1
    );
    // Every run rolled back, newest first; then a batch and a user, each saying what it removed
    // (counted on the coordinator, where the selection is: on a worker it counted everything).
    rollback_every_run(url, plan);
    assert_eq!(rows(), 0);
    // A crash in the middle of the fourth batch; --resume finishes the run.
    let o = pgshred(
        url,
        &["apply", plan, "--allow-duplicates", "--batch-size", "5"],
        &[("PGSHRED_FAILPOINT", "forward:4")],
    );
    assert_eq!(o.status.code(), None, "killed: {:?}", o);
    ok(
        pgshred(url, &["apply", plan, "--allow-duplicates", "--resume"], &[]),
        "resume",
    );
    assert_eq!(rows(), 105);
    let batch: i64 = c
        .query_one(
            "SELECT b.id FROM pgshred.migration_batches AS b WHERE b.status = 'done' ORDER BY b.id LIMIT 1 OFFSET 1",
            &[],
        )
        .unwrap()
        .get(0);
    let in_batch = count(
        url,
        &format!(
            "SELECT count(*) FROM pgshred.migration_audit AS m WHERE m.batch_id = {batch} AND m.replaced_by IS NULL"
        ),
    );
    let out = ok(
        pgshred(
            url,
            &["rollback", plan, "--batch", &batch.to_string(), "--yes"],
            &[],
        ),
        "rollback of a batch",
    );
    assert!(
        out.contains(&format!("rolled back {in_batch} rows")),
        "{out}"
    );
    let out = ok(
        pgshred(url, &["rollback", plan, "--user", "user-01", "--yes"], &[]),
        "rollback of a user",
    );
    assert!(out.contains("rolled back 17 rows"), "{out}");
    // A second process joins a run and takes some of its batches.
    rollback_every_run(url, plan);
    let leader = std::process::Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args([
            "apply",
            plan,
            "--allow-duplicates",
            "--batch-size",
            "2",
            "--pause-between",
            "300ms",
            "--database-url",
            url,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let joined = ok(
        pgshred(url, &["apply", plan, "--join", "--allow-duplicates"], &[]),
        "join",
    );
    let led = leader.wait_with_output().unwrap();
    assert!(
        led.status.success(),
        "{}",
        String::from_utf8_lossy(&led.stderr)
    );
    assert!(
        joined.contains("rows created, verified and committed"),
        "{joined}"
    );
    assert_eq!(rows(), 105);
    counts_match(url, plan);
    rollback_every_run(url, plan);
    bulk_remap_and_status_on_citus(url);
    only_joins_from_a_worker(url, worker, plan);
    // The source table itself distributed by user, colocated with the targets (a team already
    // on Citus): a run, verify, the round trip and a rollback, as with a coordinator's table.
    // Its key on `id` alone, which Citus cannot keep on a table split by user, goes first.
    c.batch_execute(
        "DO $$ DECLARE k text; BEGIN \
           SELECT conname INTO k FROM pg_constraint \
            WHERE conrelid = 'public.user_app_state'::regclass AND contype = 'p'; \
           IF k IS NOT NULL THEN EXECUTE format('ALTER TABLE public.user_app_state DROP CONSTRAINT %I', k); END IF; \
         END $$",
    )
    .unwrap();
    c.batch_execute(
        "SELECT create_distributed_table('public.user_app_state', 'user_id', \
                colocate_with => 'app_distributed.orgs')",
    )
    .unwrap();
    // Both engines, the same rows.
    let out = ok(
        pgshred(
            url,
            &["apply", plan, "--allow-duplicates", "--engine", "sql"],
            &[],
        ),
        "apply --engine sql",
    );
    assert!(
        out.contains("357 rows created, verified and committed"),
        "{out}"
    );
    let by_sql = tables_on_citus(url);
    rollback_every_run(url, plan);
    let out = ok(
        pgshred(url, &["apply", plan, "--allow-duplicates"], &[]),
        "apply",
    );
    assert!(
        out.contains("357 rows created, verified and committed"),
        "{out}"
    );
    assert_eq!(tables_on_citus(url), by_sql);
    counts_match(url, plan);
    loses_what_plain_tables_lose(url, plan);
    // Where the work runs: each batch's documents are read on the workers, shard by shard,
    // beside their rows (the shredding itself then runs on the coordinator, over what they send).
    let plan_sql = common::read("generated/user_app_state_distributed/03_forward.sql");
    let orgs = &plan_sql[plan_sql.find("-- pgshred:entity orgs").unwrap()
        ..plan_sql.find("-- pgshred:entity personas").unwrap()];
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(
        "SET LOCAL citus.propagate_set_commands = 'local'; \
         SET LOCAL pgshred.batch_users = '{user-03,user-10}'; \
         SET LOCAL pgshred.run_id = '1'; SET LOCAL pgshred.batch_id = '1'",
    )
    .unwrap();
    let explained: Vec<String> = tx
        .query(&format!("EXPLAIN (VERBOSE, COSTS OFF) {orgs}"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.rollback().unwrap();
    let explained = explained.join("\n");
    assert!(
        explained.contains("Task Count: 32") && explained.contains("FROM public.user_app_state_1"),
        "{explained}"
    );
    // --sync finds the changed document in the distributed source.
    c.batch_execute(
        "UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,name}', '\"Renamed again\"'), \
                updated_at = now() WHERE user_id = 'user-03'",
    )
    .unwrap();
    let out = ok(
        pgshred(url, &["apply", plan, "--sync", "--allow-duplicates"], &[]),
        "sync",
    );
    assert!(out.contains("1 users in 1 batch"), "{out}");
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM app_distributed.orgs WHERE name = 'Renamed again'"
        ),
        1
    );
    rollback_every_run(url, plan);
    assert_eq!(rows(), 0);
    joining_from_a_worker(url, worker, plan);
    reading_through_row_level_security_on_citus(url, plan);
    a_document_too_large_for_the_client(url, plan);
}

/// A document of over 3 MB, more than the default engine evaluates itself, is shredded by
/// 03_forward.sql on the cluster, in the same batch, and verified like any other.
fn a_document_too_large_for_the_client(url: &str, plan: &str) {
    connect(url)
        .batch_execute(
            "INSERT INTO user_app_state (id, user_id, updated_at, state) \
             SELECT 9999, 'big-user', now(), jsonb_build_object('orgs', jsonb_agg(jsonb_build_object( \
                    'id', 'org-' || g, 'name', repeat('x', 1000), 'plan', 'free'))) \
               FROM generate_series(1, 3000) AS g",
        )
        .unwrap();
    let out = ok(
        pgshred(
            url,
            &[
                "apply",
                plan,
                "--allow-duplicates",
                "--user",
                "big-user",
                "--format",
                "json",
            ],
            &[],
        ),
        "apply of a large document",
    );
    let summary: serde_json::Value = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v.get("phases").is_some())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        summary["phases"].get("forward (sql)").is_some(),
        "{summary}"
    );
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM app_distributed.orgs WHERE user_id = 'big-user'"
        ),
        3000
    );
    let out = ok(
        pgshred(url, &["verify", plan, "--user", "big-user"], &[]),
        "verify",
    );
    assert!(
        out.contains("row counts match for every user and entity"),
        "{out}"
    );
}

/// Two users whose ids are uuids (what `auth.uid()` returns), migrated, each read through the
/// seven tables and the reconstruction view by an application role: each sees their own rows and
/// document only. The workers evaluate the policies, so the request's claim reaches them only
/// when set with `SET LOCAL` under `citus.propagate_set_commands = 'local'`; without it a reader
/// sees nothing (never another user's rows). Citus opens the workers' connections as the
/// application role, which must therefore be able to log in.
fn reading_through_row_level_security_on_citus(url: &str, plan: &str) {
    const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const B: &str = "aaaaaaaa-0000-4000-8000-000000000002";
    let c = &mut connect(url);
    c.batch_execute(&format!(
        "INSERT INTO user_app_state (id, user_id, updated_at, state) \
         SELECT 9000 + id, CASE user_id WHEN 'user-01' THEN '{A}' ELSE '{B}' END, updated_at, state \
           FROM user_app_state WHERE user_id IN ('user-01', 'user-02')"
    ))
    .unwrap();
    // One statement per message: Citus creates a role over one connection per node, outside a
    // transaction that touched distributed tables.
    for sql in [
        "CREATE ROLE app_reader LOGIN",
        "GRANT USAGE ON SCHEMA auth, app_distributed, pgshred TO app_reader",
        "GRANT SELECT ON ALL TABLES IN SCHEMA app_distributed TO app_reader",
        "GRANT SELECT ON pgshred.user_app_state_distributed_reconstructed TO app_reader",
    ] {
        c.batch_execute(sql).unwrap();
    }
    ok(
        pgshred(
            url,
            &[
                "apply",
                plan,
                "--allow-duplicates",
                "--user",
                A,
                "--user",
                B,
            ],
            &[],
        ),
        "apply of the two users",
    );
    for (me, other) in [(A, B), (B, A)] {
        let mut tx = c.transaction().unwrap();
        tx.batch_execute(&format!(
            "SET LOCAL citus.propagate_set_commands = 'local'; \
             SET LOCAL request.jwt.claim.sub = '{me}'; SET LOCAL ROLE app_reader"
        ))
        .unwrap();
        for t in common::TABLES {
            let table = pgshred::ident::quote_ident(t);
            let r = tx
                .query_one(
                    &format!(
                        "SELECT count(*), count(*) FILTER (WHERE user_id <> '{me}') \
                           FROM app_distributed.{table}"
                    ),
                    &[],
                )
                .unwrap();
            let (seen, others): (i64, i64) = (r.get(0), r.get(1));
            let own = count(
                url,
                &format!("SELECT count(*) FROM app_distributed.{table} WHERE user_id = '{me}'"),
            );
            assert!(
                seen == own && own > 0 && others == 0,
                "{t} as {me}: {seen} rows seen of {own}, {others} of others"
            );
        }
        let docs: Vec<String> = tx
            .query(
                "SELECT user_id FROM pgshred.user_app_state_distributed_reconstructed",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(docs, [me], "the view as {me}, not {other}");
        tx.rollback().unwrap();
    }
    // Without the claim on the workers, nothing: the policies fail closed.
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(&format!(
        "SET LOCAL request.jwt.claim.sub = '{A}'; SET LOCAL ROLE app_reader"
    ))
    .unwrap();
    let seen: i64 = tx
        .query_one("SELECT count(*) FROM app_distributed.contents", &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
}

const DISTRIBUTED: &str = "  layout:\n    distribute_by: user_id\n";

/// The shipped plan distributed (tables in `public`), loaded with `--bulk`; `status` reads its
/// ledger; a changed personas mapping is taken with `--remap`, whose rollback gives the first
/// mapping's rows back.
fn bulk_remap_and_status_on_citus(url: &str) {
    let dir = TempDir::new("citus_remap");
    let (v1, v2) = mappings(dir.path());
    let plan = plan_file(dir.path(), "v1.yaml", &v1, DISTRIBUTED);
    let plan2 = plan_file(dir.path(), "v2.yaml", &v2, DISTRIBUTED);
    let (plan, plan2) = (plan.to_str().unwrap(), plan2.to_str().unwrap());
    let o = pgshred(
        url,
        &[
            "apply",
            plan,
            "--create-schema",
            "--allow-duplicates",
            "--bulk",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("--bulk: every index and key restored"),
        "{err}"
    );
    assert!(
        text(&o)
            .0
            .contains("357 rows created, verified and committed"),
        "{err}"
    );
    let distributed = count(
        url,
        "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text = 'personas'",
    );
    assert_eq!(distributed, 1);
    let out = ok(pgshred(url, &["status", plan], &[]), "status");
    assert!(
        out.contains("completed") && out.contains("users 22  rows 357"),
        "{out}"
    );
    let tones = "SELECT count(*) FROM public.personas WHERE tone = 'calm'";
    let before = count(url, tones);
    let out = ok(
        pgshred(
            url,
            &["apply", plan2, "--remap", "personas", "--allow-duplicates"],
            &[],
        ),
        "remap",
    );
    assert!(out.contains("329 rows created"), "{out}");
    assert!(
        count(url, tones) > before,
        "the remap wrote the new default"
    );
    let run = run_of(&out);
    ok(
        pgshred(url, &["rollback", plan2, "--run", &run, "--yes"], &[]),
        "rollback of the remap",
    );
    assert_eq!(count(url, tones), before);
    assert_eq!(
        count(url, "SELECT count(*) FROM public.personas"),
        43,
        "the first mapping's rows are back"
    );
    rollback_every_run(url, plan);
    assert_eq!(count(url, "SELECT count(*) FROM public.contents"), 0);
}

/// On a worker node, pgshred neither starts nor rolls back a run (the plan's lock lives on the
/// coordinator), and a joiner there cannot read a source table local to the coordinator: each is
/// refused, saying where to run it.
fn only_joins_from_a_worker(url: &str, worker: &str, plan: &str) {
    let refused = |args: &[&str], says: &str| {
        let o = pgshred(worker, args, &[]);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    let on_coordinator = "this server is a worker node of a Citus cluster, and plan user_app_state_distributed's lock lives on the coordinator";
    refused(&["apply", plan, "--allow-duplicates"], on_coordinator);
    refused(&["rollback", plan, "--run", "1", "--yes"], on_coordinator);
    // A run the coordinator leads, which the worker's process cannot help with.
    let leader = spawn_apply(url, plan, &[]);
    wait_for_run(url);
    refused(
        &["apply", plan, "--join", "--allow-duplicates"],
        "source table public.user_app_state is not on this worker node",
    );
    ok(leader.wait_with_output().unwrap(), "the coordinator's run");
    rollback_every_run(url, plan);
}

/// With the source distributed, processes on the coordinator and on a worker share one run: both
/// commit batches, each proving the coordinator's guard, and the tables are those of one
/// process. When the guard's session ends, the worker's process stops too, and the run resumes.
fn joining_from_a_worker(url: &str, worker: &str, plan: &str) {
    let join = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pgshred"))
            .args(["apply", plan, "--join", "--allow-duplicates"])
            .args(["--pause-between", "300ms", "--database-url", url])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // With no run going, a joiner on a worker does not lead one: the coordinator alone does.
    let alone = join(worker).wait_with_output().unwrap();
    let (out, err) = text(&alone);
    assert!(!alone.status.success(), "{out}{err}");
    assert!(
        err.contains("no pgshred holds plan user_app_state_distributed"),
        "{err}"
    );
    let leader = spawn_apply(url, plan, &[]);
    wait_for_run(url);
    let joined = ok(
        join(worker).wait_with_output().unwrap(),
        "join from a worker",
    );
    ok(leader.wait_with_output().unwrap(), "the coordinator's run");
    let created = |out: &str| -> i64 {
        let line = out
            .lines()
            .find(|l| l.contains("rows created, verified and committed"))
            .unwrap_or_else(|| panic!("{out}"));
        line.split(", ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(created(&joined) > 0, "{joined}");
    assert_eq!(
        count(url, "SELECT count(*) FROM app_distributed.contents"),
        105
    );
    counts_match(url, plan);
    rollback_every_run(url, plan);
    // The guard's session ends while both write: the worker's process stops, as the leader does.
    let leader = spawn_apply(url, plan, &[]);
    wait_for_run(url);
    let joiner = join(worker);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let guard: i32 = connect(url)
        .query_one(
            "SELECT l.pid FROM pg_locks AS l WHERE l.locktype = 'advisory' AND l.granted \
                AND l.classid = $1::int4::oid AND l.objsubid = 2",
            &[&pgshred::executor::sql::LOCK_CLASS],
        )
        .unwrap()
        .get(0);
    connect(url)
        .execute("SELECT pg_terminate_backend($1::int4)", &[&guard])
        .unwrap();
    for (who, o) in [
        ("worker", joiner.wait_with_output().unwrap()),
        ("leader", leader.wait_with_output().unwrap()),
    ] {
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(7), "{who}: {out}{err}");
        assert!(
            err.contains("stopped: the session holding plan user_app_state_distributed's lock"),
            "{who}: {err}"
        );
    }
    ok(
        pgshred(url, &["apply", plan, "--allow-duplicates", "--resume"], &[]),
        "resume",
    );
    counts_match(url, plan);
    rollback_every_run(url, plan);
}

/// `apply` of the whole plan on the coordinator, a user per batch with a pause after each, so
/// that other processes find its run going.
fn spawn_apply(url: &str, plan: &str, more: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args(["apply", plan, "--allow-duplicates", "--batch-size", "1"])
        .args(["--pause-between", "300ms", "--database-url", url])
        .args(more)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until a run of the plan is recorded and its guard held.
fn wait_for_run(url: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while count(
        url,
        "SELECT count(*) FROM pgshred.migration_batches AS b JOIN pgshred.migration_runs AS r \
            ON r.id = b.run_id WHERE r.status = 'running' AND b.status = 'done'",
    ) == 0
    {
        assert!(std::time::Instant::now() < until, "no run started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
