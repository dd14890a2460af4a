//! Test harness: one throwaway PostgreSQL cluster per test binary, one database per test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod layouts;
pub mod shapes;

use pgshred::pgtemp::TempCluster;

static CLUSTER: Mutex<Option<TempCluster>> = Mutex::new(None);

extern "C" fn stop_cluster() {
    if let Ok(mut guard) = CLUSTER.lock() {
        guard.take();
    }
}

/// A new, empty database on the shared cluster; returns its connection string.
pub fn fresh_db(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let mut guard = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        let cluster =
            TempCluster::start().unwrap_or_else(|e| panic!("starting the test PostgreSQL: {e}"));
        *guard = Some(cluster);
        // Statics are never dropped: stop the server and remove its directory at process exit.
        // SAFETY: registering a plain extern "C" function.
        unsafe {
            libc::atexit(stop_cluster);
        }
    }
    let name = format!("{}_{}", test, N.fetch_add(1, Ordering::Relaxed));
    guard
        .as_ref()
        .expect("started above")
        .create_database(&name)
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(path: impl AsRef<Path>) -> String {
    let p = root().join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// Creates the source table and loads fixture rows (a JSON array of {id, user_id, updated_at, state}).
pub fn load_source(c: &mut postgres::Client, fixture: &str) {
    let rows: serde_json::Value = pgshred::json::from_str(&read(fixture)).expect("fixture is JSON");
    c.batch_execute(
        "CREATE TABLE public.user_app_state (id bigint PRIMARY KEY, user_id text NOT NULL, \
         updated_at timestamptz NOT NULL, state jsonb); CREATE INDEX ON public.user_app_state (user_id)",
    )
    .expect("creating user_app_state");
    c.execute(
        "INSERT INTO public.user_app_state (id, user_id, updated_at, state) \
         SELECT (r->>'id')::bigint, r->>'user_id', (r->>'updated_at')::timestamptz, r->'state' \
           FROM jsonb_array_elements($1::jsonb) AS r",
        &[&rows],
    )
    .expect("loading the fixture");
}

/// The shipped fixture: 22 users, 23 source rows.
pub const FIXTURE: &str = "fixtures/sample_user_app_state.json";

/// Supabase's auth.uid(), as the shipped plan's policies call it.
fn auth_stub(c: &mut postgres::Client) {
    c.batch_execute(&read("fixtures/supabase_auth_stub.sql"))
        .expect("auth stub");
}

/// The auth.uid() stand-in, and the source table holding `fixture`.
pub fn load_fixture(c: &mut postgres::Client, fixture: &str) {
    auth_stub(c);
    load_source(c, fixture);
}

/// A new database holding the fixture as its source table, and the auth.uid() stand-in.
pub fn source_db(test: &str) -> String {
    let url = fresh_db(test);
    load_fixture(&mut connect(&url), FIXTURE);
    url
}

/// A new database like `source_db`'s, with `rows` as the source table instead of the fixture.
pub fn source_db_with_rows(test: &str, rows: &[serde_json::Value]) -> String {
    let url = fresh_db(test);
    let mut c = connect(&url);
    auth_stub(&mut c);
    load_rows(&mut c, rows);
    url
}

/// The tables after one uninterrupted run of the whole fixture (computed once per test binary).
pub fn reference() -> Vec<String> {
    static REF: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    REF.get_or_init(|| {
        let url = source_db("reference");
        let o = run(
            &[
                "apply",
                "plans/user_app_state.yaml",
                "--create-schema",
                "--allow-duplicates",
            ],
            Some(&url),
        );
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        snapshot(&url)
    })
    .clone()
}

/// The one bigint a query returns.
pub fn count(url: &str, sql: &str) -> i64 {
    connect(url).query_one(sql, &[]).unwrap().get(0)
}

/// Rows of the seven tables that belong to `users`.
pub fn rows_of_users<S: AsRef<str>>(url: &str, users: &[S]) -> i64 {
    rows_of_users_in(url, users, &TABLES)
}

/// Rows of `tables` that belong to `users`.
pub fn rows_of_users_in<S: AsRef<str>>(url: &str, users: &[S], tables: &[&str]) -> i64 {
    let users: Vec<&str> = users.iter().map(AsRef::as_ref).collect();
    let mut c = connect(url);
    tables
        .iter()
        .map(|t| {
            c.query_one(
                &format!("SELECT count(*) FROM public.\"{t}\" WHERE user_id = ANY ($1)"),
                &[&users],
            )
            .unwrap()
            .get::<_, i64>(0)
        })
        .sum()
}

/// Runs pgshred until it is not refused (exit 5): a killed session's advisory lock goes only
/// when the server notices the connection is gone.
pub fn run_when_unlocked(args: &[&str], url: &str) -> Output {
    for _ in 0..50 {
        let o = run(args, Some(url));
        if o.status.code() != Some(5) {
            return o;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("pgshred {args:?} was refused for 5 s")
}

/// Every user of the source table, in order.
pub fn all_users(c: &mut postgres::Client) -> Vec<String> {
    c.query(
        "SELECT DISTINCT user_id FROM user_app_state ORDER BY 1",
        &[],
    )
    .expect("listing users")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The seven tables of the shipped plan, parents first.
pub const TABLES: [&str; 7] = [
    "orgs",
    "personas",
    "contents",
    "accounts",
    "leads",
    "references",
    "inbox_items",
];

/// Runs the pgshred binary in `cwd` with `DATABASE_URL` set when given, as an operator would.
pub fn run_in(cwd: &Path, args: &[&str], url: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgshred"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env_remove("DATABASE_URL");
    if let Some(u) = url {
        cmd.env("DATABASE_URL", u);
    }
    cmd.output().expect("running pgshred")
}

/// Starts the pgshred binary from the repository root with both streams piped.
pub fn spawn(url: &str, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args(args)
        .env("DATABASE_URL", url)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pgshred")
}

/// For a test that injects faults (`PGSHRED_FAILPOINT`, `PGSHRED_FAULT`): they exist only in
/// builds with the `failpoints` feature, as `scripts/test` makes them.
#[track_caller]
pub fn needs_failpoints() {
    if !cfg!(feature = "failpoints") {
        panic!(
            "this test injects faults: run it with `cargo test --features failpoints` (scripts/test does)"
        );
    }
}

/// Runs the pgshred binary from the repository root.
pub fn run(args: &[&str], url: Option<&str>) -> Output {
    run_in(&root(), args, url)
}

/// The process exited with `code`; otherwise fails showing both streams.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    let (out, err) = text(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{out}\nstderr:\n{err}"
    );
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A scratch directory removed when dropped, even when the test fails.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pgshred-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The fixture with five users broken in five ways, each enough to stop a batch: user-07 an
/// uncastable value, user-08 an orphan under `on_missing: error`, user-09 a missing required
/// value, user-10 a duplicate legacy id, user-11 a list that is not a list.
pub fn broken_fixture() -> Vec<serde_json::Value> {
    use serde_json::Value;
    let mut rows: Vec<Value> = serde_json::from_str(&read("fixtures/sample_user_app_state.json"))
        .expect("fixture is JSON");
    let at = |rows: &[Value], id: &str| rows.iter().position(|r| r["user_id"] == id).unwrap();
    let i = at(&rows, "user-07");
    rows[i]["state"]["contents"][1]["wordCount"] = Value::from("lots");
    let i = at(&rows, "user-08");
    rows[i]["state"]["contents"][0]["personaId"] = Value::from("p_nobody");
    let i = at(&rows, "user-09");
    rows[i]["state"]["accounts"][0]
        .as_object_mut()
        .unwrap()
        .remove("platform");
    let i = at(&rows, "user-10");
    let dup = rows[i]["state"]["personas"][0].clone();
    rows[i]["state"]["personas"]
        .as_array_mut()
        .unwrap()
        .push(dup);
    let i = at(&rows, "user-11");
    rows[i]["state"]["leads"] = Value::from("not a list");
    rows[i]["state"]["settings"] = serde_json::json!({"darkMode": true});
    rows
}

/// The users in the quarantine, in order.
pub fn quarantined(url: &str) -> Vec<String> {
    connect(url)
        .query(
            "SELECT user_id FROM pgshred.migration_quarantine ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The users `broken_fixture` breaks.
pub const BROKEN_USERS: [&str; 5] = ["user-07", "user-08", "user-09", "user-10", "user-11"];

/// Source table holding `rows` (as `load_source` makes it from a file).
pub fn load_rows(c: &mut postgres::Client, rows: &[serde_json::Value]) {
    let dir = TempDir::new("rows");
    let file = dir.path().join("rows.json");
    std::fs::write(&file, serde_json::to_string(rows).unwrap()).unwrap();
    load_source(c, file.to_str().unwrap());
}

/// Every row of the seven tables (without timestamps) and the audit without its run and batch
/// numbers: what two runs that did the same work must agree on.
pub fn snapshot(url: &str) -> Vec<String> {
    snapshot_of(url, &TABLES)
}

/// `snapshot` of some of the tables (a plan with fewer entities); the audit rows of rows since
/// replaced by a sync or remap are left out.
pub fn snapshot_of(url: &str, tables: &[&str]) -> Vec<String> {
    let mut c = connect(url);
    let mut out: Vec<String> = tables
        .iter()
        .map(|t| {
            c.query_one(
                &format!(
                    "SELECT coalesce(string_agg((to_jsonb(x) - 'created_at' - 'updated_at')::text, E'\\n' ORDER BY x.id), '') \
                       FROM public.{} AS x",
                    pgshred::ident::quote_ident(t)
                ),
                &[],
            )
            .unwrap()
            .get(0)
        })
        .collect();
    out.push(
        c.query_one(
            "SELECT coalesce(string_agg(concat_ws(' ', user_id, source_entity, legacy_id, target_table, target_id), E'\\n' \
                    ORDER BY target_table, target_id), '') FROM pgshred.migration_audit WHERE replaced_by IS NULL",
            &[],
        )
        .unwrap()
        .get(0),
    );
    out
}

/// Generated cases per fuzz target: 2,000 in the suite; `PGSHRED_FUZZ_CASES=10000 cargo test
/// --release --test hostile_specs --test hostile_documents` is the documented longer run.
pub fn fuzz_cases() -> usize {
    std::env::var("PGSHRED_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// Every index and constraint outside the system schemas, as the catalog defines them.
pub fn indexes_and_constraints(url: &str) -> Vec<String> {
    connect(url)
        .query(
            "SELECT schemaname || '.' || tablename || ': ' || indexdef FROM pg_indexes \
              WHERE schemaname NOT IN ('pg_catalog', 'information_schema') \
             UNION ALL \
             SELECT conrelid::regclass::text || ': ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated \
               FROM pg_constraint WHERE conrelid <> 0 \
                AND connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) \
             ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}
