//! `apply --bulk`: an initial load with the target tables' secondary indexes, unique keys and
//! foreign keys deferred and restored after the last batch, against a real PostgreSQL: the same
//! rows as a normal run, the same indexes and keys afterwards, crashes at every stage resumed,
//! an orphan named, and refusals that leave nothing behind.

mod common;

use std::process::{Command, Output, Stdio};

use common::{assert_code, connect, count, reference, root, snapshot, source_db, text};

const PLAN: &str = "plans/user_app_state.yaml";

fn pgshred(url: &str, args: &[&str]) -> Output {
    common::run(args, Some(url))
}

fn bulk_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    ["apply", PLAN, "--allow-duplicates", "--batch-size", "5"]
        .iter()
        .chain(extra)
        .copied()
        .collect()
}

/// Runs apply and aborts it at a failpoint (`point:seq`).
fn killed_at(url: &str, args: &[&str], failpoint: &str) {
    common::needs_failpoints();
    let o = Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("PGSHRED_FAILPOINT", failpoint)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "{failpoint}: {:?}", text(&o));
}

/// Every index and constraint, as the catalog defines them.
fn shape(url: &str) -> Vec<String> {
    common::indexes_and_constraints(url)
}

/// The shape of the tables as --create-schema makes them, before any load.
fn created_shape() -> Vec<String> {
    let url = source_db("bulk_shape");
    assert_code(
        &pgshred(&url, &bulk_args(&["--create-schema", "--limit", "0"])),
        0,
    );
    shape(&url)
}

fn deferred_left(url: &str) -> i64 {
    count(
        url,
        "SELECT count(*) FROM pgshred.migration_deferred WHERE restored_at IS NULL",
    )
}

#[test]
fn a_bulk_load_writes_the_rows_of_a_normal_run_and_restores_every_index_and_key() {
    let url = source_db("bulk");
    let o = pgshred(&url, &bulk_args(&["--create-schema", "--bulk"]));
    assert_code(&o, 0);
    let (_, err) = text(&o);
    assert!(
        err.contains("--bulk: 21 indexes, unique keys and foreign keys of 7 tables deferred"),
        "{err}"
    );
    assert!(
        err.contains("restored foreign key personas_org_id_fkey on public.personas"),
        "{err}"
    );
    assert!(
        err.contains("--bulk: every index and key restored"),
        "{err}"
    );
    assert_eq!(snapshot(&url), reference());
    assert_eq!(shape(&url), created_shape());
    assert_eq!(deferred_left(&url), 0);
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_runs WHERE status = 'completed'"
        ),
        1
    );
}

#[test]
fn a_bulk_load_resumes_after_a_crash_at_every_stage() {
    let created = created_shape();
    // After the last restore, nothing is left deferred: the run only waits to be finished.
    for (failpoint, left) in [
        ("deferred:0", true),
        ("committed:2", true),
        ("restored:3", true),
        ("restored:21", false),
    ] {
        let url = source_db(&format!("bulk_crash_{}", failpoint.replace(':', "_")));
        killed_at(&url, &bulk_args(&["--create-schema", "--bulk"]), failpoint);
        let status = pgshred(&url, &["status", PLAN]);
        assert_code(&status, 0);
        let (out, _) = text(&status);
        assert_eq!(
            out.contains("deferred by --bulk"),
            left,
            "{failpoint}: {out}"
        );
        // Resumed without --bulk: the run's mode is in the ledger.
        let o = pgshred(&url, &bulk_args(&["--resume"]));
        assert_code(&o, 0);
        assert_eq!(snapshot(&url), reference(), "{failpoint}");
        assert_eq!(shape(&url), created, "{failpoint}");
        assert_eq!(deferred_left(&url), 0, "{failpoint}");
    }
}

#[test]
fn an_orphan_stops_the_restore_by_name_and_the_fix_resumes() {
    let url = source_db("bulk_orphan");
    killed_at(
        &url,
        &bulk_args(&["--create-schema", "--bulk"]),
        "committed:1",
    );
    // Without its foreign key, a persona can point at an org that does not exist.
    connect(&url)
        .batch_execute(
            "INSERT INTO public.personas (id, user_id, legacy_id, org_id, name) \
             VALUES ('00000000-0000-0000-0000-00000000beef', 'someone', 'p-orphan', '00000000-0000-0000-0000-000000000001', 'x')",
        )
        .unwrap();
    let o = pgshred(&url, &bulk_args(&["--resume"]));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}\n{err}");
    assert!(
        err.contains("restoring foreign key personas_org_id_fkey on public.personas"),
        "{err}"
    );
    assert!(
        err.contains("00000000-0000-0000-0000-000000000001"),
        "{err}"
    );
    assert!(err.contains("--resume"), "{err}");
    assert!(deferred_left(&url) > 0);
    connect(&url)
        .batch_execute("DELETE FROM public.personas WHERE legacy_id = 'p-orphan'")
        .unwrap();
    assert_code(&pgshred(&url, &bulk_args(&["--resume"])), 0);
    assert_eq!(snapshot(&url), reference());
    assert_eq!(deferred_left(&url), 0);
}

#[test]
fn bulk_refuses_tables_with_rows_and_the_sql_engine_leaving_nothing_behind() {
    let url = source_db("bulk_refused");
    assert_code(
        &pgshred(&url, &bulk_args(&["--create-schema", "--limit", "3"])),
        0,
    );
    let runs = count(&url, "SELECT count(*) FROM pgshred.migration_runs");
    let o = pgshred(&url, &bulk_args(&["--bulk"]));
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("--bulk loads empty tables, and public.orgs has rows"),
        "{}",
        text(&o).1
    );
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_runs"),
        runs
    );
    let o = pgshred(&url, &bulk_args(&["--bulk", "--engine", "sql"]));
    assert!(
        text(&o).1.contains("--bulk writes with --engine copy"),
        "{}",
        text(&o).1
    );
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_runs"),
        runs
    );
}

#[test]
fn rolling_back_an_unfinished_bulk_load_restores_the_indexes_and_keys() {
    let created = created_shape();
    let url = source_db("bulk_rollback");
    killed_at(
        &url,
        &bulk_args(&["--create-schema", "--bulk"]),
        "committed:2",
    );
    assert!(deferred_left(&url) > 0);
    let o = pgshred(&url, &["rollback", PLAN, "--run", "1", "--yes"]);
    assert_code(&o, 0);
    assert_eq!(deferred_left(&url), 0);
    assert_eq!(shape(&url), created);
    let rows = count(
        &url,
        "SELECT (SELECT count(*) FROM public.orgs) + (SELECT count(*) FROM public.personas)",
    );
    assert_eq!(rows, 0);
    // A fresh bulk load after it.
    assert_code(&pgshred(&url, &bulk_args(&["--bulk"])), 0);
    assert_eq!(snapshot(&url), reference());
}

#[test]
fn three_workers_reading_ahead_write_what_one_does() {
    for mode in [&["--bulk"][..], &["--engine", "copy"]] {
        let url = source_db("bulk_jobs");
        let args = [&bulk_args(&["--create-schema", "--jobs", "3"])[..], mode].concat();
        let o = pgshred(&url, &args);
        assert_code(&o, 0);
        assert_eq!(snapshot(&url), reference(), "{mode:?}");
        let (out, _) = text(&o);
        assert!(out.contains("22 users in 5 batches"), "{mode:?}: {out}");
    }
}

#[test]
fn the_copy_engine_takes_migrated_users_again_with_user_as_the_sql_engine_does() {
    let url = source_db("copy_user_again");
    assert_code(
        &pgshred(&url, &bulk_args(&["--create-schema", "--engine", "copy"])),
        0,
    );
    let o = pgshred(
        &url,
        &bulk_args(&["--engine", "copy", "--user", "user-03", "--user", "user-04"]),
    );
    assert_code(&o, 0);
    assert!(text(&o).0.contains("2 users in 1 batch,"), "{}", text(&o).0);
    assert_eq!(snapshot(&url), reference());
}

#[test]
fn a_row_already_there_for_a_user_fails_the_judge_of_a_copy_batch() {
    let url = source_db("copy_row_there");
    assert_code(
        &pgshred(&url, &bulk_args(&["--create-schema", "--limit", "0"])),
        0,
    );
    // A row the application wrote for a user pgshred has not migrated.
    connect(&url)
        .batch_execute(
            "INSERT INTO public.orgs (id, user_id, legacy_id, name) \
             VALUES ('00000000-0000-0000-0000-0000000000aa', 'user-01', 'made-by-the-app', 'x')",
        )
        .unwrap();
    let o = pgshred(&url, &bulk_args(&["--engine", "copy"]));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}\n{err}");
    assert!(err.contains("verification failed"), "{err}");
    assert!(err.contains("user user-01 orgs"), "{err}");
}

/// Ctrl-C while the indexes and keys are restored: the index in flight finishes, the run is
/// recorded as stopped and apply exits 8 (as between batches), and --resume restores the rest.
#[test]
fn a_signal_during_the_restore_stops_the_run_and_resume_finishes_it() {
    common::needs_failpoints();
    let url = source_db("bulk_signal_restore");
    let o = Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args(bulk_args(&["--create-schema", "--bulk"]))
        .env("DATABASE_URL", &url)
        .env("PGSHRED_FAILPOINT", "restored:3:sigint")
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(8), "{err}");
    assert!(
        err.contains("stopped by a signal while restoring what --bulk deferred")
            && err.contains("18 indexes and keys still to restore"),
        "{err}"
    );
    assert_eq!(deferred_left(&url), 18);
    let (out, _) = text(&pgshred(&url, &["status", PLAN]));
    assert!(out.contains("stopped"), "{out}");
    let o = pgshred(&url, &bulk_args(&["--resume"]));
    assert_code(&o, 0);
    assert_eq!(snapshot(&url), reference());
    assert_eq!(shape(&url), created_shape());
    assert_eq!(deferred_left(&url), 0);
}

/// After a kill -9 mid-restore, the dead client's backend may still be building the index, with
/// the plan's lock: --resume says so, names the backend and what it runs, instead of blaming
/// "another pgshred".
#[test]
fn resume_names_a_restore_left_running_by_a_killed_pgshred() {
    let url = source_db("bulk_orphaned_restore");
    // What the killed client's backend looks like: the plan's lock, and restore_deferred running.
    let mut holder = connect(&url);
    holder
        .execute(
            "SELECT pg_advisory_lock(x'70677368'::int, hashtext('user_app_state'))",
            &[],
        )
        .unwrap();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let busy = std::thread::spawn(move || {
        holder
            .batch_execute("SELECT pg_sleep(4) /* SELECT \"pgshred\".restore_deferred($1, $2) */")
            .unwrap();
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let o = pgshred(&url, &bulk_args(&["--resume"]));
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains(&format!(
            "backend pid {pid} is still restoring an index or key that --bulk deferred"
        )) && err.contains(&format!("pg_cancel_backend({pid})")),
        "{err}"
    );
    busy.join().unwrap();
}
