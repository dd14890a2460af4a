//! The shapes of text each conversion accepts, written once. `01_schema.sql` renders them into its
//! `is_*` functions and `macros.sql.j2` into its casts (PostgreSQL's regular expressions), and the
//! evaluator matches text with the same patterns (the `regex` crate, which reads these the same
//! way: anchors, classes, bounded repeats and alternations only). What the shape does not decide
//! (a leap day, a minute past 23:59) the server's cast decides in SQL and `cast::time` in Rust;
//! `compiled_sql the_sql_and_rust_conversions_agree_value_by_value` holds the two together.

use std::sync::LazyLock;

use regex::Regex;

/// Integral text, optionally with a zero fraction, blanks around (integer and bigint columns).
pub const INTEGRAL: &str = r"^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$";

/// A number as text: digits, a point, an exponent, blanks around (numeric columns).
pub const NUMBER: &str = r"^[ \t\n\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r]*$";

/// A uuid as the server reads one, once trimmed: 32 hex digits, with or without the four hyphens
/// and braces.
pub const UUID: &str = concat!(
    r"^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    r"|\{([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\})$"
);

// The pieces the date and timestamp patterns share, as literals `concat!` can join.
macro_rules! blanks {
    () => {
        r"[ \t\n\r]*"
    };
}
macro_rules! valid_day {
    () => {
        concat!(
            r"[1-9][0-9]{3}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])",
            r"|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
        )
    };
}
macro_rules! day_shaped {
    () => {
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    };
}

/// A day that is certainly on the calendar (every month's days, February to the 28th), without
/// anchors: `is_date` puts blanks around it or not.
pub const DATE_VALID: &str = valid_day!();

/// Shaped like a date, blanks around: a date column takes it if the calendar has the day.
pub const DATE_SHAPED: &str = concat!("^", blanks!(), day_shaped!(), blanks!(), "$");

/// A timestamp that is certainly valid (the calendar's days, a zone within +-14:59): the SQL
/// casts it directly, with no function call.
pub const TIMESTAMP_VALID: &str = concat!(
    "^",
    blanks!(),
    valid_day!(),
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?",
    r"([Zz]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?)?",
    blanks!(),
    "$"
);

/// Shaped like a timestamp: a timestamptz column takes it if the server reads it (a leap day,
/// an hour 24:00).
pub const TIMESTAMP_SHAPED: &str = concat!(
    "^",
    blanks!(),
    day_shaped!(),
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?",
    blanks!(),
    "$"
);

/// A JSON number that is an integer as jsonb prints it: a Unix time written so comes back as
/// written (`codegen::rendered_expression`, `eval`'s `renders_back`).
pub const INTEGER_NUMBER: &str = r"^-?[0-9]+$";

/// A Unix time in seconds: at most 11 digits, blanks around.
pub const EPOCH_S: &str = r"^[ \t\n\r]*[+-]?[0-9]{1,11}[ \t\n\r]*$";

/// A Unix time in milliseconds: at most 14 digits, blanks around.
pub const EPOCH_MS: &str = r"^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$";

/// Every pattern, by the name the templates use.
pub const ALL: [(&str, &str); 9] = [
    ("integral", INTEGRAL),
    ("number", NUMBER),
    ("uuid", UUID),
    ("date_valid", DATE_VALID),
    ("date_shaped", DATE_SHAPED),
    ("timestamp_valid", TIMESTAMP_VALID),
    ("timestamp_shaped", TIMESTAMP_SHAPED),
    ("epoch_s", EPOCH_S),
    ("epoch_ms", EPOCH_MS),
];

/// Compiled once, on first use: the patterns are constants, so this is a cache, not
/// configuration.
pub(crate) struct Compiled {
    pub(super) integral: Regex,
    pub(super) number: Regex,
    pub(super) uuid: Regex,
    pub(super) date_shaped: Regex,
    pub(super) timestamp_shaped: Regex,
    pub(super) epoch_s: Regex,
    pub(super) epoch_ms: Regex,
    pub(crate) integer_number: Regex,
}

pub(crate) static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("a pattern of cast::patterns");
    Compiled {
        integral: re(INTEGRAL),
        number: re(NUMBER),
        uuid: re(UUID),
        date_shaped: re(DATE_SHAPED),
        timestamp_shaped: re(TIMESTAMP_SHAPED),
        epoch_s: re(EPOCH_S),
        epoch_ms: re(EPOCH_MS),
        integer_number: re(INTEGER_NUMBER),
    }
});

/// A pattern as SQL text: adjacent literals of at most `width` characters each, split before a
/// `|` (SQL joins literals separated by a line break into one), so no line of the generated SQL
/// runs wide. `indent` starts each continuation line.
pub fn sql_literal(pattern: &str, width: usize, indent: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let (mut start, mut previous) = (0, None);
    let ends = pattern.match_indices('|').map(|(i, _)| i);
    for end in ends.chain([pattern.len()]) {
        if end - start > width
            && let Some(cut) = previous.filter(|&p| p > start)
        {
            parts.push(&pattern[start..cut]);
            start = cut;
        }
        previous = Some(end);
    }
    parts.push(&pattern[start..]);
    parts
        .iter()
        .map(|p| crate::ident::quote_literal(p))
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_is_listed() {
        for (name, p) in ALL {
            assert!(Regex::new(p).is_ok(), "{name}");
        }
        let _ = &*COMPILED;
    }

    #[test]
    fn a_long_pattern_is_split_before_a_bar_into_literals_that_join_back() {
        let sql = sql_literal(TIMESTAMP_VALID, 90, "    ");
        assert!(sql.lines().count() > 1, "{sql}");
        assert!(sql.lines().all(|l| l.len() <= 100), "{sql}");
        let joined: String = sql.lines().map(|l| l.trim().trim_matches('\'')).collect();
        assert_eq!(joined, TIMESTAMP_VALID);
        assert_eq!(sql_literal(INTEGRAL, 90, ""), format!("'{INTEGRAL}'"));
    }
}
