//! The shape of an entity's source: an array of objects (the default), the document root
//! (`path: $`), a single object (`single`), an object keyed by id (`keyed`), scalars (`value`);
//! which combinations make sense, and which shapes have no legacy id field of their own.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::spec::MappingSpec;
use crate::spec::load::SourceFile;

/// Shapes that cannot be combined.
pub(super) fn check(file: &SourceFile<MappingSpec>, root: bool, diags: &mut Diagnostics) {
    let m = &file.spec;
    if root && m.source.keyed {
        diags.push(
            file.at_key(
                "E-keyed",
                "/source/keyed",
                "the document root is not keyed: it is one object per user",
            )
            .with_hint("remove `keyed`"),
        );
    }
    if m.source.single && (m.source.keyed || root || m.value.is_some()) {
        diags.push(
            file.at_key(
                "E-single",
                "/source/single",
                "a single object is neither keyed, nor the root, nor a scalar",
            )
            .with_hint("keep one of `single`, `keyed`, `value`, `path: $`"),
        );
    }
    // Keys are text, and the root, single objects and scalars take their place as id.
    if m.source.id_type.is_some() && implicit_id(m, root) {
        diags.push(
            file.at_key(
                "E-id-type",
                "/source/id_type",
                "`id_type` is the JSON type of an id field, which this shape has not",
            )
            .with_hint("remove `id_type`"),
        );
    }
}

/// Whether the elements' legacy ids come from their place (single, scalars, the root unless it
/// names its id field) or their key (keyed), not from a field.
pub(super) fn implicit_id(m: &MappingSpec, root: bool) -> bool {
    (root && m.source.legacy_id.is_none()) || m.source.keyed || m.source.single || m.value.is_some()
}

/// A `legacy_id` given where the shape has none, and why.
/// (The root may name its id field, a board's `id`: then it is addressable like any element.)
pub(super) fn needless_legacy_id(file: &SourceFile<MappingSpec>) -> Option<Diagnostic> {
    let m = &file.spec;
    m.source.legacy_id.as_ref()?;
    let (why, hint) = if m.source.single {
        (
            "a single object has no id field: it is the one object of its parent, its legacy id its position",
            "remove `legacy_id`; map an id inside it as a column if it is there",
        )
    } else if m.source.keyed {
        (
            "an object keyed by id has its legacy ids in its keys",
            "remove `legacy_id`; map the id inside each member as a column if it is there too",
        )
    } else if m.value.is_some() {
        (
            "scalar elements have no id field: their legacy id is their position (or, keyed, their key)",
            "remove `legacy_id`",
        )
    } else {
        return None;
    };
    Some(
        file.at_key("E-legacy-id", "/source/legacy_id", why)
            .with_hint(hint),
    )
}

/// `other_shapes: keep` keeps a value of another shape in the enclosing element's `extra`: the
/// parent's for a nested entity, the document root's at the top level; so that element must have
/// an extra column, and entities sharing one array must agree.
pub(super) fn check_other_shapes(
    drafts: &[super::draft::Draft],
    parent_of: &[Option<usize>],
    diags: &mut Diagnostics,
) {
    use crate::ir::OtherShapes;
    use crate::jsonpath::ArrayPath;
    let keeps =
        |d: &super::draft::Draft| d.file.spec.source.other_shapes == Some(OtherShapes::Keep);
    let root = drafts
        .iter()
        .find(|d| d.path.as_ref().is_some_and(ArrayPath::is_root));
    for (i, d) in drafts.iter().enumerate() {
        let Some(path) = &d.path else { continue };
        let at = |message: String, hint: String| {
            d.file
                .at_key("E-other-shapes", "/source/other_shapes", message)
                .with_hint(hint)
        };
        if let Some(other) = drafts[..i].iter().find(|o| {
            o.path.as_ref().map(ToString::to_string) == Some(path.to_string())
                && keeps(o) != keeps(d)
        }) {
            // Said where `other_shapes: keep` is written.
            let (keeper, plain) = if keeps(d) { (d, other) } else { (other, d) };
            diags.push(
                keeper
                    .file
                    .at_key(
                        "E-other-shapes",
                        "/source/other_shapes",
                        format!(
                            "`{}` reads `{path}` too and fails on another shape: entities of one array keep other shapes alike",
                            plain.file.spec.entity
                        ),
                    )
                    .with_hint(format!(
                        "give `{}` the same `other_shapes`",
                        plain.file.spec.entity
                    )),
            );
            continue;
        }
        if !keeps(d) {
            continue;
        }
        let holder = if path.is_root() {
            diags.push(at(
                "the document root has no enclosing element to keep another shape in".into(),
                "a document that is not an object is `source.not_a_document` in the plan".into(),
            ));
            continue;
        } else if path.is_nested() {
            parent_of[i].map(|p| &drafts[p])
        } else {
            root
        };
        match holder {
            Some(h) if h.extra.is_some() => {}
            Some(h) => diags.push(at(
                format!(
                    "another shape is kept in `{}`'s extra column, and it has none",
                    h.file.spec.entity
                ),
                format!(
                    "remove `extra: false` from `{}`, or other_shapes",
                    h.file.spec.entity
                ),
            )),
            None if path.is_nested() => {}
            None => diags.push(at(
                "at the top level, another shape is kept in the document root's extra column, and the plan maps no root".into(),
                "map the root (`path: $`, one row per user), or remove other_shapes".into(),
            )),
        }
    }
}

/// A path ending in `[*]` reads every member of each enclosing element, keyed by name: so it is
/// `keyed`, and the enclosing entity maps nothing else of its elements (no columns, references,
/// drops, id field or other nested entity), since every key is one of these members.
pub(super) fn check_members(
    drafts: &[super::draft::Draft],
    parent_of: &[Option<usize>],
    diags: &mut Diagnostics,
) {
    use crate::jsonpath::ArrayPath;
    for (i, d) in drafts.iter().enumerate() {
        if !d.path.as_ref().is_some_and(ArrayPath::reads_members) {
            continue;
        }
        let path = &d.file.spec.source.path;
        if !d.file.spec.source.keyed {
            diags.push(
                d.file
                    .at(
                        "E-path-members",
                        "/source/path",
                        format!(
                            "`{path}` reads the members of each element, which are keyed by name"
                        ),
                    )
                    .with_hint("add `keyed: true`: each member an element, its key the legacy id"),
            );
        }
        // A parent that is not the enclosing entity is E-parent-nested's to report.
        let Some(p) = parent_of[i] else { continue };
        let pd = &drafts[p];
        if pd.path != d.path.as_ref().and_then(ArrayPath::parent) {
            continue;
        }
        let pm = &pd.file.spec;
        let mut other: Vec<String> = Vec::new();
        if !pm.columns.is_empty() || pm.value.is_some() {
            other.push("columns".into());
        }
        if !pm.all_references().is_empty() {
            other.push("references".into());
        }
        if !pm.drop.is_empty() {
            other.push("drop".into());
        }
        if pm.source.recursive.is_some() {
            other.push("a tree".into());
        }
        if pd.legacy_id.as_ref().is_some_and(|l| !l.keys().is_empty()) {
            other.push(format!(
                "its id field `{}`",
                pm.source.legacy_id.as_deref().unwrap_or_default()
            ));
        }
        other.extend(
            (0..drafts.len())
                .filter(|&j| {
                    j != i
                        && parent_of[j] == Some(p)
                        && drafts[j].path.as_ref().is_some_and(ArrayPath::is_nested)
                })
                .map(|j| format!("entity `{}` nested in it", drafts[j].file.spec.entity)),
        );
        if !other.is_empty() {
            diags.push(
                d.file
                    .at(
                        "E-path-members",
                        "/source/path",
                        format!(
                            "`{path}` reads every member of `{}`'s elements, so `{}` maps nothing else of them; it has {}",
                            pm.entity,
                            pm.entity,
                            other.join(", ")
                        ),
                    )
                    .with_hint(format!(
                        "make `{}` keyed by name with nothing else mapped, or read one key of its elements (`{path}.<key>`)",
                        pm.entity
                    )),
            );
        }
    }
}

/// A lookup (`source.distinct`) is one row per user and id, copied from the elements another
/// entity keeps: so it is an array of objects with an id field, or of scalars, with no parent, no
/// tree and nothing nested in it, and an entity that is no lookup reads the same path.
pub(super) fn check_distinct(
    drafts: &[super::draft::Draft],
    parent_of: &[Option<usize>],
    diags: &mut Diagnostics,
) {
    use crate::jsonpath::ArrayPath;
    for (i, d) in drafts.iter().enumerate() {
        let m = &d.file.spec;
        if let Some(p) = parent_of[i].filter(|&p| drafts[p].file.spec.source.distinct) {
            diags.push(
                d.file
                    .at_key("E-distinct", "/parent/entity", format!("`{}` is a lookup (distinct): nothing nests in it", drafts[p].file.spec.entity))
                    .with_hint("nest it in the entity that keeps the elements, and reference the lookup instead"),
            );
        }
        if !m.source.distinct {
            continue;
        }
        let at = |message: String, hint: &str| {
            d.file
                .at_key("E-distinct", "/source/distinct", message)
                .with_hint(hint.to_string())
        };
        let problem = if m.parent.is_some() {
            Some("is one row per user and value, so it has no parent")
        } else if m.source.keyed || m.source.single {
            Some("reads an array of objects or scalars, not a keyed or single object")
        } else if m.source.recursive.is_some() {
            Some("reads an array of objects or scalars, not a tree")
        } else if d.path.as_ref().is_some_and(ArrayPath::is_root) {
            Some("reads an array of objects or scalars, not the document root")
        } else {
            None
        };
        if let Some(problem) = problem {
            diags.push(at(
                format!("a lookup (distinct) {problem}"),
                "remove `distinct`, or the parent, keyed, single or recursive",
            ));
        }
        let kept = drafts
            .iter()
            .any(|o| !o.file.spec.source.distinct && o.path.is_some() && o.path == d.path);
        if !kept {
            diags.push(at(
                format!(
                    "no entity keeps the elements of `{}`: a lookup copies values another entity keeps, and the round trip rebuilds them from that one",
                    m.source.path
                ),
                "map the same path as the elements themselves (a link table from scalars, or objects with a reference to the lookup)",
            ));
        }
    }
}
