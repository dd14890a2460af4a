//! Semantic checks on a schema-valid spec, and its resolution into the plan IR.
//!
//! Every problem is collected (not just the first) with the location of the node it is about.
//! Nothing past this module sees the raw spec types.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde_json::Value;
use uuid::Uuid;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ident::{MAX_IDENT_BYTES, derived_name, is_valid_identifier};
use crate::ir::{
    Batch, Column, DuplicateId, Entity, Index, MissingId, OnMissingParent, ParentLink, Plan,
    Source, SqlType,
};
use crate::jsonpath::{self, ArrayPath, FieldPath, PathError};
use crate::spec::MappingSpec;
use crate::spec::load::{LoadedSpec, SourceFile, load};
use crate::spec::schema::suggest;
use crate::{Error, cast};

/// Columns pgshred adds to every target table; a mapping cannot use these names.
pub const SYSTEM_COLUMNS: [&str; 5] = ["id", "user_id", "legacy_id", "created_at", "updated_at"];

/// Tables pgshred creates in the audit schema.
pub const AUDIT_TABLES: [&str; 6] = [
    "migration_audit",
    "migration_audit_sets",
    "migration_quarantine",
    "migration_runs",
    "migration_batches",
    "migration_users",
];

/// Loads and validates a plan file: the one entry point from a path to a resolved plan.
pub fn load_plan(path: &Path) -> Result<Plan, Error> {
    let spec = load(path).map_err(Error::Spec)?;
    validate(&spec).map_err(Error::Spec)
}

fn ident_diag<T>(f: &SourceFile<T>, pointer: &str, name: &str, what: &str) -> Option<Diagnostic> {
    if is_valid_identifier(name) {
        return None;
    }
    let (msg, hint) = if name.len() > MAX_IDENT_BYTES {
        (
            format!(
                "{what} `{name}` is {} bytes long; PostgreSQL truncates names after {MAX_IDENT_BYTES}",
                name.len()
            ),
            "choose a shorter name".to_string(),
        )
    } else {
        (
            format!("{what} `{name}` is not a valid identifier"),
            format!(
                "use lower-case snake_case starting with a letter, e.g. `{}`",
                snake_case(name)
            ),
        )
    };
    Some(f.at("E-identifier", pointer, msg).with_hint(hint))
}

/// `orgId` -> `org_id`, for hints.
fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("_{out}"),
        None => "name".into(),
        _ => out,
    }
}

fn path_diag<T>(f: &SourceFile<T>, pointer: &str, text: &str, e: PathError) -> Diagnostic {
    let mut d = f.at(
        "E-path",
        pointer,
        format!("malformed path `{text}`: {}", e.message),
    );
    // Point at the offending character when the value sits on one line.
    if let Some(pos) = d.pos.as_mut() {
        let line = f.text.lines().nth(pos.line - 1).unwrap_or("");
        let rest: String = line.chars().skip(pos.column - 1).collect();
        let quote = usize::from(rest.starts_with(['"', '\'']));
        if rest.get(quote..quote + text.len()) == Some(text) {
            pos.column += quote + text[..e.offset].chars().count();
        }
    }
    d.with_hint("paths are keys separated by dots, e.g. `profile.bio`; entity arrays may nest with `[*]`, e.g. `personas[*].contents`")
}

/// What is known about one mapping after its own checks, before cross-entity checks.
struct Draft<'a> {
    file: &'a SourceFile<MappingSpec>,
    path: Option<ArrayPath>,
    legacy_id: Option<FieldPath>,
    parent_field: Option<FieldPath>,
    columns: Vec<Column>,
    drop: Vec<FieldPath>,
    extra: Option<String>,
}

fn check_mapping<'a>(file: &'a SourceFile<MappingSpec>, diags: &mut Diagnostics) -> Draft<'a> {
    let m = &file.spec;
    for (ptr, name, what) in [
        ("/entity", &m.entity, "entity name"),
        ("/table", &m.table, "table name"),
    ] {
        if let Some(d) = ident_diag(file, ptr, name, what) {
            diags.push(d);
        }
    }
    let path = match jsonpath::parse_array(&m.source.path) {
        Ok(p) => Some(p),
        Err(e) => {
            diags.push(path_diag(file, "/source/path", &m.source.path, e));
            None
        }
    };
    let legacy_id = if m.source.legacy_id.trim().is_empty() {
        diags.push(
            file.at(
                "E-legacy-id",
                "/source/legacy_id",
                "the legacy id field is empty",
            )
            .with_hint("name the field of each element that holds its legacy id, e.g. `id`"),
        );
        None
    } else {
        match jsonpath::parse_field(&m.source.legacy_id) {
            Ok(p) => Some(p),
            Err(e) => {
                diags.push(path_diag(file, "/source/legacy_id", &m.source.legacy_id, e));
                None
            }
        }
    };
    let parent_field =
        m.parent.as_ref().and_then(|p| p.field.as_ref()).and_then(
            |t| match jsonpath::parse_field(t) {
                Ok(p) => Some(p),
                Err(e) => {
                    diags.push(path_diag(file, "/parent/field", t, e));
                    None
                }
            },
        );

    // Column names: unique, valid, not a system column, not the parent or extra column.
    let mut names: HashMap<&str, String> = HashMap::new();
    for sys in SYSTEM_COLUMNS {
        names.insert(sys, "a column pgshred adds to every table".into());
    }
    if let Some(p) = &m.parent {
        if let Some(d) = ident_diag(file, "/parent/column", &p.column, "column name") {
            diags.push(d);
        }
        claim_name(
            file,
            &mut names,
            &p.column,
            "/parent/column",
            "the parent link column",
            diags,
        );
    }
    let extra = match &m.extra {
        None => Some("extra".to_string()),
        Some(Value::Bool(false)) => None,
        Some(Value::String(s)) => {
            if let Some(d) = ident_diag(file, "/extra", s, "column name") {
                diags.push(d);
            }
            claim_name(file, &mut names, s, "/extra", "the extra column", diags);
            Some(s.clone())
        }
        Some(_) => None, // the schema only lets a string or `false` through
    };
    if m.extra.is_none() {
        claim_name(
            file,
            &mut names,
            "extra",
            "/entity",
            "the extra column",
            diags,
        );
    }

    let mut columns = Vec::new();
    let mut seen_paths: BTreeMap<FieldPath, String> = BTreeMap::new();
    for (i, c) in m.columns.iter().enumerate() {
        let ptr = format!("/columns/{i}");
        if let Some(d) = ident_diag(file, &format!("{ptr}/name"), &c.name, "column name") {
            diags.push(d);
        }
        claim_name(
            file,
            &mut names,
            &c.name,
            &format!("{ptr}/name"),
            &format!("the column mapped from `{}`", c.path),
            diags,
        );
        let Some(ty) = SqlType::parse(&c.ty) else {
            let all: Vec<&str> = SqlType::ALL.iter().map(|t| t.sql()).collect();
            let mut d = file.at(
                "E-type",
                &format!("{ptr}/type"),
                format!("unknown type `{}`", c.ty),
            );
            d = match suggest(&c.ty, all.iter().copied()) {
                Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                None => d.with_hint(format!("supported types: {}", all.join(", "))),
            };
            diags.push(d);
            continue;
        };
        let path = match jsonpath::parse_field(&c.path) {
            Ok(p) => p,
            Err(e) => {
                diags.push(path_diag(file, &format!("{ptr}/path"), &c.path, e));
                continue;
            }
        };
        if let Some(other) = seen_paths.get(&path) {
            diags.push(
                file.at(
                    "E-path-twice",
                    &format!("{ptr}/path"),
                    format!("path `{path}` is already mapped to column `{other}`"),
                )
                .with_hint("map each JSON path to one column; use a view for copies"),
            );
        } else {
            seen_paths.insert(path.clone(), c.name.clone());
        }
        if let Some(def) = &c.default
            && let Err(expected) = cast::check(ty, def)
        {
            diags.push(
                file.at(
                    "E-default",
                    &format!("{ptr}/default"),
                    format!("default {def} does not fit type {}", ty.sql()),
                )
                .with_hint(format!("expected {expected}")),
            );
        }
        columns.push(Column {
            name: c.name.clone(),
            path,
            ty,
            required: c.required,
            default: c.default.clone(),
        });
    }

    let mut drop = Vec::new();
    for (i, t) in m.drop.iter().enumerate() {
        let ptr = format!("/drop/{i}");
        match jsonpath::parse_field(t) {
            Ok(p) => {
                if let Some(col) = seen_paths.get(&p) {
                    diags.push(
                        file.at(
                            "E-path-twice",
                            &ptr,
                            format!("path `{p}` is dropped but also mapped to column `{col}`"),
                        )
                        .with_hint("remove it from `drop` or from `columns`"),
                    );
                }
                drop.push(p);
            }
            Err(e) => diags.push(path_diag(file, &ptr, t, e)),
        }
    }
    Draft {
        file,
        path,
        legacy_id,
        parent_field,
        columns,
        drop,
        extra,
    }
}

fn claim_name<'n, T>(
    file: &SourceFile<T>,
    names: &mut HashMap<&'n str, String>,
    name: &'n str,
    pointer: &str,
    what: &str,
    diags: &mut Diagnostics,
) {
    if let Some(owner) = names.get(name) {
        diags.push(
            file.at(
                "E-duplicate-column",
                pointer,
                format!("column `{name}` is defined twice: it is already {owner}"),
            )
            .with_hint("rename one of them"),
        );
    } else {
        names.insert(name, what.to_string());
    }
}

fn parse_policy<T: Copy>(
    file: &SourceFile<MappingSpec>,
    value: Option<&String>,
    pointer: &str,
    default: T,
    options: &[(&str, T)],
    diags: &mut Diagnostics,
) -> T {
    let Some(v) = value else { return default };
    match options.iter().find(|(name, _)| name == v) {
        Some((_, p)) => *p,
        None => {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            diags.push(file.at(
                "E-bad-value",
                pointer,
                format!("`{v}` is not one of: {}", names.join(", ")),
            ));
            default
        }
    }
}

/// Validates a loaded spec and resolves it into a plan, or returns every problem found.
pub fn validate(spec: &LoadedSpec) -> Result<Plan, Diagnostics> {
    let mut diags = Diagnostics::default();
    let plan_file = &spec.plan;
    let p = &plan_file.spec;

    for (ptr, name, what) in [
        ("/plan", &p.plan, "plan name"),
        ("/source/schema", &p.source.schema, "schema name"),
        ("/source/table", &p.source.table, "table name"),
        ("/source/key_column", &p.source.key_column, "column name"),
        (
            "/source/document_column",
            &p.source.document_column,
            "column name",
        ),
        (
            "/source/order_column",
            &p.source.order_column,
            "column name",
        ),
        ("/target/schema", &p.target.schema, "schema name"),
        (
            "/target/audit_schema",
            &p.target.audit_schema,
            "schema name",
        ),
    ] {
        if let Some(d) = ident_diag(plan_file, ptr, name, what) {
            diags.push(d);
        }
    }
    // Per-plan objects in the audit schema are named `<plan>_reconstructed` and
    // `<plan>_begin_forward`: both must fit PostgreSQL's name length.
    let longest_suffix = "_begin_forward".len().max("_reconstructed".len());
    if is_valid_identifier(&p.plan) && p.plan.len() + longest_suffix > MAX_IDENT_BYTES {
        diags.push(
            plan_file
                .at(
                    "E-identifier",
                    "/plan",
                    format!(
                        "plan name `{}` is {} bytes long; at most {} fit, since the audit schema names objects after it (`{}_reconstructed`)",
                        p.plan,
                        p.plan.len(),
                        MAX_IDENT_BYTES - longest_suffix,
                        p.plan
                    ),
                )
                .with_hint("choose a shorter name"),
        );
    }
    let namespace = match Uuid::parse_str(&p.ids.namespace) {
        Ok(u) => u,
        Err(_) => {
            diags.push(
                plan_file
                    .at("E-namespace", "/ids/namespace", format!("`{}` is not a UUID", p.ids.namespace))
                    .with_hint("generate one once (e.g. `uuidgen`) and never change it: every new id derives from it"),
            );
            Uuid::nil()
        }
    };
    let owner = p.security.owner_expression.trim();
    if owner.is_empty()
        || owner.contains(';')
        || owner.contains("--")
        || owner.contains("/*")
        || owner.chars().any(char::is_control)
        || !balanced_parentheses(owner)
    {
        diags.push(
            plan_file
                .at("E-owner-expression", "/security/owner_expression", "the owner expression must be one SQL expression")
                .with_hint("e.g. auth.uid()::text (Supabase) or current_setting('app.user_id', true); one line, balanced parentheses, no `;` or comments"),
        );
    }

    let drafts: Vec<Draft> = spec
        .mappings
        .iter()
        .map(|f| check_mapping(f, &mut diags))
        .collect();

    // Entities and tables must be unique across the plan.
    let mut by_entity: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_table: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_path: BTreeMap<String, usize> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        let m = &d.file.spec;
        if let Some(&j) = by_entity.get(m.entity.as_str()) {
            diags.push(
                d.file
                    .at(
                        "E-duplicate-entity",
                        "/entity",
                        format!(
                            "entity `{}` is also defined in {}",
                            m.entity,
                            drafts[j].file.path.display()
                        ),
                    )
                    .with_hint("each entity has one mapping file; is it listed twice in the plan?"),
            );
        } else {
            by_entity.insert(&m.entity, i);
        }
        if let Some(&j) = by_table.get(m.table.as_str()) {
            diags.push(
                d.file
                    .at(
                        "E-duplicate-table",
                        "/table",
                        format!(
                            "table `{}` is also the target of {}",
                            m.table,
                            drafts[j].file.path.display()
                        ),
                    )
                    .with_hint("give each entity its own table"),
            );
        } else {
            by_table.insert(&m.table, i);
        }
        if p.target.schema == p.target.audit_schema && AUDIT_TABLES.contains(&m.table.as_str()) {
            diags.push(
                d.file
                    .at(
                        "E-duplicate-table",
                        "/table",
                        format!("table `{}` is one of pgshred's audit tables", m.table),
                    )
                    .with_hint("rename the table, or set target.audit_schema to another schema"),
            );
        }
        if let Some(path) = &d.path {
            let key = path.to_string();
            if let Some(&j) = by_path.get(&key) {
                diags.push(
                    d.file
                        .at(
                            "E-path-twice",
                            "/source/path",
                            format!(
                                "array `{key}` is already read by entity `{}`",
                                drafts[j].file.spec.entity
                            ),
                        )
                        .with_hint("two entities cannot read the same array"),
                );
            } else {
                by_path.insert(key, i);
            }
        }
    }

    // Parents: known, consistent with nesting, no cycles.
    let mut parent_of: Vec<Option<usize>> = vec![None; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        let m = &d.file.spec;
        let nested = d.path.as_ref().is_some_and(ArrayPath::is_nested);
        let Some(pspec) = &m.parent else {
            if nested {
                diags.push(
                    d.file
                        .at("E-parent-nested", "/source/path", format!("nested path `{}` needs a `parent`", m.source.path))
                        .with_hint("add `parent: {entity: <entity of the enclosing array>, column: <fk column>}`"),
                );
            }
            continue;
        };
        let Some(&j) = by_entity.get(pspec.entity.as_str()) else {
            if spec.unusable_entities.contains(&pspec.entity) {
                continue; // its own file's errors are already reported
            }
            let mut dg = d.file.at(
                "E-parent-unknown",
                "/parent/entity",
                format!("unknown parent entity `{}`", pspec.entity),
            );
            dg = match suggest(&pspec.entity, by_entity.keys().copied()) {
                Some(s) => dg.with_hint(format!("did you mean `{s}`?")),
                None => dg.with_hint(format!(
                    "entities in this plan: {}; is its mapping file listed in the plan?",
                    by_entity.keys().copied().collect::<Vec<_>>().join(", ")
                )),
            };
            diags.push(dg);
            continue;
        };
        parent_of[i] = Some(j);
        if nested {
            if pspec.field.is_some() {
                diags.push(
                    d.file
                        .at_key("E-parent-nested", "/parent/field", "`field` is not used for a nested entity: the enclosing element is the parent")
                        .with_hint("remove `field`"),
                );
            }
            let expected = d.path.as_ref().and_then(ArrayPath::parent);
            if let (Some(exp), Some(ppath)) = (&expected, &drafts[j].path)
                && exp != ppath
            {
                diags.push(
                    d.file
                        .at(
                            "E-parent-nested",
                            "/parent/entity",
                            format!(
                                "parent `{}` reads `{ppath}`, but this path is nested in `{exp}`",
                                pspec.entity
                            ),
                        )
                        .with_hint(
                            "the parent of a nested entity is the entity of its enclosing array",
                        ),
                );
            }
        } else if pspec.field.is_none() {
            diags.push(
                d.file
                    .at(
                        "E-parent-field",
                        "/parent",
                        "a top-level entity needs `field`: which key holds the parent's legacy id",
                    )
                    .with_hint("e.g. `field: orgId`"),
            );
        }
    }
    for start in 0..drafts.len() {
        let mut seen = vec![start];
        let mut cur = start;
        while let Some(next) = parent_of[cur] {
            if next == start {
                let names: Vec<&str> = seen
                    .iter()
                    .chain([&start])
                    .map(|&k| drafts[k].file.spec.entity.as_str())
                    .collect();
                // Report the cycle once, at the entity whose name sorts first.
                if seen
                    .iter()
                    .all(|&k| drafts[k].file.spec.entity >= drafts[start].file.spec.entity)
                {
                    diags.push(
                        drafts[start]
                            .file
                            .at("E-parent-cycle", "/parent/entity", format!("parent links form a cycle: {}", names.join(" -> ")))
                            .with_hint("parents are created before children, so a cycle can never be migrated; remove one link"),
                    );
                }
                break;
            }
            if seen.contains(&next) {
                break;
            }
            seen.push(next);
            cur = next;
        }
    }

    // Indexes name existing columns.
    for d in &drafts {
        let m = &d.file.spec;
        let known: BTreeSet<&str> = SYSTEM_COLUMNS
            .iter()
            .copied()
            .chain(m.columns.iter().map(|c| c.name.as_str()))
            .chain(m.parent.iter().map(|p| p.column.as_str()))
            .chain(d.extra.iter().map(String::as_str))
            .collect();
        for (i, idx) in m.indexes.iter().enumerate() {
            for (k, col) in idx.columns.iter().enumerate() {
                if !known.contains(col.as_str()) {
                    let mut dg = d.file.at(
                        "E-index-column",
                        &format!("/indexes/{i}/columns/{k}"),
                        format!("index column `{col}` is not a column of `{}`", m.table),
                    );
                    if let Some(s) = suggest(col, known.iter().copied()) {
                        dg = dg.with_hint(format!("did you mean `{s}`?"));
                    }
                    diags.push(dg);
                }
            }
        }
    }

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
    // Policies are enums in the schema, so a bad one has already been reported and returned above.
    let mut unreachable = Diagnostics::default();
    Ok(resolve(p, namespace, drafts, &parent_of, &mut unreachable))
}

fn missing_id_policy(f: &SourceFile<MappingSpec>, diags: &mut Diagnostics) -> MissingId {
    parse_policy(
        f,
        f.spec.source.on_missing_id.as_ref(),
        "/source/on_missing_id",
        MissingId::Error,
        &[
            ("error", MissingId::Error),
            ("position", MissingId::Position),
        ],
        diags,
    )
}

fn resolve(
    p: &crate::spec::PlanSpec,
    namespace: Uuid,
    drafts: Vec<Draft>,
    parent_of: &[Option<usize>],
    diags: &mut Diagnostics,
) -> Plan {
    // Kahn's algorithm, taking ready entities in the plan's order so output is stable.
    let mut order = Vec::new();
    let mut placed = vec![false; drafts.len()];
    while order.len() < drafts.len() {
        let next =
            (0..drafts.len()).find(|&i| !placed[i] && parent_of[i].is_none_or(|j| placed[j]));
        let Some(i) = next else { break };
        placed[i] = true;
        order.push(i);
    }
    let mut child_arrays: Vec<Vec<String>> = vec![Vec::new(); drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        if let (Some(j), Some(path)) = (parent_of[i], &d.path)
            && path.is_nested()
            && let Some(last) = path.levels().last()
        {
            child_arrays[j].push(last.head().to_string());
        }
    }
    let mut entities = Vec::new();
    for i in order {
        let d = &drafts[i];
        let m = &d.file.spec;
        let f = d.file;
        let parent = m.parent.as_ref().map(|ps| {
            let pd = &drafts[parent_of[i].expect("resolved above")];
            ParentLink {
                entity: ps.entity.clone(),
                table: pd.file.spec.table.clone(),
                field: d.parent_field.clone(),
                parent_legacy_id: pd.legacy_id.clone().expect("validated"),
                parent_on_missing_id: missing_id_policy(pd.file, diags),
                column: ps.column.clone(),
                on_missing: parse_policy(
                    f,
                    ps.on_missing.as_ref(),
                    "/parent/on_missing",
                    OnMissingParent::Error,
                    &[
                        ("error", OnMissingParent::Error),
                        ("null", OnMissingParent::Null),
                        ("skip", OnMissingParent::Skip),
                    ],
                    diags,
                ),
            }
        });
        let mut indexes: Vec<Index> = Vec::new();
        if let Some(pl) = &parent {
            indexes.push(Index {
                name: derived_name(&[&m.table, &pl.column], "idx"),
                columns: vec![pl.column.clone()],
                unique: false,
            });
        }
        for idx in &m.indexes {
            let cols: Vec<&str> = idx.columns.iter().map(String::as_str).collect();
            let name = derived_name(
                &[&[m.table.as_str()][..], &cols].concat(),
                if idx.unique { "key" } else { "idx" },
            );
            if !indexes.iter().any(|x| x.columns == idx.columns) {
                indexes.push(Index {
                    name,
                    columns: idx.columns.clone(),
                    unique: idx.unique,
                });
            }
        }
        let mut ca = child_arrays[i].clone();
        ca.sort();
        entities.push(Entity {
            name: m.entity.clone(),
            description: m.description.clone(),
            table: m.table.clone(),
            path: d.path.clone().expect("validated"),
            legacy_id: d.legacy_id.clone().expect("validated"),
            on_missing_id: missing_id_policy(f, diags),
            on_duplicate_id: parse_policy(
                f,
                m.source.on_duplicate_id.as_ref(),
                "/source/on_duplicate_id",
                DuplicateId::Error,
                &[
                    ("error", DuplicateId::Error),
                    ("keep_first", DuplicateId::KeepFirst),
                ],
                diags,
            ),
            parent,
            columns: d.columns.clone(),
            extra: d.extra.clone(),
            drop: d.drop.clone(),
            indexes,
            child_arrays: ca,
        });
    }
    Plan {
        name: p.plan.clone(),
        description: p.description.clone(),
        source: Source {
            schema: p.source.schema.clone(),
            table: p.source.table.clone(),
            key_column: p.source.key_column.clone(),
            key_type: p.source.key_type.clone().unwrap_or_else(|| "text".into()),
            // The JSON Schema admits only these two.
            not_a_document: match p.source.not_a_document.as_deref() {
                Some("skip") => crate::ir::NotADocument::Skip,
                _ => crate::ir::NotADocument::Error,
            },
            document_column: p.source.document_column.clone(),
            order_column: p.source.order_column.clone(),
        },
        target_schema: p.target.schema.clone(),
        audit_schema: p.target.audit_schema.clone(),
        namespace,
        batch: Batch {
            size: p.batch.size,
            lock_timeout: p.batch.lock_timeout.clone(),
            statement_timeout: p.batch.statement_timeout.clone(),
        },
        owner_expression: p.security.owner_expression.trim().to_string(),
        row_level_security: p.security.row_level_security,
        entities,
    }
}

/// Parentheses outside string literals and quoted identifiers close in order and all close: the
/// owner expression is placed inside `(...)` in the policies, and `x) OR (true` would widen them.
fn balanced_parentheses(sql: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_cases_hints() {
        assert_eq!(snake_case("orgId"), "org_id");
        assert_eq!(snake_case("Inbox Items"), "inbox_items");
        assert_eq!(snake_case("1st"), "_1st");
    }
}
