//! Which JSON values a column type accepts, decided in Rust by the same rules the generated SQL
//! applies (see `templates/macros.sql.j2`), so validation and previews agree with the database:
//! the shapes of text are the SQL's own patterns ([`patterns`]).

use serde_json::Value;

use crate::ir::SqlType;

mod date_format;
pub mod patterns;
mod time;

pub use date_format::DateFormat;

use time::iso_date;
pub use time::{days_from_civil, format_timestamptz, timestamp_micros};

pub(super) fn trimmed(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii_whitespace())
}

pub(super) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Integral text, optionally with a zero fraction ([`patterns::INTEGRAL`]), as its value.
fn integral_text(s: &str) -> Option<i128> {
    if !patterns::COMPILED.integral.is_match(s) {
        return None;
    }
    let t = trimmed(s);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let int = unsigned.split('.').next().unwrap_or(unsigned);
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

/// Numeric text ([`patterns::NUMBER`]).
fn numeric_text(s: &str) -> bool {
    patterns::COMPILED.number.is_match(s)
}

/// A uuid, once trimmed ([`patterns::UUID`]).
fn uuid_text(s: &str) -> bool {
    patterns::COMPILED.uuid.is_match(s)
}

/// `Ok` when `v` converts to `ty` the way the generated SQL converts it; JSON null always does
/// (it becomes SQL NULL). The error says what was expected.
pub fn check(ty: SqlType, v: &Value) -> Result<(), String> {
    convert(ty, v).map(|_| ())
}

/// The value a mapped column stores for `v`: as its type converts it, or for a time written as Unix
/// time (`format: epoch_s | epoch_ms`) the timestamp it names, or for a date in a declared format
/// the date it names.
pub fn convert_column(col: &crate::ir::Column, v: &Value) -> Result<Option<Value>, String> {
    use crate::ir::Format;
    let Some(format) = &col.format else {
        return convert(col.ty, v);
    };
    if v.is_null() {
        return Ok(None);
    }
    match format {
        Format::EpochS => unix_time(v, &patterns::COMPILED.epoch_s, 1_000_000, "seconds"),
        Format::EpochMs => unix_time(v, &patterns::COMPILED.epoch_ms, 1_000, "milliseconds"),
        Format::Date(written) => {
            let f = DateFormat::parse(written).map_err(|e| format!("a valid date format ({e})"))?;
            match v.as_str().and_then(|s| f.to_iso(s)) {
                Some(iso) => convert(SqlType::Date, &Value::String(iso))
                    .map_err(|_| format!("a day of the calendar, written as {written}")),
                None => Err(format!("a date written as {written}")),
            }
        }
        Format::Json => json_text(v),
    }
}

/// JSON written inside a string, as jsonb reads it (numbers in numeric's form); the text `null`
/// is SQL NULL, as a JSON null is in any jsonb column (`extra` keeps the string: `ir::extra`).
fn json_text(v: &Value) -> Result<Option<Value>, String> {
    const EXPECTED: &str = "JSON text in a string";
    let text = v.as_str().ok_or(EXPECTED)?;
    let parsed: Value = crate::json::from_str(text).map_err(|_| EXPECTED.to_string())?;
    // jsonb refuses \u0000 in a string or key (PostgreSQL text cannot hold it).
    fn as_jsonb(v: Value) -> Option<Value> {
        Some(match v {
            Value::Number(n) => numeric_value(&n.to_string()),
            Value::String(s) if s.contains('\0') => return None,
            Value::Array(xs) => Value::Array(xs.into_iter().map(as_jsonb).collect::<Option<_>>()?),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| Some((k, as_jsonb(v)?)).filter(|(k, _)| !k.contains('\0')))
                    .collect::<Option<_>>()?,
            ),
            other => other,
        })
    }
    let value = as_jsonb(parsed).ok_or(EXPECTED)?;
    Ok(Some(value).filter(|v| !v.is_null()))
}

/// A Unix time of the `shape` of its unit (a number, or digits in a string) as timestamptz, each
/// unit `micros_per_unit` microseconds.
fn unix_time(
    v: &Value,
    shape: &regex::Regex,
    micros_per_unit: i64,
    unit: &str,
) -> Result<Option<Value>, String> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    if !shape.is_match(&text) {
        return Err(format!("Unix time in {unit}"));
    }
    let t = trimmed(&text);
    let n: i64 = t
        .trim_start_matches('+')
        .parse()
        .map_err(|_| "a Unix time".to_string())?;
    Ok(Some(Value::String(format_timestamptz(n * micros_per_unit))))
}

/// The value PostgreSQL stores for `v` in a column of type `ty`, as `to_jsonb` of that column
/// would show it (`None` for SQL NULL), or what was expected instead.
pub fn convert(ty: SqlType, v: &Value) -> Result<Option<Value>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let number_text = match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let out = match ty {
        SqlType::Jsonb => Some(v.clone()),
        SqlType::Text => scalar_text(v).map(Value::String),
        SqlType::Integer | SqlType::Bigint => integer(ty, number_text.as_deref()),
        SqlType::Numeric => number_text
            .as_deref()
            .filter(|t| numeric_text(t))
            .map(numeric_value),
        SqlType::Boolean => boolean(v, number_text.as_deref()),
        SqlType::Timestamptz => v
            .as_str()
            .and_then(timestamp_micros)
            .map(|us| Value::String(format_timestamptz(us))),
        SqlType::Date => v
            .as_str()
            .filter(|s| patterns::COMPILED.date_shaped.is_match(s))
            .map(trimmed)
            .filter(|s| iso_date(s))
            .map(|d| Value::String(d.to_string())),
        SqlType::Uuid => v
            .as_str()
            .map(trimmed)
            .filter(|s| uuid_text(s))
            .map(canonical_uuid),
        SqlType::TextArray => text_array(v),
    };
    out.map(Some).ok_or_else(|| expectation(ty).to_string())
}

/// An integer that fits the column, from a number or numeric text.
fn integer(ty: SqlType, number_text: Option<&str>) -> Option<Value> {
    let n = number_text.and_then(integral_text)?;
    let fits = if ty == SqlType::Integer {
        i32::try_from(n).is_ok()
    } else {
        i64::try_from(n).is_ok()
    };
    fits.then(|| Value::from(n as i64))
}

/// A boolean, or a word or number PostgreSQL reads as one.
fn boolean(v: &Value, number_text: Option<&str>) -> Option<Value> {
    match v {
        Value::Bool(b) => Some(Value::Bool(*b)),
        Value::Number(_) | Value::String(_) => {
            let word = trimmed(number_text.unwrap_or_default()).to_ascii_lowercase();
            match word.as_str() {
                "true" | "t" | "yes" | "y" | "on" | "1" => Some(Value::Bool(true)),
                "false" | "f" | "no" | "n" | "off" | "0" => Some(Value::Bool(false)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A UUID in PostgreSQL's output form: lower case, hyphenated.
fn canonical_uuid(u: &str) -> Value {
    let hex: String = u
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase();
    Value::String(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// An array of scalars as text (nulls kept); `None` when it holds arrays or objects.
fn text_array(v: &Value) -> Option<Value> {
    let Value::Array(items) = v else { return None };
    items
        .iter()
        .map(|i| match i {
            Value::Null => Some(Value::Null),
            other => scalar_text(other).map(Value::String),
        })
        .collect::<Option<Vec<_>>>()
        .map(Value::Array)
}

/// What `value #>> '{}'` gives for a JSON scalar: strings as they are, numbers as PostgreSQL's
/// numeric prints them, booleans as true/false. `None` for arrays and objects.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(numeric_canonical(&n.to_string())),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON number with exactly the digits PostgreSQL's numeric output has.
fn numeric_value(text: &str) -> Value {
    serde_json::from_str(&numeric_canonical(text)).unwrap_or(Value::Null)
}

/// numeric_in followed by numeric_out: `1e3` -> `1000`, `1.50e1` -> `15.0`, `.5` -> `0.5`,
/// `-0.00` -> `0.00`. The scale is the digits after the point less the exponent, at least 0.
pub fn numeric_canonical(text: &str) -> String {
    let t = trimmed(text);
    let negative = t.starts_with('-');
    let t = t.trim_start_matches(['+', '-']);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{int}{frac}");
    let scale = (frac.len() as i64 - exp).max(0) as usize;
    let point = int.len() as i64 + exp;
    // All digits with the point at `point`, then cut or padded to `scale` fractional digits.
    let (mut ip, mut fp) = if point <= 0 {
        (
            "0".to_string(),
            format!("{}{digits}", "0".repeat((-point) as usize)),
        )
    } else if point as usize >= digits.len() {
        (
            format!("{digits}{}", "0".repeat(point as usize - digits.len())),
            String::new(),
        )
    } else {
        (
            digits[..point as usize].to_string(),
            digits[point as usize..].to_string(),
        )
    };
    fp.truncate(scale);
    while fp.len() < scale {
        fp.push('0');
    }
    ip = ip.trim_start_matches('0').to_string();
    if ip.is_empty() {
        ip.push('0');
    }
    let zero = ip == "0" && fp.bytes().all(|b| b == b'0');
    let sign = if negative && !zero { "-" } else { "" };
    if fp.is_empty() {
        format!("{sign}{ip}")
    } else {
        format!("{sign}{ip}.{fp}")
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
    fn converts_as_postgres_stores() {
        assert_eq!(numeric_canonical("1e3"), "1000");
        assert_eq!(numeric_canonical("1.50e1"), "15.0");
        assert_eq!(numeric_canonical(".5"), "0.5");
        assert_eq!(numeric_canonical("-0.00"), "0.00");
        assert_eq!(numeric_canonical(" 42.50 "), "42.50");
        assert_eq!(numeric_canonical("1e-2"), "0.01");
        assert_eq!(numeric_canonical("007"), "7");
        let ts = |s: &str| convert(SqlType::Timestamptz, &json!(s)).unwrap().unwrap();
        assert_eq!(
            ts("2024-05-01T08:30:00.123+02:00"),
            json!("2024-05-01T06:30:00.123+00:00")
        );
        assert_eq!(ts("2024-05-01 08:30"), json!("2024-05-01T08:30:00+00:00"));
        assert_eq!(
            ts("2024-12-31T23:59:59.9999996Z"),
            json!("2025-01-01T00:00:00+00:00")
        );
        assert_eq!(ts("2024-03-01"), json!("2024-03-01T00:00:00+00:00"));
        assert_eq!(
            convert(SqlType::Integer, &json!("12.0")).unwrap(),
            Some(json!(12))
        );
        let parsed: Value = serde_json::from_str("10.50").unwrap();
        assert_eq!(
            convert(SqlType::Text, &parsed).unwrap(),
            Some(json!("10.50"))
        );
        assert_eq!(
            convert(SqlType::TextArray, &json!(["a", 2024, null])).unwrap(),
            Some(json!(["a", "2024", null]))
        );
        assert_eq!(
            convert(SqlType::Uuid, &json!("{6F1C0E5C0B7A4C1E9A573F5B8A7E9D10}")).unwrap(),
            Some(json!("6f1c0e5c-0b7a-4c1e-9a57-3f5b8a7e9d10"))
        );
    }

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
