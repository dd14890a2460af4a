//! Values that need reading: JSON written inside a string, free-text and partial dates in
//! declared formats (chosen by the document's locale), through apply, the preview and the round
//! trip, in both engines.

mod common;

use common::shapes::*;
use common::{connect, fresh_db, load_fixture};
use serde_json::Value;

#[test]
fn json_written_in_a_string_is_parsed_into_jsonb_and_comes_back_as_the_same_string() {
    let plan = "tests/plans/plugins/plan.yaml";
    let input = "tests/plans/plugins/source.json";
    let url = migrated("plugins", plan, input);
    let mut c = connect(&url);
    // The columns hold the JSON the strings wrote, queryable as any jsonb: numbers in numeric's
    // form, the last of a key written twice, escapes read.
    let read: Vec<String> = first_column(
        &mut c,
        "SELECT concat_ws(' ', user_id, legacy_id, coalesce(jsonb_typeof(settings), '-'),                 settings ->> 'theme', settings -> 'wip', settings -> 'a', settings ->> 'label',                 settings #> '{nested,deep,0,x,1,1}', coalesce(jsonb_typeof(manifest), '-'),                 manifest -> 'n', manifest -> 'm')            FROM plugins ORDER BY 1",
    );
    assert_eq!(
        read,
        [
            "u1 p1 object dark object",
            "u1 p2 object 3.50 object",
            "u1 p3 object array",
            // The text `null` and JSON null are both NULL; extra keeps the text.
            "u2 p1 - string",
            "u2 p2 - number",
            "u2 p3 object 2 object",
            "u2 p4 object café ☕ object 1000 -0.50",
            "u4 p1 object [3] -"
        ]
    );
    let kept: Vec<String> = first_column(
        &mut c,
        "SELECT user_id || ' ' || legacy_id || ' ' || extra::text FROM plugins \
          WHERE extra IS NOT NULL ORDER BY 1",
    );
    assert_eq!(
        kept,
        [
            // keep_original: the manifest's text where jsonb would write it otherwise.
            r#"u1 p2 {"manifest": "{\"version\":\"0.9\"}"}"#,
            r#"u2 p1 {"settings": "null"}"#,
            r#"u2 p2 {"settings": null}"#,
            r#"u2 p3 {"manifest": "  {\"b\": true}  "}"#,
            r#"u2 p4 {"manifest": "{\"n\": 1e3, \"m\": -0.50}"}"#,
            r#"u4 p1 {"enabled": true}"#
        ]
    );
    // Nothing lost: the settings come back as jsonb writes them, the manifests as written.
    let out = roundtrip_clean(plan, &url, 4);
    assert!(
        out.contains("0 lost, 5 normalized, 0 declared")
            && out.contains("normalized JSON text as jsonb writes it: 5"),
        "{out}"
    );
    preview_equals_database(&mut c, plan, input, &["plugins"]);
    // Text that is not JSON, and a value that is not a string, fail their users' batches in
    // both engines, in the same words; a third user is migrated.
    use serde_json::json;
    let row = |n: i64, settings: Value| json!({"id": n, "user_id": format!("u{n}"), "updated_at": "2024-01-01T00:00:00Z", "state": {"plugins": [{"id": "p1", "settings": settings}]}});
    let rows = [
        row(1, json!("{\"theme\": dark}")),
        row(2, json!({"theme": "dark"})),
        row(3, json!("{\"theme\": \"dark\"}")),
    ];
    let mut recorded = Vec::new();
    for engine in ["sql", "copy"] {
        let url = common::source_db_with_rows(&format!("plugins_bad_{engine}"), &rows);
        let o = pgshred(
            &[
                "apply",
                plan,
                "--create-schema",
                "--engine",
                engine,
                "--max-bad-users",
                "2",
            ],
            Some(&url),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut c = connect(&url);
        let at: Vec<String> = first_column(
            &mut c,
            "SELECT concat_ws(' | ', user_id, entity, legacy_id, path, error) \
               FROM pgshred.migration_quarantine ORDER BY 1",
        );
        assert_eq!(at.len(), 2, "{engine}: {at:#?}");
        for line in &at {
            assert!(
                line.contains("plugins | p1 | settings | ")
                    && line.contains("cannot convert value to jsonb"),
                "{engine}: {at:#?}"
            );
        }
        let migrated: Vec<String> = first_column(&mut c, "SELECT user_id FROM plugins");
        assert_eq!(migrated, ["u3"], "{engine}");
        recorded.push(at);
    }
    assert_eq!(recorded[0], recorded[1], "the engines word it differently");
}

#[test]
fn partial_dates_are_parsed_with_their_precision() {
    // The reference manager's publication dates: a day, a month or a year, else text only.
    let url = migrated("refman_dates", "plans/refman.yaml", "fixtures/refman.json");
    let mut c = connect(&url);
    let shown = "concat_ws(' ', date_text, coalesce(published_on::text, '-'), coalesce(published_precision, '-'))";
    let partial: Vec<String> = first_column(
        &mut c,
        &format!(
            "SELECT DISTINCT {shown} FROM refman.items \
              WHERE date_text IN ('2015', '2022-09', 'March 1997') ORDER BY 1"
        ),
    );
    assert_eq!(
        partial,
        [
            "2015 2015-01-01 year",
            "2022-09 2022-09-01 month",
            "March 1997 - -"
        ]
    );
    let days: Vec<String> = first_column(
        &mut c,
        &format!(
            "SELECT {shown} FROM refman.items WHERE date_text ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' LIMIT 3"
        ),
    );
    assert!(!days.is_empty());
    for d in &days {
        let parts: Vec<&str> = d.split(' ').collect();
        assert_eq!((parts[0], parts[2]), (parts[1], "day"), "{d}");
    }
}

#[test]
fn a_free_text_date_is_parsed_by_the_first_of_its_formats_that_reads_it() {
    // The kanban cards' start: "%d/%m/%Y", then "%Y-%m-%d"; anything else stays text only.
    let url = migrated(
        "kanban_formats",
        "plans/kanban.yaml",
        "fixtures/kanban.json",
    );
    let mut c = connect(&url);
    let parsed: Vec<String> = first_column(
        &mut c,
        "SELECT DISTINCT start_text || ' ' || coalesce(start_on::text, '-') FROM kanban.cards \
          WHERE start_text IN ('2024-09-30', '13/03/2024', '31/02/2024', 'ASAP') ORDER BY 1",
    );
    assert_eq!(
        parsed,
        [
            "13/03/2024 2024-03-13",
            "2024-09-30 2024-09-30",
            "31/02/2024 -",
            "ASAP -"
        ]
    );
    // A board whose settings say en-US writes the month first (format_by); the others do not.
    let by_locale: Vec<String> = first_column(
        &mut c,
        "SELECT user_id || ' ' || start_text || ' ' || coalesce(start_on::text, '-') FROM kanban.cards \
          WHERE start_text IN ('08/11/2025', '11/28/2025', '19/11/2025') ORDER BY 1",
    );
    assert_eq!(
        by_locale,
        [
            "user-07 08/11/2025 2025-08-11",
            "user-07 11/28/2025 2025-11-28",
            "user-08 19/11/2025 2025-11-19"
        ]
    );
}

#[test]
fn dates_that_do_not_fit_their_declared_format_are_named_and_write_nothing() {
    let plan = "tests/plans/keys/plan.yaml";
    let guard = common::TempDir::new("bad_dates");
    let input = guard.path().join("bad_dates.json");
    // Not a day of February 2023, a leap day of a year without one, ISO instead of the format.
    let users: Vec<Value> = ["31/02/2023", "29/02/2023", "2023-02-01"]
        .iter()
        .enumerate()
        .map(|(i, day)| {
            // The last user's id holds a line break: messages quote it rather than split a line.
            let user = if i == 2 {
                "u\n2".into()
            } else {
                format!("u{i}")
            };
            serde_json::json!({"id": i + 1, "user_id": user,
                "updated_at": "2024-06-01T00:00:00Z",
                "state": {"log/events": [{":log/id": "e1", "day": day}]}})
        })
        .collect();
    std::fs::write(&input, Value::Array(users).to_string()).unwrap();
    let input = input.to_str().unwrap();

    let o = pgshred(&["preview", plan, "--input-file", input], None);
    let report = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{report}");
    assert!(
        report.contains("ABORT cast events day: 3 times, 3 users"),
        "{report}"
    );
    assert!(
        report.contains("      user \"u\\n2\" e1 value \"2023-02-01\""),
        "{report}"
    );

    let url = fresh_db("bad_dates");
    let mut c = connect(&url);
    load_fixture(&mut c, input);
    let o = pgshred(&["apply", plan, "--create-schema"], Some(&url));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("users: \"u\\n2\", u0, u1\n"), "{err}");
    assert!(
        err.contains("cannot convert value to date (user \"u\\n2\", entity events, legacy id e1, path day, value \"2023-02-01\")"),
        "{err}"
    );
    let rows: i64 = c
        .query_one("SELECT count(*) FROM events", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "a failed batch writes nothing");
}

#[test]
fn parsed_companions_agree_with_the_preview_on_awkward_text() {
    // Each text both as a `%d/%m/%Y` date and as an ISO timestamp: the database's companion
    // columns equal the preview's, value for value, and nothing fails.
    let texts = [
        "01/07/2024",
        "29/02/2024",
        "29/02/2023",
        "31/04/2024",
        "1/7/2024",
        " 01/07/2024 ",
        "00/01/2024",
        "01/13/2024",
        "01/07/0000",
        "2024-07-01",
        "2024-02-29T10:00:00Z",
        "2023-02-29 10:00",
        "2024-13-01",
        "0999-01-01",
        "2024-07-01T24:00:00",
        "2024-07-01T12:00+14:00",
        "2024-07-01T12:00+15:00",
        "2024-07-01 12:00:00.1234567",
        "next week",
        "",
        " ",
        "yesterday",
        "2024-07-01T12:00:00",
        "10000-01-01",
        "2024-06-31",
        "2024-07-01T24:00",
        "2024-07-01T24:00:01",
        "2024-07-01T24:00:00.0000004",
        "2024-07-01T24:00:00.000001",
        "2024-07-01T23:59:60",
        "2024-12-31 24:00+02",
    ];
    let events: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({":log/id": format!("e{i}"), "when": t, "seen": t}))
        .chain([
            serde_json::json!({":log/id": "n1", "when": 20240701, "seen": true}),
            serde_json::json!({":log/id": "n2", "when": null, "seen": 5.5}),
        ])
        .collect();
    let guard = common::TempDir::new("parsed_corpus");
    let input = guard.path().join("parsed.json");
    let users = serde_json::json!([{"id": 1, "user_id": "u1", "updated_at": "2024-06-01T00:00:00Z",
        "state": {"log/events": events}}]);
    std::fs::write(&input, users.to_string()).unwrap();
    let input = input.to_str().unwrap();
    let plan = "tests/plans/keys/plan.yaml";
    let url = migrated("parsed_corpus", plan, input);
    let mut c = connect(&url);
    let parsed: i64 = c
        .query_one("SELECT count(when_day) + count(seen_at) FROM events", &[])
        .unwrap()
        .get(0);
    assert!(parsed >= 10, "some texts name a day: {parsed}");
    preview_equals_database(&mut c, plan, input, &["events"]);
}
