//! The small path language of mappings: `name`, `profile.bio`, and for entity arrays
//! `personas[*].contents` (each `[*]` steps into every element of an array).

use std::borrow::Cow;
use std::fmt;

/// A path inside one JSON object: keys only, no array steps.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(pub Vec<String>);

impl FieldPath {
    pub fn keys(&self) -> &[String] {
        &self.0
    }

    /// The first key, which is what an element loses when this path is consumed whole.
    pub fn head(&self) -> &str {
        &self.0[0]
    }

    pub fn starts_with(&self, other: &FieldPath) -> bool {
        self.0.len() >= other.0.len() && self.0[..other.0.len()] == other.0[..]
    }
}

/// Written as a mapping writes it: keys joined by dots, a key that is not a plain name in double
/// quotes (`settings."dark mode"`, `"a.b"`), so a dot inside a key never reads as a step.
impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<Cow<'_, str>> = self.0.iter().map(|k| shown_key(k)).collect();
        f.write_str(&shown.join("."))
    }
}

/// A key as paths write it: as it is when plain, else in double quotes with `"` and `\`
/// escaped.
pub fn shown_key(k: &str) -> Cow<'_, str> {
    if valid_key(k) {
        Cow::Borrowed(k)
    } else {
        Cow::Owned(format!(
            "\"{}\"",
            k.replace('\\', "\\\\").replace('"', "\\\"")
        ))
    }
}

/// Where an entity's array sits: one field path per nesting level.
/// `personas[*].contents` is `[["personas"], ["contents"]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayPath(pub Vec<FieldPath>);

impl ArrayPath {
    /// The document root (`$`): one row per user, the document itself as the only element.
    pub fn root() -> ArrayPath {
        ArrayPath(vec![FieldPath(Vec::new())])
    }

    pub fn is_root(&self) -> bool {
        matches!(&self.0[..], [only] if only.0.is_empty())
    }

    /// The path of the enclosing array, for a nested entity.
    pub fn parent(&self) -> Option<ArrayPath> {
        (self.0.len() > 1).then(|| ArrayPath(self.0[..self.0.len() - 1].to_vec()))
    }

    pub fn is_nested(&self) -> bool {
        self.0.len() > 1
    }

    /// A path ending in `[*]` (`settings[*]`): the members of each enclosing element themselves,
    /// not an array or object under one of its keys (maps of maps).
    pub fn reads_members(&self) -> bool {
        self.is_nested() && self.0.last().is_some_and(|l| l.0.is_empty())
    }

    pub fn levels(&self) -> &[FieldPath] {
        &self.0
    }
}

impl fmt::Display for ArrayPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str("$");
        }
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        if self.reads_members() {
            return write!(f, "{}[*]", parts[..parts.len() - 1].join("[*]."));
        }
        f.write_str(&parts.join("[*]."))
    }
}

/// A malformed path: what is wrong and at which byte of the path text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub offset: usize,
    pub message: String,
}

fn valid_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-')
}

/// The keys of a dotted path. A key that is not a plain name is written in double quotes
/// (`":log/id"`, `"user/uid"`, `settings."dark mode"`), a `"` inside it as `\"`.
fn parse_keys(text: &str, base: usize) -> Result<FieldPath, PathError> {
    let mut keys = Vec::new();
    let mut rest = text;
    let mut offset = base;
    loop {
        let (key, used) = if let Some(quoted) = rest.strip_prefix('"') {
            quoted_key(quoted, offset)?
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            plain_key(&rest[..end], offset)?
        };
        keys.push(key);
        offset += used;
        rest = &rest[used..];
        match rest.strip_prefix('.') {
            Some(after) => {
                rest = after;
                offset += 1;
                if rest.is_empty() {
                    return Err(PathError {
                        offset,
                        message: "empty key (two dots in a row, or a dot at an end)".into(),
                    });
                }
            }
            None if rest.is_empty() => return Ok(FieldPath(keys)),
            None => {
                return Err(PathError {
                    offset,
                    message: "expected `.` after a quoted key".into(),
                });
            }
        }
    }
}

/// An unquoted key: letters, digits, `_`, `$`, `-`. Returns it and the bytes it used.
fn plain_key(key: &str, offset: usize) -> Result<(String, usize), PathError> {
    if key.is_empty() {
        return Err(PathError {
            offset,
            message: "empty key (two dots in a row, or a dot at an end)".into(),
        });
    }
    if key.contains('[') || key.contains(']') {
        let at = offset + key.find(['[', ']']).unwrap_or(0);
        return Err(PathError {
            offset: at,
            message: format!(
                "unexpected bracket in `{key}`; only `[*]` between array levels is allowed (a key with brackets goes in double quotes)"
            ),
        });
    }
    if !valid_key(key) {
        return Err(PathError {
            offset,
            message: format!(
                "`{key}` is not a plain key: write it in double quotes (\"{key}\"), or use letters, digits, `_`, `$` or `-`, not starting with a digit"
            ),
        });
    }
    Ok((key.to_string(), key.len()))
}

/// A key in double quotes (the text after the opening quote): any characters, `\"` for a quote
/// and `\\` for a backslash. Returns it and the bytes it used, quotes included.
fn quoted_key(text: &str, offset: usize) -> Result<(String, usize), PathError> {
    let mut key = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                if key.is_empty() {
                    return Err(PathError {
                        offset,
                        message: "empty quoted key".into(),
                    });
                }
                return Ok((key, i + 2));
            }
            '\\' => match chars.next() {
                Some((_, q @ ('"' | '\\'))) => key.push(q),
                _ => {
                    return Err(PathError {
                        offset: offset + 1 + i,
                        message: "in a quoted key, `\\` escapes only `\"` and `\\`".into(),
                    });
                }
            },
            c => key.push(c),
        }
    }
    Err(PathError {
        offset,
        message: "unterminated quoted key".into(),
    })
}

/// Parses a field path such as `profile.bio`.
pub fn parse_field(text: &str) -> Result<FieldPath, PathError> {
    if text.is_empty() {
        return Err(PathError {
            offset: 0,
            message: "the path is empty".into(),
        });
    }
    if let Some(i) = text.find("[*]") {
        return Err(PathError {
            offset: i,
            message: "`[*]` is only allowed in an entity's source path".into(),
        });
    }
    parse_keys(text, 0)
}

/// Parses an entity array path such as `personas` or `personas[*].contents`.
pub fn parse_array(text: &str) -> Result<ArrayPath, PathError> {
    if text == "$" {
        return Ok(ArrayPath::root());
    }
    if text.is_empty() {
        return Err(PathError {
            offset: 0,
            message: "the path is empty".into(),
        });
    }
    let mut levels = Vec::new();
    let mut offset = 0;
    let parts = split_levels(text);
    let last = parts.len() - 1;
    for (i, part) in parts.into_iter().enumerate() {
        // `settings[*]`: the members of each element (validation asks for `keyed`).
        if i > 0 && i == last && part.is_empty() {
            levels.push(FieldPath(Vec::new()));
            break;
        }
        let part = if i == 0 {
            part
        } else {
            part.strip_prefix('.').ok_or_else(|| PathError {
                offset,
                message: "expected `.` after `[*]`".into(),
            })?
        };
        let skip = usize::from(i > 0);
        levels.push(parse_keys(part, offset + skip)?);
        offset += skip + part.len() + 3;
    }
    Ok(ArrayPath(levels))
}

/// The text between `[*]` steps; a `[*]` inside a quoted key is part of the key.
fn split_levels(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'[' if !quoted && text[i..].starts_with("[*]") => {
                parts.push(&text[start..i]);
                start = i + 3;
                i += 3;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_field("profile.bio").unwrap().to_string(),
            "profile.bio"
        );
        let a = parse_array("personas[*].contents").unwrap();
        assert_eq!(a.levels().len(), 2);
        assert_eq!(a.to_string(), "personas[*].contents");
        assert_eq!(a.parent().unwrap().to_string(), "personas");
    }

    #[test]
    fn rejects_malformed_paths() {
        assert_eq!(parse_field("profile..bio").unwrap_err().offset, 8);
        assert!(parse_field("tags[0]").is_err());
        // The members of each element: the last level is the element itself.
        let members = parse_array("personas[*]").unwrap();
        assert!(members.reads_members());
        assert_eq!(members.to_string(), "personas[*]");
        assert!(parse_array("personas[*][*]").is_err());
        assert!(parse_array("personas[*]contents").is_err());
        assert!(parse_field("1abc").is_err());
        assert!(parse_field("a b").is_err());
        assert!(parse_field("\"open").is_err());
        assert!(parse_field("\"\"").is_err());
        assert!(parse_field("\"x\"y").is_err());
    }

    #[test]
    fn keys_with_dots_and_brackets_are_quoted_and_read_back() {
        let p = parse_field("\"a.b\".c").unwrap();
        assert_eq!(p.keys(), ["a.b", "c"]);
        assert_eq!(p.to_string(), "\"a.b\".c");
        let a = parse_array("\"x[*]y\"[*].\"v1.2\"").unwrap();
        assert_eq!(a.levels()[0].keys(), ["x[*]y"]);
        assert_eq!(a.levels()[1].keys(), ["v1.2"]);
        assert_eq!(a.to_string(), "\"x[*]y\"[*].\"v1.2\"");
        for k in ["a.b", ":log/id", "say \"hi\"", "back\\slash", "[x]", "a b"] {
            let p = FieldPath(vec![k.to_string(), "z".into()]);
            assert_eq!(parse_field(&p.to_string()).unwrap(), p, "{k}");
        }
    }

    #[test]
    fn quoted_keys_take_any_character() {
        let p = parse_field("\":log/id\"").unwrap();
        assert_eq!(p.keys(), [":log/id"]);
        let p = parse_field("settings.\"dark mode\".\"say \\\"hi\\\"\"").unwrap();
        assert_eq!(p.keys(), ["settings", "dark mode", "say \"hi\""]);
        let a = parse_array("\"user/items\"[*].\"tag list\"").unwrap();
        assert_eq!(a.levels()[0].keys(), ["user/items"]);
        assert_eq!(a.levels()[1].keys(), ["tag list"]);
        assert_eq!(parse_field("\"[x]\"").unwrap().keys(), ["[x]"]);
    }
}
