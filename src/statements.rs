//! SQL text split into its statements, for servers that take one statement per message: Citus
//! sends DDL on a distributed table to its workers with the text of the statement that ran it,
//! and a message of several statements is refused there ("cannot insert multiple commands into
//! a prepared statement"). The generated scripts hold comments, quoted strings and identifiers,
//! and dollar-quoted bodies; a `;` inside any of them ends nothing.

/// The statements of `sql`, each with its terminating `;`, comments kept; text after the last
/// `;` that holds anything but whitespace and comments is a statement too.
pub fn split(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = block_comment_end(sql, i),
            b'\'' => {
                // E'...' strings escape with a backslash; others only double the quote.
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'E' | b'e')
                    && (i < 2 || !is_word(bytes[i - 2]));
                i = quoted_end(bytes, i, b'\'', escapes);
            }
            b'"' => i = quoted_end(bytes, i, b'"', false),
            b'$' if i == 0 || !is_word(bytes[i - 1]) => i = dollar_end(sql, i),
            b';' => {
                out.push(&sql[start..=i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    let rest = &sql[start..];
    if has_code(rest) {
        out.push(rest);
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Just past a `/* */` comment starting at `i` (they nest in PostgreSQL).
fn block_comment_end(sql: &str, mut i: usize) -> usize {
    let bytes = sql.as_bytes();
    let mut depth = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// Just past the quoted text starting at `i` (a doubled quote is one; with `escapes`, a
/// backslash escapes the next byte).
fn quoted_end(bytes: &[u8], mut i: usize, quote: u8, escapes: bool) -> usize {
    i += 1;
    while i < bytes.len() {
        if escapes && bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// Just past a dollar-quoted string starting at `i` (`$$...$$`, `$tag$...$tag$`); a `$` that
/// opens none (a parameter such as `$1`) is passed over.
fn dollar_end(sql: &str, i: usize) -> usize {
    let rest = &sql[i + 1..];
    let tag_len = rest
        .bytes()
        .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        .count();
    let opens = rest.as_bytes().get(tag_len) == Some(&b'$')
        && !rest.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if !opens {
        return i + 1;
    }
    let tag = &sql[i..i + tag_len + 2];
    let body = i + tag.len();
    sql[body..]
        .find(tag)
        .map_or(sql.len(), |n| body + n + tag.len())
}

/// Whether text holds anything but whitespace and comments.
fn has_code(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .find('\n')
                .map_or("", |n| &after[n + 1..])
                .trim_start();
        } else if rest.starts_with("/*") {
            rest = rest[block_comment_end(rest, 0)..].trim_start();
        } else {
            return !rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_semicolon_ends_a_statement_only_outside_quotes_comments_and_bodies() {
        let sql = "-- a; comment\nSELECT 'a;b', \"c;d\", E'e\\';f';\n\
                   DO $do$ BEGIN EXECUTE $f$SELECT 1; SELECT 2$f$; END $do$;\n\
                   /* x; /* nested; */ y; */ SELECT $1, a$b FROM t;\n\
                   CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n-- trailing\n";
        let parts = split(sql);
        assert_eq!(parts.len(), 4, "{parts:#?}");
        assert!(parts[0].ends_with("E'e\\';f';"));
        assert!(parts[1].trim_start().starts_with("DO $do$") && parts[1].ends_with("END $do$;"));
        assert!(parts[2].ends_with("SELECT $1, a$b FROM t;"));
        assert!(parts[3].ends_with("$$ SELECT 1; $$;"));
        assert_eq!(parts.concat(), sql.trim_end_matches("\n-- trailing\n"));
        assert_eq!(split("SELECT 1"), ["SELECT 1"]);
        assert!(split("  -- nothing\n/* at all */ ").is_empty());
    }
}
