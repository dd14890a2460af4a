//! Round trip: does the database still say what the source says?
//!
//! The reference is the source document as stored. Each user's document rebuilt from the tables is
//! compared with it, and every difference is classified with the help of the mapping's own reading
//! of the source (the preview's rows, assembled the way `06_reconstruct.sql` assembles database
//! rows):
//!
//! - *declared*: the mapping says so: a dropped key, an element a policy leaves out, order where a
//!   mapping turned its position column off. Counted, never silent, not a failure.
//! - *normalized*: the same value in another spelling, as the column type stores it (a timestamp's
//!   text, `"12"` as 12, `"yes"` as true, a default filled in). Counted; `--strict` fails on them.
//! - *lost*: anything else the tables cannot give back: a key no entity reads, `null` or `[]`
//!   become absent, a JSON type changed, an element or its order lost, a value changed. Fails.
//!
//! Arrays of entities are matched by legacy id; their order is compared on its own.

mod rebuild;
mod walk;

pub use rebuild::rebuild;
use walk::{At, Three, Walk};

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::eval::{self, remove_path};
use crate::ir::{Entity, Plan};

/// How a difference counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Lost,
    Normalized,
    Declared,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Lost => "lost",
            Class::Normalized => "normalized",
            Class::Declared => "declared",
        }
    }
}

/// One place where the rebuilt document differs from the source document.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// `personas[id=p_1].profile.bio`, or `settings` for a document key.
    pub path: String,
    pub class: Class,
    /// What happened, in a few words (`null became absent`, `timestamp text`, `dropped`).
    pub kind: &'static str,
    /// In the source document (`None`: absent).
    pub source: Option<Value>,
    /// From the database (`None`: absent).
    pub rebuilt: Option<Value>,
}

/// What the database should give back for `source`: the mapped rows, reassembled, plus the
/// document keys no entity reads.
pub fn expected(plan: &Plan, user: &str, source: &Value) -> Value {
    let mut findings = Vec::new();
    let rows = eval::evaluate(plan, user, source, &mut findings);
    let mut doc = match rebuild(plan, &rows) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Value::Object(src) = source {
        let mut rest = src.clone();
        for e in plan.entities.iter().filter(|e| !e.path.is_nested()) {
            remove_path(&mut rest, e.path.levels()[0].keys());
        }
        for (k, v) in rest {
            doc.entry(k).or_insert(v);
        }
    }
    Value::Object(doc)
}

/// Every difference between a user's source document and the document rebuilt from the tables.
pub fn compare(plan: &Plan, user: &str, source: &Value, rebuilt: &Value) -> Vec<Difference> {
    let expected = expected(plan, user, source);
    let arrays: BTreeMap<String, &Entity> = plan
        .entities
        .iter()
        // A lookup copies what the entity keeping its path gives back.
        .filter(|e| !e.is_root() && !e.distinct)
        .map(|e| (e.path.to_string(), e))
        .collect();
    let mut w = Walk {
        arrays: &arrays,
        plan,
        out: Vec::new(),
    };
    w.walk(
        At {
            shown: String::new(),
            schema: String::new(),
            // Keys of the document root belong to the root entity, when there is one.
            entity: plan.entities.iter().find(|e| e.is_root()),
            within: Vec::new(),
        },
        Three {
            source: Some(source),
            expected: Some(&expected),
            rebuilt: Some(rebuilt),
        },
    );
    w.out
}
