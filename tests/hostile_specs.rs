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
    let cases = 2_000;
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
