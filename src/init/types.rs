//! Column types drafted from what a place holds: the narrowest type holding every value seen,
//! Unix times, JSON in strings, dates in declared formats, and the comment saying why.

use crate::ir::SqlType;

use super::names::snake;
use super::profile::{CANDIDATES, Node};

/// A mapped column.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub path: Vec<String>,
    pub ty: SqlType,
    pub format: Option<&'static str>,
    pub keep_original: bool,
    pub note: String,
    /// For text naming days in declared formats: the companion date column, its formats and,
    /// where some are partial, the precision column.
    pub parsed: Option<Parsed>,
}

#[derive(Debug, Clone)]
pub struct Parsed {
    pub name: String,
    pub formats: Vec<&'static str>,
    pub precision: Option<String>,
}

/// A column for the scalars at `node`: the narrowest type holding every value seen.
pub(super) fn scalar_column(name: &str, keys: &[String], node: &Node) -> Column {
    let (ty, format, keep_original, mut note) =
        scalar_type(node, keys.last().map(String::as_str).unwrap_or(name));
    let parsed = (ty == SqlType::Text)
        .then(|| parsed_dates(name, node, &mut note))
        .flatten();
    Column {
        name: name.to_string(),
        path: keys.to_vec(),
        ty,
        format,
        keep_original,
        note,
        parsed,
    }
}

/// A date companion for text written as days in declared formats: the day format that reads the
/// most values (day first where both orders read as many), ISO days, then months and years
/// alone, when together they read at least half of the strings.
pub(super) fn parsed_dates(name: &str, node: &Node, note: &mut String) -> Option<Parsed> {
    use super::profile::DATE_FORMATS;
    let n = |f: &str| node.dates[DATE_FORMATS.iter().position(|d| *d == f).unwrap()];
    let days = ["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d"];
    let best = days
        .iter()
        .copied()
        .max_by_key(|f| (n(f), std::cmp::Reverse(*f)))?;
    let mut formats = Vec::new();
    let mut read = 0;
    if n(best) > 0 {
        formats.push(best);
        read += n(best);
        if best == "%d/%m/%Y" && n("%m/%d/%Y") == n(best) {
            note.push_str(
                "; every day read as %d/%m/%Y also reads as %m/%d/%Y: check which the app writes \
                 (format_by can choose by the document's locale)",
            );
        }
    }
    for f in ["%Y-%m-%d", "%Y-%m", "%Y"] {
        if n(f) > 0 {
            formats.push(f);
            read += n(f);
        }
    }
    // Four digits alone are a year only under a name that says time.
    let years_only = formats == ["%Y"] && !timeish(name);
    if formats.is_empty() || read * 2 < node.strings || node.strings == 0 || years_only {
        return None;
    }
    let partial = formats.iter().any(|f| !f.contains("%d"));
    let base = name.strip_suffix("_text").unwrap_or(name);
    note.push_str(&format!(
        "; {read} of {} strings read as dates ({}), parsed into {base}_on; the text stays",
        node.strings,
        formats.join(", ")
    ));
    Some(Parsed {
        name: format!("{base}_on"),
        formats,
        precision: partial.then(|| format!("{base}_precision")),
    })
}

pub(super) fn jsonb(keys: &[String], node: &Node, why: &str) -> Column {
    Column {
        name: snake(keys.last().map(String::as_str).unwrap_or("value")),
        path: keys.to_vec(),
        ty: SqlType::Jsonb,
        format: None,
        keep_original: false,
        note: format!("{why}{}", seen_note(node)),
        parsed: None,
    }
}

pub(super) fn index(ty: SqlType) -> usize {
    CANDIDATES
        .iter()
        .position(|t| *t == ty)
        .expect("a candidate type")
}

/// The type, format, keep_original and the comment saying why, for the scalars at `node`.
pub(super) fn scalar_type(node: &Node, key: &str) -> (SqlType, Option<&'static str>, bool, String) {
    let present = node.seen - node.nulls;
    let seen = seen_note(node);
    if present == 0 {
        return (SqlType::Text, None, false, format!("only null seen{seen}"));
    }
    let timeish = timeish(key);
    if node.integers + node.digit_strings == present && timeish {
        // Given back as numbers: digits written as text need keep_original.
        let keep = node.strings > 0;
        let text = if keep {
            format!(", {} of them as text", node.strings)
        } else {
            String::new()
        };
        if node.epoch_s == present {
            return (
                SqlType::Timestamptz,
                Some("epoch_s"),
                keep,
                format!("Unix seconds{text}{seen}"),
            );
        }
        if node.epoch_ms == present {
            return (
                SqlType::Timestamptz,
                Some("epoch_ms"),
                keep,
                format!("Unix milliseconds{text}{seen}"),
            );
        }
    }
    let null_texts = node.values.contains("\"null\"") as u64;
    if node.json_strings > null_texts && node.json_strings == present {
        // Parsed into jsonb; kept as written too, since jsonb writes it back its own way.
        return (
            SqlType::Jsonb,
            Some("json"),
            true,
            format!("JSON written inside strings{seen}"),
        );
    }
    let order: &[SqlType] = if node.strings == 0 && node.bools == 0 {
        &[SqlType::Integer, SqlType::Bigint, SqlType::Numeric]
    } else if node.numbers == 0 && node.bools == 0 {
        &[SqlType::Uuid, SqlType::Date, SqlType::Timestamptz]
    } else if node.numbers == 0 {
        &[SqlType::Boolean]
    } else if node.bools == 0 {
        &[SqlType::Integer, SqlType::Bigint, SqlType::Numeric]
    } else {
        &[]
    };
    let mixed = [node.bools, node.numbers, node.strings]
        .iter()
        .filter(|n| **n > 0)
        .count()
        > 1;
    let mut refusals = Vec::new();
    for ty in order {
        let i = index(*ty);
        // A uuid column for uuids as they are written (an md5's 32 hex digits are no uuid).
        if *ty == SqlType::Uuid && node.hyphenated < node.strings {
            continue;
        }
        if node.refused[i] == 0 {
            let keep = node.inexact[i] > 0;
            let mut note = String::new();
            if !refusals.is_empty() {
                note.push_str(&refusals.join("; "));
                note.push_str("; ");
            }
            if keep {
                note.push_str(&format!(
                    "{} values written otherwise than {} gives them back: keep_original keeps them as written; ",
                    node.inexact[i],
                    ty.sql()
                ));
            }
            if mixed {
                note.push_str(&kinds_of(node));
                note.push_str("; ");
            }
            return (
                *ty,
                None,
                keep,
                format!("{}{seen}", note.trim_end_matches("; ")),
            );
        }
        // Worth saying only where a few values stand in the way.
        if node.refused[i] * 5 <= present {
            refusals.push(format!(
                "{} would refuse {} (e.g. {})",
                ty.sql(),
                node.refused[i],
                node.refused_example[i].clone().unwrap_or_default()
            ));
        }
    }
    if mixed {
        return (
            SqlType::Jsonb,
            None,
            false,
            format!("{}{seen}", kinds_of(node)),
        );
    }
    // Text holds every scalar, but gives numbers and booleans back as strings.
    let keep = node.strings != present;
    let mut note = refusals.join("; ");
    if !note.is_empty() {
        note.push_str("; ");
    }
    (
        SqlType::Text,
        None,
        keep,
        format!("{}{seen}", note.trim_end_matches("; ")),
    )
}

/// Whether a key's name says it holds a time (`createdAt`, `due`, `lastSync`, `published_on`).
pub(super) fn timeish(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "at",
        "time",
        "date",
        "ts",
        "created",
        "updated",
        "modified",
        "timestamp",
        "due",
        "on",
        "sync",
        "last",
        "seen",
    ]
    .iter()
    .any(|w| k.ends_with(w) || k.starts_with(w))
}

pub(super) fn kinds_of(node: &Node) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (node.strings, "strings"),
        (node.numbers, "numbers"),
        (node.bools, "booleans"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

/// ": seen 40 times, 3 null; values: a, b" (small value sets only).
pub(super) fn seen_note(node: &Node) -> String {
    let mut s = format!(" (seen {}", node.seen);
    if node.nulls > 0 {
        s.push_str(&format!(", {} null", node.nulls));
    }
    s.push(')');
    let short = node.values.iter().all(|v| v.chars().count() <= 24);
    if !node.more_values
        && short
        && !node.values.is_empty()
        && node.values.len() <= 6
        && node.seen >= 10
        && node.strings > 0
    {
        let vals: Vec<&str> = node.values.iter().map(String::as_str).collect();
        s.push_str(&format!("; values: {}", vals.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The type drafted for the values of `key` in a list of elements.
    fn drafted(key: &str, values: Vec<Value>) -> (SqlType, Option<&'static str>, bool, String) {
        let mut root = Node::default();
        let items: Vec<Value> = values.into_iter().map(|v| json!({ key: v })).collect();
        root.observe_document(&json!({ "xs": items }));
        let node = &root.fields["xs"].items.as_ref().unwrap().fields[key];
        scalar_type(node, key)
    }

    #[test]
    fn each_column_gets_the_narrowest_type_holding_every_value() {
        let t = |key: &str, values: Vec<Value>| {
            let (ty, format, keep, _) = drafted(key, values);
            (ty.sql(), format, keep)
        };
        assert_eq!(t("n", vec![json!(1), json!(2)]), ("integer", None, false));
        assert_eq!(
            t("n", vec![json!(1), json!(5_000_000_000i64)]),
            ("bigint", None, false)
        );
        assert_eq!(t("n", vec![json!(1), json!(2.5)]), ("numeric", None, false));
        // Digits for a number: the column is typed, the text kept as written.
        assert_eq!(t("n", vec![json!(1), json!("2")]), ("integer", None, true));
        assert_eq!(
            t("ok", vec![json!(true), json!("yes")]),
            ("boolean", None, true)
        );
        assert_eq!(t("v", vec![json!(1), json!("a")]), ("jsonb", None, false));
        assert_eq!(
            t(
                "createdAt",
                vec![json!(1717171717171i64), json!("1717171717000")]
            ),
            ("timestamptz", Some("epoch_ms"), true)
        );
        assert_eq!(
            t("lastSync", vec![json!(1717171717)]),
            ("timestamptz", Some("epoch_s"), false)
        );
        // The same numbers under a name that says nothing of time stay numbers.
        assert_eq!(
            t("count", vec![json!(1717171717)]),
            ("integer", None, false)
        );
        assert_eq!(
            t("at", vec![json!("2024-05-01T12:00:00Z")]),
            ("timestamptz", None, true)
        );
        assert_eq!(t("day", vec![json!("2024-05-01")]), ("date", None, false));
        assert_eq!(
            t("u", vec![json!("0b7e2c1a-8f5e-4b7a-9a53-2d7f4e8c1a01")]),
            ("uuid", None, false)
        );
        assert_eq!(
            t("md5", vec![json!("2d7c50487ca07386cc099a1e77064c2c")]),
            ("text", None, false)
        );
        assert_eq!(
            t("config", vec![json!("{\"a\": 1}"), json!("null")]),
            ("jsonb", Some("json"), true)
        );
        assert_eq!(t("gone", vec![Value::Null]), ("text", None, false));
    }

    #[test]
    fn a_narrower_type_refusing_a_few_values_is_named_with_one_of_them() {
        let mut values: Vec<Value> = (0..9)
            .map(|i| json!(format!("2024-05-0{}", i + 1)))
            .collect();
        values.push(json!("soon"));
        let (ty, _, _, note) = drafted("due", values);
        assert_eq!(ty, SqlType::Text);
        assert!(
            note.contains("date would refuse 1 (e.g. \"soon\")"),
            "{note}"
        );
    }

    #[test]
    fn text_naming_days_in_declared_formats_gets_a_parsed_companion() {
        let parsed = |key: &str, values: Vec<Value>| {
            let mut root = Node::default();
            let items: Vec<Value> = values.into_iter().map(|v| json!({ key: v })).collect();
            root.observe_document(&json!({ "xs": items }));
            let node = &root.fields["xs"].items.as_ref().unwrap().fields[key];
            let c = scalar_column(&snake(key), &[key.to_string()], node);
            c.parsed.map(|p| (p.name, p.formats, p.precision))
        };
        let days = vec![
            json!("01/07/2024"),
            json!("15/07/2024"),
            json!("2024-05-01"),
            json!("soon"),
        ];
        assert_eq!(
            parsed("start", days),
            Some(("start_on".into(), vec!["%d/%m/%Y", "%Y-%m-%d"], None))
        );
        let partial = vec![json!("2019"), json!("2019-03"), json!("March 2019")];
        assert_eq!(
            parsed("date", partial),
            Some((
                "date_on".into(),
                vec!["%Y-%m", "%Y"],
                Some("date_precision".into())
            ))
        );
        // Fewer than half read, or four digits under a name that says nothing of time: none.
        assert_eq!(
            parsed("start", vec![json!("01/07/2024"), json!("a"), json!("b")]),
            None
        );
        assert_eq!(parsed("code", vec![json!("1234"), json!("2019")]), None);
    }
}
