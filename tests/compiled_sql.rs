//! The compiled SQL of the shipped plan, run by hand-style transactions against a real PostgreSQL:
//! schema, audit, forward, verify and rollback, checked against what the fixture holds.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::{TABLES, all_users, connect, fresh_db, load_source, read, root};
use pgshred::artifacts::Files;
use pgshred::ir::Plan;
use serde_json::Value;

fn compiled(plan: &str) -> (Plan, Files) {
    let plan = pgshred::validate::load_plan(&root().join(plan)).unwrap_or_else(|e| panic!("{e}"));
    let files = pgshred::codegen::render(&plan).unwrap_or_else(|e| panic!("{e}"));
    (plan, files)
}

/// A database with the fixture loaded and the schema and audit scripts applied.
fn prepared(test: &str, plan: &str, fixture: &str) -> (postgres::Client, Plan, Files) {
    let (plan, files) = compiled(plan);
    let mut c = connect(&fresh_db(test));
    common::load_fixture(&mut c, fixture);
    c.batch_execute(&files["01_schema.sql"])
        .expect("01_schema.sql runs");
    c.batch_execute(&files["02_audit.sql"])
        .expect("02_audit.sql runs");
    (c, plan, files)
}

/// Runs forward + verify for `users` in one transaction, as the header of 03_forward.sql says.
/// Returns verify's mismatches, or the database error (the transaction is then rolled back).
fn run_batch(
    c: &mut postgres::Client,
    plan: &Plan,
    files: &Files,
    users: &[String],
) -> Result<Vec<String>, postgres::Error> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pgshred.begin_batch($1, $2)", &[&plan.name, &users])?;
    tx.batch_execute(&files["03_forward.sql"])?;
    let rows = tx.query(files["04_verify.sql"].as_str(), &[])?;
    let mismatches = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} expected {} present {}",
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, i64>(2),
                r.get::<_, i64>(3)
            )
        })
        .collect();
    tx.commit()?;
    Ok(mismatches)
}

fn count(c: &mut postgres::Client, table: &str) -> i64 {
    c.query_one(
        &format!(
            "SELECT count(*) FROM public.{}",
            pgshred::ident::quote_ident(table)
        ),
        &[],
    )
    .unwrap()
    .get(0)
}

/// Every row of every table (and the audit), as text, for before/after comparisons.
fn snapshot(c: &mut postgres::Client) -> Vec<String> {
    TABLES
        .iter()
        .map(|t| format!("public.{}", pgshred::ident::quote_ident(t)))
        .chain(["pgshred.migration_audit".to_string()])
        .map(|t| {
            c.query_one(&format!("SELECT coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '') FROM {t} AS x"), &[])
                .unwrap()
                .get(0)
        })
        .collect()
}

/// The newest document of each user in the fixture: an independent reading of the source.
fn newest_documents(fixture: &str) -> BTreeMap<String, Value> {
    let rows: Vec<Value> = serde_json::from_str(&read(fixture)).unwrap();
    let mut newest: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for r in rows {
        let user = r["user_id"].as_str().unwrap().to_string();
        let at = r["updated_at"].as_str().unwrap().to_string();
        if newest.get(&user).is_none_or(|(t, _)| *t < at) {
            newest.insert(user, (at, r["state"].clone()));
        }
    }
    newest.into_iter().map(|(u, (_, s))| (u, s)).collect()
}

fn items<'a>(doc: &'a Value, key: &str) -> Vec<&'a Value> {
    doc.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Rows each table should hold for the shipped mappings: org ids deduplicated (keep_first),
/// references whose persona does not exist skipped, everything else one row per element.
fn expected_counts(docs: &BTreeMap<String, Value>) -> BTreeMap<&'static str, i64> {
    let mut n: BTreeMap<&str, i64> = TABLES.iter().map(|t| (*t, 0)).collect();
    for doc in docs.values() {
        let org_ids: HashSet<&str> = items(doc, "orgs")
            .iter()
            .filter_map(|o| o["id"].as_str())
            .collect();
        let persona_ids: HashSet<&str> = items(doc, "personas")
            .iter()
            .filter_map(|p| p["id"].as_str())
            .collect();
        *n.get_mut("orgs").unwrap() += org_ids.len() as i64;
        *n.get_mut("personas").unwrap() += items(doc, "personas").len() as i64;
        *n.get_mut("contents").unwrap() += items(doc, "contents").len() as i64;
        *n.get_mut("accounts").unwrap() += items(doc, "accounts").len() as i64;
        *n.get_mut("leads").unwrap() += items(doc, "leads").len() as i64;
        *n.get_mut("inbox_items").unwrap() += items(doc, "inboxItems").len() as i64;
        *n.get_mut("references").unwrap() += items(doc, "references")
            .iter()
            .filter(|r| {
                r["personaId"]
                    .as_str()
                    .is_some_and(|p| persona_ids.contains(p))
            })
            .count() as i64;
    }
    n
}

#[test]
fn fixture_migrates_completely_and_verify_finds_nothing() {
    let fixture = "fixtures/sample_user_app_state.json";
    let (mut c, plan, files) = prepared("full", "plans/user_app_state.yaml", fixture);
    let users = all_users(&mut c);
    assert_eq!(users.len(), 22);
    let mismatches = run_batch(&mut c, &plan, &files, &users)
        .unwrap_or_else(|e| panic!("forward failed: {e:?}"));
    assert!(mismatches.is_empty(), "verify reported: {mismatches:#?}");

    let docs = newest_documents(fixture);
    let expected = expected_counts(&docs);
    for t in TABLES {
        assert_eq!(count(&mut c, t), expected[t], "rows in {t}");
    }
    assert!(expected.values().all(|n| *n > 0));
    let audit: i64 = c
        .query_one("SELECT count(*) FROM pgshred.migration_audit", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        audit,
        expected.values().sum::<i64>(),
        "one audit row per created row"
    );

    // The superseded source row of user-21 is not what was migrated.
    let name: String = c
        .query_one("SELECT name FROM orgs WHERE legacy_id = 'org_21_1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "Org 21");
    // Unmapped keys land in extra; dropped keys do not.
    let extra: Value = c
        .query_one("SELECT extra FROM orgs WHERE legacy_id = 'org_20_1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(extra, serde_json::json!({"industry": "Publishing"}));
    let extra: Value = c
        .query_one("SELECT extra FROM personas WHERE legacy_id = 'p_20_1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        extra,
        serde_json::json!({"profile": {"links": ["https://example.com/me"]}})
    );
    // Numbers and booleans given as strings are converted.
    let (seats, words): (i32, i32) = {
        let r = c.query_one(
            "SELECT o.seats, ct.word_count FROM orgs o JOIN contents ct ON ct.user_id = o.user_id \
             WHERE o.legacy_id = 'org_17_1' AND ct.legacy_id = 'c_p_17_1_1'",
            &[],
        )
        .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((seats, words), (12, 345));
}

#[test]
fn parent_links_point_at_the_parent_with_that_legacy_id() {
    let fixture = "fixtures/sample_user_app_state.json";
    let (mut c, plan, files) = prepared("links", "plans/user_app_state.yaml", fixture);
    let users = all_users(&mut c);
    run_batch(&mut c, &plan, &files, &users).unwrap();
    let docs = newest_documents(fixture);

    let mut checked = 0;
    for (child, parent, field, fk) in [
        ("personas", "orgs", "orgId", "org_id"),
        ("contents", "personas", "personaId", "persona_id"),
        ("accounts", "personas", "personaId", "persona_id"),
        ("leads", "accounts", "accountId", "account_id"),
        ("inbox_items", "accounts", "accountId", "account_id"),
    ] {
        let key = if child == "inbox_items" {
            "inboxItems"
        } else {
            child
        };
        let actual: HashMap<(String, String), Option<String>> = c
            .query(
                &format!(
                    "SELECT c.user_id, c.legacy_id, p.legacy_id FROM public.{child} c \
                     LEFT JOIN public.{parent} p ON p.id = c.{fk}"
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect();
        for (user, doc) in &docs {
            let parents: HashSet<&str> = items(doc, parent)
                .iter()
                .filter_map(|p| p["id"].as_str())
                .collect();
            for el in items(doc, key) {
                let id = el["id"].as_str().unwrap().to_string();
                let want = el[field]
                    .as_str()
                    .filter(|p| parents.contains(p))
                    .map(str::to_string);
                assert_eq!(
                    actual[&(user.clone(), id.clone())],
                    want,
                    "{child} {id} of {user}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "only {checked} links checked");
    // The orphan persona of user-19 migrated with a NULL org (policy null).
    let org: Option<uuid::Uuid> = c
        .query_one(
            "SELECT org_id FROM personas WHERE legacy_id = 'p_19_orphan'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(org, None);
}

#[test]
fn rust_uuid_v5_equals_the_id_postgres_generated() {
    let (mut c, plan, files) = prepared(
        "uuids",
        "plans/user_app_state.yaml",
        "fixtures/sample_user_app_state.json",
    );
    let users = all_users(&mut c);
    run_batch(&mut c, &plan, &files, &users).unwrap();
    let mut n = 0;
    for e in &plan.entities {
        let rows = c
            .query(
                &format!(
                    "SELECT id, user_id, legacy_id FROM public.{}",
                    pgshred::ident::quote_ident(&e.table)
                ),
                &[],
            )
            .unwrap();
        for r in rows {
            let (id, user, legacy): (uuid::Uuid, String, String) = (r.get(0), r.get(1), r.get(2));
            assert_eq!(
                id,
                pgshred::ids::row_id(&plan.namespace, &e.name, &user, &legacy),
                "{} {user} {legacy}",
                e.name
            );
            n += 1;
        }
    }
    assert!(n > 300, "only {n} ids compared");
}

#[test]
fn forward_twice_changes_nothing_and_rollback_empties_every_table() {
    let (mut c, plan, files) = prepared(
        "rerun",
        "plans/user_app_state.yaml",
        "fixtures/sample_user_app_state.json",
    );
    let users = all_users(&mut c);
    run_batch(&mut c, &plan, &files, &users).unwrap();
    let before = snapshot(&mut c);
    let mismatches = run_batch(&mut c, &plan, &files, &users).unwrap();
    assert!(mismatches.is_empty());
    assert_eq!(
        snapshot(&mut c),
        before,
        "a second forward run changed rows or audit"
    );

    let mut tx = c.transaction().unwrap();
    tx.execute("SELECT set_config('pgshred.rollback_run', '1', true)", &[])
        .unwrap();
    tx.batch_execute(&files["05_rollback.sql"]).unwrap();
    tx.commit().unwrap();
    for t in TABLES {
        assert_eq!(count(&mut c, t), 0, "{t} after rollback");
    }
    let audit: i64 = c
        .query_one("SELECT count(*) FROM pgshred.migration_audit", &[])
        .unwrap()
        .get(0);
    assert_eq!(audit, 0);
}

#[test]
fn rollback_of_one_batch_leaves_the_other_batches() {
    let (mut c, plan, files) = prepared(
        "rollback_batch",
        "plans/user_app_state.yaml",
        "fixtures/sample_user_app_state.json",
    );
    let users = all_users(&mut c);
    let (first, second) = users.split_at(10);
    run_batch(&mut c, &plan, &files, first).unwrap();
    let after_first = snapshot(&mut c);
    run_batch(&mut c, &plan, &files, second).unwrap();
    let batch: i64 = c
        .query_one("SELECT max(id) FROM pgshred.migration_batches", &[])
        .unwrap()
        .get(0);

    let mut tx = c.transaction().unwrap();
    tx.execute(
        "SELECT set_config('pgshred.rollback_batch', $1, true)",
        &[&batch.to_string()],
    )
    .unwrap();
    tx.batch_execute(&files["05_rollback.sql"]).unwrap();
    tx.commit().unwrap();
    assert_eq!(snapshot(&mut c), after_first);
}

#[test]
fn rollback_without_a_selection_refuses() {
    let (mut c, _, files) = prepared(
        "rollback_guard",
        "plans/user_app_state.yaml",
        "fixtures/sample_user_app_state.json",
    );
    let e = c.batch_execute(&files["05_rollback.sql"]).unwrap_err();
    assert!(
        e.as_db_error()
            .unwrap()
            .message()
            .contains("nothing selected to roll back"),
        "{e:?}"
    );
}

#[test]
fn an_uncastable_value_rolls_back_its_batch_and_names_user_entity_path_and_value() {
    let (mut c, plan, files) = prepared(
        "badvalue",
        "plans/user_app_state.yaml",
        "fixtures/sample_user_app_state.json",
    );
    let users = all_users(&mut c);
    run_batch(&mut c, &plan, &files, &users[..5]).unwrap();
    let before = snapshot(&mut c);
    c.execute(
        "UPDATE user_app_state SET state = jsonb_set(state, '{contents,1,wordCount}', '\"lots\"') WHERE user_id = 'user-07'",
        &[],
    )
    .unwrap();
    let rest: Vec<String> = users[5..].to_vec();
    let e = run_batch(&mut c, &plan, &files, &rest).unwrap_err();
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("not a database error: {e:?}"));
    assert_eq!(
        db.message(),
        "pgshred: cannot convert value to integer (user user-07, entity contents, legacy id c_p_7_1_2, path wordCount, value \"lots\")"
    );
    let detail: Value = serde_json::from_str(db.detail().unwrap()).unwrap();
    assert_eq!(detail["path"], "wordCount");
    assert_eq!(detail["value"], "lots");
    assert_eq!(
        snapshot(&mut c),
        before,
        "the failed batch left rows behind"
    );
}

#[test]
fn a_duplicate_id_under_the_error_policy_fails_the_batch() {
    let (mut c, plan, files) = prepared(
        "dupid",
        "plans/user_app_state.yaml",
        "fixtures/sample_user_app_state.json",
    );
    c.execute(
        "UPDATE user_app_state SET state = jsonb_set(state, '{personas}', state->'personas' || (state->'personas'->0)) \
         WHERE user_id = 'user-03'",
        &[],
    )
    .unwrap();
    let e = run_batch(&mut c, &plan, &files, &["user-03".to_string()]).unwrap_err();
    let msg = e.as_db_error().unwrap().message().to_string();
    assert!(
        msg.contains(
            "legacy id appears more than once (user user-03, entity personas, legacy id p_3_1"
        ),
        "{msg}"
    );
    assert_eq!(count(&mut c, "orgs"), 0);
}

#[test]
fn nested_arrays_link_to_their_enclosing_element() {
    let (mut c, plan, files) = prepared(
        "nested",
        "tests/plans/nested/plan.yaml",
        "tests/plans/nested/source.json",
    );
    let users = all_users(&mut c);
    let mismatches = run_batch(&mut c, &plan, &files, &users).unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
    let rows: Vec<(String, String, Option<Value>)> = c
        .query(
            "SELECT n.legacy_id, p.legacy_id, p.extra FROM notes n JOIN people p ON p.id = n.person_id ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        rows.iter()
            .map(|(n, p, _)| (n.as_str(), p.as_str()))
            .collect::<Vec<_>>(),
        [("n1", "a"), ("n2", "a"), ("n3", "b")]
    );
    // The nested array belongs to the child entity, so it is not kept in the parent's extra.
    assert!(rows.iter().all(|(_, _, extra)| extra.is_none()), "{rows:?}");
    let positional: Vec<String> = c
        .query("SELECT legacy_id FROM tags ORDER BY 1", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        positional,
        ["#1.1.1", "t1"],
        "a tag without id falls back to its array position"
    );
}

#[test]
fn updated_at_trigger_and_owner_policies_work() {
    // The shipped plan uses Supabase's auth.uid(); for plain PostgreSQL the owner expression is
    // settable, which is what this test exercises.
    let (mut plan, _) = compiled("plans/user_app_state.yaml");
    plan.owner_expression = "current_setting('app.user_id', true)".into();
    let files = pgshred::codegen::render(&plan).unwrap();
    assert!(
        files["01_schema.sql"]
            .contains("USING (\"user_id\" = (SELECT current_setting('app.user_id', true)))")
    );
    let mut c = connect(&fresh_db("rls"));
    load_source(&mut c, "fixtures/sample_user_app_state.json");
    c.batch_execute(&files["01_schema.sql"]).unwrap();
    c.batch_execute(&files["02_audit.sql"]).unwrap();
    let users = all_users(&mut c);
    run_batch(&mut c, &plan, &files, &users).unwrap();

    let (before, after): (std::time::SystemTime, std::time::SystemTime) = {
        let r = c
            .query_one(
                "WITH old AS (SELECT updated_at FROM personas WHERE legacy_id = 'p_3_1') \
                 UPDATE personas SET tone = 'calm' WHERE legacy_id = 'p_3_1' RETURNING (SELECT updated_at FROM old), updated_at",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert!(after > before, "updated_at was not bumped by the trigger");

    c.batch_execute(&files["06_reconstruct.sql"]).unwrap();
    c.batch_execute(
        "CREATE ROLE app_user NOLOGIN; GRANT USAGE ON SCHEMA public TO app_user; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user; \
         GRANT USAGE ON SCHEMA pgshred TO app_user; GRANT SELECT ON ALL TABLES IN SCHEMA pgshred TO app_user",
    )
    .unwrap();
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("SET LOCAL ROLE app_user; SET LOCAL app.user_id = 'user-04'")
        .unwrap();
    for t in TABLES {
        let table = pgshred::ident::quote_ident(t);
        let (rows, others): (i64, i64) = {
            let r = tx
                .query_one(&format!("SELECT count(*), count(*) FILTER (WHERE user_id <> 'user-04') FROM public.{table}"), &[])
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert!(
            rows > 0 && others == 0,
            "{t}: {rows} rows visible, {others} of other users"
        );
    }
    // Writes: another user's rows can be neither changed nor deleted, and no row can be created
    // for, or handed over to, another user, in any of the seven tables.
    for t in TABLES {
        let table = pgshred::ident::quote_ident(t);
        for sql in [
            format!("UPDATE public.{table} SET legacy_id = legacy_id WHERE user_id <> 'user-04'"),
            format!("DELETE FROM public.{table} WHERE user_id <> 'user-04'"),
        ] {
            assert_eq!(tx.execute(&sql, &[]).unwrap(), 0, "{sql}");
        }
        for sql in [
            format!(
                "INSERT INTO public.{table} SELECT (jsonb_populate_record(NULL::public.{table}, \
                   to_jsonb(x) || jsonb_build_object('id', gen_random_uuid(), 'user_id', 'user-05', 'legacy_id', 'planted'))).* \
                   FROM public.{table} AS x LIMIT 1"
            ),
            format!("UPDATE public.{table} SET user_id = 'user-05' WHERE user_id = 'user-04'"),
        ] {
            let mut sp = tx.savepoint("attempt").unwrap();
            let e = sp.execute(&sql, &[]).unwrap_err();
            assert!(
                e.as_db_error()
                    .is_some_and(|d| d.message().contains("row-level security")),
                "{sql}: {e:?}"
            );
            sp.rollback().unwrap();
        }
    }
    let audit: i64 = tx
        .query_one("SELECT count(*) FROM pgshred.migration_audit", &[])
        .unwrap()
        .get(0);
    assert_eq!(audit, 0, "the audit is visible to application users");
    // The reconstruction view, granted to the application (the dual-read advice), shows each
    // user only their own document.
    let users: Vec<String> = tx
        .query(
            "SELECT user_id FROM pgshred.user_app_state_reconstructed",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        users,
        ["user-04"],
        "the reconstruction view bypasses row-level security"
    );
    let e = tx
        .execute("INSERT INTO orgs (id, user_id, legacy_id, name) VALUES (gen_random_uuid(), 'user-05', 'x', 'x')", &[])
        .unwrap_err();
    assert!(
        e.as_db_error()
            .unwrap()
            .message()
            .contains("row-level security"),
        "{e:?}"
    );
}

#[test]
fn functions_have_a_fixed_search_path_and_row_id_is_still_inlined() {
    let (mut c, _, _) = prepared("search_path", "plans/user_app_state.yaml", common::FIXTURE);
    let unfixed: Vec<String> = c
        .query(
            "SELECT p.proname::text FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace \
              WHERE n.nspname = 'pgshred' AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false) \
              ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    // Only those the planner inlines, whose bodies name their functions. schemas.
    assert_eq!(
        unfixed,
        [
            "array_or_empty",
            "is_date",
            "is_number",
            "is_timestamp",
            "is_timestamp_shaped",
            "is_uuid",
            "object_or_empty",
            "prune",
            "row_id"
        ]
    );
    // The plan the server makes of a query, with every expression written out.
    let explain = |c: &mut postgres::Client, query: &str| -> String {
        c.query(&format!("EXPLAIN (VERBOSE, COSTS OFF) {query}"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Inlined: the plan shows uuid_generate_v5 itself, not a call of row_id.
    let plan = explain(
        &mut c,
        "SELECT pgshred.row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'orgs', x, 'o1') \
           FROM (VALUES ('u1'), ('u2')) AS v(x)",
    );
    assert!(
        plan.contains("uuid_generate_v5") && !plan.contains("row_id"),
        "{plan}"
    );
    // So are the format tests: the plan shows the pattern match itself, with a constant pattern.
    let plan = explain(
        &mut c,
        "SELECT pgshred.is_timestamp(x), pgshred.is_timestamp_shaped(x), pgshred.is_date(x), \
                pgshred.is_date(x, true), pgshred.is_number(x), pgshred.is_uuid(x) \
           FROM (VALUES ('2024-01-01'), ('x')) AS v(x)",
    );
    assert!(
        plan.matches("textregexeq").count() == 6 && !plan.contains("is_"),
        "{plan}"
    );
    // The application's search_path does not matter: a schema that shadows what the functions
    // call changes nothing.
    c.batch_execute(
        "CREATE SCHEMA evil; CREATE FUNCTION evil.left(text, integer) RETURNS text \
         LANGUAGE sql AS $$ SELECT 'HIJACKED' $$; SET search_path = evil, pg_catalog, public",
    )
    .unwrap();
    let e = c
        .query_one(
            "SELECT pgshred.cast_failed('\"lots\"', 'integer', 'u1', 'orgs', 'o1', 'seats')",
            &[],
        )
        .unwrap_err();
    let message = e.as_db_error().unwrap().message().to_string();
    assert!(
        message.contains("value \"lots\"") && !message.contains("HIJACKED"),
        "{message}"
    );
}

/// Every column type's conversion, run by the server as `03_forward.sql` writes it and by the
/// evaluator (`cast::convert`, what preview and the COPY path use), over one corpus of values on
/// one connection: the same values accepted, converted to the same stored value, the same refused.
#[test]
fn the_sql_and_rust_conversions_agree_value_by_value() {
    use pgshred::ir::SqlType;
    use serde_json::{Value, json};
    // A plan with free-text dates, whose schema has the casts that give NULL (try_timestamptz).
    let (mut c, plan, _) = prepared(
        "cast_agreement",
        "plans/kanban.yaml",
        "fixtures/kanban.json",
    );
    c.batch_execute("SET TIME ZONE 'UTC'").unwrap();
    let mut corpus: Vec<Value> = vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(12),
        json!(12.0),
        json!(12.5),
        json!(-0.001),
        json!(1e3),
        json!(2147483647),
        json!(2147483648i64),
        json!(-2147483649i64),
        json!(9223372036854775807i64),
        json!(1234567890123i64),
        json!([]),
        json!(["a", 1, true]),
        json!([null, "b"]),
        json!([["x"]]),
        json!([{}]),
        json!({}),
        json!({"a": 1}),
    ];
    for s in [
        "",
        " ",
        "12",
        " 12 ",
        "+12",
        "12.0",
        "12.00",
        "12.5",
        "1e3",
        "1E-2",
        ".5",
        "5.",
        "-",
        "abc",
        "0x1F",
        "1,000",
        "true",
        "false",
        "t",
        "f",
        "yes",
        "no",
        "Y",
        "n",
        "on",
        "OFF",
        "1",
        "0",
        "2",
        " true ",
        "TRUE",
        "2024-05-01",
        " 2024-05-01 ",
        "2024-02-29",
        "2023-02-29",
        "2024-13-01",
        "2024-04-31",
        "24-05-01",
        "2024-05-01T12:00:00Z",
        "2024-05-01 08:30",
        "2024-05-01T08:30:15.123456+02:00",
        "2024-05-01T24:00:00",
        "2024-05-01T23:59:60Z",
        "2024-05-01T12:00:00+14:00",
        "2024-05-01T12:00:00+15:00",
        "2024-05-01T12:00:00z",
        "2024-05-01t12:00:00Z",
        "0999-01-01",
        "10000-01-01",
        "6f1c3a5e-8b0e-4f4e-9c1a-2b3c4d5e6f70",
        "6F1C3A5E8B0E4F4E9C1A2B3C4D5E6F70",
        "{6f1c3a5e-8b0e-4f4e-9c1a-2b3c4d5e6f70}",
        " 6f1c3a5e-8b0e-4f4e-9c1a-2b3c4d5e6f70 ",
        "6f1c3a5e-8b0e-4f4e-9c1a-2b3c4d5e6f7",
        "not-a-uuid",
        "é",
        "line\nbreak",
        "tab\t",
    ] {
        corpus.push(json!(s));
    }
    let values = Value::Array(corpus.clone());
    let mut disagreements = Vec::new();
    for ty in SqlType::ALL {
        let expr = pgshred::codegen::cast_expression(&plan.audit_schema, ty, "c.v", "c.t").unwrap();
        let sql = format!(
            "SELECT to_jsonb({expr}) FROM (SELECT a.v, jsonb_typeof(a.v) AS t, a.n \
               FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(v, n)) AS c ORDER BY c.n"
        );
        let server: Vec<Option<Value>> = c
            .query(&sql, &[&values])
            .unwrap_or_else(|e| panic!("{}: {e:?}\n{sql}", ty.sql()))
            .iter()
            .map(|r| r.get::<_, Option<pgshred::json::Json>>(0).map(|j| j.0))
            .collect();
        for (v, stored) in corpus.iter().zip(server) {
            // The SQL gives NULL both for a null value and for one it refuses.
            let rust = pgshred::cast::convert(ty, v);
            let agree = match (&rust, &stored) {
                (Ok(Some(a)), Some(b)) => a == b,
                (Ok(None), None) => true,
                (Err(_), None) => !v.is_null(),
                _ => false,
            };
            if !agree {
                disagreements.push(format!(
                    "{} of {v}: rust {rust:?}, server {stored:?}",
                    ty.sql()
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

/// JSON written inside a string (`format: json`): the server and the evaluator read the same text
/// into the same jsonb, refuse the same text, and the round trip writes it back the same, as
/// jsonb's `::text` does (spacing, key order, escapes, numbers in numeric's form).
#[test]
fn json_text_is_read_and_written_back_as_the_server_does() {
    use pgshred::ir::Format;
    use serde_json::{Value, json};
    // The outliner's graph keeps its settings as JSON text, so its schema has try_json_text.
    let (mut c, plan, _) = prepared(
        "json_text_agreement",
        "plans/outliner.yaml",
        "fixtures/outliner.json",
    );
    let column = plan
        .entities
        .iter()
        .flat_map(|e| &e.columns)
        .find(|c| c.format == Some(Format::Json))
        .expect("the outliner has a JSON-text column");
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let mut corpus: Vec<Value> = [
        r#"{"theme":"dark","fontSize":14}"#,
        "{\n  \"b\": [1, 2],\n  \"a\": {}\n}",
        r#"{"a":1,"a":{"x":2}}"#,
        r#"{"longer":1,"z":2,"ab":3,"b":4}"#,
        "[1, 2.50, -0, -0.0, 1e3, 1E-2, 0.1e1, 123456789012345678901234567890.123456789, 1e400]",
        r#""é\u00e9\ud83d\ude00 ☕""#,
        r#""tab\there \"quoted\" back\\slash \/ \b\f\n\r""#,
        r#""ctl\u0001\u001f del\u007f""#,
        r#"{"\u00e9":"key"}"#,
        "null",
        " null ",
        "true",
        "42",
        "\"just a string\"",
        "  {\"b\": true}  ",
        "{}",
        "[]",
        deep.as_str(),
        // Not JSON, for both.
        "",
        " ",
        "{",
        "{'a': 1}",
        "[1,]",
        "01",
        "1.",
        "NaN",
        "{\"a\" 1}",
        r#""\u0000""#,
        r#"{"\u0000":1}"#,
        r#""\ud800""#,
        "\"raw\ttab\"",
        "{\"a\":1} x",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    corpus.extend([json!(null), json!(12), json!({"a": 1}), json!(["{}"])]);
    let values = Value::Array(corpus.clone());
    let expr =
        pgshred::codegen::rendering_expression(&plan.audit_schema, column, "c.v", "c.t").unwrap();
    let sql = format!(
        "SELECT {expr} FROM (SELECT a.v, jsonb_typeof(a.v) AS t, a.n \
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(v, n)) AS c ORDER BY c.n"
    );
    let server: Vec<Option<Value>> = c
        .query(&sql, &[&values])
        .unwrap_or_else(|e| panic!("{e:?}\n{sql}"))
        .iter()
        .map(|r| r.get::<_, Option<pgshred::json::Json>>(0).map(|j| j.0))
        .collect();
    let mut disagreements = Vec::new();
    for (v, stored) in corpus.iter().zip(server) {
        // NULL for a null, for the text `null`, and for what the server refuses.
        let rust = pgshred::cast::convert_column(column, v)
            .ok()
            .flatten()
            .map(|x| Value::String(pgshred::json::jsonb_text(&x)));
        if rust != stored {
            disagreements.push(format!("{v}: rust {rust:?}, server {stored:?}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // And the corpus says something: most texts read, the bad ones refused.
    let read = corpus
        .iter()
        .filter(|v| matches!(pgshred::cast::convert_column(column, v), Ok(Some(_))))
        .count();
    assert_eq!(read, 16, "texts read");
}
