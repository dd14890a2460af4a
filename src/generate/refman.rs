//! Documents in the shape of the reference-manager example (`plans/refman.yaml`).
//!
//! Per user: sync state at the root, the library's settings, 0-60 items keyed by key with 0-5
//! creators (no ids), 0-4 tags, 0-3 notes (ids restarting per item) and 0-2 attachments keyed by
//! key, 0-6 collections listing item keys, saved searches and preferences. A messy user has an
//! item without its required `itemType`, which stops its batch.

use serde_json::{Map, Value, json};

use super::{Rng, text};

fn key(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNPQRSTUVWXYZ23456789";
    (0..8)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())] as char)
        .collect()
}

fn item(rng: &mut Rng) -> Value {
    let creators: Vec<Value> = (0..rng.range(0, 5))
        .map(|_| json!({"creatorType": rng.pick(&["author", "editor"]), "firstName": text(rng, 6), "lastName": text(rng, 8)}))
        .collect();
    let tags: Vec<Value> = (0..rng.range(0, 4))
        .map(|_| json!({"tag": text(rng, 8), "type": rng.below(2)}))
        .collect();
    let notes: Vec<Value> = (1..=rng.range(0, 3))
        .map(|i| json!({"id": i, "html": format!("<p>{}</p>", text(rng, 80))}))
        .collect();
    let attachments: Map<String, Value> = (0..rng.range(0, 2))
        .map(|_| {
            let a = json!({"filename": format!("{}.pdf", text(rng, 10)), "size.bytes": rng.range(10_000, 9_000_000), "md5": format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())});
            (key(rng), a)
        })
        .collect();
    let year = rng.range(1990, 2024);
    let date = match rng.below(3) {
        0 => year.to_string(),
        1 => format!("{year}-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)),
        _ => format!("March {year}"),
    };
    json!({"itemType": rng.pick(&["journalArticle", "book", "conferencePaper", "thesis"]), "title": text(rng, 60),
           "date": date, "dateAdded": super::timestamp(rng), "DOI": format!("10.1000/{}", key(rng).to_lowercase()),
           "pages": format!("{}-{}", rng.range(1, 200), rng.range(201, 400)), "volume": rng.range(1, 80).to_string(),
           "creators": creators, "tags": tags, "notes": notes, "attachments": attachments})
}

pub(super) fn document(rng: &mut Rng, _n: u64, messy: bool) -> Value {
    let mut items = Map::new();
    for _ in 0..rng.range(0, 60) {
        items.insert(key(rng), item(rng));
    }
    let keys: Vec<String> = items.keys().cloned().collect();
    let collections: Vec<Value> = (0..rng.range(0, 6))
        .map(|_| {
            let listed: Vec<&String> = keys.iter().filter(|_| rng.below(3) == 0).collect();
            json!({"key": key(rng), "name": text(rng, 12), "parent": null, "items": listed})
        })
        .collect();
    if messy && let Some(Value::Object(it)) = items.values_mut().next() {
        it.remove("itemType");
    }
    json!({"version": rng.range(10, 900), "lastSync": 1_704_067_200 + rng.range(0, 300 * 86_400),
           "library": {"name": text(rng, 12), "style": "apa", "locale": "en-US"},
           "collections": collections, "items": items,
           "searches": {key(rng): {"name": "Recent", "conditions": [{"condition": "dateAdded", "operator": "isInTheLast", "value": "30 days"}]}},
           "prefs": {"citation.style": "apa", "sync": {"enabled": true}, "export.format": "bibtex"}})
}
