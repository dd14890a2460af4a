//! Documents in the shape of the outliner example (`plans/outliner.yaml`).
//!
//! Per user: 2-8 pages keyed by uid with 0-3 tags, 100-160 blocks in all, nested as trees up to
//! 12 levels deep (most blocks near the top, as notes are), some embedding another block, daily
//! notes keyed by date linking to pages, and the app's settings as JSON in a string. A messy user
//! has a block uid twice, which stops its batch.

use serde_json::{Map, Value, json};

use super::{Rng, text};

/// The deepest a generated tree goes.
pub(super) const MAX_DEPTH: u32 = 12;

fn epoch_ms(rng: &mut Rng) -> u64 {
    1_704_067_200_000 + rng.range(0, 300 * 86_400_000)
}

/// One block and, below it, up to `budget` more, none deeper than `MAX_DEPTH`.
fn block(rng: &mut Rng, n: u64, next: &mut u64, depth: u32, budget: &mut i64) -> Value {
    *next += 1;
    *budget -= 1;
    let uid = format!("b{n}_{next}");
    let len = rng.range(10, 120) as usize;
    let mut b = json!({"uid": uid, "string": text(rng, len),
                       "created": epoch_ms(rng), "open": rng.below(5) != 0});
    if rng.below(6) == 0 {
        b["heading"] = json!(rng.range(1, 3));
    }
    if rng.below(8) == 0 && *next > 1 {
        b["embed"] = json!(format!("b{n}_{}", rng.range(1, *next - 1)));
    }
    if rng.below(10) == 0 {
        b["props"] = json!({"status": "todo"});
    }
    // Fewer children the deeper the block, and none past the limit.
    let width = if depth >= MAX_DEPTH {
        0
    } else {
        rng.range(0, u64::from(4 - depth.min(3)))
    };
    let mut children = Vec::new();
    for _ in 0..width {
        if *budget <= 0 {
            break;
        }
        children.push(block(rng, n, next, depth + 1, budget));
    }
    if !children.is_empty() {
        b["children"] = Value::Array(children);
    }
    b
}

/// A chain of blocks as deep as a tree may go, so every user has one.
fn deep_chain(n: u64, next: &mut u64) -> Value {
    let mut b = Value::Null;
    for d in (1..=MAX_DEPTH).rev() {
        *next += 1;
        let mut node = json!({"uid": format!("b{n}_{next}"), "string": format!("level {d}")});
        if !b.is_null() {
            node["children"] = json!([b]);
        }
        b = node;
    }
    b
}

pub(super) fn document(rng: &mut Rng, n: u64, messy: bool) -> Value {
    let mut next = 0;
    let mut budget = rng.range(100, 160) as i64 - MAX_DEPTH as i64;
    let page_count = rng.range(2, 8);
    let mut pages = Map::new();
    for p in 1..=page_count {
        let mut blocks = Vec::new();
        if p == 1 {
            blocks.push(deep_chain(n, &mut next));
        }
        let share = budget / (page_count - p + 1) as i64;
        let mut page_budget = share;
        while page_budget > 0 {
            blocks.push(block(rng, n, &mut next, 1, &mut page_budget));
        }
        budget -= share;
        let tags: Vec<String> = (0..rng.range(0, 3)).map(|_| text(rng, 8)).collect();
        pages.insert(
            format!("pg{n}_{p}"),
            json!({"title": text(rng, 24), "created": epoch_ms(rng), "tags": tags, "blocks": blocks}),
        );
    }
    let daily: Map<String, Value> = (1..=rng.range(0, 5))
        .map(|d| {
            (
                format!("2024-06-{d:02}"),
                json!(format!("pg{n}_{}", rng.range(1, page_count))),
            )
        })
        .collect();
    if messy
        && let Some(Value::Object(page)) = pages.values_mut().next()
        && let Some(blocks) = page["blocks"].as_array_mut()
    {
        blocks.push(json!({"uid": format!("b{n}_1"), "string": "again"}));
    }
    // The app's settings as the app stores them: JSON written inside a string.
    let config = format!(
        "{{\"theme\":\"{}\",\"fontSize\":{}}}",
        if n.is_multiple_of(2) { "dark" } else { "light" },
        12 + n % 5
    );
    json!({"graph": {"name": text(rng, 12), "version": 4, "config": config}, "pages": pages, "dailyNotes": daily})
}
