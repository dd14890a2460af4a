//! Documents of every shape through apply, the preview and the round trip: nested, keyed, scalar,
//! rooted, recursive, routed, linked and referenced entities, with fixtures of their own under
//! `tests/plans/` and the example plans; and both engines writing the same rows.

mod common;

use common::shapes::*;
use common::{connect, fresh_db, load_fixture};
use serde_json::Value;

const PLAN: &str = "plans/user_app_state.yaml";
const FIXTURE: &str = "fixtures/sample_user_app_state.json";

#[test]
fn round_trip_rebuilds_nested_children_inside_their_parents() {
    let plan = "tests/plans/nested/plan.yaml";
    let url = migrated("roundtrip_nested", plan, "tests/plans/nested/source.json");
    let o = pgshred(&["verify", plan, "--roundtrip"], Some(&url));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let state: Value = connect(&url)
        .query_one(
            "SELECT state FROM pgshred.nested_demo_reconstructed WHERE user_id = 'u1'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(state["people"][0]["notes"][0]["tags"][0]["label"], "no id");
    assert!(
        state["people"][0]["notes"][0]["tags"][0]
            .get("id")
            .is_none(),
        "a positional id is not written back"
    );
}

#[test]
fn arrays_come_back_in_their_source_order() {
    // Legacy ids whose text order is not the document's order: `#10` before `#2`, `c` before `a`.
    let url = migrated("roundtrip_order", PLAN, FIXTURE);
    let mut c = connect(&url);
    c.batch_execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day', state = jsonb_set(state, '{orgs}', \
           '[{\"id\": \"org_c\", \"name\": \"C\"}, {\"id\": \"org_#10\", \"name\": \"Ten\"}, {\"id\": \"org_#2\", \"name\": \"Two\"}, {\"id\": \"org_a\", \"name\": \"A\"}]') \
          WHERE user_id = 'user-01'",
    )
    .unwrap();
    let o = pgshred(&["apply", PLAN, "--sync", "--allow-duplicates"], Some(&url));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ids: Vec<String> = first_column(
        &mut c,
        "SELECT o ->> 'id' FROM pgshred.user_app_state_reconstructed AS r, \
                    jsonb_array_elements(r.state -> 'orgs') WITH ORDINALITY AS a(o, n) \
              WHERE r.user_id = 'user-01' ORDER BY a.n",
    );
    assert_eq!(ids, ["org_c", "org_#10", "org_#2", "org_a"]);
    let positions: Vec<i32> = first_column(
        &mut c,
        "SELECT position FROM orgs WHERE user_id = 'user-01' ORDER BY position",
    );
    assert_eq!(positions, [1, 2, 3, 4]);
    let (code, out) = verify_roundtrip_of(&url, "user-01");
    assert_eq!(code, Some(0), "{out}");
    // Order lost in the tables is a difference the round trip names.
    c.batch_execute("UPDATE orgs SET position = 5 - position WHERE user_id = 'user-01'")
        .unwrap();
    let (code, out) = verify_roundtrip_of(&url, "user-01");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("user user-01: orgs (order of legacy ids): lost (order of elements): source [\"org_c\",\"org_#10\",\"org_#2\",\"org_a\"], rebuilt [\"org_a\",\"org_#2\",\"org_#10\",\"org_c\"]"),
        "{out}"
    );
}

/// A small deterministic generator (xorshift), so the generated documents are the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A document for the shipped plan's orgs, personas and contents: ids that are strings or
/// integers, arrays in no particular order, mapped keys that are null or absent, unknown keys,
/// nested objects, numbers at the integer limit.
fn generated_document(rng: &mut Rng, user: usize) -> serde_json::Value {
    use serde_json::json;
    let id = |rng: &mut Rng, prefix: &str, n: u64| -> serde_json::Value {
        if rng.chance(30) {
            json!(1000 * user as u64 + n)
        } else {
            json!(format!("{prefix}_{user}_{n}_{}", rng.below(1000)))
        }
    };
    let orgs: Vec<serde_json::Value> = (0..1 + rng.below(4))
        .map(|n| {
            let mut o = json!({"id": id(rng, "org", n), "name": format!("Org {n}")});
            if rng.chance(50) {
                o["seats"] = if rng.chance(20) {
                    json!(2147483647)
                } else {
                    json!(rng.below(50))
                };
            }
            if rng.chance(30) {
                o["plan"] = serde_json::Value::Null;
            }
            if rng.chance(30) {
                o["settings"] = json!({"theme": "dark", "beta": [1, 2, {"x": null}]});
            }
            if rng.chance(30) {
                o["color"] = json!(["red", null, 3]);
            }
            // Keys from other systems and numbers at the edges, kept in extra.
            if rng.chance(40) {
                o["create-time"] = json!(1_717_171_717_171_i64);
                o[":log/id"] = json!(-9_223_372_036_854_775_808_i64);
                o["a.b c"] = json!({"[x]": 1e300, "\"q\"": -0.0, "empty": {}});
            }
            o
        })
        .collect();
    let personas: Vec<serde_json::Value> = (0..rng.below(4))
        .map(|n| {
            let org = &orgs[rng.below(orgs.len() as u64) as usize]["id"];
            let mut p = json!({"id": id(rng, "p", n), "orgId": org.clone(), "name": format!("Persona {n}")});
            if rng.chance(50) {
                p["profile"] = json!({"bio": if rng.chance(30) { serde_json::Value::Null } else { json!("bio") }, "links": []});
            }
            if rng.chance(30) {
                p["isDefault"] = json!(rng.chance(50));
            }
            p
        })
        .collect();
    let mut doc = json!({"orgs": orgs});
    if !personas.is_empty() {
        doc["personas"] = json!(personas);
    }
    doc
}

#[test]
fn generated_documents_come_back_with_nothing_lost() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let rows: Vec<serde_json::Value> = (0..60)
        .map(|u| {
            serde_json::json!({
                "id": u,
                "user_id": format!("gen-{u:03}"),
                "updated_at": "2024-06-01T00:00:00Z",
                "state": generated_document(&mut rng, u),
            })
        })
        .collect();
    let url = common::source_db_with_rows("roundtrip_generated", &rows);
    let o = pgshred(
        &["apply", PLAN, "--create-schema", "--allow-duplicates"],
        Some(&url),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = pgshred(
        &["verify", PLAN, "--roundtrip", "--format", "json"],
        Some(&url),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, diffs) = lines.split_last().unwrap();
    let lost: Vec<&Value> = diffs.iter().filter(|d| d["class"] == "lost").collect();
    assert!(lost.is_empty(), "{lost:#?}");
    assert_eq!(summary["users_compared"], 60);
    assert_eq!(o.status.code(), Some(0), "{out}");
    // What is not exact is only what the mapping says: defaults filled in, dropped keys, and
    // duplicates under keep_first; never an id's JSON type, a null or an order.
    for d in diffs {
        assert!(
            [
                "default filled in",
                "dropped",
                "duplicate left out (keep_first)"
            ]
            .contains(&d["kind"].as_str().unwrap()),
            "{d}"
        );
    }
}

/// The shipped plans and mappings, copied into `dir` to be edited.
fn copy_shipped_plan(dir: &std::path::Path) {
    for sub in ["plans", "mappings"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        // The shipped plan's own files; the example plans' mappings sit in folders of their own.
        for f in std::fs::read_dir(common::root().join(sub)).unwrap() {
            let f = f.unwrap();
            if f.path().is_file() {
                std::fs::copy(f.path(), dir.join(sub).join(f.file_name())).unwrap();
            }
        }
    }
}

#[test]
fn keep_original_makes_a_column_come_back_byte_exact() {
    let dir = common::TempDir::new("keep-original");
    copy_shipped_plan(dir.path());
    let orgs = dir.path().join("mappings/orgs.yaml");
    let text = std::fs::read_to_string(&orgs).unwrap().replace(
        "path: createdAt,         type: timestamptz }",
        "path: createdAt,         type: timestamptz, keep_original: true }",
    );
    assert!(text.contains("keep_original: true"));
    std::fs::write(&orgs, text).unwrap();
    let plan = dir.path().join("plans/user_app_state.yaml");
    let plan = plan.to_str().unwrap();
    let url = migrated("keep_original", plan, FIXTURE);
    let o = pgshred(
        &["verify", plan, "--roundtrip", "--format", "json"],
        Some(&url),
    );
    let diffs: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let org_dates = |d: &&Value| {
        d["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("orgs[") && p.ends_with(".createdAt"))
    };
    assert_eq!(diffs.iter().filter(org_dates).count(), 0, "{diffs:#?}");
    // The column still holds the typed value.
    let n: i64 = connect(&url)
        .query_one(
            "SELECT count(*) FROM orgs WHERE source_created_at IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(n > 0);
    // Without it, the same dates come back normalized.
    let url = migrated("keep_original_off", PLAN, FIXTURE);
    let o = pgshred(
        &["verify", PLAN, "--roundtrip", "--format", "json"],
        Some(&url),
    );
    let diffs: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(diffs.iter().filter(org_dates).count() > 0);
}

#[test]
fn preview_warns_when_a_text_column_would_lose_a_json_type() {
    let dir = common::TempDir::new("type-lost");
    let input = dir.path().join("input.json");
    let rows = serde_json::json!([{
        "user_id": "u1",
        "updated_at": "2024-01-01T00:00:00Z",
        "state": {"orgs": [{"id": "o1", "name": 42, "plan": true}]}
    }]);
    std::fs::write(&input, rows.to_string()).unwrap();
    let o = pgshred(
        &["preview", PLAN, "--input-file", input.to_str().unwrap()],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("note  type_lost orgs name: 1 time, 1 user"),
        "{out}"
    );
    assert!(
        out.contains("note  type_lost orgs plan: 1 time, 1 user"),
        "{out}"
    );
}

/// The shipped plan in `dir` with an entity for the document root (one row per user holding
/// settings.darkMode), beside the shipped entities or `alone`; the plan's path.
fn with_root_entity(dir: &std::path::Path, alone: bool) -> String {
    copy_shipped_plan(dir);
    std::fs::write(
        dir.join("mappings/profile.yaml"),
        "entity: profile\ntable: profiles\nsource:\n  path: $\ncolumns:\n  - { name: dark_mode, path: settings.darkMode, type: boolean }\n",
    )
    .unwrap();
    let plan_path = dir.join("plans/user_app_state.yaml");
    let text = std::fs::read_to_string(&plan_path).unwrap();
    let (head, mappings) = text.split_once("mappings:\n").unwrap();
    let others = if alone { "" } else { mappings };
    std::fs::write(
        &plan_path,
        format!("{head}mappings:\n  - ../mappings/profile.yaml\n{others}"),
    )
    .unwrap();
    plan_path.to_str().unwrap().to_string()
}

#[test]
fn a_document_root_entity_keeps_root_keys_and_top_level_arrays() {
    // The shipped plan plus an entity for the document root: in its extra every root key no
    // other entity reads, and the top-level arrays that are empty or null.
    let dir = common::TempDir::new("root-entity");
    let plan = &with_root_entity(dir.path(), false);
    let url = migrated("root_entity", plan, FIXTURE);
    let mut c = connect(&url);
    let users: i64 = c
        .query_one("SELECT count(*) FROM profiles", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 22, "one row per user");
    // Everything comes back but the JSON type of one number in a text[] list, which no column of
    // that type can keep.
    let o = pgshred(&["verify", plan, "--roundtrip"], Some(&url));
    let out = String::from_utf8_lossy(&o.stdout);
    let lost: Vec<&str> = out.lines().filter(|l| l.contains(": lost (")).collect();
    assert_eq!(
        lost,
        [
            "user user-17: contents[id=c_p_17_1_1].tags: lost (number came back as text): source [\"launch\",2024], rebuilt [\"launch\",\"2024\"]"
        ],
        "{out}"
    );
    // The preview writes the same rows as the database.
    preview_equals_database(&mut c, plan, FIXTURE, &["profiles"]);
}

/// A plan whose one entity is the document root: one row per user, every key in its columns or
/// its extra. It validated, compiled and previewed, then failed at apply: the rebuilt view's list
/// of top-level arrays was an untyped empty array.
#[test]
fn a_plan_of_the_document_root_alone_applies_and_comes_back_whole() {
    let dir = common::TempDir::new("root-alone");
    let plan = &with_root_entity(dir.path(), true);
    let url = migrated("root_alone", plan, FIXTURE);
    let mut c = connect(&url);
    let users: i64 = c
        .query_one("SELECT count(*) FROM profiles", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 22, "one row per user");
    roundtrip_clean(plan, &url, 22);
    preview_equals_database(&mut c, plan, FIXTURE, &["profiles"]);
}

#[test]
fn objects_keyed_by_id_migrate_and_come_back_exactly() {
    let plan = "tests/plans/keyed/plan.yaml";
    let url = migrated("keyed", plan, "tests/plans/keyed/source.json");
    let mut c = connect(&url);
    let cards: Vec<(String, Option<i32>)> = c
        .query(
            "SELECT legacy_id, position FROM cards WHERE user_id = 'u1' ORDER BY position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // Member keys are the legacy ids, in jsonb's order of keys (shorter first).
    assert_eq!(
        cards,
        [
            ("c_2".into(), Some(1)),
            ("c_3".into(), Some(2)),
            ("c_10".into(), Some(3))
        ]
    );
    let labels: i64 = c
        .query_one("SELECT count(*) FROM labels WHERE list_id IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert_eq!(labels, 4);
    // Labels and checklist items are unique per list: `green` and item `1` appear in two lists
    // of u1, each its own row with its own id; so is subtask `a` of item 1 in each list.
    for (table, legacy) in [("labels", "green"), ("items", "1"), ("subtasks", "a")] {
        let ids: i64 = c
            .query_one(
                &format!(
                    "SELECT count(DISTINCT id) FROM {table} WHERE user_id = 'u1' AND legacy_id = $1"
                ),
                &[&legacy],
            )
            .unwrap()
            .get(0);
        assert_eq!(ids, 2, "{table} {legacy}");
    }
    // Nested in a keyed card: item 1 of c_10 and item 1 of c_2, each under its own card.
    let items: Vec<(String, String)> = c
        .query(
            "SELECT k.legacy_id, i.legacy_id FROM checklist_items AS i JOIN cards AS k ON k.id = i.card_id ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        items,
        pairs(&[("c_10", "1"), ("c_10", "2"), ("c_2", "1"), ("c_2", "3")])
    );
    // id_type: number: ids written as numbers come back from the legacy id alone; the one
    // written as text is kept in extra, so it comes back as text.
    let kept: Vec<String> = first_column(
        &mut c,
        "SELECT legacy_id || ' ' || coalesce(extra ->> 'id', '-') FROM checklist_items ORDER BY 1",
    );
    assert_eq!(kept, ["1 -", "1 -", "2 -", "3 3"]);
    // Nested in a single object: the pinned list ids hang from the one settings row.
    let pinned: i64 = c
        .query_one(
            "SELECT count(*) FROM pinned_lists AS p JOIN settings AS s ON s.id = p.settings_id",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(pinned, 2);
    roundtrip_clean(plan, &url, 3);
    // The preview writes the same rows as the database, table by table.
    preview_equals_database(
        &mut c,
        plan,
        "tests/plans/keyed/source.json",
        &[
            "boards",
            "lists",
            "cards",
            "labels",
            "items",
            "subtasks",
            "checklist_items",
            "settings",
            "pinned_lists",
            "list_meta",
        ],
    );
}

#[test]
fn arrays_and_keyed_objects_of_scalars_migrate_and_come_back_exactly() {
    let plan = "tests/plans/scalars/plan.yaml";
    let input = "tests/plans/scalars/source.json";
    let url = migrated("scalars", plan, input);
    let mut c = connect(&url);
    let notes: Vec<(String, Option<String>, Option<i32>)> = c
        .query(
            "SELECT legacy_id, body, position FROM notes WHERE user_id = 'u1' ORDER BY position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        notes,
        [
            ("#1".into(), Some("buy milk".into()), Some(1)),
            ("#2".into(), Some("call Ann".into()), Some(2)),
            ("#3".into(), None, Some(3)),
            ("#4".into(), Some("buy milk".into()), Some(4)),
        ]
    );
    let scores: Vec<(String, i32)> = c
        .query(
            "SELECT legacy_id, score FROM scores WHERE user_id = 'u1' ORDER BY legacy_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(scores, [("art".into(), 75), ("math".into(), 90)]);
    roundtrip_clean(plan, &url, 2);
    preview_equals_database(
        &mut c,
        plan,
        input,
        &["docs", "notes", "items", "item_tags", "scores"],
    );
}

#[test]
fn keys_from_other_systems_are_written_in_quotes_and_come_back() {
    let plan = "tests/plans/keys/plan.yaml";
    let input = "tests/plans/keys/source.json";
    let url = migrated("keys", plan, input);
    let mut c = connect(&url);
    let events: Vec<(String, Option<String>, String)> = c
        .query(
            "SELECT legacy_id, uid, day::text FROM events ORDER BY position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        events,
        [
            ("e1".into(), Some("ann".into()), "2024-02-29".into()),
            ("e2".into(), Some("bob".into()), "2023-07-03".into())
        ]
    );
    // Keys holding dots: a column, a nested array, its legacy ids, a setting.
    let files: Vec<(String, Option<i32>)> = c
        .query(
            "SELECT legacy_id, size_kb FROM event_files ORDER BY position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(files, [("f.1".into(), Some(12)), ("f.2".into(), None)]);
    let (version, theme): (Option<String>, Option<String>) = c
        .query_one(
            "SELECT e.app_version, d.theme FROM events AS e JOIN docs AS d USING (user_id) WHERE e.legacy_id = 'e1'",
            &[],
        )
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(
        (version.as_deref(), theme.as_deref()),
        (Some("1.2.3"), Some("dark"))
    );
    // Free-text dates: kept whole, parsed where they name a day or a time, NULL where not.
    let parsed: Vec<(String, Option<String>, Option<String>)> = c
        .query(
            "SELECT when_text, when_day::text, to_char(seen_at, 'YYYY-MM-DD HH24:MI') FROM events ORDER BY position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        parsed,
        [
            (
                "01/07/2024".into(),
                Some("2024-07-01".into()),
                Some("2024-02-29 10:00".into())
            ),
            ("next week".into(), None, None)
        ]
    );
    let out = roundtrip_clean(plan, &url, 2);
    assert!(out.contains("declared   dropped: 2"), "{out}");
    preview_equals_database(&mut c, plan, input, &["docs", "events", "event_files"]);
}

#[test]
fn an_empty_object_that_holds_mapped_keys_comes_back() {
    // personas map profile.bio and profile.avatarUrl: a persona whose profile is {} has nothing
    // for those columns, and its profile must still come back as {} (and one with none, without).
    let doc = serde_json::json!({
        "orgs": [{"id": "o1", "name": "Org"}],
        "personas": [
            {"id": "p1", "orgId": "o1", "name": "Empty", "profile": {}},
            {"id": "p2", "orgId": "o1", "name": "None"},
            {"id": "p3", "orgId": "o1", "name": "Full", "profile": {"bio": "b"}}
        ]
    });
    let rows = vec![serde_json::json!({"id": 1, "user_id": "u1",
        "updated_at": "2024-06-01T00:00:00Z", "state": doc})];
    for engine in ["sql", "copy"] {
        let url = common::source_db_with_rows(&format!("empty_object_{engine}"), &rows);
        let o = pgshred(
            &["apply", PLAN, "--create-schema", "--engine", engine],
            Some(&url),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let extra: Option<Value> = connect(&url)
            .query_one("SELECT extra FROM personas WHERE legacy_id = 'p1'", &[])
            .unwrap()
            .get(0);
        assert_eq!(extra, Some(serde_json::json!({"profile": {}})), "{engine}");
        let (code, out) = verify_roundtrip_of(&url, "u1");
        assert_eq!(code, Some(0), "{engine}: {out}");
    }
}

#[test]
fn a_legacy_id_twice_under_one_parent_is_named_and_writes_nothing() {
    // Item `1` twice in list l1 is a duplicate; item `1` in l1 and in l3 is not.
    let plan = "tests/plans/keyed/plan.yaml";
    let guard = common::TempDir::new("dup_per_parent");
    let input = guard.path().join("dup.json");
    let lists = serde_json::json!([
        {"id": "l1", "name": "Todo", "items": [{"id": "1", "text": "a"}, {"id": "1", "text": "b"}]},
        {"id": "l3", "name": "Later", "items": [{"id": "1", "text": "c"}]}
    ]);
    let users = serde_json::json!([{"id": 1, "user_id": "u1", "updated_at": "2024-06-01T00:00:00Z",
        "state": {"lists": lists}}]);
    std::fs::write(&input, users.to_string()).unwrap();
    let input = input.to_str().unwrap();

    let o = pgshred(&["preview", plan, "--input-file", input], None);
    let report = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{report}");
    assert!(
        report.contains("ABORT duplicate_id items id: 1 time, 1 user"),
        "{report}"
    );
    assert!(
        report.contains("legacy id appears 2 times under parent l1"),
        "{report}"
    );

    fails_its_batch(
        "dup_per_parent",
        plan,
        input,
        "legacy id appears more than once (user u1, entity items, legacy id 1",
        "items",
    );
}

/// The example plans migrate their fixtures, the database holds the rows the preview computes,
/// and the round trip loses nothing.
fn example_plan_round_trips(name: &str, tables: &[&str]) {
    let fixture = format!("fixtures/{name}.json");
    round_trips(name, name, &fixture, tables, 20);
    // And `pgshred generate --shape NAME`'s documents, as the benchmarks load them.
    let guard = common::TempDir::new(&format!("generated-{name}"));
    let generated = guard.path().join("users.json");
    let o = pgshred(
        &[
            "generate",
            "--users",
            "40",
            "--shape",
            name,
            "--messy-percent",
            "0",
        ],
        None,
    );
    assert!(o.status.success());
    let rows: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    std::fs::write(&generated, Value::Array(rows).to_string()).unwrap();
    let db = format!("{name}_generated");
    round_trips(&db, name, generated.to_str().unwrap(), tables, 40);
}

fn round_trips(db: &str, name: &str, fixture: &str, tables: &[&str], at_least: i64) {
    let plan = format!("plans/{name}.yaml");
    let url = migrated(db, &plan, fixture);
    let mut c = connect(&url);
    c.batch_execute(&format!("SET search_path = {name}, public"))
        .unwrap();
    let users: i64 = c
        .query_one("SELECT count(DISTINCT user_id) FROM user_app_state", &[])
        .unwrap()
        .get(0);
    assert!(users >= at_least, "{name}: {users} users");
    roundtrip_clean(&plan, &url, users as usize);
    preview_equals_database(&mut c, &plan, fixture, tables);
    // A Unix time written as a number comes back as that number: no difference at all.
    let o = pgshred(
        &["verify", &plan, "--roundtrip", "--format", "json"],
        Some(&url),
    );
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let d: Value = serde_json::from_str(line).unwrap();
        assert!(
            !(d["kind"] == "Unix time as a timestamp" && d["source"].is_number()),
            "{name}: {d}"
        );
    }
}

#[test]
fn the_kanban_example_round_trips() {
    example_plan_round_trips(
        "kanban",
        &[
            "boards",
            "board_prefs",
            "lists",
            "labels",
            "cards",
            "checklist_items",
            "members",
            "activity",
            "board_settings",
            "shortcuts",
        ],
    );
}

#[test]
fn the_reference_manager_example_round_trips() {
    example_plan_round_trips(
        "refman",
        &[
            "libraries",
            "library_info",
            "collections",
            "collection_items",
            "items",
            "creators",
            "item_tags",
            "notes",
            "attachments",
            "saved_searches",
            "library_prefs",
        ],
    );
}

#[test]
fn a_tree_of_unknown_depth_is_one_table_and_comes_back_whole() {
    let plan = "tests/plans/outline/plan.yaml";
    let input = "tests/plans/outline/source.json";
    let url = migrated("outline", plan, input);
    let mut c = connect(&url);
    // Every block of u1's page p1 with its parent in the tree, depth and place among siblings.
    let tree: Vec<(String, Option<String>, i32, i32)> = c
        .query(
            "SELECT b.legacy_id, p.legacy_id, b.depth, b.position FROM blocks AS b \
               LEFT JOIN blocks AS p ON p.id = b.parent_block_id JOIN pages AS g ON g.id = b.page_id \
              WHERE b.user_id = 'u1' AND g.legacy_id = 'p1' ORDER BY b.legacy_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        tree,
        [
            ("a".into(), None, 1, 1),
            ("a1".into(), s("a"), 2, 1),
            ("a11".into(), s("a1"), 3, 1),
            ("a2".into(), s("a"), 2, 2),
            ("b".into(), None, 1, 2),
            ("c".into(), None, 1, 3),
            ("c1".into(), s("c"), 2, 1),
            ("c11".into(), s("c1"), 3, 1),
            ("c111".into(), s("c11"), 4, 1),
        ]
    );
    let deepest: i32 = c
        .query_one("SELECT max(depth) FROM blocks", &[])
        .unwrap()
        .get(0);
    assert_eq!(deepest, 12);
    preview_equals_database(&mut c, plan, input, &["pages", "blocks"]);
    roundtrip_clean(plan, &url, 2);

    // One level deeper than max_depth (12): named, and the batch writes nothing.
    let mut deep = serde_json::json!({"uid": "x13", "text": "13"});
    for level in (1..=12).rev() {
        deep = serde_json::json!({"uid": format!("x{level}"), "children": [deep]});
    }
    let guard = common::TempDir::new("too_deep");
    let bad = guard.path().join("deep.json");
    let rows = serde_json::json!([{"id": 1, "user_id": "u1", "updated_at": "2024-06-01T00:00:00Z",
        "state": {"pages": [{"id": "p1", "blocks": [deep]}]}}]);
    std::fs::write(&bad, rows.to_string()).unwrap();
    let bad = bad.to_str().unwrap();
    let o = pgshred(&["preview", plan, "--input-file", bad], None);
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("ABORT too_deep blocks"), "{report}");
    fails_its_batch(
        "too_deep",
        plan,
        bad,
        "nested deeper than 12 levels (user u1, entity blocks",
        "blocks",
    );
}

#[test]
fn the_outliner_example_round_trips() {
    example_plan_round_trips(
        "outliner",
        &[
            "accounts",
            "graphs",
            "pages",
            "page_tags",
            "blocks",
            "daily_notes",
        ],
    );
}

#[test]
fn one_array_of_many_kinds_is_routed_and_nothing_is_lost() {
    let plan = "tests/plans/kinds/plan.yaml";
    let input = "tests/plans/kinds/source.json";
    let url = migrated("kinds", plan, input);
    let mut c = connect(&url);
    let ids = |c: &mut postgres::Client, table: &str| -> Vec<String> {
        c.query(
            &format!("SELECT user_id || ' ' || legacy_id FROM {table} ORDER BY user_id, position"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    // keep_original keeps in extra only the kinds the text column would not give back as
    // written: the number 2, not the text "click".
    let kept: Vec<String> = first_column(
        &mut c,
        "SELECT coalesce(extra ->> 'kind', '-') FROM clicks ORDER BY user_id, position",
    );
    assert_eq!(kept, ["-", "2", "-", "-", "-"]);
    // A click logged twice is one (keep_first); a click may share its id with a view.
    assert_eq!(
        ids(&mut c, "clicks"),
        ["u1 e1", "u1 e4", "u2 e2", "u2 e3", "u2 e1"]
    );
    assert_eq!(ids(&mut c, "views"), ["u1 e2", "u1 e6", "u2 e1"]);
    // An entity nested in a routed one reads the marks of clicks only: a view's marks (whose
    // ids repeat a click's) stay in the view's extra, and a scroll's are dropped with it.
    assert_eq!(ids(&mut c, "click_marks"), ["u1 m1", "u1 m2", "u2 c1"]);
    let parents: i64 = c
        .query_one(
            "SELECT count(*) FROM click_marks AS m JOIN clicks AS k ON k.id = m.click_id",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(parents, 3);
    // The scrolls (with their marks), the element of no kind and the second copy of a click are
    // left out on purpose: declared, not lost; the copy is shown alone, not with its array.
    let out = roundtrip_clean(plan, &url, 2);
    assert!(out.contains("declared   left out by a policy: 3"), "{out}");
    assert!(
        out.contains("declared   duplicate left out (keep_first): 1"),
        "{out}"
    );
    let o = pgshred(
        &[
            "verify",
            plan,
            "--roundtrip",
            "--user",
            "u1",
            "--format",
            "json",
        ],
        Some(&url),
    );
    let copy: Value = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|d| d["kind"] == "duplicate left out (keep_first)")
        .expect("the copy is a difference");
    assert_eq!(copy["path"], "events[id=e1]");
    assert_eq!(copy["source"]["target"], "buy, clicked twice");
    preview_equals_database(&mut c, plan, input, &["clicks", "views", "click_marks"]);

    // Without `others: drop`, an element of a kind no entity takes fails its batch.
    let guard = common::TempDir::new("kinds_error");
    let dir = guard.path();
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    for f in [
        "plan.yaml",
        "mappings/clicks.yaml",
        "mappings/views.yaml",
        "mappings/click_marks.yaml",
    ] {
        let text = common::read(format!("tests/plans/kinds/{f}")).replace(", others: drop", "");
        std::fs::write(dir.join(f), text).unwrap();
    }
    let strict = dir.join("plan.yaml");
    let strict = strict.to_str().unwrap();
    let o = pgshred(&["preview", strict, "--input-file", input], None);
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        report.contains("ABORT unrouted clicks events[*].kind: 3 times, 2 users"),
        "{report}"
    );
    fails_its_batch(
        "kinds_error",
        strict,
        input,
        "element of a kind no entity takes (user u1, entity clicks",
        "views",
    );
}

#[test]
fn the_copy_engine_writes_what_the_sql_engine_writes() {
    let cases = [
        (PLAN, FIXTURE),
        ("plans/kanban.yaml", "fixtures/kanban.json"),
        ("plans/refman.yaml", "fixtures/refman.json"),
        ("plans/outliner.yaml", "fixtures/outliner.json"),
        (
            "tests/plans/keyed/plan.yaml",
            "tests/plans/keyed/source.json",
        ),
        ("tests/plans/keys/plan.yaml", "tests/plans/keys/source.json"),
        (
            "tests/plans/scalars/plan.yaml",
            "tests/plans/scalars/source.json",
        ),
        (
            "tests/plans/nested/plan.yaml",
            "tests/plans/nested/source.json",
        ),
        ("tests/plans/refs/plan.yaml", "tests/plans/refs/source.json"),
        (
            "tests/plans/outline/plan.yaml",
            "tests/plans/outline/source.json",
        ),
        (
            "tests/plans/kinds/plan.yaml",
            "tests/plans/kinds/source.json",
        ),
        (
            "tests/plans/recipes/plan.yaml",
            "tests/plans/recipes/source.json",
        ),
        (
            "tests/plans/board/plan.yaml",
            "tests/plans/board/source.json",
        ),
        (
            "tests/plans/plugins/plan.yaml",
            "tests/plans/plugins/source.json",
        ),
        (
            "tests/plans/versions/plan.yaml",
            "tests/plans/versions/source.json",
        ),
        (
            "tests/plans/settings/plan.yaml",
            "tests/plans/settings/source.json",
        ),
        (
            "tests/plans/mentions/plan.yaml",
            "tests/plans/mentions/source.json",
        ),
        (
            "tests/plans/covers/plan.yaml",
            "tests/plans/covers/source.json",
        ),
        (
            "tests/plans/tasktree/plan.yaml",
            "tests/plans/tasktree/source.json",
        ),
        (
            "tests/plans/lookups/plan.yaml",
            "tests/plans/lookups/source.json",
        ),
    ];
    // And generated documents of every shape, as the benchmarks load them.
    let guard = common::TempDir::new("engines_generated");
    let mut generated = Vec::new();
    for shape in ["user_app_state", "kanban", "refman", "outliner"] {
        let o = pgshred(
            &[
                "generate",
                "--users",
                "60",
                "--shape",
                shape,
                "--messy-percent",
                "0",
            ],
            None,
        );
        let rows: Vec<Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let file = guard.path().join(format!("{shape}.json"));
        std::fs::write(&file, Value::Array(rows).to_string()).unwrap();
        generated.push((
            format!("plans/{shape}.yaml"),
            file.to_str().unwrap().to_string(),
        ));
    }
    let cases = cases
        .iter()
        .map(|(p, f)| (p.to_string(), f.to_string()))
        .chain(generated);
    for (i, (plan, fixture)) in cases.enumerate() {
        let (plan, fixture) = (plan.as_str(), fixture.as_str());
        let mut written = Vec::new();
        let mut shapes = Vec::new();
        for mode in [&["--engine", "sql"][..], &["--engine", "copy"], &["--bulk"]] {
            let url = fresh_db(&format!("engines_{i}_{}", mode.len()));
            load_fixture(&mut connect(&url), fixture);
            let args = [
                &["apply", plan, "--create-schema", "--allow-duplicates"][..],
                mode,
            ];
            let o = pgshred(&args.concat(), Some(&url));
            assert!(
                o.status.success(),
                "{plan} {mode:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            written.push(tables_of(&url, plan));
            shapes.push(common::indexes_and_constraints(&url));
        }
        assert_eq!(
            written[0], written[1],
            "{plan}: the engines wrote different rows"
        );
        assert_eq!(written[0], written[2], "{plan}: --bulk wrote other rows");
        assert_eq!(
            shapes[0], shapes[2],
            "{plan}: --bulk left other indexes or keys"
        );
    }
}

#[test]
fn a_document_too_large_for_the_client_is_shredded_by_the_server() {
    // 400 ordinary users (about 7 MB of documents per batch of 200, more than one chunk) and
    // one with contents of over 3 MB (over the 2 MB the COPY path evaluates itself).
    let o = pgshred(
        &["generate", "--users", "400", "--messy-percent", "0"],
        None,
    );
    let mut rows: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let big = &mut rows[75]["state"];
    let one = big["contents"][0].clone();
    let size = one.to_string().len();
    let contents: Vec<Value> = (0..(3 << 20) / size + 1)
        .map(|n| {
            let mut c = one.clone();
            c["id"] = Value::from(format!("big-content-{n}"));
            c
        })
        .collect();
    big["contents"] = Value::Array(contents);
    assert!(big.to_string().len() > 3 << 20, "the document is large");
    let mut written = Vec::new();
    for mode in [&["--engine", "sql"][..], &["--engine", "copy"], &["--bulk"]] {
        let url = common::source_db_with_rows(&format!("too_large_{}", mode.len()), &rows);
        let args = [
            &["apply", PLAN, "--create-schema", "--allow-duplicates"][..],
            &["--batch-size", "200", "--format", "json"],
            mode,
        ];
        let o = pgshred(&args.concat(), Some(&url));
        assert!(
            o.status.success(),
            "{mode:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let summary: Value = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .find(|v: &Value| v.get("phases").is_some())
            .expect("a summary with phases");
        let phases = &summary["phases"];
        if mode[0] != "--engine" || mode[1] == "copy" {
            // The COPY path wrote the ordinary users and handed the large one to the server.
            assert!(phases.get("copy rows").is_some(), "{mode:?}: {phases}");
            assert!(phases.get("forward (sql)").is_some(), "{mode:?}: {phases}");
            // The second batch, larger than a chunk, had its first chunk read ahead.
            assert!(
                phases.get("check read-ahead").is_some(),
                "{mode:?}: {phases}"
            );
        }
        written.push(tables_of(&url, PLAN));
    }
    assert_eq!(written[0], written[1], "the engines wrote different rows");
    assert_eq!(written[0], written[2], "--bulk wrote other rows");
}

#[test]
fn both_engines_set_aside_the_same_bad_users_and_keep_the_same_rows() {
    // Six users broken six ways (the fixture's five, and user-12's legacy id too long for an
    // index); --max-bad-users 6 quarantines them and migrates the others, batch by batch.
    let mut rows = common::broken_fixture();
    let twelve = rows.iter().position(|r| r["user_id"] == "user-12").unwrap();
    rows[twelve]["state"]["orgs"][0]["id"] = serde_json::Value::from("x".repeat(1200));
    let mut broken: Vec<&str> = common::BROKEN_USERS.to_vec();
    broken.push("user-12");
    let mut written = Vec::new();
    let mut quarantined = Vec::new();
    for engine in ["sql", "copy"] {
        let url = common::source_db_with_rows(&format!("engines_bad_{engine}"), &rows);
        let mut c = connect(&url);
        let args = [
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "4",
        ];
        // A dry run stops at the first bad batch, with either engine, and writes nothing.
        let o = pgshred(
            &[&args[..], &["--engine", engine, "--dry-run"]].concat(),
            Some(&url),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("user-07"),
            "{engine} dry run: {err}"
        );
        let left: bool = c
            .query_one("SELECT to_regclass('pgshred.migration_runs') IS NULL", &[])
            .unwrap()
            .get(0);
        assert!(left, "{engine}: a dry run leaves the database as it was");
        let o = pgshred(
            &[&args[..], &["--engine", engine, "--max-bad-users", "6"]].concat(),
            Some(&url),
        );
        assert!(
            o.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let bad = common::quarantined(&url);
        assert_eq!(bad, broken, "{engine}");
        // The quarantine says where each bad value is, and its SQLSTATE, the same way.
        // Every column as text, NULL as "-": user, entity, legacy id, path, value, SQLSTATE.
        let at: Vec<String> = first_column(
            &mut c,
            "SELECT concat_ws(' | ', user_id, coalesce(entity, '-'), coalesce(legacy_id, '-'), \
                        coalesce(path, '-'), coalesce(value::text, '-'), coalesce(sqlstate, '-')) \
                   FROM pgshred.migration_quarantine ORDER BY 1",
        );
        quarantined.push(at);
        written.push(tables_of(&url, PLAN));
    }
    assert_eq!(written[0], written[1], "the engines kept different rows");
    assert_eq!(
        quarantined[0], quarantined[1],
        "the engines recorded the bad users differently"
    );
}

#[test]
fn a_missing_owner_expression_is_named_before_anything_is_written() {
    // Plain PostgreSQL, no auth schema: the shipped plan's policies call auth.uid().
    let url = fresh_db("no_auth");
    let mut c = connect(&url);
    common::load_source(&mut c, FIXTURE);
    let o = pgshred(
        &["apply", PLAN, "--create-schema", "--allow-duplicates"],
        Some(&url),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains("security.owner_expression `auth.uid()::text` cannot be evaluated on this database: schema \"auth\" does not exist"),
        "{err}"
    );
    assert!(err.contains("fixtures/supabase_auth_stub.sql"), "{err}");
    let untouched: bool = c
        .query_one("SELECT to_regnamespace('pgshred') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(untouched, "nothing was written");
}

#[test]
fn children_without_ids_keep_their_ids_when_their_parents_are_reordered() {
    let plan = "tests/plans/recipes/plan.yaml";
    let input = "tests/plans/recipes/source.json";
    let url = migrated("recipes", plan, input);
    let mut c = connect(&url);
    let rows = |c: &mut postgres::Client| -> Vec<String> {
        first_column(
            c,
            "SELECT concat_ws(' ', s.user_id, s.legacy_id, s.text, s.id, t.legacy_id, t.label, t.id) \
               FROM recipe_steps AS s LEFT JOIN step_timers AS t ON t.step_id = s.id \
              ORDER BY s.user_id, s.text, t.label",
        )
    };
    let before = rows(&mut c);
    // A step's legacy id is its place in its recipe, a timer's its place in its step.
    assert!(
        before
            .iter()
            .any(|r| r.starts_with("u1 #2 Prove ") && r.contains(" #2 second rise ")),
        "{before:#?}"
    );
    roundtrip_clean(plan, &url, 2);
    preview_equals_database(
        &mut c,
        plan,
        input,
        &["recipes", "recipe_steps", "step_timers"],
    );
    // The recipes of u1 in the opposite order: no step or timer changes its id.
    c.execute(
        "UPDATE user_app_state SET updated_at = updated_at + interval '1 day', \
                state = jsonb_set(state, '{recipes}', (SELECT jsonb_agg(r ORDER BY n DESC) \
                  FROM jsonb_array_elements(state -> 'recipes') WITH ORDINALITY AS x(r, n))) \
          WHERE user_id = 'u1'",
        &[],
    )
    .unwrap();
    let o = pgshred(&["apply", plan, "--sync"], Some(&url));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 migrated user changed at the source"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(rows(&mut c), before);
    roundtrip_clean(plan, &url, 2);
}

#[test]
fn a_wrong_shape_in_a_nested_list_names_the_element_holding_it_in_both_engines() {
    use serde_json::json;
    let row = |n: i64, state: Value| json!({"id": n, "user_id": format!("u{n}"), "updated_at": "2024-01-01T00:00:00Z", "state": state});
    // A note list that is a sentence, a tag list that is a word, each in its own user; a
    // third user is fine.
    let nested = [
        row(
            1,
            json!({"people": [{"id": "a", "name": "Ada"}, {"id": "b", "name": "Bob", "notes": "see Ada"}]}),
        ),
        row(
            2,
            json!({"people": [{"id": "a", "notes": [{"id": "n1", "text": "x", "tags": "urgent"}]}]}),
        ),
        row(
            3,
            json!({"people": [{"id": "c", "notes": [{"id": "n9", "tags": [{"label": "ok"}]}]}]}),
        ),
    ];
    // Children that are an object, and blocks nested deeper than the plan allows (12).
    let mut deep = json!({"uid": "leaf", "text": "too deep"});
    for level in (1..=13).rev() {
        deep = json!({"uid": format!("d{level}"), "children": [deep]});
    }
    let outline = [
        row(
            1,
            json!({"pages": [{"id": "p1", "blocks": [{"uid": "a", "children": {"uid": "a1"}}]}]}),
        ),
        row(2, json!({"pages": [{"id": "p2", "blocks": [deep]}]})),
        row(
            3,
            json!({"pages": [{"id": "p3", "blocks": [{"uid": "z", "text": "fine"}]}]}),
        ),
    ];
    let cases = [
        (
            "tests/plans/nested/plan.yaml",
            &nested[..],
            [
                "expected an array inside people b",
                "expected an array inside notes n1",
            ],
        ),
        (
            "tests/plans/outline/plan.yaml",
            &outline[..],
            [
                "expected an array inside blocks a",
                "nested deeper than 12 levels",
            ],
        ),
    ];
    for (i, (plan, rows, words)) in cases.iter().enumerate() {
        // What preview says, in the same words.
        let guard = common::TempDir::new(&format!("shapes_{i}"));
        let input = guard.path().join("source.json");
        std::fs::write(&input, Value::from(rows.to_vec()).to_string()).unwrap();
        let o = pgshred(
            &["preview", plan, "--input-file", input.to_str().unwrap()],
            None,
        );
        let report = String::from_utf8_lossy(&o.stdout);
        for w in words {
            assert!(report.contains(w), "{plan}: {report}");
        }
        let mut recorded = Vec::new();
        for engine in ["sql", "copy"] {
            let url = common::source_db_with_rows(&format!("shapes_{i}_{engine}"), rows);
            let o = pgshred(
                &[
                    "apply",
                    plan,
                    "--create-schema",
                    "--engine",
                    engine,
                    "--max-bad-users",
                    "2",
                    "--batch-size",
                    "3",
                ],
                Some(&url),
            );
            assert!(
                o.status.success(),
                "{plan} {engine}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let at: Vec<String> = connect(&url)
                .query(
                    "SELECT concat_ws(' | ', user_id, entity, coalesce(legacy_id, '-'), path, error) \
                       FROM pgshred.migration_quarantine ORDER BY 1",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert_eq!(at.len(), 2, "{plan} {engine}: {at:#?}");
            for (line, w) in at.iter().zip(words) {
                assert!(line.contains(w), "{plan} {engine}: {at:#?}");
            }
            recorded.push(at);
        }
        assert_eq!(
            recorded[0], recorded[1],
            "{plan}: the engines word it differently"
        );
    }
}

#[test]
fn a_path_of_several_shapes_keeps_the_others_whole_in_the_enclosing_extra() {
    let plan = "tests/plans/versions/plan.yaml";
    let input = "tests/plans/versions/source.json";
    // preview says what each other shape is, where, and that it is kept.
    let o = pgshred(&["preview", plan, "--input-file", input], None);
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{report}");
    for line in [
        "other_shape items items: 2 times, 2 users",
        "other_shape tags items[*].tags: 3 times, 1 user",
        "other_shape owner items[*].owner: 2 times, 1 user",
        "other_shape labels items[*].labels: 3 times, 1 user",
        "other_shape notes items[*].notes[*].replies: 1 time, 1 user",
        r#"user u2 value "wood": not an array inside items i1: kept whole in that element's extra"#,
        r#"user u4 value "none yet": not an array: kept whole in the document root's extra"#,
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }
    let url = migrated("versions", plan, input);
    let mut c = connect(&url);
    // Rows come from the shape each entity reads only.
    let rows: Vec<String> = first_column(
        &mut c,
        "SELECT 'tag ' || i.legacy_id || ' ' || t.tag FROM item_tags AS t JOIN items AS i ON i.id = t.item_id \
         UNION ALL SELECT 'owner ' || i.legacy_id || ' ' || o.name FROM item_owners AS o JOIN items AS i ON i.id = o.item_id \
         UNION ALL SELECT 'label ' || i.legacy_id || ' ' || l.legacy_id FROM item_labels AS l JOIN items AS i ON i.id = l.item_id \
         UNION ALL SELECT 'note ' || n.legacy_id || ' ' || n.depth FROM item_notes AS n \
         ORDER BY 1",
    );
    assert_eq!(
        rows,
        [
            "label i1 blue",
            "label i1 red",
            "note n1 1",
            "note n2 2",
            "owner i1 Ann",
            "owner i2 Cy",
            "tag i1 office",
            "tag i1 wood"
        ]
    );
    // The other shapes stay whole where they were: the item's extra, the root's at the top.
    let kept: Vec<String> = first_column(
        &mut c,
        "SELECT user_id || ' ' || legacy_id || ' ' || extra::text FROM items WHERE extra IS NOT NULL \
         UNION ALL SELECT user_id || ' ' || legacy_id || ' ' || extra::text FROM item_notes WHERE extra IS NOT NULL \
         UNION ALL SELECT user_id || ' root ' || extra::text FROM apps WHERE extra IS NOT NULL ORDER BY 1",
    );
    assert_eq!(
        kept,
        [
            r#"u1 root {"items": {"i1": {"tags": "oak", "title": "Old desk"}}}"#,
            r#"u2 i1 {"tags": "wood", "notes": "Wobbly leg", "owner": "Bob", "labels": ["red", "green"]}"#,
            r#"u2 i2 {"tags": 7, "labels": "none"}"#,
            r#"u2 i3 {"tags": {"0": "wool"}, "owner": ["Di", "Ed"], "labels": true}"#,
            r#"u3 i2 {"tags": [], "owner": null, "labels": {}}"#,
            r#"u3 n2 {"replies": "later"}"#,
            r#"u4 root {"items": "none yet"}"#
        ]
    );
    comes_back_exactly(
        &mut c,
        plan,
        &url,
        4,
        input,
        &[
            "apps",
            "items",
            "item_tags",
            "item_owners",
            "item_labels",
            "item_notes",
        ],
    );
}

#[test]
fn maps_of_maps_become_rows_under_rows() {
    let plan = "tests/plans/settings/plan.yaml";
    let input = "tests/plans/settings/source.json";
    let url = migrated("settings", plan, input);
    let mut c = connect(&url);
    // Each area a row, each setting a row under its area: a name may repeat across areas.
    let settings: Vec<String> = first_column(
        &mut c,
        "SELECT concat_ws(' ', s.user_id, a.legacy_id, s.legacy_id, coalesce(s.value::text, '-'), s.position) \
           FROM settings AS s JOIN setting_areas AS a ON a.id = s.area_id ORDER BY 1",
    );
    assert_eq!(
        settings,
        [
            "u1 editor fontSize 14 3",
            "u1 editor theme \"dark\" 2",
            "u1 editor wrap true 1",
            "u1 sync enabled false 1",
            "u1 sync interval \"5m\" 2",
            r#"u2 editor fontSize "12" 2"#,
            r#"u2 editor theme {"name": "solarized", "variant": "light"} 1"#,
            "u2 labs beta - 1",
            "u2 labs enabled true 2"
        ]
    );
    // An area without settings is a row of its own; the areas keep nothing else.
    let areas: Vec<String> = first_column(
        &mut c,
        "SELECT user_id || ' ' || legacy_id || ' ' || coalesce(extra::text, '-') FROM setting_areas ORDER BY 1",
    );
    assert_eq!(
        areas,
        [
            "u1 editor -",
            "u1 empty -",
            "u1 sync -",
            "u2 editor -",
            "u2 labs -"
        ]
    );
    // Inner members that are objects get columns of their own, and extra.
    let shortcuts: Vec<String> = first_column(
        &mut c,
        "SELECT concat_ws(' ', g.legacy_id, s.legacy_id, s.keys, s.extra::text) \
           FROM shortcuts AS s JOIN shortcut_groups AS g ON g.id = s.group_id ORDER BY 1",
    );
    assert_eq!(
        shortcuts,
        [
            "editor find Ctrl+F {\"global\": true}",
            "editor save Ctrl+S",
            "terminal clear Ctrl+L"
        ]
    );
    comes_back_exactly(
        &mut c,
        plan,
        &url,
        4,
        input,
        &[
            "apps",
            "setting_areas",
            "settings",
            "shortcut_groups",
            "shortcuts",
        ],
    );
    // A setting the tables lose is found, and named by area and name.
    roundtrip_finds_deleted(
        &url,
        plan,
        "u1",
        "DELETE FROM settings WHERE legacy_id = 'interval'",
        "settings[sync][interval]: lost (element missing)",
    );
}

#[test]
fn entities_nest_in_the_nodes_of_a_tree_at_every_depth() {
    let plan = "tests/plans/tasktree/plan.yaml";
    let input = "tests/plans/tasktree/source.json";
    let url = migrated("tasktree", plan, input);
    let mut c = connect(&url);
    // Tags, a schedule and checklist items of tasks at depths 1 to 3, each under its own task;
    // tasks without an id are named by their place in the tree, and so are their tags.
    let nested: Vec<String> = first_column(
        &mut c,
        "SELECT concat_ws(' ', t.user_id, t.legacy_id, t.depth, 'tag', g.legacy_id, g.tag) \
           FROM task_tags AS g JOIN tasks AS t ON t.id = g.task_id \
         UNION ALL SELECT concat_ws(' ', t.user_id, t.legacy_id, t.depth, 'item', i.legacy_id, i.body) \
           FROM task_checklist AS i JOIN tasks AS t ON t.id = i.task_id \
         UNION ALL SELECT concat_ws(' ', t.user_id, t.legacy_id, t.depth, 'starts', s.start_on) \
           FROM task_schedules AS s JOIN tasks AS t ON t.id = s.task_id ORDER BY 1",
    );
    assert_eq!(
        nested,
        [
            "u1 #1.1 1 tag #1.1.1 q3",
            "u1 #1.1.1.1 3 item 1 c",
            "u1 #1.1.1.1 3 tag #1.1.1.1.1 deep",
            "u1 t-x 2 item 1 a",
            "u1 t-x 2 item 2 b",
            "u1 t-x 2 starts 2024-07-01",
            "u1 t-x 2 tag #1.1.1.1 web",
            "u1 t-x 2 tag #1.1.1.2 read",
            "u1 t-y 1 item 1 release",
            "u2 #1.1.1 2 tag #1.1.1.1 x"
        ]
    );
    comes_back_exactly(
        &mut c,
        plan,
        &url,
        2,
        input,
        &[
            "projects",
            "tasks",
            "task_tags",
            "task_schedules",
            "task_checklist",
        ],
    );
    // A checklist item the tables lose is found under its own task, at its depth.
    roundtrip_finds_deleted(
        &url,
        plan,
        "u1",
        "DELETE FROM task_checklist WHERE body = 'c'",
        "subtasks[id=t-x].subtasks[id=#1].checklist[id=1]: lost (element missing)",
    );
}
