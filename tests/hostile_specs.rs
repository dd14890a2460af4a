//! Mutated spec files never make pgshred panic: every rejection is a located diagnostic, and every
//! spec that passes validation also compiles. Deterministic (fixed seed), so a failure reproduces.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use pgshred::Error;

const FILES: [&str; 8] = [
    "plans/user_app_state.yaml",
    "mappings/orgs.yaml",
    "mappings/personas.yaml",
    "mappings/contents.yaml",
    "mappings/accounts.yaml",
    "mappings/leads.yaml",
    "mappings/references.yaml",
    "mappings/inbox_items.yaml",
];

use pgshred::generate::Rng;

const PIECES: [&str; 22] = [
    "{",
    "}",
    "[",
    "]",
    ":",
    "- ",
    " ",
    "\t",
    "'",
    "\"",
    "*",
    ".",
    "é",
    "\n",
    "#",
    "[*]",
    "&a",
    "*a",
    "!!int ",
    "\"; DROP TABLE x; --",
    "orgs",
    "null",
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + rng.below(3) {
        let n = lines.len();
        match rng.below(6) {
            0 if n > 1 => {
                lines.remove(rng.below(n));
            }
            1 => {
                let l = lines[rng.below(n)].clone();
                lines.insert(rng.below(n + 1), l);
            }
            2 if n > 1 => {
                let (a, b) = (rng.below(n), rng.below(n));
                lines.swap(a, b);
            }
            3 => lines.truncate(rng.below(n + 1)),
            _ => {
                let i = rng.below(n);
                let mut chars: Vec<char> = lines[i].chars().collect();
                let at = rng.below(chars.len() + 1);
                if at < chars.len() && rng.below(2) == 0 {
                    chars.remove(at);
                }
                let piece: Vec<char> = PIECES[rng.below(PIECES.len())].chars().collect();
                let at = at.min(chars.len());
                chars.splice(at..at, piece);
                lines[i] = chars.into_iter().collect();
            }
        }
        if lines.is_empty() {
            break;
        }
    }
    lines.join("\n")
}

#[test]
fn mutated_specs_never_panic_and_every_rejection_is_located() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let originals: Vec<String> = FILES
        .iter()
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
        .collect();
    let guard = common::TempDir::new("hostile");
    let tmp = guard.path().to_path_buf();
    std::fs::create_dir_all(tmp.join("plans")).unwrap();
    std::fs::create_dir_all(tmp.join("mappings")).unwrap();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let cases = common::fuzz_cases();
    let (mut rejected, mut accepted) = (0, 0);
    for case in 0..cases {
        let victim = rng.below(FILES.len());
        for (i, f) in FILES.iter().enumerate() {
            let text = if i == victim {
                mutate(&originals[i], &mut rng)
            } else {
                originals[i].clone()
            };
            std::fs::write(tmp.join(f), text).unwrap();
        }
        let plan = tmp.join(FILES[0]);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            pgshred::validate::load_plan(&plan).map(|p| pgshred::codegen::render(&p).map(|_| ()))
        }));
        let file = FILES[victim];
        match outcome {
            Err(_) => panic!(
                "case {case}: panic on a mutation of {file}:\n{}",
                std::fs::read_to_string(tmp.join(file)).unwrap()
            ),
            Ok(Ok(Ok(()))) => accepted += 1,
            Ok(Ok(Err(e))) => panic!("case {case}: a valid spec failed to compile: {e}"),
            Ok(Err(Error::Spec(d))) => {
                rejected += 1;
                assert!(!d.is_empty(), "case {case}: rejected with no diagnostic");
                for item in &d.items {
                    assert!(
                        item.pos.is_some() || item.code == "E-file",
                        "case {case}: unlocated diagnostic for a mutation of {file}: {item}"
                    );
                }
            }
            Ok(Err(e)) => panic!("case {case}: unexpected error kind: {e}"),
        }
    }
    println!(
        "{cases} mutated specs: {rejected} rejected with located errors, {accepted} accepted and compiled"
    );
    assert!(
        rejected > cases / 4 && accepted > 0,
        "{rejected} rejected, {accepted} accepted"
    );
}

/// The shipped spec copied to a scratch directory with one text replaced in one file.
fn spec_with(dir: &Path, file: &str, from: &str, to: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in FILES {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        let text = if f == file {
            assert!(text.contains(from), "{f} has no `{from}`");
            text.replacen(from, to, 1)
        } else {
            text
        };
        std::fs::create_dir_all(dir.join(f).parent().unwrap()).unwrap();
        std::fs::write(dir.join(f), text).unwrap();
    }
}

/// Identifiers, paths, expressions and free text crafted to break out into SQL are either
/// rejected with a located error, or compile to SQL that, run against a database holding a canary
/// table, leaves the canary standing and carries the text as data.
#[test]
fn crafted_spec_text_is_rejected_or_stays_data() {
    let orgs = "mappings/orgs.yaml";
    let plan = "plans/user_app_state.yaml";
    let rejected = [
        (
            orgs,
            "name: name,",
            "name: \"name\\\"; DROP TABLE canary; --\",",
        ),
        (orgs, "table: orgs", "table: \"orgs; DROP TABLE canary\""),
        (orgs, "table: orgs", "table: оrgs"), // Cyrillic о
        (orgs, "path: name,", "path: \"na'me\","),
        (
            orgs,
            "path: name,",
            "path: \"name\\\"]); DROP TABLE canary; --\",",
        ),
        (orgs, "legacy_id: id", "legacy_id: \"id'||pg_sleep(10)||'\""),
        (
            orgs,
            "extra: extra",
            "extra: \"extra\\\" text); DROP TABLE canary; --\"",
        ),
        (
            plan,
            "owner_expression: auth.uid()::text",
            "owner_expression: \"auth.uid()::text) OR (true\"",
        ),
        (
            plan,
            "owner_expression: auth.uid()::text",
            "owner_expression: \"auth.uid()::text\\nDROP TABLE canary\"",
        ),
        (
            plan,
            "owner_expression: auth.uid()::text",
            "owner_expression: \"auth.uid()::text; DROP TABLE canary\"",
        ),
        (plan, "schema: public", "schema: \"public\\\".canary; --\""),
    ];
    for (file, from, to) in rejected {
        let guard = common::TempDir::new("inject");
        spec_with(guard.path(), file, from, to);
        match pgshred::validate::load_plan(&guard.path().join(plan)) {
            Err(Error::Spec(d)) => assert!(
                d.items.iter().all(|i| i.pos.is_some()),
                "{to}: unlocated: {d:?}"
            ),
            Ok(_) => panic!("{to}: accepted"),
            Err(e) => panic!("{to}: {e}"),
        }
    }

    // Free text and defaults are accepted, and stay comments and literals.
    let accepted = [
        (
            orgs,
            "description: Organisations a user belongs to (state.orgs[*]).",
            "description: \"Orgs\\nDROP TABLE canary; --\\r\\u2028CREATE TABLE pwned ()\"",
        ),
        (
            orgs,
            "default: free",
            "default: \"x'); DROP TABLE canary; --\"",
        ),
        (
            orgs,
            "default: free",
            "default: \"$$; DROP TABLE canary; $$\"",
        ),
    ];
    for (file, from, to) in accepted {
        let guard = common::TempDir::new("inject");
        spec_with(guard.path(), file, from, to);
        let p = pgshred::validate::load_plan(&guard.path().join(plan))
            .unwrap_or_else(|e| panic!("{to}: {e}"));
        let files = pgshred::codegen::render(&p).unwrap();
        let url = common::fresh_db("inject");
        let mut c = common::connect(&url);
        common::load_fixture(&mut c, common::FIXTURE);
        c.batch_execute("CREATE TABLE canary (x int)").unwrap();
        let mut tx = c.transaction().unwrap();
        for f in ["01_schema.sql", "02_audit.sql"] {
            tx.batch_execute(&files[f]).unwrap();
        }
        let users = vec!["user-01".to_string()];
        tx.execute(
            "SELECT pgshred.begin_batch('user_app_state', $1)",
            &[&users],
        )
        .unwrap();
        tx.execute("UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0}', (state #> '{orgs,0}') - 'plan') WHERE user_id = 'user-01'", &[]).unwrap();
        tx.batch_execute(&files["03_forward.sql"]).unwrap();
        tx.commit().unwrap();
        let objects: i64 = c
            .query_one(
                "SELECT count(*) FILTER (WHERE relname = 'canary') * 10 + count(*) FILTER (WHERE relname = 'pwned') FROM pg_class",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(
            objects, 10,
            "{to}: the canary must stand and nothing else appear"
        );
        if to.starts_with("default") {
            let plan_value: String = c
                .query_one(
                    "SELECT plan FROM orgs WHERE user_id = 'user-01' AND legacy_id = (SELECT state #>> '{orgs,0,id}' FROM user_app_state WHERE user_id = 'user-01' ORDER BY updated_at DESC LIMIT 1)",
                    &[],
                )
                .unwrap()
                .get(0);
            let expected: String =
                serde_json::from_str(to.trim_start_matches("default: ")).unwrap();
            assert_eq!(plan_value, expected, "the default is carried as data");
        }
    }
}

/// Document values and keys crafted as SQL are stored as data, byte for byte.
#[test]
fn crafted_document_values_and_keys_are_stored_as_data() {
    let hostile = [
        "'); DROP TABLE canary; --",
        "\"; DROP TABLE canary; --",
        "$$; DROP TABLE canary; $$",
        "/* */ DROP TABLE canary",
        "\\'; DROP TABLE canary; --",
        "оrgs — ＇ＤＲＯＰ＇", // look-alikes: Cyrillic о, fullwidth quotes
        "\u{202e}gnirts desrever",
    ];
    let url = common::fresh_db("inject_docs");
    let mut c = common::connect(&url);
    common::load_fixture(&mut c, common::FIXTURE);
    c.batch_execute("CREATE TABLE canary (x int)").unwrap();
    for (i, h) in hostile.iter().enumerate() {
        c.execute(
            "UPDATE user_app_state SET state = jsonb_set(jsonb_set(state, ARRAY['orgs', $1::text, 'name'], to_jsonb($2::text)), ARRAY['orgs', $1::text, $2::text], '1') WHERE user_id = 'user-01'",
            &[&"0".to_string(), h],
        )
        .unwrap();
        let o = common::run(
            &[
                "apply",
                "plans/user_app_state.yaml",
                "--create-schema",
                "--allow-duplicates",
                "--user",
                "user-01",
            ],
            Some(&url),
        );
        assert_eq!(o.status.code(), Some(0), "{h}: {:?}", common::text(&o));
        let row = c
            .query_one(
                "SELECT name, extra FROM orgs WHERE user_id = 'user-01' AND legacy_id = (SELECT state #>> '{orgs,0,id}' FROM user_app_state WHERE user_id = 'user-01' ORDER BY updated_at DESC LIMIT 1)",
                &[],
            )
            .unwrap();
        let (name, extra): (String, serde_json::Value) = (row.get(0), row.get(1));
        assert_eq!(name, *h, "case {i}");
        assert_eq!(extra[h], serde_json::json!(1), "case {i}: {extra}");
        assert_eq!(
            c.query_one("SELECT count(*) FROM canary", &[])
                .unwrap()
                .get::<_, i64>(0),
            0
        );
        let run: i64 = c
            .query_one("SELECT max(id) FROM pgshred.migration_runs", &[])
            .unwrap()
            .get(0);
        let o = common::run(
            &[
                "rollback",
                "--yes",
                "plans/user_app_state.yaml",
                "--run",
                &run.to_string(),
            ],
            Some(&url),
        );
        assert_eq!(o.status.code(), Some(0), "{:?}", common::text(&o));
    }
}

/// A spec nested far deeper than any mapping (100 KB of brackets, or of `- ` dashes) is refused,
/// located, before a YAML parser spends time on it.
#[test]
fn deeply_nested_spec_text_is_refused_before_parsing() {
    let deep_flow = format!("extra: {}{}", "[".repeat(50_000), "]".repeat(50_000));
    let deep_block = format!("extra:\n  {}x", "- ".repeat(50_000));
    for to in [deep_flow, deep_block] {
        let guard = common::TempDir::new("deep");
        spec_with(guard.path(), "mappings/orgs.yaml", "extra: extra", &to);
        match pgshred::validate::load_plan(&guard.path().join("plans/user_app_state.yaml")) {
            Err(Error::Spec(d)) => {
                let i = &d.items[0];
                assert!(
                    i.message.contains("nested more than 64 levels deep") && i.pos.is_some(),
                    "{d:?}"
                );
                assert!(
                    d.render().len() < 2000,
                    "the excerpt is cut: {}",
                    d.render()
                );
            }
            Ok(_) => panic!("accepted"),
            Err(e) => panic!("{e}"),
        }
    }
}
