//! `pgshred generate`: a deterministic generator of realistic source rows, for benchmarks and
//! memory measurements, in the shape of the shipped plan or of an example plan (`Shape`). Same
//! seed, same bytes. About `messy_percent` of users get one thing wrong that stops their batch.

mod app_state;
mod kanban;
mod outliner;
mod refman;

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
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next_u64() as usize % items.len()]
    }
}

pub(crate) const WORDS: [&str; 16] = [
    "launch", "growth", "story", "brand", "audience", "weekly", "insight", "draft", "campaign",
    "voice", "roadmap", "customer", "data", "content", "team", "ship",
];

pub(crate) fn text(rng: &mut Rng, len: usize) -> String {
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

pub(crate) fn timestamp(rng: &mut Rng) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        rng.range(1, 12),
        rng.range(1, 28),
        rng.range(0, 23),
        rng.range(0, 59),
        rng.range(0, 59)
    )
}

/// The generated users in order: (number, user id, state document).
pub fn users(
    count: u64,
    seed: u64,
    messy_percent: f64,
) -> impl Iterator<Item = (u64, String, Value)> {
    users_of(Shape::UserAppState, count, seed, messy_percent)
}

/// Whose documents to generate: the shipped plan's, or an example plan's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Shape {
    /// plans/user_app_state.yaml: orgs, personas, contents, accounts, leads, references, inbox.
    #[default]
    #[value(name = "user_app_state")]
    UserAppState,
    /// plans/kanban.yaml: a board with lists, cards keyed by id, checklists, an activity log.
    Kanban,
    /// plans/refman.yaml: a reference library with items keyed by key, creators, notes, files.
    Refman,
    /// plans/outliner.yaml: pages keyed by uid, 100-160 blocks nested up to 12 levels deep.
    Outliner,
}

/// The generated users of a shape, in order: (number, user id, state document).
pub fn users_of(
    shape: Shape,
    count: u64,
    seed: u64,
    messy_percent: f64,
) -> impl Iterator<Item = (u64, String, Value)> {
    let mut rng = Rng::new(seed);
    let document = match shape {
        Shape::UserAppState => app_state::document,
        Shape::Kanban => kanban::document,
        Shape::Refman => refman::document,
        Shape::Outliner => outliner::document,
    };
    (1..=count).map(move |n| {
        let messy = (rng.next_u64() % 10_000) as f64 / 100.0 < messy_percent;
        (n, format!("u{n:08}"), document(&mut rng, n, messy))
    })
}

/// Writes `count` rows as JSON lines ({id, user_id, updated_at, state}), the backup format.
pub fn write(
    out: &mut dyn Write,
    shape: Shape,
    count: u64,
    seed: u64,
    messy_percent: f64,
) -> std::io::Result<()> {
    for (n, user_id, state) in users_of(shape, count, seed, messy_percent) {
        let row = json!({"id": n, "user_id": user_id, "updated_at": "2024-11-01T00:00:00Z", "state": state});
        serde_json::to_writer(&mut *out, &row)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
