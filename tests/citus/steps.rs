//! Every operator step on Citus, as on plain tables: quarantine, the round trip, `--sync`, a
//! crash and `--resume`, rollbacks, `--join`, `--bulk`, `--remap`, `status`, and both placements
//! of the source table.

use super::*;

/// The operator's steps on the cluster, as on plain tables: quarantine and retry, a crash and
/// --resume, a second process joining the run, --sync, the reconstruction view, verify
/// --roundtrip, and rollbacks of a batch and of a user that say what they removed.
pub(super) fn operator_steps_on_citus(url: &str, worker: &str, plan: &str) {
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
    join::only_joins_from_a_worker(url, worker, plan);
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
    forward::where_the_forward_runs(url, plan, true);
    forward::an_error_raised_on_a_worker(url, plan);
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
    judge::the_judge_on_citus(url, plan);
    join::joining_from_a_worker(url, worker, plan);
    reading::reading_through_row_level_security_on_citus(url, plan);
    reading::a_document_too_large_for_the_client(url, plan);
}

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
