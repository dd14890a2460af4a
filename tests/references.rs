//! References between entities through apply, the preview and the round trip: fields naming
//! another entity's element (each policy), one of several entities, an element's own child, the
//! document root, and lookup tables deduplicated per user; with fixtures under `tests/plans/`.

mod common;

use common::shapes::*;
use common::{connect, fresh_db, load_fixture};

#[test]
fn references_besides_the_parent_follow_their_policies_and_come_back() {
    let plan = "tests/plans/refs/plan.yaml";
    let input = "tests/plans/refs/source.json";
    let url = migrated("refs", plan, input);
    let mut c = connect(&url);
    type Links = (String, Option<String>, Option<String>, Option<String>);
    let tasks: Vec<Links> = c
        .query(
            "SELECT t.legacy_id, o.legacy_id, r.legacy_id, b.legacy_id FROM tasks AS t \
               LEFT JOIN members AS o ON o.id = t.owner_id LEFT JOIN members AS r ON r.id = t.reviewer_id \
               LEFT JOIN tasks AS b ON b.id = t.blocked_by_id WHERE t.user_id = 'u1' ORDER BY t.position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        tasks,
        [
            ("t1".into(), s("m1"), s("m2"), s("t2")),
            ("t2".into(), s("m2"), None, None),
            // An integer id names member "7"; t9 does not exist: NULL, kept in extra.
            ("t3".into(), s("7"), s("m1"), None),
            // t4's reviewer left: the task is skipped. t5 blocks itself.
            ("t5".into(), s("m1"), None, s("t5")),
        ]
    );
    // The watchers of t1: m1 and 7 linked in order; m_gone left out (skip).
    let watchers: Vec<(String, i32)> = c
        .query(
            "SELECT m.legacy_id, w.position FROM task_watchers AS w JOIN members AS m ON m.id = w.member_id ORDER BY w.position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(watchers, [("m1".to_string(), 1), ("7".to_string(), 3)]);
    let out = roundtrip_clean(plan, &url, 2);
    assert!(out.contains("declared   left out by a policy: 2"), "{out}");
    preview_equals_database(
        &mut c,
        plan,
        input,
        &["members", "tasks", "comments", "task_watchers"],
    );
    let o = pgshred(&["verify", plan], Some(&url));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // An owner that names no member fails the batch under `on_missing: error`, naming it.
    let guard = common::TempDir::new("refs_error");
    let bad = guard.path().join("bad.json");
    let rows = serde_json::json!([{"id": 1, "user_id": "u1", "updated_at": "2024-06-01T00:00:00Z",
        "state": {"members": {"m1": {}}, "tasks": [{"id": "t1", "owner": "m9"}]}}]);
    std::fs::write(&bad, rows.to_string()).unwrap();
    let bad = bad.to_str().unwrap();
    let o = pgshred(&["preview", plan, "--input-file", bad], None);
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        report.contains("ABORT missing_reference tasks owner: 1 time, 1 user"),
        "{report}"
    );
    fails_its_batch(
        "refs_error",
        plan,
        bad,
        "referenced members not found (user u1, entity tasks, legacy id t1, path owner, value \"m9\")",
        "tasks",
    );
}

#[test]
fn a_field_naming_one_of_several_entities_sets_the_column_of_the_first_holding_it() {
    let plan = "tests/plans/mentions/plan.yaml";
    let input = "tests/plans/mentions/source.json";
    let url = migrated("mentions", plan, input);
    let mut c = connect(&url);
    let notes: Vec<String> = first_column(
        &mut c,
        "SELECT concat_ws(' ', n.user_id, n.legacy_id, 'about', coalesce(ap.legacy_id, an.legacy_id, '-'), \
                CASE WHEN ap.id IS NOT NULL THEN 'person' WHEN an.id IS NOT NULL THEN 'note' END, \
                'pinned', coalesce(pp.legacy_id, pt.legacy_id, '-'), \
                CASE WHEN pp.id IS NOT NULL THEN 'person' WHEN pt.id IS NOT NULL THEN 'tag' END, \
                'by', coalesce(bp.legacy_id, bt.legacy_id, '-'), n.extra::text) \
           FROM notes AS n \
           LEFT JOIN people AS ap ON ap.id = n.about_person_id LEFT JOIN notes AS an ON an.id = n.about_note_id \
           LEFT JOIN people AS pp ON pp.id = n.pinned_person_id LEFT JOIN tags AS pt ON pt.id = n.pinned_tag_id \
           LEFT JOIN people AS bp ON bp.id = n.by_person_id LEFT JOIN tags AS bt ON bt.id = n.by_tag_id \
          ORDER BY n.user_id, n.position",
    );
    assert_eq!(
        notes,
        [
            "u1 n1 about p1 person pinned t1 tag by p2",
            "u1 n2 about n1 note pinned p2 person by t1",
            // Naming neither: NULL, the value kept in extra (on_missing: null).
            r#"u1 n3 about - pinned - by - {"about": "zz"}"#,
            // n4 is pinned to neither: not migrated (on_missing: skip).
            r#"u1 n5 about 7 person pinned - by - {"about": 7, "pinnedTo": null}"#,
            // x1 is a person and a tag: the first entity listed takes it.
            "u1 n6 about x1 person pinned x1 person by -",
            "u1 n7 about n7 note pinned - by -",
            "u2 p1 about p1 note pinned - by -"
        ]
    );
    let out = roundtrip_clean(plan, &url, 2);
    assert!(out.contains("declared   left out by a policy: 1"), "{out}");
    preview_equals_database(&mut c, plan, input, &["people", "tags", "notes"]);
    let o = pgshred(&["verify", plan], Some(&url));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Naming none of them under `on_missing: error` fails the batch in both engines, naming
    // every entity it tried, in the same words.
    use serde_json::json;
    let rows = [
        json!({"id": 1, "user_id": "u1", "updated_at": "2024-06-01T00:00:00Z",
        "state": {"people": {"p1": {}}, "notes": [{"id": "n1", "by": "nobody"}]}}),
    ];
    let mut said = Vec::new();
    for engine in ["sql", "copy"] {
        let url = common::source_db_with_rows(&format!("mentions_bad_{engine}"), &rows);
        let o = pgshred(
            &["apply", plan, "--create-schema", "--engine", engine],
            Some(&url),
        );
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{err}");
        let line = err
            .lines()
            .find(|l| l.contains("nobody"))
            .unwrap_or_else(|| panic!("{engine}: {err}"))
            .to_string();
        assert!(line.contains("people or tags"), "{engine}: {err}");
        said.push(line);
        let rows: Vec<String> = first_column(&mut connect(&url), "SELECT legacy_id FROM notes");
        assert!(rows.is_empty(), "a failed batch writes nothing");
    }
    assert_eq!(said[0], said[1], "the engines word it differently");
}

#[test]
fn a_parent_references_its_own_child_with_a_foreign_key_checked_at_commit() {
    let plan = "tests/plans/covers/plan.yaml";
    let input = "tests/plans/covers/source.json";
    let mut tables = Vec::new();
    for engine in ["sql", "copy"] {
        let url = fresh_db(&format!("covers_{engine}"));
        load_fixture(&mut connect(&url), input);
        let o = pgshred(
            &["apply", plan, "--create-schema", "--engine", engine],
            Some(&url),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut c = connect(&url);
        let covers: Vec<String> = first_column(
            &mut c,
            "SELECT concat_ws(' ', c.user_id, c.legacy_id, coalesce(a.legacy_id, '-'), c.extra::text) \
               FROM cards AS c LEFT JOIN attachments AS a ON a.id = c.cover_attachment_id ORDER BY 1",
        );
        assert_eq!(
            covers,
            [
                // A card's own attachment, and another card's of the same user.
                "u1 c1 a2",
                r#"u1 c2 a1 {"attachments": []}"#,
                // Named in no document: NULL, kept in extra (on_missing: null).
                r#"u1 c3 - {"coverId": "a_gone"}"#,
                r#"u1 c4 - {"coverId": null}"#,
                "u2 c1 a1"
            ],
            "{engine}"
        );
        // The foreign key waits for the commit; the parent's own is checked at once.
        let deferred: Vec<String> = first_column(
            &mut c,
            "SELECT conname || ' ' || condeferred FROM pg_constraint \
              WHERE conrelid IN ('cards'::regclass, 'attachments'::regclass) AND contype = 'f' ORDER BY 1",
        );
        assert_eq!(
            deferred,
            [
                "attachments_card_id_fkey false",
                "cards_cover_attachment_id_fkey true"
            ]
        );
        roundtrip_clean(plan, &url, 2);
        preview_equals_database(&mut c, plan, input, &["cards", "attachments"]);
        tables.push(tables_of(&url, plan));
        // Rolled back in one transaction: the rows reference each other both ways.
        let o = pgshred(&["rollback", plan, "--run", "1", "--yes"], Some(&url));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let left: Vec<String> = first_column(
            &mut c,
            "SELECT legacy_id FROM cards UNION ALL SELECT legacy_id FROM attachments",
        );
        assert!(left.is_empty(), "{left:?}");
    }
    assert_eq!(tables[0], tables[1], "the engines write different rows");
}

#[test]
fn repeated_values_become_lookup_tables_deduplicated_per_user() {
    let plan = "tests/plans/lookups/plan.yaml";
    let input = "tests/plans/lookups/source.json";
    let url = migrated("lookups", plan, input);
    let mut c = connect(&url);
    // One row per user and value: "wood" twice in one list and in two users, "Wood" apart; a
    // null and an empty text name nothing.
    let tags: Vec<String> = first_column(
        &mut c,
        "SELECT user_id || ' ' || legacy_id || ' ' || name FROM tags ORDER BY 1",
    );
    assert_eq!(
        tags,
        [
            "u1 7 7",
            "u1 Wood Wood",
            "u1 office office",
            "u1 wood wood",
            "u2 wood wood"
        ]
    );
    let links: Vec<String> = first_column(
        &mut c,
        "SELECT concat_ws(' ', t.user_id, i.legacy_id, t.legacy_id, coalesce(t.tag, 'null'), coalesce(g.legacy_id, '-')) \
           FROM item_tags AS t JOIN items AS i ON i.id = t.item_id LEFT JOIN tags AS g ON g.id = t.tag_id ORDER BY 1",
    );
    assert_eq!(
        links,
        [
            "u1 i1 #1 wood wood",
            "u1 i1 #2 office office",
            "u1 i1 #3 wood wood",
            "u1 i2 #1 Wood Wood",
            "u1 i2 #2 7 7",
            "u1 i2 #3 null -",
            "u1 i2 #4  -",
            "u2 i1 #1 wood wood"
        ]
    );
    // Objects by a field: each person once, the role stays with the item.
    let creators: Vec<String> = first_column(
        &mut c,
        "SELECT concat_ws(' ', c.user_id, i.legacy_id, c.legacy_id, coalesce(p.name, '-'), c.role) \
           FROM item_creators AS c JOIN items AS i ON i.id = c.item_id \
           LEFT JOIN people AS p ON p.id = c.person_id ORDER BY 1",
    );
    assert_eq!(
        creators,
        [
            "u1 i1 #1 Ann author",
            "u1 i1 #2 Bo editor",
            "u1 i2 #1 Ann editor",
            "u1 i2 #2 - anonymous"
        ]
    );
    let people: Vec<String> = first_column(
        &mut c,
        "SELECT user_id || ' ' || name FROM people ORDER BY 1",
    );
    assert_eq!(people, ["u1 Ann", "u1 Bo"]);
    // The lookups are copies: the documents come back from the link rows.
    comes_back_exactly(
        &mut c,
        plan,
        &url,
        2,
        input,
        &["items", "tags", "item_tags", "people", "item_creators"],
    );
}

#[test]
fn a_document_root_with_an_id_is_a_parent_and_a_reference_target() {
    let plan = "tests/plans/board/plan.yaml";
    let input = "tests/plans/board/source.json";
    let url = migrated("board", plan, input);
    let mut c = connect(&url);
    // The root's legacy id is its id field (its position when it has none).
    let boards: Vec<String> = first_column(
        &mut c,
        "SELECT user_id || ' ' || legacy_id FROM boards ORDER BY user_id",
    );
    assert_eq!(boards, ["u1 b-7f3", "u2 #1", "u3 42"]);
    // Lists hang from it by their idBoard; one naming another board keeps it in extra.
    let lists: Vec<String> = first_column(
        &mut c,
        "SELECT l.user_id || ' ' || l.legacy_id || ' ' || coalesce(b.legacy_id, '-') || ' ' || \
                coalesce(l.extra ->> 'idBoard', '-') \
           FROM lists AS l LEFT JOIN boards AS b ON b.id = l.board_id ORDER BY 1",
    );
    assert_eq!(
        lists,
        [
            "u1 l1 b-7f3 -",
            "u1 l2 b-7f3 -",
            "u1 l3 - b-old",
            "u2 l1 - -",
            // A number naming a board whose ids are text: kept in extra, so it comes back a number.
            "u3 a 42 42"
        ]
    );
    // The export's settings reference it.
    let exports: Vec<String> = first_column(
        &mut c,
        "SELECT e.user_id || ' ' || b.legacy_id FROM exports AS e JOIN boards AS b ON b.id = e.board_id ORDER BY 1",
    );
    assert_eq!(exports, ["u1 b-7f3", "u3 42"]);
    roundtrip_clean(plan, &url, 3);
    preview_equals_database(&mut c, plan, input, &["boards", "lists", "exports"]);
}
