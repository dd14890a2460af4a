//! Hostile state documents: realistic users with values, keys and shapes replaced at random by
//! what real data and attackers produce. The offline evaluator never panics and names the user,
//! entity and path of everything that would stop a batch (2,000 documents in the suite, more with
//! PGSHRED_FUZZ_CASES, see common::fuzz_cases); and on a sample loaded
//! into PostgreSQL, the users it flags are exactly the users `apply --max-bad-users` quarantines.
//! Deterministic (fixed seeds), so a failure reproduces.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use pgshred::eval::{Severity, evaluate};
use pgshred::generate::Rng;
use serde_json::{Value, json};

const PLAN: &str = "plans/user_app_state.yaml";

fn hostile_value(rng: &mut Rng) -> Value {
    let strings = [
        "",
        " ",
        "'); DROP TABLE canary; --",
        "$$",
        "\\",
        "оrgs",
        "1e400",
        "-0",
        "0x10",
        "NaN",
        "Infinity",
        "2024-02-30",
        "2024-13-01T00:00:00Z",
        "24:00",
        "true",
        "yes",
        "t",
        "9999999999999999999999",
        "1.0",
        " 42 ",
        "\u{202e}",
        "\u{0001}",
        "null",
    ];
    match rng.below(12) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(rng.below(5) as i64 - 2),
        3 => serde_json::from_str("1e308").unwrap(),
        4 => serde_json::from_str("123456789012345678901234567890.5").unwrap(),
        5 => json!(-2.5),
        6 => json!([]),
        7 => json!({}),
        8 => json!([[["deep"]]]),
        9 => json!("x".repeat(rng.below(5000))),
        _ => json!(strings[rng.below(strings.len())]),
    }
}

/// Replaces, removes or reshapes one randomly chosen place in `v`.
fn mutate(v: &mut Value, rng: &mut Rng, depth: usize) {
    let descend = depth < 4 && rng.below(4) != 0;
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(rng.below(m.len())).unwrap().clone();
            if descend {
                mutate(m.get_mut(&key).unwrap(), rng, depth + 1);
            } else {
                match rng.below(4) {
                    0 => {
                        m.remove(&key);
                    }
                    1 => {
                        m.insert(format!("{key}'\"; --"), hostile_value(rng));
                    }
                    _ => {
                        m.insert(key, hostile_value(rng));
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.below(a.len());
            if descend {
                mutate(&mut a[i], rng, depth + 1);
            } else if rng.below(2) == 0 {
                let copy = a[i].clone();
                a.push(copy);
            } else {
                a[i] = hostile_value(rng);
            }
        }
        other => *other = hostile_value(rng),
    }
}

/// `count` generated users, each mutated in one to three places.
fn hostile_documents(count: u64, seed: u64) -> Vec<(String, Value)> {
    let mut rng = Rng::new(seed);
    pgshred::generate::users(count, seed, 0.0)
        .map(|(_, user, mut doc)| {
            for _ in 0..1 + rng.below(3) {
                mutate(&mut doc, &mut rng, 0);
            }
            (user, doc)
        })
        .collect()
}

fn plan() -> pgshred::ir::Plan {
    pgshred::validate::load_plan(&common::root().join(PLAN)).unwrap()
}

#[test]
fn hostile_documents_never_panic_and_every_abort_is_located() {
    let plan = plan();
    let cases = common::fuzz_cases();
    let (mut flagged, mut rows) = (0, 0);
    for (i, (user, doc)) in hostile_documents(cases as u64, 11).iter().enumerate() {
        let mut findings = Vec::new();
        let out = catch_unwind(AssertUnwindSafe(|| {
            evaluate(&plan, user, doc, &mut findings)
        }))
        .unwrap_or_else(|_| panic!("case {i}: panic on {doc}"));
        rows += out.len();
        for f in &findings {
            // Notes about the document itself (a key no entity reads) have no entity.
            let entity_known = !f.entity.is_empty() || matches!(f.severity, Severity::Note);
            assert!(
                f.user_id == *user && entity_known && !f.path.is_empty(),
                "case {i}: unlocated finding {f:?}"
            );
        }
        if findings
            .iter()
            .any(|f| matches!(f.severity, Severity::Abort))
        {
            flagged += 1;
        }
    }
    println!("{cases} hostile documents: {flagged} would stop a batch, {rows} rows from the rest");
    assert!(flagged > cases / 10 && flagged < cases, "{flagged} flagged");
}

#[test]
fn users_the_preview_flags_are_the_users_apply_quarantines() {
    let plan = plan();
    let docs = hostile_documents(300, 23);
    let mut predicted: Vec<String> = docs
        .iter()
        .filter(|(user, doc)| {
            let mut findings = Vec::new();
            evaluate(&plan, user, doc, &mut findings);
            findings
                .iter()
                .any(|f| matches!(f.severity, Severity::Abort))
        })
        .map(|(u, _)| u.clone())
        .collect();
    predicted.sort();

    let rows: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(i, (user, doc))| {
            json!({"id": i, "user_id": user, "updated_at": "2024-11-01T00:00:00Z", "state": doc})
        })
        .collect();
    // Both write paths set aside the users the preview flags, and keep the same rows of the rest.
    let mut kept = Vec::new();
    for engine in ["sql", "copy"] {
        let url = common::source_db_with_rows(&format!("hostile_docs_{engine}"), &rows);
        let mut c = common::connect(&url);
        let o = common::run(
            &[
                "apply",
                PLAN,
                "--create-schema",
                "--batch-size",
                "25",
                "--max-bad-users",
                "300",
                "--engine",
                engine,
            ],
            Some(&url),
        );
        assert_eq!(o.status.code(), Some(0), "{engine}: {:?}", common::text(&o));
        let quarantined: Vec<String> = c
            .query(
                "SELECT user_id FROM pgshred.migration_quarantine ORDER BY user_id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(!predicted.is_empty());
        assert_eq!(quarantined, predicted, "{engine}");
        kept.push(common::snapshot(&url));
    }
    assert_eq!(kept[0], kept[1], "the engines kept different rows");
}

/// A key nested 1,000 levels deep in an org (jsonb holds it; serde_json alone stops at 128): every
/// command reads the document as PostgreSQL stores it. `apply` with each engine keeps it in
/// `extra`, `verify --roundtrip` brings it back, `preview` reads it from the database and from a
/// file, and a backup of it is previewed and restored.
#[test]
fn a_document_nested_1000_levels_deep_goes_through_every_command() {
    let mut rows: Vec<Value> =
        serde_json::from_str(&common::read("fixtures/sample_user_app_state.json")).unwrap();
    let deep = (0..1_000).fold(json!("bottom"), |v, _| json!([v]));
    let i = rows.iter().position(|r| r["user_id"] == "user-01").unwrap();
    rows[i]["state"]["orgs"][0]["deep"] = deep;
    let dir = common::TempDir::new("deep");
    for engine in ["copy", "sql"] {
        let url = common::source_db_with_rows(&format!("deep_{engine}"), &rows);
        let apply = [
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--engine",
            engine,
        ];
        let o = common::run(&apply, Some(&url));
        common::assert_code(&o, 0);
        let kept = common::count(
            &url,
            "SELECT count(*) FROM orgs WHERE user_id = 'user-01' AND jsonb_typeof(extra -> 'deep') = 'array'",
        );
        assert_eq!(kept, 1, "{engine}: the deep value is kept in extra");
        // The fixture's own losses (empty top-level arrays) make verify exit 1; user-01 has none.
        let o = common::run(&["verify", PLAN, "--roundtrip"], Some(&url));
        let (out, err) = common::text(&o);
        assert_eq!(o.status.code(), Some(1), "{engine}: {out}{err}");
        assert!(
            out.contains("round trip: 22 users compared"),
            "{engine}: {out}"
        );
        assert!(!out.contains("user user-01:"), "{engine}: {out}");

        if engine == "sql" {
            let o = common::run(&["preview", PLAN, "--database-url", &url], None);
            let (out, err) = common::text(&o);
            assert!(out.starts_with("23 source rows, 22 users\n"), "{out}{err}");
            let file = dir.path().join("backup.jsonl");
            let file = file.to_str().unwrap();
            let o = common::run(&["backup", PLAN, "--out", file], Some(&url));
            common::assert_code(&o, 0);
            let o = common::run(&["preview", PLAN, "--input-file", file], None);
            let (out, err) = common::text(&o);
            assert!(out.starts_with("23 source rows, 22 users\n"), "{out}{err}");
            let restore = ["restore", PLAN, "--from", file, "--into", "restored"];
            common::assert_code(&common::run(&restore, Some(&url)), 0);
            let same = common::count(
                &url,
                "SELECT count(*) FROM user_app_state AS s JOIN restored AS r USING (id) WHERE r.state = s.state",
            );
            assert_eq!(same, 23, "the restored documents equal the source");
        }
    }
}

/// The `type_lost` note offers `keep_original` only where the mapping may use it: not for a
/// scalar's value, whose row has no extra column.
#[test]
fn the_type_lost_note_offers_only_what_the_mapping_accepts() {
    let plan = pgshred::validate::load_plan(&common::root().join("tests/plans/scalars/plan.yaml"))
        .unwrap();
    let doc = serde_json::json!({"items": [{"id": "i1", "name": 7, "tags": ["wood", 42]}]});
    let mut findings = Vec::new();
    evaluate(&plan, "u1", &doc, &mut findings);
    let lost: Vec<_> = findings
        .iter()
        .filter(|f| f.kind == pgshred::eval::Kind::TypeLost)
        .map(|f| (f.entity.as_str(), f.message.contains("keep_original")))
        .collect();
    assert_eq!(lost, [("items", true), ("tags", false)], "{findings:#?}");
}
