//! Safe on a database an application is using: each test reproduces a way a live production
//! database hurt a run (a lost guard, DDL behind the application's locks, a column of the wrong
//! type, a document changed mid-batch, ...) and checks that pgshred stops cleanly or carries on
//! correctly.

mod common;

use common::assert_code;

use std::process::Output;
use std::time::{Duration, Instant};

use common::{connect, count, reference, root, run, snapshot, source_db, spawn, text};

const PLAN: &str = "plans/user_app_state.yaml";

fn apply_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    ["apply", PLAN, "--allow-duplicates"]
        .iter()
        .chain(extra)
        .copied()
        .collect()
}

/// Checks the exit code and returns (stdout, stderr).
fn said(o: &Output, code: i32) -> (String, String) {
    assert_code(o, code);
    text(o)
}

/// Every phrase is in `text`.
fn says(text: &str, phrases: &[&str]) {
    for p in phrases {
        assert!(text.contains(p), "{p:?} not in:\n{text}");
    }
}

/// The fixture's source with the schema installed and nobody migrated.
fn installed_source(test: &str) -> String {
    let url = source_db(test);
    assert_code(
        &run(
            &apply_args(&["--create-schema", "--limit", "0"]),
            Some(&url),
        ),
        0,
    );
    url
}

/// The source with the schema installed and nobody migrated; every statement writing orgs then
/// sleeps `seconds`, so a run of the 22 users in batches of one lasts a while.
fn slow_source(test: &str, seconds: f64) -> String {
    let url = source_db(test);
    assert_code(
        &run(
            &apply_args(&["--create-schema", "--limit", "0"]),
            Some(&url),
        ),
        0,
    );
    connect(&url)
        .batch_execute(&format!(
            "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_sleep({seconds}); RETURN NULL; END $$;
             CREATE TRIGGER slow AFTER INSERT ON public.orgs FOR EACH STATEMENT EXECUTE FUNCTION slow();"
        ))
        .unwrap();
    url
}

fn done_batches(url: &str) -> i64 {
    count(
        url,
        "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'",
    )
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < until, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The backend holding the plan's guard.
fn guard_pid(url: &str) -> i32 {
    connect(url)
        .query_one(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int4::oid \
               AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[&pgshred::executor::sql::LOCK_CLASS],
        )
        .unwrap()
        .get(0)
}

fn terminate(url: &str, pid: i32) {
    let done: bool = connect(url)
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(done);
}

/// Users of batches not marked done have no rows and no audit: nothing was committed without
/// the ledger saying so.
fn nothing_beyond_the_ledger(url: &str) {
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM pgshred.migration_audit_sets AS a JOIN pgshred.migration_batches AS b \
               ON b.id = a.batch_id WHERE b.status <> 'done'"
        ),
        0
    );
    let mut c = connect(url);
    let users: Vec<String> = c
        .query(
            "SELECT DISTINCT unnest(user_ids) FROM pgshred.migration_batches WHERE status <> 'done'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(common::rows_of_users(url, &users), 0, "{users:?}");
}

#[test]
fn a_terminated_guard_stops_the_apply_and_the_run_resumes() {
    let url = slow_source("guard_terminated", 0.1);
    let child = spawn(&url, &apply_args(&["--batch-size", "1", "--jobs", "2"]));
    wait_for("two batches", || done_batches(&url) >= 2);
    terminate(&url, guard_pid(&url));
    let (_, err) = said(&child.wait_with_output().unwrap(), 7);
    says(
        &err,
        &[
            "stopped: the session holding plan user_app_state's lock",
            "--resume",
        ],
    );
    let done = done_batches(&url);
    assert!(
        done < 22,
        "the apply went on after its guard ended ({done} batches done)"
    );
    nothing_beyond_the_ledger(&url);
    connect(&url)
        .batch_execute("DROP TRIGGER slow ON public.orgs")
        .unwrap();
    assert_code(
        &common::run_when_unlocked(&apply_args(&["--resume"]), &url),
        0,
    );
    assert_eq!(snapshot(&url), reference());
}

#[test]
fn a_rollback_after_the_guard_ended_waits_for_batches_in_flight_and_undoes_everything() {
    let url = slow_source("guard_rollback", 0.4);
    let child = spawn(&url, &apply_args(&["--batch-size", "1", "--jobs", "2"]));
    wait_for("a batch", || done_batches(&url) >= 1);
    // The guard ends while the workers are inside batches (each sleeps in its orgs statement);
    // the rollback is admitted at once, and must not leave what those batches commit.
    let run_id = count(&url, "SELECT max(id) FROM pgshred.migration_runs").to_string();
    terminate(&url, guard_pid(&url));
    let rollback = run(&["rollback", "--yes", PLAN, "--run", &run_id], Some(&url));
    assert_code(&rollback, 0);
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 7);
    for t in common::TABLES {
        assert_eq!(
            count(&url, &format!("SELECT count(*) FROM public.\"{t}\"")),
            0,
            "{t} kept rows of the rolled-back run"
        );
    }
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_audit_sets WHERE replaced_by IS NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &url,
            &format!(
                "SELECT count(*) FROM pgshred.migration_runs WHERE status = 'rolled_back' AND id = {run_id}"
            )
        ),
        1
    );
}

#[test]
fn the_guard_outlives_an_idle_session_timeout() {
    let url = slow_source("guard_idle", 0.05);
    let db: String = connect(&url)
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    connect(&url)
        .batch_execute(&format!(
            "ALTER DATABASE \"{db}\" SET idle_session_timeout = '300ms'"
        ))
        .unwrap();
    // 22 batches of at least 50 ms: the guard's session sits idle for over a second.
    let o = run(&apply_args(&["--batch-size", "1"]), Some(&url));
    assert_code(&o, 0);
    connect(&url)
        .batch_execute("DROP TRIGGER slow ON public.orgs")
        .unwrap();
    assert_eq!(snapshot(&url), reference());
}

#[test]
fn a_batch_reads_each_document_once_even_when_the_application_changes_it_midway() {
    // One batch of every user; its orgs statement sleeps, and meanwhile the application renames
    // a user's first org and first persona in one transaction.
    let url = slow_source("snapshot", 1.0);
    let mut c = connect(&url);
    let user = "user-03";
    let before: (String, String) = {
        let r = c
            .query_one(
                "SELECT state #>> '{orgs,0,name}', state #>> '{personas,0,name}' FROM user_app_state \
                  WHERE user_id = $1 ORDER BY updated_at DESC LIMIT 1",
                &[&user],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    let child = spawn(&url, &apply_args(&["--batch-size", "100"]));
    wait_for("the batch to sleep in its orgs statement", || {
        count(
            &url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'",
        ) > 0
    });
    c.execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day', \
                state = jsonb_set(jsonb_set(state, '{orgs,0,name}', '\"Org renamed\"'), '{personas,0,name}', '\"Persona renamed\"') \
          WHERE user_id = $1",
        &[&user],
    )
    .unwrap();
    assert_code(&child.wait_with_output().unwrap(), 0);
    // Parents and children come from the same version of the document: the one the batch began
    // with (at READ COMMITTED the personas would have come from the new one).
    let names: (String, String) = {
        let r = c
            .query_one(
                "SELECT (SELECT name FROM orgs WHERE user_id = $1 ORDER BY legacy_id LIMIT 1), \
                        (SELECT p.name FROM personas AS p WHERE p.user_id = $1 AND p.legacy_id = \
                           (SELECT state #>> '{personas,0,id}' FROM user_app_state WHERE user_id = $1 ORDER BY updated_at DESC LIMIT 1))",
                &[&user],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        names.1, before.1,
        "personas read a newer document than orgs"
    );
    // The next sync takes the user again, whole.
    c.batch_execute("DROP TRIGGER slow ON public.orgs").unwrap();
    let o = run(&apply_args(&["--sync"]), Some(&url));
    assert_code(&o, 0);
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM personas WHERE user_id = 'user-03' AND name = 'Persona renamed'"
        ),
        1
    );
}

#[test]
fn a_clash_on_another_unique_index_is_an_error_not_a_skipped_row() {
    let url = installed_source("unique_clash");
    // An index the DBA (or a mapping's `indexes: unique`) added: two orgs of one user may not
    // share a name. ON CONFLICT without a target would skip the second org without a word.
    let mut c = connect(&url);
    c.batch_execute(
        "CREATE UNIQUE INDEX orgs_one_name ON public.orgs (user_id, name);
         UPDATE user_app_state SET state = jsonb_set(state, '{orgs,1,name}', state #> '{orgs,0,name}')
          WHERE id = (SELECT max(id) FROM user_app_state WHERE jsonb_array_length(state -> 'orgs') > 1)",
    )
    .unwrap();
    let o = run(&apply_args(&[]), Some(&url));
    assert_code(&o, 6);
    let (_, err) = text(&o);
    assert!(
        err.contains("orgs_one_name") && err.contains("23505"),
        "{err}"
    );
}

#[test]
fn schema_changes_give_way_to_the_application_and_name_who_is_in_the_way() {
    let url = installed_source("ddl_lock");
    // The application reads orgs in a long transaction: ACCESS SHARE, nothing more.
    let mut app = connect(&url);
    app.batch_execute("BEGIN; SELECT count(*) FROM public.orgs")
        .unwrap();
    let app_pid: i32 = app
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let child = spawn(
        &url,
        &apply_args(&["--create-schema", "--lock-timeout", "200ms"]),
    );
    // Other readers keep reading while the schema tries and retries: none waits past 1 s.
    let reader_url = url.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_reader = stop.clone();
    let reader = std::thread::spawn(move || {
        let mut c = connect(&reader_url);
        c.batch_execute("SET statement_timeout = '1s'").unwrap();
        let mut reads = 0;
        while !stop_reader.load(std::sync::atomic::Ordering::SeqCst) {
            c.query_one("SELECT count(*) FROM public.orgs", &[])
                .expect("a reader was blocked behind the schema change");
            reads += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        reads
    });
    let o = child.wait_with_output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(reader.join().unwrap() > 10);
    assert_code(&o, 5);
    let (_, err) = text(&o);
    assert!(
        err.contains("within lock_timeout 200ms in 4 tries; nothing was changed"),
        "{err}"
    );
    assert!(err.contains(&format!("backend pid {app_pid} (")), "{err}");
    assert!(err.contains("AccessShareLock on orgs"), "{err}");
    app.batch_execute("COMMIT").unwrap();
    assert_code(&run(&apply_args(&["--create-schema"]), Some(&url)), 0);
    assert_eq!(snapshot(&url), reference());
}

/// A second plan on the same source, into schema `second`, sharing the audit schema `pgshred`:
/// orgs and personas only.
fn second_plan(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("plans")).unwrap();
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    for e in ["orgs", "personas"] {
        std::fs::copy(
            root().join(format!("mappings/{e}.yaml")),
            dir.join(format!("mappings/{e}.yaml")),
        )
        .unwrap();
    }
    let shipped = common::read(PLAN);
    let head = &shipped[..shipped.find("mappings:\n").unwrap()];
    let plan = head
        .replace("plan: user_app_state", "plan: second")
        .replace(
            "  schema: public\n  audit_schema",
            "  schema: second\n  audit_schema",
        )
        + "mappings:\n  - ../mappings/orgs.yaml\n  - ../mappings/personas.yaml\n";
    assert!(plan.contains("schema: second"), "{plan}");
    let path = dir.join("plans/second.yaml");
    std::fs::write(&path, plan).unwrap();
    path
}

#[test]
fn two_plans_share_one_audit_schema_and_each_syncs_its_own_tables() {
    let dir = common::TempDir::new("two-plans");
    let second = second_plan(dir.path());
    let second = second.to_str().unwrap();
    let url = source_db("two_plans");
    assert_code(&run(&apply_args(&["--create-schema"]), Some(&url)), 0);
    // The second plan's 02_audit.sql runs after the first's.
    assert_code(
        &run(
            &["apply", second, "--create-schema", "--allow-duplicates"],
            Some(&url),
        ),
        0,
    );
    connect(&url)
        .execute(
            "UPDATE user_app_state SET updated_at = updated_at + interval '1 day', \
                    state = jsonb_set(state, '{orgs,0,name}', '\"Renamed\"') WHERE user_id = 'user-01'",
            &[],
        )
        .unwrap();
    assert_code(&run(&apply_args(&["--sync"]), Some(&url)), 0);
    assert_code(
        &run(
            &["apply", second, "--sync", "--allow-duplicates"],
            Some(&url),
        ),
        0,
    );
    for schema in ["public", "second"] {
        assert_eq!(
            count(
                &url,
                &format!(
                    "SELECT count(*) FROM {schema}.orgs WHERE user_id = 'user-01' AND name = 'Renamed'"
                )
            ),
            1,
            "{schema}.orgs"
        );
    }
    assert_code(&run(&["verify", PLAN], Some(&url)), 0);
    assert_code(&run(&["verify", second], Some(&url)), 0);
}

/// A copy of the shipped plan and its mappings in `dir`, the plan edited by `edit`.
fn plan_copy(dir: &std::path::Path, edit: impl Fn(String) -> String) -> String {
    std::fs::create_dir_all(dir.join("plans")).unwrap();
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    for e in common::TABLES {
        std::fs::copy(
            root().join(format!("mappings/{e}.yaml")),
            dir.join(format!("mappings/{e}.yaml")),
        )
        .unwrap();
    }
    let path = dir.join("plans/user_app_state.yaml");
    std::fs::write(&path, edit(common::read(PLAN))).unwrap();
    path.to_str().unwrap().to_string()
}

/// The fixture in a source table whose key column has type `ty`.
fn typed_key_source(test: &str, ty: &str, convert: &str) -> String {
    let url = common::fresh_db(test);
    let mut c = connect(&url);
    c.batch_execute(&common::read("fixtures/supabase_auth_stub.sql"))
        .unwrap();
    let rows: serde_json::Value = serde_json::from_str(&common::read(common::FIXTURE)).unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE public.user_app_state (id bigint PRIMARY KEY, user_id {ty} NOT NULL, \
         updated_at timestamptz NOT NULL, state jsonb); CREATE INDEX ON public.user_app_state (user_id)"
    ))
    .unwrap();
    c.execute(
        &format!(
            "INSERT INTO public.user_app_state (id, user_id, updated_at, state) \
             SELECT (r->>'id')::bigint, {convert}, (r->>'updated_at')::timestamptz, r->'state' \
               FROM jsonb_array_elements($1::jsonb) AS r"
        ),
        &[&rows],
    )
    .unwrap();
    url
}

#[test]
fn source_keys_of_type_uuid_integer_and_bigint() {
    for (ty, convert) in [
        ("uuid", "md5(r->>'user_id')::uuid"),
        (
            "integer",
            "regexp_replace(r->>'user_id', '[^0-9]', '', 'g')::integer",
        ),
        (
            "bigint",
            "regexp_replace(r->>'user_id', '[^0-9]', '', 'g')::bigint * 10000000000",
        ),
    ] {
        let dir = common::TempDir::new(&format!("key-{ty}"));
        let url = typed_key_source(&format!("key_{ty}"), ty, convert);
        // The shipped plan says nothing of the key's type (text): refused, with the fix.
        let o = run(&apply_args(&["--create-schema"]), Some(&url));
        assert_code(&o, 5);
        assert!(
            text(&o)
                .1
                .contains(&format!("set `key_type: {ty}` under source:")),
            "{}",
            text(&o).1
        );
        let plan = plan_copy(dir.path(), |p| {
            p.replace(
                "  key_column: user_id        # text\n",
                &format!("  key_column: user_id\n  key_type: {ty}\n"),
            )
        });
        let args = |extra: &[&str]| -> Vec<String> {
            [
                "apply",
                plan.as_str(),
                "--allow-duplicates",
                "--batch-size",
                "5",
            ]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
        };
        let go = |extra: &[&str]| {
            let a = args(extra);
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            run(&a, Some(&url))
        };
        assert_code(&go(&["--create-schema"]), 0);
        assert_eq!(
            count(&url, "SELECT count(DISTINCT user_id) FROM public.orgs"),
            21,
            "{ty}"
        );
        assert_code(&run(&["verify", &plan], Some(&url)), 0);
        connect(&url)
            .execute(
                "UPDATE user_app_state SET updated_at = updated_at + interval '1 day', \
                        state = jsonb_set(state, '{orgs,0,name}', '\"Renamed\"') \
                  WHERE id = (SELECT min(id) FROM user_app_state)",
                &[],
            )
            .unwrap();
        assert_code(&go(&["--sync"]), 0);
        assert_eq!(
            count(
                &url,
                "SELECT count(*) FROM public.orgs WHERE name = 'Renamed'"
            ),
            1,
            "{ty}"
        );
        assert_code(&run(&["verify", &plan], Some(&url)), 0);
        assert_code(
            &run(&["rollback", "--yes", &plan, "--run", "2"], Some(&url)),
            0,
        );
        assert_code(
            &run(&["rollback", "--yes", &plan, "--run", "1"], Some(&url)),
            0,
        );
        assert_eq!(count(&url, "SELECT count(*) FROM public.orgs"), 0, "{ty}");
    }
}

#[test]
fn a_server_crash_mid_batch_names_the_batch_and_says_how_to_resume() {
    // A cluster of its own: this test stops it the hard way.
    let mut cluster = pgshred::pgtemp::TempCluster::start().unwrap();
    let url = cluster.create_database("crash").unwrap();
    common::load_fixture(&mut connect(&url), common::FIXTURE);
    assert_code(
        &run(
            &apply_args(&["--create-schema", "--limit", "0"]),
            Some(&url),
        ),
        0,
    );
    connect(&url)
        .batch_execute(
            "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
             CREATE TRIGGER slow AFTER INSERT ON public.orgs FOR EACH STATEMENT EXECUTE FUNCTION slow();",
        )
        .unwrap();
    let child = spawn(&url, &apply_args(&["--batch-size", "100"]));
    wait_for("the batch to sleep in its orgs statement", || {
        count(
            &url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'",
        ) > 0
    });
    // An immediate shutdown, as a crash looks to clients.
    cluster.stop();
    let (_, err) = said(&child.wait_with_output().unwrap(), 6);
    says(
        &err,
        &[
            "batch 1 (seq 1) of run 2 failed and was rolled back",
            "the failure could not be recorded in the ledger",
            "pgshred apply PLAN --resume",
        ],
    );
}

#[test]
fn a_reader_that_stops_early_stops_nothing() {
    // `pgshred apply ... | head -2`, for stdout and for stderr: the pipe closes before pgshred
    // writes, and the run still completes with its ledger consistent.
    let url = installed_source("broken_pipe");
    for closed in ["stdout", "stderr"] {
        let mut child = spawn(&url, &apply_args(&["--batch-size", "2", "--limit", "10"]));
        let mut said = String::new();
        if closed == "stdout" {
            drop(child.stdout.take());
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut said).unwrap();
        } else {
            drop(child.stderr.take());
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut said).unwrap();
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{closed} closed: {said}");
        assert!(!said.contains("panicked"), "{said}");
    }
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_runs WHERE status <> 'completed'"
        ),
        0
    );
    assert_eq!(count(&url, "SELECT count(DISTINCT user_id) FROM orgs"), 20);
}

/// Source rows whose documents are not JSON objects, as (user, state as SQL).
const NOT_DOCUMENTS: [(&str, &str); 5] = [
    ("nd-json-null", "'null'::jsonb"),
    ("nd-sql-null", "NULL"),
    ("nd-string", "'\"a string\"'::jsonb"),
    ("nd-number", "'42'::jsonb"),
    ("nd-array", "'[{\"orgs\": []}]'::jsonb"),
];

fn add_non_documents(url: &str) {
    let mut c = connect(url);
    for (i, (user, state)) in NOT_DOCUMENTS.iter().enumerate() {
        c.execute(
            &format!(
                "INSERT INTO user_app_state (id, user_id, updated_at, state) VALUES ($1, $2, now(), {state})"
            ),
            &[&(1000 + i as i64), user],
        )
        .unwrap();
    }
}

#[test]
fn documents_that_are_not_objects_are_never_lost_without_a_word() {
    // preview: each is a finding that stops its batch.
    let dir = common::TempDir::new("not-documents");
    let input = dir.path().join("input.json");
    let rows: Vec<serde_json::Value> = [
        serde_json::Value::Null,
        serde_json::json!("a string"),
        serde_json::json!(42),
        serde_json::json!([{"orgs": []}]),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, state)| serde_json::json!({"user_id": format!("u{i}"), "updated_at": "2024-01-01T00:00:00Z", "state": state}))
    .collect();
    std::fs::write(&input, serde_json::to_string(&rows).unwrap()).unwrap();
    let o = run(
        &["preview", PLAN, "--input-file", input.to_str().unwrap()],
        None,
    );
    assert_code(&o, 1);
    let (out, _) = text(&o);
    assert!(out.contains("not_a_document"), "{out}");
    assert!(
        out.contains("the document is string, not a JSON object"),
        "{out}"
    );

    // apply: the batch stops naming the user; with --max-bad-users exactly those users are set
    // aside, and verify lists them.
    let url = source_db("not_documents");
    add_non_documents(&url);
    let o = run(&apply_args(&["--create-schema"]), Some(&url));
    assert_code(&o, 6);
    assert!(
        text(&o).1.contains("not a JSON object (user nd-"),
        "{}",
        text(&o).1
    );
    let o = run(
        &apply_args(&["--resume", "--max-bad-users", "10"]),
        Some(&url),
    );
    assert_code(&o, 0);
    let mut quarantined = common::quarantined(&url);
    quarantined.sort();
    let mut expected: Vec<String> = NOT_DOCUMENTS.iter().map(|(u, _)| u.to_string()).collect();
    expected.sort();
    assert_eq!(quarantined, expected);
    let o = run(&["verify", PLAN], Some(&url));
    assert_code(&o, 1);
    assert!(text(&o).0.contains("5 quarantined users"), "{}", text(&o).0);

    // A migrated user whose document becomes a string: verify says so and fails.
    connect(&url)
        .execute(
            "UPDATE user_app_state SET state = '\"oops\"' WHERE user_id = 'user-01'",
            &[],
        )
        .unwrap();
    let o = run(&["verify", PLAN], Some(&url));
    assert_code(&o, 1);
    let (out, _) = text(&o);
    assert!(
        out.contains("user user-01: the document is string, not a JSON object"),
        "{out}"
    );
}

#[test]
fn skipping_documents_that_are_not_objects_is_a_declared_policy_in_every_report() {
    let dir = common::TempDir::new("skip-not-documents");
    let plan = plan_copy(dir.path(), |p| {
        p.replace(
            "  document_column: state     # jsonb\n",
            "  document_column: state     # jsonb\n  not_a_document: skip\n",
        )
    });
    assert!(common::read(&plan).contains("not_a_document: skip"));
    let url = source_db("skip_not_documents");
    add_non_documents(&url);
    let o = run(
        &["apply", &plan, "--create-schema", "--allow-duplicates"],
        Some(&url),
    );
    assert_code(&o, 0);
    assert!(
        text(&o)
            .0
            .contains("policy: documents that are not JSON objects are migrated with no rows"),
        "{}",
        text(&o).0
    );
    let o = run(&["verify", &plan], Some(&url));
    assert_code(&o, 0);
    assert!(
        text(&o)
            .0
            .contains("5 documents that are not JSON objects skipped by policy"),
        "{}",
        text(&o).0
    );
}

#[test]
fn ids_too_long_for_an_index_set_aside_exactly_their_user() {
    let long_user = format!("u{}", "0123456789".repeat(270));
    let long_legacy = "L".repeat(3000);
    let doc = |legacy: &str| serde_json::json!({"orgs": [{"id": legacy, "name": "Org"}]});
    // preview flags both.
    let dir = common::TempDir::new("long-ids");
    let input = dir.path().join("input.json");
    let rows = serde_json::json!([
        {"user_id": long_user, "updated_at": "2024-01-01T00:00:00Z", "state": doc("o1")},
        {"user_id": "user-long-legacy", "updated_at": "2024-01-01T00:00:00Z", "state": doc(&long_legacy)},
    ]);
    std::fs::write(&input, rows.to_string()).unwrap();
    let o = run(
        &["preview", PLAN, "--input-file", input.to_str().unwrap()],
        None,
    );
    assert_code(&o, 1);
    let (out, _) = text(&o);
    assert!(out.contains("the user id is 2701 bytes long"), "{out}");
    assert!(out.contains("legacy id is 3000 bytes long"), "{out}");

    let url = source_db("long_ids");
    let mut c = connect(&url);
    for (i, (user, d)) in [
        (long_user.as_str(), doc("o1")),
        ("user-long-legacy", doc(&long_legacy)),
    ]
    .iter()
    .enumerate()
    {
        c.execute(
            "INSERT INTO user_app_state (id, user_id, updated_at, state) VALUES ($1, $2, now(), $3)",
            &[&(2000 + i as i64), user, d],
        )
        .unwrap();
    }
    // The legacy id stops its batch, naming user and entity; the long user id is left out, said.
    let o = run(&apply_args(&["--create-schema"]), Some(&url));
    assert_code(&o, 6);
    let (_, err) = text(&o);
    assert!(
        err.contains("1 source user(s) have ids longer than 1000 bytes and are left out"),
        "{err}"
    );
    assert!(
        err.contains("legacy id is 3000 bytes long; at most 1000 fit in an index (user user-long-legacy, entity orgs"),
        "{err}"
    );
    let o = run(
        &apply_args(&["--resume", "--max-bad-users", "1"]),
        Some(&url),
    );
    assert_code(&o, 0);
    let quarantined: Vec<String> = c
        .query("SELECT user_id FROM pgshred.migration_quarantine", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(quarantined, ["user-long-legacy"]);
    assert_eq!(count(&url, "SELECT count(DISTINCT user_id) FROM orgs"), 21);
    let (out, _) = said(&run(&["verify", PLAN], Some(&url)), 1);
    says(
        &out,
        &[
            "(2701 bytes): the user id is longer than 1000 bytes; not migrated",
            "user user-long-legacy: quarantined",
        ],
    );
}

#[test]
fn batches_run_repeatable_read_with_jit_off() {
    // A trigger notes the settings the batch's statements run under.
    let url = installed_source("batch_settings");
    connect(&url)
        .batch_execute(
            "CREATE TABLE seen (isolation text, jit text);
             CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN INSERT INTO seen VALUES (current_setting('transaction_isolation'), current_setting('jit')); RETURN NULL; END $$;
             CREATE TRIGGER note AFTER INSERT ON public.contents FOR EACH STATEMENT EXECUTE FUNCTION note();
             DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = on', current_database()); END $$;",
        )
        .unwrap();
    assert_code(&run(&apply_args(&["--batch-size", "5"]), Some(&url)), 0);
    let seen: Vec<(String, String)> = connect(&url)
        .query("SELECT DISTINCT isolation, jit FROM seen", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(seen, [("repeatable read".to_string(), "off".to_string())]);
}

#[test]
fn a_ledger_made_by_an_older_pgshred_is_refused_then_upgraded_in_place() {
    let url = installed_source("old_ledger");
    // The ledger as pgshred made it before runs could be stopped.
    connect(&url)
        .batch_execute(
            "ALTER TABLE pgshred.migration_runs DROP CONSTRAINT migration_runs_status_check; \
             ALTER TABLE pgshred.migration_runs ADD CONSTRAINT migration_runs_status_check \
               CHECK (status IN ('running', 'completed', 'failed', 'rolled_back')); \
             DROP FUNCTION pgshred.stop_run(bigint); DROP FUNCTION pgshred.resume_run(bigint); \
             DROP FUNCTION pgshred.restore_deferred(bigint, integer)",
        )
        .unwrap();
    let (_, err) = said(&run(&apply_args(&[]), Some(&url)), 5);
    says(
        &err,
        &["the audit schema predates this pgshred", "02_audit.sql"],
    );
    assert_eq!(done_batches(&url), 0);
    said(&run(&apply_args(&["--create-schema"]), Some(&url)), 0);
    let check: String = connect(&url)
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
              WHERE conname = 'migration_runs_status_check'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(check.contains("'stopped'"), "{check}");
    assert_eq!(snapshot(&url), reference());
}

#[test]
fn a_document_changed_after_it_was_read_ahead_is_read_again_by_its_batch() {
    let url = installed_source("read_ahead");
    // Batch 1 waits on this lock while the COPY path reads batch 2 ahead.
    let mut blocker = connect(&url);
    blocker
        .batch_execute("BEGIN; LOCK TABLE public.orgs IN SHARE MODE")
        .unwrap();
    let child = spawn(
        &url,
        &apply_args(&["--engine", "copy", "--batch-size", "1"]),
    );
    wait_for("the run to be planned", || {
        count(&url, "SELECT count(*) FROM pgshred.migration_batches") > 0
    });
    std::thread::sleep(Duration::from_millis(800));
    let second: String = connect(&url)
        .query_one(
            "SELECT user_ids[1] FROM pgshred.migration_batches WHERE seq = 2",
            &[],
        )
        .unwrap()
        .get(0);
    connect(&url)
        .execute(
            "UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,name}', '\"renamed after the read-ahead\"') \
              WHERE user_id = $1",
            &[&second],
        )
        .unwrap();
    blocker.batch_execute("COMMIT").unwrap();
    let o = child.wait_with_output().unwrap();
    said(&o, 0);
    assert_eq!(
        count(
            &url,
            &format!(
                "SELECT count(*) FROM public.orgs WHERE user_id = '{second}' AND name = 'renamed after the read-ahead'"
            )
        ),
        1,
        "batch 2 wrote the document it read ahead, not the one its transaction saw"
    );
    said(&run(&["verify", PLAN], Some(&url)), 0);
}
