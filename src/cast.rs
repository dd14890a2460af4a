//! Which JSON values a column type accepts, decided in Rust by the same rules the generated SQL
//! applies (see `templates/macros.sql.j2`), so validation and previews agree with the database.

use serde_json::Value;

use crate::ir::SqlType;

fn trimmed(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii_whitespace())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^\s*[+-]?[0-9]+(\.0+)?\s*$`: integral text, optionally with a zero fraction.
fn integral_text(s: &str) -> Option<i128> {
    let t = trimmed(s);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    if !is_digits(int) || frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b == b'0')) {
        return None;
    }
    let magnitude: i128 =
        int.trim_start_matches('0')
            .parse()
            .unwrap_or(if int.bytes().all(|b| b == b'0') {
                0
            } else {
                i128::MAX
            });
    Some(if t.starts_with('-') {
        -magnitude
    } else {
        magnitude
    })
}

/// `^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$`
fn numeric_text(s: &str) -> bool {
    let t = trimmed(s);
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((i, f)) => {
            (is_digits(i) && (f.is_empty() || is_digits(f))) || (i.is_empty() && is_digits(f))
        }
        None => is_digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| is_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

const BOOL_WORDS: [&str; 12] = [
    "true", "false", "t", "f", "yes", "no", "y", "n", "on", "off", "1", "0",
];

fn two(s: &str, at: usize) -> Option<u32> {
    let d = s.get(at..at + 2)?;
    is_digits(d).then(|| d.parse().ok())?
}

/// `YYYY-MM-DD` with a real calendar day.
fn iso_date(s: &str) -> bool {
    if s.len() != 10 || !is_digits(&s[..4]) || &s[4..5] != "-" || &s[7..8] != "-" {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    let (Some(month), Some(day)) = (two(s, 5), two(s, 8)) else {
        return false;
    };
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// ISO 8601 as PostgreSQL reads it: a date, optionally `T`/space, `HH:MM[:SS[.frac]]`, and an
/// optional `Z` or `±HH[:MM]` offset.
fn iso_timestamp(s: &str) -> bool {
    let s = trimmed(s);
    if s.len() < 10 || !iso_date(&s[..10]) {
        return false;
    }
    let rest = &s[10..];
    if rest.is_empty() {
        return true;
    }
    let Some(time) = rest.strip_prefix(['T', ' ']) else {
        return false;
    };
    let (Some(h), Some(m)) = (two(time, 0), two(time, 3)) else {
        return false;
    };
    if time.get(2..3) != Some(":") || h > 23 || m > 59 {
        return false;
    }
    let mut rest = &time[5..];
    if let Some(sec) = rest.strip_prefix(':') {
        let Some(sv) = two(sec, 0) else { return false };
        if sv > 60 {
            return false;
        }
        rest = &sec[2..];
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            rest = &frac[n..];
        }
    }
    match rest {
        "" | "Z" | "z" => true,
        off => {
            let Some(o) = off.strip_prefix(['+', '-']) else {
                return false;
            };
            let Some(oh) = two(o, 0) else { return false };
            let tail = &o[2..];
            let mins = tail.strip_prefix(':').unwrap_or(tail);
            oh <= 15
                && (mins.is_empty() || (mins.len() == 2 && two(mins, 0).is_some_and(|mm| mm <= 59)))
        }
    }
}

fn uuid_text(s: &str) -> bool {
    let t = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    let dashes_ok =
        t.len() == 32 || (t.len() == 36 && [8, 13, 18, 23].iter().all(|&i| &t[i..i + 1] == "-"));
    dashes_ok && hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `Ok` when `v` converts to `ty` the way the generated SQL converts it; JSON null always does
/// (it becomes SQL NULL). The error says what was expected.
pub fn check(ty: SqlType, v: &Value) -> Result<(), String> {
    let text = match v {
        Value::Null => return Ok(()),
        Value::String(s) => Some(s.as_str()),
        _ => None,
    };
    let scalar_text = match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let ok = match ty {
        SqlType::Jsonb => true,
        SqlType::Text => !matches!(v, Value::Array(_) | Value::Object(_)),
        SqlType::Integer => scalar_text
            .as_deref()
            .and_then(integral_text)
            .is_some_and(|n| i32::try_from(n).is_ok()),
        SqlType::Bigint => scalar_text
            .as_deref()
            .and_then(integral_text)
            .is_some_and(|n| i64::try_from(n).is_ok()),
        SqlType::Numeric => scalar_text.as_deref().is_some_and(numeric_text),
        SqlType::Boolean => match v {
            Value::Bool(_) => true,
            Value::Number(n) => n.as_i64().is_some_and(|i| i == 0 || i == 1),
            Value::String(s) => BOOL_WORDS.contains(&trimmed(s).to_ascii_lowercase().as_str()),
            _ => false,
        },
        SqlType::Timestamptz => text.is_some_and(iso_timestamp),
        SqlType::Date => text.is_some_and(|s| iso_date(trimmed(s))),
        SqlType::Uuid => text.is_some_and(|s| uuid_text(trimmed(s))),
        SqlType::TextArray => match v {
            Value::Array(items) => items
                .iter()
                .all(|i| !matches!(i, Value::Array(_) | Value::Object(_))),
            _ => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(expectation(ty).to_string())
    }
}

/// What a type accepts, in words, for error messages.
pub fn expectation(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Text => "a string, number or boolean",
        SqlType::Integer => {
            "a whole number between -2147483648 and 2147483647 (or such a number as a string)"
        }
        SqlType::Bigint => "a whole number that fits in 64 bits (or such a number as a string)",
        SqlType::Numeric => "a number (or a number as a string)",
        SqlType::Boolean => {
            "true/false (or one of the strings true, false, t, f, yes, no, y, n, on, off, 1, 0)"
        }
        SqlType::Timestamptz => "an ISO 8601 timestamp such as 2024-05-01T12:00:00Z",
        SqlType::Date => "an ISO 8601 date such as 2024-05-01",
        SqlType::Jsonb => "any JSON value",
        SqlType::Uuid => "a UUID string",
        SqlType::TextArray => "a list of strings, numbers or booleans",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_what_sql_accepts() {
        assert!(check(SqlType::Integer, &json!("42")).is_ok());
        assert!(check(SqlType::Integer, &json!(" -7 ")).is_ok());
        assert!(check(SqlType::Integer, &json!(3.0)).is_ok());
        assert!(check(SqlType::Integer, &json!("3.5")).is_err());
        assert!(check(SqlType::Integer, &json!(3_000_000_000u64)).is_err());
        assert!(check(SqlType::Bigint, &json!(3_000_000_000u64)).is_ok());
        assert!(check(SqlType::Numeric, &json!("42.5")).is_ok());
        assert!(check(SqlType::Numeric, &json!("1e3")).is_ok());
        assert!(check(SqlType::Numeric, &json!("abc")).is_err());
        assert!(check(SqlType::Boolean, &json!("Yes")).is_ok());
        assert!(check(SqlType::Boolean, &json!(2)).is_err());
        assert!(check(SqlType::Timestamptz, &json!("2024-02-29T10:00:00Z")).is_ok());
        assert!(check(SqlType::Timestamptz, &json!("2024-02-30T10:00:00Z")).is_err());
        assert!(
            check(
                SqlType::Timestamptz,
                &json!("2024-01-02 03:04:05.123+02:00")
            )
            .is_ok()
        );
        assert!(check(SqlType::Timestamptz, &json!("now")).is_err());
        assert!(check(SqlType::Date, &json!("2023-02-29")).is_err());
        assert!(
            check(
                SqlType::Uuid,
                &json!("6f1c0e5c-0b7a-4c1e-9a57-3f5b8a7e9d10")
            )
            .is_ok()
        );
        assert!(check(SqlType::Text, &json!({"a": 1})).is_err());
        assert!(check(SqlType::TextArray, &json!(["a", 1])).is_ok());
        assert!(check(SqlType::TextArray, &json!("a")).is_err());
        assert!(check(SqlType::Integer, &Value::Null).is_ok());
    }
}
