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
