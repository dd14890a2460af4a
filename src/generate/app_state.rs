//! Documents in the shape of the shipped plan (`plans/user_app_state.yaml`).
//!
//! Per user: 1-3 orgs, 2-6 personas, 5-40 contents with bodies of 200-2000 characters, 1-4
//! accounts, 0-20 leads, 0-10 references, 0-30 inbox items, with the keys the shipped mappings
//! read. A messy user gets a value that does not convert, an orphan under an `error` policy or a
//! missing required value.

use serde_json::{Value, json};

use super::{Rng, WORDS, text, timestamp};

/// The state document of user number `n`.
pub(super) fn document(rng: &mut Rng, n: u64, messy: bool) -> Value {
    let orgs: Vec<Value> = (1..=rng.range(1, 3))
        .map(|i| {
            json!({"id": format!("o{n}_{i}"), "name": format!("Org {n}.{i}"), "plan": rng.pick(&["free", "pro", "team"]),
                   "seats": rng.range(1, 50), "createdAt": timestamp(rng), "settings": {"theme": "dark"}})
        })
        .collect();
    let personas: Vec<Value> = (1..=rng.range(2, 6))
        .map(|i| {
            let org = &orgs[rng.range(0, orgs.len() as u64 - 1) as usize]["id"];
            json!({"id": format!("p{n}_{i}"), "orgId": org, "name": format!("Persona {i}"),
                   "tone": rng.pick(&["friendly", "formal", "witty"]), "isDefault": i == 1,
                   "profile": {"bio": text(rng, 80), "avatarUrl": format!("https://cdn.example.com/{n}/{i}.png")},
                   "createdAt": timestamp(rng)})
        })
        .collect();
    let persona =
        |rng: &mut Rng| personas[rng.range(0, personas.len() as u64 - 1) as usize]["id"].clone();
    let contents: Vec<Value> = (1..=rng.range(5, 40))
        .map(|i| {
            let body_len = rng.range(200, 2000) as usize;
            json!({"id": format!("c{n}_{i}"), "personaId": persona(rng), "title": text(rng, 40),
                   "body": text(rng, body_len), "status": rng.pick(&["draft", "published", "scheduled"]),
                   "tags": [rng.pick(&WORDS), rng.pick(&WORDS)], "wordCount": body_len / 6,
                   "publishedAt": timestamp(rng), "createdAt": timestamp(rng)})
        })
        .collect();
    let accounts: Vec<Value> = (1..=rng.range(1, 4))
        .map(|i| {
            json!({"id": format!("a{n}_{i}"), "personaId": persona(rng), "platform": rng.pick(&["linkedin", "x", "instagram"]),
                   "handle": format!("@u{n}_{i}"), "followers": rng.range(0, 100_000), "connected": true,
                   "connectedAt": timestamp(rng)})
        })
        .collect();
    let account =
        |rng: &mut Rng| accounts[rng.range(0, accounts.len() as u64 - 1) as usize]["id"].clone();
    let leads: Vec<Value> = (1..=rng.range(0, 20))
        .map(|i| {
            json!({"id": format!("l{n}_{i}"), "accountId": account(rng), "name": format!("Lead {i}"),
                   "email": format!("lead{i}@example.com"), "score": rng.range(0, 1000) as f64 / 10.0,
                   "stage": rng.pick(&["new", "contacted", "won"]), "createdAt": timestamp(rng)})
        })
        .collect();
    let references: Vec<Value> = (1..=rng.range(0, 10))
        .map(|i| {
            json!({"id": format!("r{n}_{i}"), "personaId": persona(rng), "url": format!("https://example.com/{n}/{i}"),
                   "title": text(rng, 30), "addedOn": "2024-03-01"})
        })
        .collect();
    let inbox: Vec<Value> = (1..=rng.range(0, 30))
        .map(|i| {
            json!({"id": format!("i{n}_{i}"), "accountId": account(rng), "from": "someone@example.com",
                   "subject": text(rng, 40), "receivedAt": timestamp(rng), "read": false, "payload": {"thread": i}})
        })
        .collect();
    let mut doc = json!({"orgs": orgs, "personas": personas, "contents": contents, "accounts": accounts,
                         "leads": leads, "references": references, "inboxItems": inbox});
    if messy {
        match rng.range(0, 2) {
            0 => doc["contents"][0]["wordCount"] = json!("a few hundred"),
            1 => doc["contents"][0]["personaId"] = json!("p_deleted"),
            _ => doc["accounts"][0]
                .as_object_mut()
                .map(|a| a.remove("platform"))
                .map_or((), |_| ()),
        }
    }
    doc
}
