//! A cap on how deeply a spec file nests, checked on the text before any YAML parser sees it:
//! parsers take time quadratic in the nesting depth before their own recursion limit stops them
//! (a 200 KB file of brackets took 38 s), and no mapping needs more than a handful of levels.

use crate::diagnostic::Pos;

/// Deeper than any real spec (a mapping nests four or five levels).
pub const MAX_DEPTH: usize = 64;

/// Where the text first nests deeper than `MAX_DEPTH`: flow brackets (`[`, `{`) outside quotes
/// and comments, plus, on each line, the indentation and the block sequence dashes before the
/// content (`- - - x` nests three sequences).
pub fn too_deep(text: &str) -> Option<Pos> {
    let mut flow = 0usize;
    for (i, line) in text.lines().enumerate() {
        let pos = |column: usize| Pos {
            line: i + 1,
            column,
        };
        let rest = line.trim_start_matches(' ');
        let mut block = line.len() - rest.len();
        let mut content = rest;
        while let Some(r) = content.strip_prefix("- ") {
            block += 2;
            content = r.trim_start_matches(' ');
        }
        if flow == 0 && block / 2 > MAX_DEPTH {
            return Some(pos(line.len() - content.len() + 1));
        }
        // Inside quotes brackets are text; only a double-quoted string has backslash escapes
        // (a single-quoted one doubles its quote, which reads as closing and reopening).
        let (mut quote, mut escaped, mut prev) = (None, false, ' ');
        for (col, c) in line.chars().enumerate() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if q == '"' && c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '#' if prev == ' ' || col == 0 => break,
                '"' | '\'' => quote = Some(c),
                '[' | '{' => {
                    flow += 1;
                    if flow > MAX_DEPTH {
                        return Some(pos(col + 1));
                    }
                }
                ']' | '}' => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_specs_pass_and_deep_nesting_is_located() {
        for spec in ["mappings/personas.yaml", "mappings/contents.yaml"] {
            let text = std::fs::read_to_string(spec).unwrap();
            assert_eq!(too_deep(&text), None, "{spec}");
        }
        let brackets = format!("columns: {}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            too_deep(&brackets),
            Some(Pos {
                line: 1,
                column: 74
            })
        );
        // Brackets inside quotes and comments are text.
        let quoted = format!("a: \"{}\" # {}", "[".repeat(100), "{".repeat(100));
        assert_eq!(too_deep(&quoted), None);
        let dashes = format!("a:\n  {}x", "- ".repeat(70));
        assert_eq!(too_deep(&dashes).map(|p| p.line), Some(2));
    }
}
