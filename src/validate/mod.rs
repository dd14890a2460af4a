//! Semantic checks on a schema-valid spec, and its resolution into the plan IR.
//!
//! Every problem is collected (not just the first) with the location of the node it is about.
//! Nothing past this module sees the raw spec types.

//!
//! | module | checks |
//! |---|---|
//! | `plan` | the plan file: names, id namespace, owner expression |
//! | `draft` | what one mapping's checks leave for the others (`Draft`), and the words of the
//! diagnostics they share |
//! | `mapping` | each mapping on its own: names, paths, reserved columns, indexes |
//! | `columns` | a mapping's columns, types, defaults, conversions, value column, drops |
//! | `graph` | across mappings: unique entities, tables and arrays; parents; cycles |
//! | `shape` | an entity's source shape: array, root, single, keyed, scalars |
//! | `references` | references besides the parent: fields, columns, targets, no cycles |
//! | `recursion` | trees in one entity: the children's key, the tree's columns, shapes it takes |
//! | `routes` | one array of many kinds: each entity's kinds, disjoint, and the rest's fate |
//! | `resolve` | the checked spec into `ir::Plan`, entities in foreign-key order |

mod columns;
mod draft;
mod graph;
mod mapping;
mod plan;
mod recursion;
mod references;
mod resolve;
mod routes;
mod shape;

use std::collections::BTreeSet;
use std::path::Path;

use crate::Error;
use crate::diagnostic::Diagnostics;
use crate::ir::Plan;
use crate::spec::load::{LoadedSpec, load};
use draft::Draft;

/// Columns pgshred adds to every target table; a mapping cannot use these names.
pub const SYSTEM_COLUMNS: [&str; 5] = ["id", "user_id", "legacy_id", "created_at", "updated_at"];

/// Tables pgshred creates in the audit schema.
pub const AUDIT_TABLES: [&str; 9] = [
    "migration_audit",
    "migration_audit_sets",
    "migration_quarantine",
    "migration_runs",
    "migration_batches",
    "migration_users",
    "migration_replaced",
    "migration_replaced_users",
    "migration_deferred",
];

/// Loads and validates a plan file: the one entry point from a path to a resolved plan.
pub fn load_plan(path: &Path) -> Result<Plan, Error> {
    let spec = load(path).map_err(Error::Spec)?;
    validate(&spec).map_err(Error::Spec)
}

/// Validates a loaded spec and resolves it into a plan, or returns every problem found.
pub fn validate(spec: &LoadedSpec) -> Result<Plan, Diagnostics> {
    let mut diags = Diagnostics::default();
    let namespace = plan::check(&spec.plan, &mut diags);
    let drafts: Vec<Draft> = spec
        .mappings
        .iter()
        .map(|f| mapping::check(f, &mut diags))
        .collect();
    let by_entity = graph::check_unique(&spec.plan.spec, &drafts, &mut diags);
    let parent_of = graph::parents(spec, &drafts, &by_entity, &mut diags);
    graph::check_cycles(&drafts, &parent_of, &mut diags);
    graph::check_unique_within(&drafts, &parent_of, &mut diags);
    references::check_targets(&drafts, &by_entity, &mut diags);
    references::check_order(&drafts, &by_entity, &parent_of, &mut diags);
    recursion::check_nested(&drafts, &parent_of, &mut diags);
    routes::check_groups(&drafts, &mut diags);
    graph::check_root(&drafts, &mut diags);
    shape::check_other_shapes(&drafts, &parent_of, &mut diags);
    shape::check_members(&drafts, &parent_of, &mut diags);
    shape::check_distinct(&drafts, &parent_of, &mut diags);
    mapping::check_indexes(&drafts, &mut diags);
    // One problem per place: where the schema already spoke, a semantic check only repeats it.
    let mut all = spec.diagnostics.clone();
    let seen: BTreeSet<_> = all.items.iter().map(|d| (d.file.clone(), d.pos)).collect();
    all.items.extend(
        diags
            .items
            .into_iter()
            .filter(|d| !seen.contains(&(d.file.clone(), d.pos))),
    );
    if !all.is_empty() {
        all.sort();
        return Err(all);
    }
    let depends_on = references::dependencies(&drafts, &by_entity, &parent_of);
    Ok(resolve::resolve(
        &spec.plan.spec,
        namespace,
        drafts,
        &parent_of,
        &depends_on,
    ))
}
