//! Deterministic row ids: the same UUIDv5 the generated SQL computes with `uuid_generate_v5`.
//!
//! The name hashed is `<entity>:<length of user_id in characters>:<user_id>:<legacy id>`. The length
//! prefix keeps the encoding unambiguous whatever characters a user id contains (entity names are
//! identifiers and hold no `:`).

use uuid::Uuid;

/// The longest user id and legacy id, in bytes, pgshred migrates. Both go into B-tree indexes
/// (`UNIQUE (user_id, legacy_id)` on every table, the ledger's keys), whose entries hold at most
/// 2,704 bytes; a longer id would fail its batch with "index row size exceeds maximum" and no
/// user named. Longer legacy ids stop their batch naming user, entity and id (the user can be
/// quarantined); users with longer ids are left out of runs, and `apply` and `verify` list them.
pub const MAX_ID_BYTES: usize = 1000;

/// A user id as messages print it: as it is when it reads unambiguously, else quoted with escapes
/// (an empty id, whitespace at either end, a control character that would split a log line, a
/// leading quote), so every printed id names exactly one user.
pub fn shown_user(id: &str) -> std::borrow::Cow<'_, str> {
    let plain = !id.is_empty()
        && !id.starts_with('"')
        && id.trim() == id
        && !id.chars().any(char::is_control);
    if plain {
        id.into()
    } else {
        format!("{id:?}").into()
    }
}

/// The name string that is hashed for one row; kept in one place so SQL and Rust cannot drift.
pub fn row_name(entity: &str, user_id: &str, legacy_id: &str) -> String {
    format!("{entity}:{}:{user_id}:{legacy_id}", user_id.chars().count())
}

/// What stands for the legacy id in a row's name when legacy ids are unique per parent: the
/// parent's legacy id, its length first so that no two pairs read alike, and the element's own.
/// `03_forward.sql` builds the same text (`id_key`).
pub fn scoped_key(parent_legacy_id: &str, legacy_id: &str) -> String {
    format!(
        "{}:{parent_legacy_id}:{legacy_id}",
        parent_legacy_id.chars().count()
    )
}

/// The id a row of `entity` gets for `(user_id, legacy_id)` under the plan's namespace.
pub fn row_id(namespace: &Uuid, entity: &str, user_id: &str, legacy_id: &str) -> Uuid {
    Uuid::new_v5(namespace, row_name(entity, user_id, legacy_id).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_shown_unambiguously() {
        assert_eq!(shown_user("user-01"), "user-01");
        assert_eq!(shown_user("ann smith"), "ann smith");
        assert_eq!(shown_user(""), "\"\"");
        assert_eq!(shown_user("a\nb"), "\"a\\nb\"");
        assert_eq!(shown_user(" a"), "\" a\"");
        assert_eq!(shown_user("\"a\""), "\"\\\"a\\\"\"");
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let ns = Uuid::parse_str("6f1c0e5c-0b7a-4c1e-9a57-3f5b8a7e9d10").unwrap();
        let a = row_id(&ns, "orgs", "u1", "o1");
        assert_eq!(a, row_id(&ns, "orgs", "u1", "o1"));
        assert_eq!(a.get_version_num(), 5);
        // Without the length prefix these two would hash the same name.
        assert_ne!(
            row_id(&ns, "orgs", "u:1", "o"),
            row_id(&ns, "orgs", "u", "1:o")
        );
        assert_ne!(a, row_id(&ns, "personas", "u1", "o1"));
    }
}
