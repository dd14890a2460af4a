//! `pgshred init`: a plan and its mappings drafted from the documents themselves.
//!
//! Three readings of the same documents, one at a time (memory grows with the number of distinct
//! places in the documents, not with their count): the first profiles every place ([`profile`]),
//! from which the entities, their columns and types are drafted ([`draft`]); the second finds
//! each entity's legacy id ([`ids`]); the third looks the fields named like references up among
//! the entities' ids ([`links`]). The
//! files are then written with a comment on every decision ([`render`]), or, where the plan is
//! there already, what the documents add to it is printed as a patch and nothing is written
//! ([`review`]).

mod draft;
mod fold;
mod ids;
mod kinds;
mod links;
mod names;
mod profile;
mod render;
mod review;
mod types;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Error;
use crate::preview::input::{Fields, SourceRow, from_file, stream};

pub use render::Source;

/// Where the documents are read from.
pub enum Input<'a> {
    /// JSON lines or a JSON array: rows of `{user_id, updated_at, state}`, or plain documents.
    File(&'a Path),
    /// The source table, at most `sample` users (the same ones in every reading).
    Database { url: &'a str, sample: i64 },
}

/// What `init` did.
pub struct Outcome {
    pub documents: u64,
    pub entities: usize,
    /// The files written, or (when a draft was there) the patch proposed instead.
    pub written: Vec<PathBuf>,
    pub patch: Option<String>,
}

/// Drafts the plan `name` of the documents `input` into `out`.
pub fn run(name: &str, input: Input, source: &Source, out: &Path) -> Result<Outcome, Error> {
    if !crate::ident::is_valid_identifier(name) {
        return Err(Error::Usage(format!(
            "plan name `{name}`: snake_case ASCII (it names the target schema), e.g. --name my_app"
        )));
    }
    let mut root = profile::Node::default();
    let mut documents = 0u64;
    let mut not_objects = 0u64;
    read(&input, source, &mut |_, doc| {
        documents += 1;
        if doc.is_object() {
            root.observe_document(doc);
        } else {
            not_objects += 1;
        }
    })?;
    if documents == not_objects {
        return Err(Error::Input(format!(
            "no JSON object among the {documents} documents read: nothing to draft a plan from"
        )));
    }
    root.fold_keyed();
    root.fold_trees();
    let mut ents = draft::entities(&root);
    let mut ids = ids::Evidence::default();
    read(&input, source, &mut |user, doc| {
        if doc.is_object() {
            ids.observe(&ents, user, doc);
        }
    })?;
    ids.apply(&mut ents);
    let mut evidence = links::Evidence::default();
    read(&input, source, &mut |_, doc| {
        if doc.is_object() {
            evidence.observe(&ents, doc);
        }
    })?;
    evidence.apply(&mut ents);
    let from = match &input {
        Input::File(f) => f.display().to_string(),
        Input::Database { .. } => format!("{}.{}", source.schema, source.table),
    };
    let seen = render::Seen {
        from: &from,
        documents,
        not_objects,
    };
    let files = render::files(name, source, &seen, &ents);
    let plan = out.join(format!("{name}.yaml"));
    if plan.exists() {
        // A plan is there, perhaps edited since: only what the documents add to it.
        let changes = review::changes(&plan, &ents, &files)?;
        return Ok(Outcome {
            documents,
            entities: ents.len(),
            written: Vec::new(),
            patch: Some(patch(out, &changes)),
        });
    }
    write(out, files, documents, ents.len())
}

/// The changes as a unified diff, its paths relative to `out` (`patch -p1 -d OUT` applies it).
fn patch(out: &Path, changes: &review::Changes) -> String {
    let mut patch = String::new();
    for (path, (old, new)) in changes {
        let file = path.strip_prefix(out).unwrap_or(path).display().to_string();
        let side = |text: &str, prefix: &str| {
            if text.is_empty() {
                "/dev/null".to_string()
            } else {
                format!("{prefix}/{file}")
            }
        };
        let diff = similar::TextDiff::from_lines(old, new);
        patch.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&side(old, "a"), &side(new, "b"))
                .to_string(),
        );
    }
    patch
}

/// Writes the files, or where any is there already, the patch from them to the draft.
fn write(
    out: &Path,
    files: BTreeMap<String, String>,
    documents: u64,
    entities: usize,
) -> Result<Outcome, Error> {
    if files.keys().any(|f| out.join(f).exists()) {
        // Mapping files without their plan: the difference from this draft, file by file, and
        // the earlier draft's mappings this one no longer has removed.
        let mut changes = review::Changes::new();
        let gone: Vec<String> = std::fs::read_dir(out.join("mappings"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|f| format!("mappings/{}", f.file_name().to_string_lossy()))
            .filter(|name| name.ends_with(".yaml") && !files.contains_key(name))
            .collect();
        let empty = String::new();
        for (file, text) in files.iter().chain(gone.iter().map(|g| (g, &empty))) {
            let path = out.join(file);
            let old = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
            };
            if &old != text {
                changes.insert(path, (old, text.clone()));
            }
        }
        return Ok(Outcome {
            documents,
            entities,
            written: Vec::new(),
            patch: Some(patch(out, &changes)),
        });
    }
    let mut written = Vec::new();
    for (file, text) in files {
        let path = out.join(&file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        written.push(path);
    }
    Ok(Outcome {
        documents,
        entities,
        written,
        patch: None,
    })
}

/// Calls `each` with every document (and its user), one at a time.
fn read(input: &Input, source: &Source, each: &mut dyn FnMut(&str, &Value)) -> Result<(), Error> {
    let mut n = 0u64;
    let mut row = |r: SourceRow| {
        n += 1;
        let user = if r.user_id.is_empty() {
            format!("#{n}")
        } else {
            r.user_id
        };
        each(&user, &r.state);
        Ok(())
    };
    match input {
        Input::File(path) => {
            from_file(path, &Fields::documents(), &mut row)?;
        }
        Input::Database { url, sample } => {
            let t = crate::source::SourceTable {
                table: format!(
                    "{}.{}",
                    crate::ident::quote_ident(&source.schema),
                    crate::ident::quote_ident(&source.table)
                ),
                key: crate::ident::quote_ident(&source.key_column),
                document: crate::ident::quote_ident(&source.document_column),
                order: crate::ident::quote_ident(&source.order_column),
            };
            // The newest document of each of `sample` users spread over the key space (the
            // same users in every reading).
            let sql = format!(
                "SELECT DISTINCT ON (s.{k}) s.{k}::text, s.{doc} FROM {table} AS s \
                  WHERE s.{k} IN (SELECT u.k FROM (SELECT DISTINCT s2.{k} AS k FROM {table} AS s2) AS u \
                                   ORDER BY md5(u.k::text), u.k::text LIMIT $1) \
                  ORDER BY s.{k}, s.{order} DESC, s.ctid DESC",
                k = t.key,
                doc = t.document,
                table = t.table,
                order = t.order,
            );
            stream(url, &sql, sample, &mut |r| {
                row(SourceRow {
                    user_id: r.get(0),
                    updated_at: None,
                    state: crate::json::column(r, 1),
                })
            })?;
        }
    }
    Ok(())
}
