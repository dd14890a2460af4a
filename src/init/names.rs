//! Names of tables and columns drafted from the documents' keys.

use std::collections::BTreeSet;

/// `snake_case` of a key: `avatarUrl` -> `avatar_url`, `dark mode` -> `dark_mode`; a name that
/// would start with a digit gets `f_`.
pub fn snake(key: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let mut out = out.trim_matches('_').to_string();
    if out.is_empty() {
        out = "field".to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out = format!("f_{out}");
    }
    out.truncate(50);
    out
}

/// `people` stays, `entries` -> `entry`, `orgs` -> `org`.
pub fn singular(name: &str) -> String {
    if let Some(s) = name.strip_suffix("ies") {
        format!("{s}y")
    } else if let Some(s) = name.strip_suffix("ses") {
        format!("{s}s")
    } else if let Some(s) = name.strip_suffix('s').filter(|s| !s.ends_with('s')) {
        s.to_string()
    } else {
        name.to_string()
    }
}

pub(super) fn unique_name(base: &str, owner: Option<&str>, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    if taken.contains(&name)
        && let Some(o) = owner
    {
        name = format!("{}_{base}", singular(o));
    }
    let first = name.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{first}_{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

pub(super) fn shown_path(keys: &[String]) -> String {
    crate::jsonpath::FieldPath(keys.to_vec()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_and_singular() {
        assert_eq!(snake("avatarUrl"), "avatar_url");
        assert_eq!(snake("dark mode"), "dark_mode");
        assert_eq!(snake(":log/id"), "log_id");
        assert_eq!(snake("2fa"), "f_2fa");
        assert_eq!(singular("entries"), "entry");
        assert_eq!(singular("orgs"), "org");
        assert_eq!(singular("address"), "address");
    }
}
