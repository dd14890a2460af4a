//! Tables split by user (`target.layout`): keyed by (user_id, id), hash-partitioned on plain
//! PostgreSQL (distributed by Citus: `tests/citus.rs`). Every operation runs the same on them as
//! on plain tables, with both write paths: the same rows, ids, audit, quarantine and round trip.

mod common;

use std::path::Path;

use common::layouts::*;
use common::{TempDir, assert_code, connect, count, snapshot, source_db_with_rows, text};

const PARTITIONED: &str = "  layout:\n    partition_by: user_id\n    partitions: 4\n";

/// The shipped plan and mappings, partitioned in 4, in `dir`; its path.
fn partitioned_plan(dir: &TempDir) -> String {
    let m = common::root().join("mappings");
    let plan = plan_file(dir.path(), "p.yaml", &m, PARTITIONED);
    plan.to_str().unwrap().to_string()
}

/// Everything an operator does, in order, on the broken fixture; what the tables hold after each
/// step, and the round trip's report.
fn scenario(test: &str, layout: &str, engine: &str) -> (Vec<Vec<String>>, String) {
    let dir = TempDir::new(test);
    let (v1, v2) = mappings(dir.path());
    let plan = plan_file(dir.path(), "v1.yaml", &v1, layout);
    let plan2 = plan_file(dir.path(), "v2.yaml", &v2, layout);
    let (plan, plan2) = (plan.to_str().unwrap(), plan2.to_str().unwrap());
    let url = source_db_with_rows(test, &common::broken_fixture());
    let base = [
        "--engine",
        engine,
        "--batch-size",
        "4",
        "--max-bad-users",
        "5",
        "--allow-duplicates",
    ];
    let apply = |plan: &str, more: &[&str], env: &[(&str, &str)]| {
        pgshred(&url, &[&["apply", plan][..], &base, more].concat(), env)
    };
    let mut seen = Vec::new();

    // A crash after the second batch committed, then --resume.
    common::needs_failpoints();
    let o = apply(
        plan,
        &["--create-schema"],
        &[("PGSHRED_FAILPOINT", "committed:2")],
    );
    assert!(!o.status.success(), "{test}: the failpoint stops the run");
    ok(apply(plan, &["--resume"], &[]), "resume");
    let bad = common::quarantined(&url);
    assert_eq!(bad, common::BROKEN_USERS, "{test}: quarantine");
    // verify names the quarantined users (their documents have rows the tables lack).
    let o = pgshred(&url, &["verify", plan], &[]);
    assert_code(&o, 1);
    let mut after = snapshot(&url);
    after.push(text(&o).0);
    seen.push(after);

    // The application changes a document; --sync takes it again.
    connect(&url)
        .batch_execute(
            "UPDATE public.user_app_state SET updated_at = updated_at + interval '1 day', \
                    state = jsonb_set(state, '{personas,0,name}', '\"Renamed\"') \
              WHERE user_id = 'user-01'",
        )
        .unwrap();
    ok(apply(plan, &["--sync"], &[]), "sync");
    seen.push(snapshot(&url));

    // A changed mapping: --remap rewrites personas and what hangs below them.
    ok(apply(plan2, &["--remap", "personas"], &[]), "remap");
    seen.push(snapshot(&url));
    let roundtrip = text(&pgshred(&url, &["verify", plan2, "--roundtrip"], &[])).0;

    // Rolling the remap back gives the synced tables back; rolling every run back, nothing.
    let runs = count(&url, "SELECT max(id) FROM pgshred.migration_runs");
    for run in (1..=runs).rev() {
        let run = run.to_string();
        ok(
            pgshred(&url, &["rollback", plan2, "--run", &run, "--yes"], &[]),
            "rollback",
        );
        seen.push(snapshot(&url));
    }
    assert_ne!(seen[0][..7], seen[1][..7], "{test}: the sync changed rows");
    assert_ne!(seen[1], seen[2], "{test}: the remap changed rows");
    assert_eq!(seen[3], seen[1], "{test}: after the remap's rollback");
    (seen, roundtrip)
}

#[test]
fn partitioned_tables_take_every_operation_as_plain_ones_do_with_sql() {
    same_as_plain("sql");
}

#[test]
fn partitioned_tables_take_every_operation_as_plain_ones_do_with_copy() {
    same_as_plain("copy");
}

fn same_as_plain(engine: &str) {
    let (plain, plain_roundtrip) = scenario(&format!("plain_{engine}"), "", engine);
    let (parted, parted_roundtrip) = scenario(&format!("parted_{engine}"), PARTITIONED, engine);
    assert_eq!(plain.len(), parted.len());
    for (i, (a, b)) in plain.iter().zip(&parted).enumerate() {
        assert_eq!(a, b, "{engine}: step {i} differs between the layouts");
    }
    assert!(
        plain[0].iter().any(|t| !t.is_empty()),
        "the scenario wrote rows"
    );
    assert!(plain.last().unwrap()[..7].iter().all(String::is_empty));
    assert_eq!(plain_roundtrip, parted_roundtrip);
}

#[test]
fn partitioned_tables_are_keyed_and_split_by_user() {
    let dir = TempDir::new("parted_shape");
    let plan = partitioned_plan(&dir);
    let plan = plan.as_str();
    let url = common::source_db("parted_shape");
    first_apply(&url, plan);
    let mut c = connect(&url);
    for table in common::TABLES {
        let row = c
            .query_one(
                "SELECT c.relkind::text, \
                        (SELECT count(*) FROM pg_inherits AS i WHERE i.inhparent = c.oid), \
                        (SELECT pg_get_constraintdef(k.oid) FROM pg_constraint AS k \
                          WHERE k.conrelid = c.oid AND k.contype = 'p') \
                   FROM pg_class AS c WHERE c.oid = ('public.' || $1)::regclass",
                &[&table],
            )
            .unwrap();
        let (kind, parts, pk): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            (kind.as_str(), parts, pk.as_str()),
            ("p", 4, "PRIMARY KEY (user_id, id)"),
            "{table}"
        );
    }
    // Foreign keys lead with user_id; a user's rows are in one partition, the users in several.
    let fk: String = c
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
              WHERE conrelid = 'public.personas'::regclass AND contype = 'f' AND conparentid = 0",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        fk,
        "FOREIGN KEY (user_id, org_id) REFERENCES orgs(user_id, id)"
    );
    let partitions_used = count(&url, "SELECT count(DISTINCT tableoid) FROM public.contents");
    let most_per_user = count(
        &url,
        "SELECT max(n) FROM (SELECT count(DISTINCT tableoid) AS n FROM public.contents GROUP BY user_id) AS x",
    );
    assert!(partitions_used > 1, "{partitions_used}");
    assert_eq!(most_per_user, 1);
}

#[test]
fn bulk_loads_partitioned_tables_and_restores_their_keys() {
    let dir = TempDir::new("parted_bulk");
    let plan = partitioned_plan(&dir);
    let plan = plan.as_str();
    let mut written = Vec::new();
    let mut shapes = Vec::new();
    for mode in [&["--engine", "sql"][..], &["--bulk"]] {
        let url = common::source_db(&format!("parted_bulk_{}", mode.len()));
        let args = [
            &["apply", plan, "--create-schema", "--allow-duplicates"][..],
            mode,
        ];
        ok(pgshred(&url, &args.concat(), &[]), "apply");
        written.push(snapshot(&url));
        shapes.push(common::indexes_and_constraints(&url));
    }
    assert_eq!(written[0], written[1], "--bulk wrote other rows");
    assert_eq!(shapes[0], shapes[1], "--bulk left other indexes or keys");
}

#[test]
fn a_plain_table_in_the_way_of_a_partitioned_layout_is_refused_by_name() {
    let dir = TempDir::new("parted_guard");
    let m = common::root().join("mappings");
    let plain = plan_file(dir.path(), "plain.yaml", &m, "");
    let parted = plan_file(dir.path(), "p.yaml", &m, PARTITIONED);
    let url = common::source_db("parted_guard");
    let schema = |plan: &Path| {
        pgshred(
            &url,
            &[
                "apply",
                plan.to_str().unwrap(),
                "--create-schema",
                "--allow-duplicates",
                "--dry-run",
            ],
            &[],
        )
    };
    ok(
        pgshred(
            &url,
            &[
                "apply",
                plain.to_str().unwrap(),
                "--create-schema",
                "--limit",
                "1",
                "--allow-duplicates",
            ],
            &[],
        ),
        "plain",
    );
    let before = snapshot(&url);
    let o = schema(&parted);
    let err = text(&o).1;
    assert!(
        !o.status.success() && err.contains("exists in another layout") && err.contains("orgs"),
        "{err}"
    );
    assert_eq!(snapshot(&url), before, "nothing changed");
}

#[test]
fn layouts_are_checked_where_they_are_written() {
    let dir = TempDir::new("layout_errors");
    let m = common::root().join("mappings");
    for (layout, needle) in [
        (
            "  layout:\n    partition_by: user_id\n    distribute_by: user_id\n",
            "not both",
        ),
        ("  layout:\n    partitions: 8\n", "without partition_by"),
        ("  layout:\n    partition_by: id\n", "user_id"),
    ] {
        let plan = plan_file(dir.path(), "bad.yaml", &m, layout);
        let o = common::run(&["validate", plan.to_str().unwrap()], None);
        let err = text(&o).1;
        assert!(
            !o.status.success() && err.contains(needle),
            "{layout}: {err}"
        );
        assert!(err.contains("bad.yaml:"), "names the file: {err}");
    }
    // A unique index over all users cannot be kept on tables split by user.
    let strict = edited_mappings(
        dir.path(),
        "strict",
        "leads.yaml",
        "  - columns: [email]",
        "  - columns: [email]\n    unique: true",
    );
    let plan = plan_file(dir.path(), "strict.yaml", &strict, PARTITIONED);
    let o = common::run(&["validate", plan.to_str().unwrap()], None);
    let err = text(&o).1;
    assert!(
        !o.status.success()
            && err.contains("leads.yaml:")
            && err.contains("does not include user_id"),
        "{err}"
    );
    let plain = plan_file(dir.path(), "strict_plain.yaml", &strict, "");
    assert_code(
        &common::run(&["validate", plain.to_str().unwrap()], None),
        0,
    );
}

#[test]
fn a_distributed_plan_needs_citus_and_says_so_before_anything_changes() {
    let url = common::source_db("distributed_no_citus");
    let mut c = connect(&url);
    let has_citus: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
            &[],
        )
        .unwrap()
        .get(0);
    if has_citus {
        return;
    }
    let o = pgshred(
        &url,
        &[
            "apply",
            "plans/user_app_state_distributed.yaml",
            "--create-schema",
            "--allow-duplicates",
        ],
        &[],
    );
    let err = text(&o).1;
    assert!(
        !o.status.success()
            && err.contains("needs the citus extension")
            && err.contains("01b_distribute.sql"),
        "{err}"
    );
    let tables = count(
        &url,
        "SELECT count(*) FROM pg_tables WHERE schemaname IN ('app_distributed', 'pgshred')",
    );
    assert_eq!(tables, 0, "the schema transaction left nothing behind");
}
