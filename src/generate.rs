//! `pgshred generate`: a deterministic generator of realistic `user_app_state` rows, for
//! benchmarks and memory measurements. Same seed, same bytes.
//!
//! Per user: 1-3 orgs, 2-6 personas, 5-40 contents with bodies of 200-2000 characters, 1-4
//! accounts, 0-20 leads, 0-10 references, 0-30 inbox items, with the keys the shipped mappings
//! read. About `messy_percent` of users get one thing wrong that stops their batch (a value that
//! does not convert, an orphan under an `error` policy, a missing required value).

use std::io::Write;

use serde_json::{Value, json};

/// xorshift64*: small, fast and reproducible; quality is ample for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next_u64() as usize % items.len()]
    }
}

const WORDS: [&str; 16] = [
    "launch", "growth", "story", "brand", "audience", "weekly", "insight", "draft", "campaign",
    "voice", "roadmap", "customer", "data", "content", "team", "ship",
];

fn text(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 12);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(rng.pick(&WORDS));
    }
    s.truncate(len);
    s
}

fn timestamp(rng: &mut Rng) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        rng.range(1, 12),
        rng.range(1, 28),
        rng.range(0, 23),
        rng.range(0, 59),
        rng.range(0, 59)
    )
}

/// The state document of user number `n`.
pub fn document(rng: &mut Rng, n: u64, messy: bool) -> Value {
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

/// The generated users in order: (number, user id, state document).
pub fn users(
    count: u64,
    seed: u64,
    messy_percent: f64,
) -> impl Iterator<Item = (u64, String, Value)> {
    let mut rng = Rng::new(seed);
    (1..=count).map(move |n| {
        let messy = (rng.next_u64() % 10_000) as f64 / 100.0 < messy_percent;
        (n, format!("u{n:08}"), document(&mut rng, n, messy))
    })
}

/// Writes `count` rows as JSON lines ({id, user_id, updated_at, state}), the backup format.
pub fn write(
    out: &mut dyn Write,
    count: u64,
    seed: u64,
    messy_percent: f64,
) -> std::io::Result<()> {
    for (n, user_id, state) in users(count, seed, messy_percent) {
        let row = json!({"id": n, "user_id": user_id, "updated_at": "2024-11-01T00:00:00Z", "state": state});
        serde_json::to_writer(&mut *out, &row)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
