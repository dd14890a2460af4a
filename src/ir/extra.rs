//! What an element's `extra` column holds, as both writers decide it: the paths that end up
//! elsewhere (so not in `extra`), the objects that consuming them empties, and what `extra` keeps
//! although a column reads it, because no row could give it back.

use super::{Entity, FieldPath, ParentLink};

impl Entity {
    /// Paths of an element that end up somewhere other than `extra`: the legacy id, the parent
    /// link, mapped columns, dropped keys and nested child arrays. Sorted, without repeats.
    pub fn consumed_paths(&self) -> Vec<FieldPath> {
        // The root has no legacy id field (an empty path).
        let mut paths: Vec<FieldPath> = std::iter::once(self.legacy_id.clone())
            .filter(|p| !p.keys().is_empty())
            .collect();
        if let Some(ParentLink { field: Some(f), .. }) = &self.parent {
            paths.push(f.clone());
        }
        paths.extend(self.references.iter().map(|r| r.field.clone()));
        paths.extend(self.columns.iter().map(|c| c.path.clone()));
        paths.extend(self.drop.iter().cloned());
        paths.extend(
            self.child_arrays
                .iter()
                .map(|k| FieldPath(vec![k.key.clone()])),
        );
        paths.sort();
        paths.dedup();
        paths
    }

    /// The objects that hold consumed nested paths (outermost first, without repeats): removing
    /// those paths may leave them empty, and an emptied object is pruned from `extra`; one that
    /// was empty in the source is kept there, so the round trip gives it back.
    pub fn emptied_objects(&self) -> Vec<FieldPath> {
        let consumed = self.consumed_paths();
        let whole: Vec<&str> = consumed
            .iter()
            .filter(|p| p.keys().len() == 1)
            .map(|p| p.head())
            .collect();
        let mut out: Vec<Vec<String>> = consumed
            .iter()
            .filter(|p| p.keys().len() > 1 && !whole.contains(&p.head()))
            .flat_map(|p| (1..p.keys().len()).map(|n| p.keys()[..n].to_vec()))
            .collect();
        out.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
        out.dedup();
        out.into_iter().map(FieldPath).collect()
    }

    /// What `extra` keeps besides the keys no column reads, because no row could give it back;
    /// in the order both writers add it. Empty without an extra column. One decision, which
    /// `03_forward.sql` renders and the evaluator interprets.
    pub fn kept(&self) -> Vec<Kept> {
        if self.extra.is_none() {
            return Vec::new();
        }
        let mut out = Vec::new();
        // The root's id only when it names an id field.
        let ids = (!self.legacy_id.keys().is_empty())
            .then_some((&self.legacy_id, self.id_type))
            .into_iter()
            .chain(
                self.parent
                    .as_ref()
                    .and_then(|p| Some((p.field.as_ref()?, p.id_type))),
            )
            .chain(
                self.references
                    .iter()
                    .enumerate()
                    .filter(|(i, r)| r.leads(*i))
                    .map(|(_, r)| (&r.field, r.id_type)),
            );
        for (id, ty) in ids {
            out.push(Kept {
                path: id.clone(),
                when: KeptWhen::OtherIdType(ty),
            });
        }
        for (i, c) in self.columns.iter().enumerate() {
            out.push(Kept {
                path: c.path.clone(),
                when: if c.keep_original {
                    KeptWhen::Original { column: i }
                } else if c.format == Some(super::Format::Json) {
                    KeptWhen::NullText { column: i }
                } else {
                    KeptWhen::Null { column: i }
                },
            });
        }
        for p in self.emptied_objects() {
            out.push(Kept {
                path: p,
                when: KeptWhen::EmptyObject,
            });
        }
        for k in &self.child_arrays {
            out.push(Kept {
                path: FieldPath(vec![k.key.clone()]),
                when: KeptWhen::NoRows {
                    other_than: k.keeps_other_than,
                },
            });
        }
        out
    }
}

/// A value `extra` keeps at `path` when it is of the kind `when` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub path: FieldPath,
    pub when: KeptWhen,
}

/// What no row can give back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptWhen {
    /// A legacy id or a reference written in a JSON type other than the ids' declared one
    /// (`source.id_type`): the round trip gives every id back in the declared type.
    OtherIdType(super::IdType),
    /// A mapped key holding JSON null: a NULL column cannot tell null from absent. `column` is
    /// the entity's column reading it.
    Null { column: usize },
    /// A JSON-text column (`format: json`) holding JSON null or the text `null`: NULL for both.
    NullText { column: usize },
    /// With `keep_original`, the scalar as the source wrote it (null included).
    Original { column: usize },
    /// An object holding mapped keys that was empty in the source: pruning would drop it.
    EmptyObject,
    /// A nested entity's array that is null, empty (or an empty object): it gives no rows. With
    /// `other_shapes: keep`, also a value that is not `other_than` (a string for a list).
    NoRows { other_than: Option<super::Shape> },
}
