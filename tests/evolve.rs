//! A plan that changes after it ran, against a real PostgreSQL: entities added (backfill), a
//! column's type and a default changed (`--remap`), source rows updated and deleted (`--sync`),
//! and rollback of those batches. Each end state is compared with a fresh run of the same plan on
//! the same documents.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

const V1: [&str; 3] = ["orgs", "personas", "contents"];
const V2: [&str; 5] = ["orgs", "personas", "contents", "accounts", "leads"];

/// A copy of the shipped plan in `dir` with only `entities`, and its mappings, each edited by
/// `edit` (entity, text) -> text. Returns the plan's path.
fn plan_version(dir: &Path, entities: &[&str], edit: impl Fn(&str, String) -> String) -> PathBuf {
    fs::create_dir_all(dir.join("plans")).unwrap();
    fs::create_dir_all(dir.join("mappings")).unwrap();
    let shipped = read("plans/user_app_state.yaml");
    let head = &shipped[..shipped
        .find("mappings:\n")
        .expect("the plan lists its mappings")];
    let mut plan = format!("{head}mappings:\n");
    for e in entities {
        plan.push_str(&format!("  - ../mappings/{e}.yaml\n"));
        let text = edit(e, read(format!("mappings/{e}.yaml")));
        fs::write(dir.join(format!("mappings/{e}.yaml")), text).unwrap();
    }
    let path = dir.join("plans/user_app_state.yaml");
    fs::write(&path, plan).unwrap();
    path
}

fn unchanged(_: &str, text: String) -> String {
    text
}

fn apply(plan: &Path, url: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "apply",
        plan.to_str().unwrap(),
        "--create-schema",
        "--allow-duplicates",
        "--batch-size",
        "4",
    ];
    args.extend_from_slice(extra);
    let o = run(&args, Some(url));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "apply {extra:?}: {out}{err}");
    // The result on stdout and the log on stderr, read together.
    (format!("{out}{err}"), err)
}

/// The tables of `entities` after a fresh run of `plan` on the documents `url` holds now.
fn fresh_run(plan: &Path, url: &str, entities: &[&str]) -> Vec<String> {
    let mut from = connect(url);
    let rows: Vec<serde_json::Value> = from
        .query(
            "SELECT jsonb_build_object('id', id, 'user_id', user_id, 'updated_at', updated_at, 'state', state) FROM user_app_state ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let fresh = source_db_with_rows("evolve_fresh", &rows);
    apply(plan, &fresh, &[]);
    snapshot_of(&fresh, entities)
}

#[test]
fn added_entities_are_backfilled_for_migrated_users_only() {
    let dir = TempDir::new("evolve-add");
    let v1 = plan_version(&dir.path().join("v1"), &V1, unchanged);
    let v2 = plan_version(&dir.path().join("v2"), &V2, unchanged);
    let url = source_db("evolve_add");
    // Part of the users first, so v2 meets both migrated and new users.
    apply(&v1, &url, &["--limit", "8"]);
    let before: i64 = count(&url, "SELECT count(*) FROM public.orgs");

    // A dry run rehearses the backfill and the new users, and leaves everything as it was.
    let v1_tables = snapshot_of(&url, &V1);
    let (out, _) = apply(&v2, &url, &["--dry-run"]);
    assert!(
        out.contains("8 migrated users: backfill accounts, leads"),
        "{out}"
    );
    let users = count(&url, "SELECT count(DISTINCT user_id) FROM user_app_state");
    assert!(out.contains(&format!("dry run: {users} users in")), "{out}");
    assert!(
        !out.contains(" 0 accounts") && !out.contains(" 0 leads"),
        "{out}"
    );
    assert_eq!(snapshot_of(&url, &V1), v1_tables);
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_users"),
        8
    );

    let (out, _) = apply(&v2, &url, &[]);
    assert!(
        out.contains("8 migrated users: backfill accounts, leads"),
        "{out}"
    );
    assert_eq!(snapshot_of(&url, &V2), fresh_run(&v2, &url, &V2));
    // The v1 users' orgs were not written again: no audit of orgs in the second run.
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_audit_sets a JOIN pgshred.migration_runs r ON r.id = a.run_id \
              WHERE r.id = (SELECT max(id) FROM pgshred.migration_runs) AND a.source_entity = 'orgs' \
                AND a.user_id IN (SELECT user_id FROM pgshred.migration_users WHERE run_id < a.run_id)"
        ),
        0
    );
    assert!(count(&url, "SELECT count(*) FROM public.orgs") > before);

    // Status: every user has every entity at the current version.
    let o = run(&["status", v2.to_str().unwrap()], Some(&url));
    let (status, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let users = count(&url, "SELECT count(DISTINCT user_id) FROM user_app_state");
    for e in V2 {
        assert!(
            status.contains(&format!("{e:<12} {users:>8} {:>8} {:>8}", 0, 0)),
            "{e} not current for all {users} users:\n{status}"
        );
    }

    // Rolling back the v2 run takes the backfilled rows away and leaves the v1 users as v1 made them.
    let run_id = count(&url, "SELECT max(id) FROM pgshred.migration_runs").to_string();
    let o = run(
        &["rollback", "--yes", v2.to_str().unwrap(), "--run", &run_id],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(count(&url, "SELECT count(*) FROM public.accounts"), 0);
    assert_eq!(count(&url, "SELECT count(*) FROM public.orgs"), before);
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_users"),
        8
    );
}

#[test]
fn a_changed_mapping_is_refused_then_remapped_with_its_dependents() {
    let dir = TempDir::new("evolve-remap");
    let v2 = plan_version(&dir.path().join("v2"), &V2, unchanged);
    // v3: contents.word_count becomes a bigint; personas get another default tone.
    let v3 = plan_version(&dir.path().join("v3"), &V2, |e, t| match e {
        "contents" => t.replace(
            "path: wordCount,         type: integer",
            "path: wordCount,         type: bigint",
        ),
        "personas" => t.replace("default: neutral", "default: calm"),
        _ => t,
    });
    assert_ne!(
        read(v2.parent().unwrap().join("../mappings/personas.yaml")),
        read(v3.parent().unwrap().join("../mappings/personas.yaml"))
    );
    let url = source_db("evolve_remap");
    apply(&v2, &url, &[]);
    let v2_tables = snapshot_of(&url, &V2);
    let runs = count(&url, "SELECT count(*) FROM pgshred.migration_runs");

    // Without --remap: refused, nothing written, not even the schema change.
    let o = run(
        &[
            "apply",
            v3.to_str().unwrap(),
            "--create-schema",
            "--allow-duplicates",
        ],
        Some(&url),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{out}{err}");
    assert!(
        err.contains("contents") && err.contains("personas"),
        "{err}"
    );
    assert!(err.contains("--remap contents --remap personas"), "{err}");
    assert!(
        err.contains("accounts, leads"),
        "names what hangs below: {err}"
    );
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_runs"),
        runs
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'contents' AND column_name = 'word_count' AND data_type = 'integer'"
        ),
        1
    );

    // A dry run of the re-migration changes nothing.
    let (out, _) = apply(
        &v3,
        &url,
        &["--dry-run", "--remap", "personas", "--remap", "contents"],
    );
    assert!(
        out.contains("re-migrate personas, contents, accounts, leads"),
        "{out}"
    );
    assert_eq!(snapshot_of(&url, &V2), v2_tables);
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_replaced"),
        0
    );

    // --remap both: the tables equal a fresh v3 run; the column is a bigint now.
    let (out, _) = apply(&v3, &url, &["--remap", "personas", "--remap", "contents"]);
    assert!(
        out.contains("re-migrate personas, contents, accounts, leads"),
        "{out}"
    );
    assert_eq!(snapshot_of(&url, &V2), fresh_run(&v3, &url, &V2));
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'contents' AND column_name = 'word_count' AND data_type = 'bigint'"
        ),
        1
    );
    assert!(
        count(
            &url,
            "SELECT count(*) FROM public.personas WHERE tone = 'calm'"
        ) > 0
    );
    // Every user is current again: a second apply has nothing to do.
    let (out, _) = apply(&v3, &url, &[]);
    assert!(
        out.contains("nothing to do: no selected user needs migrating"),
        "{out}"
    );

    // Rolling the remap run back restores the v2 rows and audit exactly.
    // (the last run with batches: the second apply had none)
    let remap_run = count(&url, "SELECT max(run_id) FROM pgshred.migration_batches").to_string();
    let o = run(
        &[
            "rollback",
            "--yes",
            v3.to_str().unwrap(),
            "--run",
            &remap_run,
        ],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(snapshot_of(&url, &V2), v2_tables);
    // A run id that does not exist is an error, not a quiet rollback of nothing.
    let o = run(
        &["rollback", "--yes", v3.to_str().unwrap(), "--run", "999"],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(5), "refused, nothing written");
    assert!(
        text(&o)
            .1
            .contains("there is no run 999 of plan user_app_state"),
        "{:?}",
        text(&o)
    );
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_replaced"),
        0,
        "the archive is emptied by the restore"
    );
}

/// Source changes the application makes before cutover: some documents edited (an org renamed,
/// a content removed, a lead added), some users deleted.
fn change_source(url: &str) -> (Vec<String>, Vec<String>) {
    let mut c = connect(url);
    let users = all_users(&mut c);
    let (edited, deleted) = (
        vec![users[1].clone(), users[3].clone()],
        vec![users[5].clone()],
    );
    c.execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day',
                state = jsonb_set(jsonb_set(state, '{orgs,0,name}', '\"Renamed\"'),
                                  '{contents}', coalesce(state -> 'contents', '[]') - 0)
          WHERE user_id = $1",
        &[&edited[0]],
    )
    .unwrap();
    c.execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day',
                state = jsonb_set(state, '{leads}', coalesce(state -> 'leads', '[]') ||
                        jsonb_build_array(jsonb_build_object('id', 'lead-new', 'name', 'New lead')))
          WHERE user_id = $1",
        &[&edited[1]],
    )
    .unwrap();
    c.execute(
        "DELETE FROM user_app_state WHERE user_id = $1",
        &[&deleted[0]],
    )
    .unwrap();
    (edited, deleted)
}

#[test]
fn sync_follows_the_source_and_its_rollback_restores_the_rows_it_replaced() {
    let dir = TempDir::new("evolve-sync");
    let v2 = plan_version(&dir.path().join("v2"), &V2, unchanged);
    let url = source_db("evolve_sync");
    apply(&v2, &url, &[]);
    let before = snapshot_of(&url, &V2);
    let users = all_users(&mut connect(&url));
    let changed = [users[1].clone(), users[3].clone(), users[5].clone()];
    // Rows of the users the source change leaves alone, with when they were written.
    let untouched_stamps = || -> Vec<String> {
        connect(&url)
            .query(
                "SELECT id::text || ' ' || created_at::text FROM public.contents WHERE user_id <> ALL ($1) ORDER BY id",
                &[&changed.to_vec()],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let stamps = untouched_stamps();
    let (edited, deleted) = change_source(&url);
    assert_eq!([edited.clone(), deleted.clone()].concat(), changed.to_vec());

    let (out, _) = apply(&v2, &url, &["--sync"]);
    assert!(
        out.contains("3 migrated users changed at the source"),
        "{out}"
    );
    assert_eq!(snapshot_of(&url, &V2), fresh_run(&v2, &url, &V2));
    assert_eq!(rows_of_users_in(&url, &deleted, &V2), 0);
    assert_eq!(
        count(
            &url,
            &format!(
                "SELECT count(*) FROM public.leads WHERE legacy_id = 'lead-new' AND user_id = '{}'",
                edited[1]
            )
        ),
        1
    );
    // Users whose source did not change were not rewritten (their rows keep their created_at).
    assert!(!stamps.is_empty());
    assert!(
        untouched_stamps() == stamps,
        "rows of unchanged users were rewritten"
    );
    // A second sync finds nothing to do.
    let (out, _) = apply(&v2, &url, &["--sync"]);
    assert!(
        out.contains("nothing to do: no selected user needs migrating"),
        "{out}"
    );

    // Rolling back the sync puts back exactly the rows it replaced, users' ledger entries too.
    // The first sync (the second had no batches).
    let sync_run = count(
        &url,
        "SELECT max(run_id) FROM pgshred.migration_batches b JOIN pgshred.migration_runs r ON r.id = b.run_id \
          WHERE r.options ->> 'sync' = 'true'",
    )
    .to_string();
    let o = run(
        &[
            "rollback",
            "--yes",
            v2.to_str().unwrap(),
            "--run",
            &sync_run,
        ],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(snapshot_of(&url, &V2), before);
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_users"),
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_users WHERE run_id = 1"
        )
    );
    // After another sync, rolling back run 1 alone would pull rows out from under the sync's
    // batch: refused, with nothing changed.
    apply(&v2, &url, &["--sync"]);
    let o = run(
        &["rollback", "--yes", v2.to_str().unwrap(), "--run", "1"],
        Some(&url),
    );
    let (_, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("was migrated again by batch"), "{err}");
    assert_eq!(
        snapshot_of(&url, &V2),
        fresh_run(&v2, &url, &V2),
        "the refused rollback changed nothing"
    );
}

#[test]
fn a_sync_that_meets_a_broken_document_keeps_the_old_rows_until_a_retry() {
    let dir = TempDir::new("evolve-sync-bad");
    let v2 = plan_version(&dir.path().join("v2"), &V2, unchanged);
    let url = source_db("evolve_sync_bad");
    apply(&v2, &url, &[]);
    let mut c = connect(&url);
    let users = all_users(&mut c);
    let (bad, good) = (&users[2], &users[4]);
    let rows_before = rows_of_users_in(&url, std::slice::from_ref(bad), &V2);
    let stamp = |c: &mut postgres::Client, user: &str| -> String {
        c.query_one(
            "SELECT string_agg(id::text || name, ',' ORDER BY id) FROM public.orgs WHERE user_id = $1",
            &[&user],
        )
        .unwrap()
        .get(0)
    };
    let bad_orgs = stamp(&mut c, bad);
    // The bad user's new document has an org without a name (required); the good user's renames one.
    c.execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day',
                state = jsonb_set(state, '{orgs,0}', (state #> '{orgs,0}') - 'name') WHERE user_id = $1",
        &[bad],
    )
    .unwrap();
    c.execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day',
                state = jsonb_set(state, '{orgs,0,name}', '\"Renamed\"') WHERE user_id = $1",
        &[good],
    )
    .unwrap();

    let (out, _) = apply(&v2, &url, &["--sync", "--max-bad-users", "5"]);
    assert!(out.contains(&format!("quarantined user {bad}")), "{out}");
    // The bad user keeps the rows of its previous document; the good one is synced.
    assert_eq!(
        rows_of_users_in(&url, std::slice::from_ref(bad), &V2),
        rows_before
    );
    assert_eq!(stamp(&mut c, bad), bad_orgs);
    assert!(stamp(&mut c, good).contains("Renamed"));

    // Fixed at the source, the retry replaces its rows: the tables equal a fresh run.
    c.execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day',
                state = jsonb_set(state, '{orgs,0,name}', '\"Fixed\"') WHERE user_id = $1",
        &[bad],
    )
    .unwrap();
    apply(&v2, &url, &["--retry-quarantined"]);
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_quarantine"),
        0
    );
    assert!(stamp(&mut c, bad).contains("Fixed"));
    assert_eq!(snapshot_of(&url, &V2), fresh_run(&v2, &url, &V2));
}

#[test]
fn a_document_changed_while_its_batch_runs_is_taken_again_by_the_next_sync() {
    let dir = TempDir::new("evolve-midbatch");
    let v2 = plan_version(&dir.path().join("v2"), &V2, unchanged);
    let url = source_db("evolve_midbatch");
    let mut c = connect(&url);
    let user = all_users(&mut c)[3].clone();
    apply(&v2, &url, &["--limit", "1"]);
    // The application changes the user's document after the batch has begun reading it: here a
    // trigger does it once, when the batch writes the user's first org.
    c.batch_execute(&format!(
        "CREATE FUNCTION change_midway() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             UPDATE user_app_state SET updated_at = updated_at + interval '1 day',
                    state = jsonb_set(state, '{{orgs,0,name}}', '\"Changed mid-batch\"')
              WHERE user_id = NEW.user_id
                AND state #>> '{{orgs,0,name}}' IS DISTINCT FROM 'Changed mid-batch';
             RETURN NEW;
         END $$;
         CREATE TRIGGER change_midway AFTER INSERT ON public.orgs FOR EACH ROW
             WHEN (NEW.user_id = '{user}') EXECUTE FUNCTION change_midway();"
    ))
    .unwrap();
    apply(&v2, &url, &[]);
    assert_eq!(
        count(
            &url,
            &format!(
                "SELECT count(*) FROM public.orgs WHERE user_id = '{user}' AND name = 'Changed mid-batch'"
            )
        ),
        0,
        "the org was written before the change"
    );
    // The ledger kept the version the batch began with, so the change is not lost: the next
    // sync takes the user again and the tables equal a fresh run of the current documents.
    let (out, _) = apply(&v2, &url, &["--sync"]);
    assert!(
        out.contains("1 migrated user changed at the source (newer updated_at, or gone): re-migrating it whole"),
        "{out}"
    );
    assert_eq!(
        count(
            &url,
            &format!(
                "SELECT count(*) FROM public.orgs WHERE user_id = '{user}' AND name = 'Changed mid-batch'"
            )
        ),
        1
    );
    c.batch_execute("DROP TRIGGER change_midway ON public.orgs")
        .unwrap();
    assert_eq!(snapshot_of(&url, &V2), fresh_run(&v2, &url, &V2));
}

#[test]
fn a_retyped_column_is_never_written_in_its_old_type() {
    let dir = TempDir::new("evolve-retype");
    let v2 = plan_version(&dir.path().join("v2"), &V2, unchanged);
    let v3 = plan_version(&dir.path().join("v3"), &V2, |e, t| match e {
        "accounts" => t.replace(
            "path: followers,         type: bigint",
            "path: followers,         type: numeric",
        ),
        _ => t,
    });
    let url = source_db("evolve_retype");
    apply(&v2, &url, &[]);
    connect(&url)
        .execute(
            "UPDATE user_app_state SET updated_at = updated_at + interval '1 day', \
                    state = jsonb_set(state, '{accounts,0,followers}', '12.5') \
              WHERE user_id = 'user-01'",
            &[],
        )
        .unwrap();
    let runs = count(&url, "SELECT count(*) FROM pgshred.migration_runs");
    // The mapping says numeric, the live column is still bigint: refused before anything.
    let o = run(
        &[
            "apply",
            v3.to_str().unwrap(),
            "--allow-duplicates",
            "--sync",
            "--remap",
            "accounts",
        ],
        Some(&url),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{out}{err}");
    assert!(
        err.contains("accounts.followers is bigint, the mapping says numeric"),
        "{err}"
    );
    assert!(err.contains("--create-schema"), "{err}");
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_runs"),
        runs
    );
    // With the schema change applied, the value is kept exactly.
    apply(&v3, &url, &["--sync", "--remap", "accounts"]);
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM accounts WHERE user_id = 'user-01' AND followers = 12.5"
        ),
        1
    );
}

#[test]
fn legacy_ids_made_unique_per_parent_get_new_ids_and_a_new_key() {
    // The keyed test plan, its checklist items first unique per user, then per list.
    let dir = TempDir::new("evolve-unique-within");
    let copy = |name: &str, per_parent: bool| -> PathBuf {
        let to = dir.path().join(name);
        fs::create_dir_all(to.join("mappings")).unwrap();
        let from = root().join("tests/plans/keyed");
        for e in fs::read_dir(from.join("mappings")).unwrap() {
            let e = e.unwrap();
            let mut t = fs::read_to_string(e.path()).unwrap();
            if !per_parent && e.file_name() == "items.yaml" {
                t = t.replace("  unique_within: parent\n", "");
            }
            fs::write(to.join("mappings").join(e.file_name()), t).unwrap();
        }
        fs::copy(from.join("plan.yaml"), to.join("plan.yaml")).unwrap();
        to.join("plan.yaml")
    };
    let (v1, v2) = (copy("v1", false), copy("v2", true));
    // Item ids distinct within each user, as v1 requires.
    let mut rows: Vec<serde_json::Value> =
        serde_json::from_str(&read("tests/plans/keyed/source.json")).unwrap();
    rows[0]["state"]["lists"][2]["items"][0]["id"] = "3".into();
    let url = source_db_with_rows("evolve_unique_within", &rows);
    apply(&v1, &url, &[]);
    let v1_items = snapshot_of(&url, &["items"]);
    let key = "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.items'::regclass AND conname = ";

    // A changed mapping: refused without --remap, then re-migrated with new ids.
    let o = run(
        &["apply", v2.to_str().unwrap(), "--create-schema"],
        Some(&url),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{out}{err}");
    // Subtasks hang below items by the items' ids: their statement changed with them.
    assert!(err.contains("--remap items --remap subtasks"), "{err}");
    apply(&v2, &url, &["--remap", "items", "--remap", "subtasks"]);
    assert_eq!(
        count(&url, &format!("{key}'items_user_id_legacy_id_key'")),
        0
    );
    assert_eq!(
        count(&url, &format!("{key}'items_user_id_list_id_legacy_id_key'")),
        1
    );
    let v2_items = snapshot_of(&url, &["items", "subtasks"]);
    assert_ne!(v1_items[0], v2_items[0], "the rows get new ids");
    assert_eq!(v2_items, fresh_run(&v2, &url, &["items", "subtasks"]));
}

#[test]
fn the_copy_engine_syncs_remaps_and_rolls_back_like_the_sql_engine() {
    // v2 written by COPY; the source changes; --sync by COPY equals a fresh run, and rolling it
    // back restores the rows it replaced; synced again, a changed mapping re-migrated by COPY
    // (--remap) equals a fresh run too.
    let dir = TempDir::new("evolve-copy");
    let v2 = plan_version(&dir.path().join("v2"), &V2, unchanged);
    let v3 = plan_version(&dir.path().join("v3"), &V2, |e, t| match e {
        "personas" => t.replace("default: neutral", "default: calm"),
        _ => t,
    });
    let url = source_db("evolve_copy");
    apply(&v2, &url, &["--engine", "copy"]);
    let before = snapshot_of(&url, &V2);
    change_source(&url);
    let (out, _) = apply(&v2, &url, &["--engine", "copy", "--sync"]);
    assert!(
        out.contains("3 migrated users changed at the source"),
        "{out}"
    );
    assert_eq!(snapshot_of(&url, &V2), fresh_run(&v2, &url, &V2));
    let sync_run = count(&url, "SELECT max(id) FROM pgshred.migration_runs");
    let o = run(
        &[
            "rollback",
            "--yes",
            v2.to_str().unwrap(),
            "--run",
            &sync_run.to_string(),
        ],
        Some(&url),
    );
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(
        snapshot_of(&url, &V2),
        before,
        "the rows the sync replaced are back"
    );
    apply(&v2, &url, &["--engine", "copy", "--sync"]);
    apply(&v3, &url, &["--engine", "copy", "--remap", "personas"]);
    assert_eq!(snapshot_of(&url, &V2), fresh_run(&v3, &url, &V2));
}
