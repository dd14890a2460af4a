//! Quoting of SQL identifiers and literals, and derived names that fit PostgreSQL's 63-byte limit.
//!
//! Templates never interpolate a raw name: they go through the filters registered from here.

/// PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1).
pub const MAX_IDENT_BYTES: usize = 63;

/// Names pgshred accepts for tables, columns, schemas and entities: snake_case ASCII.
pub fn is_valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= MAX_IDENT_BYTES
}

/// `"name"` with embedded quotes doubled. Every identifier is quoted, reserved word or not, so
/// `references` or `user` need no special case.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled (standard_conforming_strings, on since PostgreSQL 9.1).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A text[] literal such as `'{profile,bio}'`, for `#>` and `#-` path operators.
pub fn text_array_literal(items: &[String]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|k| format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    quote_literal(&format!("{{{}}}", inner.join(",")))
}

/// A name built from parts, e.g. `personas_org_id_fkey`, shortened with a stable hash suffix when
/// it would exceed 63 bytes (PostgreSQL would otherwise truncate it silently, and two long names
/// could collide).
pub fn derived_name(parts: &[&str], suffix: &str) -> String {
    let full = format!("{}_{suffix}", parts.join("_"));
    if full.len() <= MAX_IDENT_BYTES {
        return full;
    }
    let hash = fnv1a(full.as_bytes());
    let tail = format!("_{hash:08x}_{suffix}");
    let mut head = full[..MAX_IDENT_BYTES - tail.len()].to_string();
    while !full.is_char_boundary(head.len()) {
        head.pop();
    }
    format!("{head}{tail}")
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes() {
        assert_eq!(quote_ident("references"), "\"references\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(
            text_array_literal(&["profile".into(), "bio".into()]),
            "'{\"profile\",\"bio\"}'"
        );
    }

    #[test]
    fn long_names_are_shortened_stably() {
        let long = "a".repeat(60);
        let n = derived_name(&[&long, "org_id"], "fkey");
        assert!(n.len() <= MAX_IDENT_BYTES);
        assert!(n.ends_with("_fkey"));
        assert_eq!(n, derived_name(&[&long, "org_id"], "fkey"));
        assert_eq!(
            derived_name(&["personas", "org_id"], "fkey"),
            "personas_org_id_fkey"
        );
    }

    #[test]
    fn identifiers() {
        assert!(is_valid_identifier("inbox_items"));
        assert!(!is_valid_identifier("InboxItems"));
        assert!(!is_valid_identifier("1x"));
        assert!(!is_valid_identifier(&"a".repeat(64)));
    }
}
