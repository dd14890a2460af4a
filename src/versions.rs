//! The version of each entity's mapping, and after a plan changed, what already-migrated users
//! need: used by `apply` (and `status`) against the ledger, and by `diff` between revisions.
//!
//! Every user's ledger entry records, per entity, the checksum of the statement that migrated it
//! ([`crate::compiled::Step::version`]). Users with the same recorded versions form a group,
//! and a group needs: the entities it has no version of (a backfill: parents already exist, so
//! only those statements run), and with `--remap` the entities whose version changed plus every
//! entity below them (their rows are replaced: deleting a parent row needs its children gone). An
//! entity whose version changed and is not remapped stops the run before anything is written.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::artifacts::Files;
use crate::ir::Plan;

/// The current version of each entity's mapping, and how the entities hang together.
pub struct Versions {
    /// (entity, checksum) in the order the entities run: parents first.
    pub current: Vec<(String, String)>,
    parent: BTreeMap<String, String>,
}

/// What a group of migrated users needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// Entities to run, parents first.
    pub entities: Vec<String>,
    /// Whether rows those users already have of them are replaced.
    pub replace: bool,
}

impl Versions {
    /// The versions of a plan compiled now.
    pub fn compiled(plan: &Plan, compiled: &crate::compiled::Compiled) -> Versions {
        Self::with(
            plan,
            compiled
                .steps()
                .iter()
                .map(|s| (s.entity.clone(), s.version.clone()))
                .collect(),
        )
    }

    /// The versions of a plan compiled at another revision.
    pub fn new(plan: &Plan, files: &Files) -> Versions {
        Self::with(plan, crate::compiled::versions(files))
    }

    fn with(plan: &Plan, current: Vec<(String, String)>) -> Versions {
        Versions {
            current,
            parent: plan
                .entities
                .iter()
                .filter_map(|e| Some((e.name.clone(), e.parent.as_ref()?.entity.clone())))
                .collect(),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.current.iter().map(|(n, _)| n.as_str())
    }

    pub fn contains(&self, entity: &str) -> bool {
        self.current.iter().any(|(n, _)| n == entity)
    }

    /// entity -> checksum of the given entities (all when `None`), as the ledger stores them.
    pub fn map(&self, only: Option<&[String]>) -> Value {
        Value::Object(
            self.current
                .iter()
                .filter(|(n, _)| only.is_none_or(|o| o.contains(n)))
                .map(|(n, c)| (n.clone(), Value::String(c.clone())))
                .collect(),
        )
    }

    /// Whether `entity` is `ancestor` or lies below it.
    fn descends_from(&self, entity: &str, ancestor: &str) -> bool {
        let mut at = Some(entity);
        while let Some(e) = at {
            if e == ancestor {
                return true;
            }
            at = self.parent.get(e).map(String::as_str);
        }
        false
    }

    /// The entities whose recorded version differs from the current one.
    fn older(&self, recorded: &Map<String, Value>) -> Vec<String> {
        self.current
            .iter()
            .filter(|(n, c)| {
                recorded
                    .get(n)
                    .and_then(Value::as_str)
                    .is_some_and(|r| r != c)
            })
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// What users with these recorded versions need, given the entities to remap; `Err` lists the
    /// changed entities that are not remapped.
    pub fn need(
        &self,
        recorded: &Map<String, Value>,
        remap: &BTreeSet<String>,
    ) -> Result<Option<Need>, Vec<String>> {
        let older = self.older(recorded);
        let refused: Vec<String> = older
            .iter()
            .filter(|e| !remap.contains(*e))
            .cloned()
            .collect();
        if !refused.is_empty() {
            return Err(refused);
        }
        let replaced: BTreeSet<&str> = self
            .names()
            .filter(|n| older.iter().any(|o| self.descends_from(n, o)))
            .collect();
        let entities: Vec<String> = self
            .names()
            .filter(|n| replaced.contains(n) || !recorded.contains_key(*n))
            .map(str::to_string)
            .collect();
        if entities.is_empty() {
            return Ok(None);
        }
        Ok(Some(Need {
            entities,
            replace: !replaced.is_empty(),
        }))
    }

    /// `--remap` names with every entity below them, for messages.
    pub fn with_dependents(&self, roots: &[String]) -> Vec<String> {
        self.names()
            .filter(|n| roots.iter().any(|r| self.descends_from(n, r)))
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn versions() -> Versions {
        Versions {
            current: ["orgs", "personas", "contents", "accounts"]
                .iter()
                .map(|n| (n.to_string(), format!("{n}-v2")))
                .collect(),
            parent: [
                ("personas", "orgs"),
                ("contents", "personas"),
                ("accounts", "personas"),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        }
    }

    fn recorded(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_new_entity_is_backfilled_alone() {
        let r = recorded(
            json!({"orgs": "orgs-v2", "personas": "personas-v2", "contents": "contents-v2"}),
        );
        let need = versions().need(&r, &BTreeSet::new()).unwrap().unwrap();
        assert_eq!(need.entities, vec!["accounts"]);
        assert!(!need.replace);
    }

    #[test]
    fn a_changed_entity_is_refused_unless_remapped_and_takes_its_dependents() {
        let v = versions();
        let r = recorded(
            json!({"orgs": "orgs-v2", "personas": "personas-v1", "contents": "contents-v2", "accounts": "accounts-v2"}),
        );
        assert_eq!(
            v.need(&r, &BTreeSet::new()),
            Err(vec!["personas".to_string()])
        );
        let remap = BTreeSet::from(["personas".to_string()]);
        let need = v.need(&r, &remap).unwrap().unwrap();
        assert_eq!(need.entities, vec!["personas", "contents", "accounts"]);
        assert!(need.replace);
    }

    #[test]
    fn users_up_to_date_need_nothing() {
        let r = recorded(versions().map(None));
        assert_eq!(versions().need(&r, &BTreeSet::new()), Ok(None));
    }
}
