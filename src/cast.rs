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
    convert(ty, v).map(|_| ())
}

/// The value PostgreSQL stores for `v` in a column of type `ty`, as `to_jsonb` of that column
/// would show it (`None` for SQL NULL), or what was expected instead.
pub fn convert(ty: SqlType, v: &Value) -> Result<Option<Value>, String> {
    let fail = || Err(expectation(ty).to_string());
    if v.is_null() {
        return Ok(None);
    }
    let number_text = match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let out = match ty {
        SqlType::Jsonb => v.clone(),
        SqlType::Text => match scalar_text(v) {
            Some(t) => Value::String(t),
            None => return fail(),
        },
        SqlType::Integer | SqlType::Bigint => {
            let Some(n) = number_text.as_deref().and_then(integral_text) else {
                return fail();
            };
            let fits = if ty == SqlType::Integer {
                i32::try_from(n).is_ok()
            } else {
                i64::try_from(n).is_ok()
            };
            if !fits {
                return fail();
            }
            Value::from(n as i64)
        }
        SqlType::Numeric => match number_text.as_deref().filter(|t| numeric_text(t)) {
            Some(t) => numeric_value(t),
            None => return fail(),
        },
        SqlType::Boolean => match v {
            Value::Bool(b) => Value::Bool(*b),
            Value::Number(_) | Value::String(_) => {
                let word = trimmed(number_text.as_deref().unwrap_or_default()).to_ascii_lowercase();
                match word.as_str() {
                    "true" | "t" | "yes" | "y" | "on" | "1" => Value::Bool(true),
                    "false" | "f" | "no" | "n" | "off" | "0" => Value::Bool(false),
                    _ => return fail(),
                }
            }
            _ => return fail(),
        },
        SqlType::Timestamptz => match v.as_str().and_then(timestamp_micros) {
            Some(us) => Value::String(format_timestamptz(us)),
            None => return fail(),
        },
        SqlType::Date => match v.as_str().map(trimmed).filter(|s| iso_date(s)) {
            Some(d) => Value::String(d.to_string()),
            None => return fail(),
        },
        SqlType::Uuid => match v.as_str().map(trimmed).filter(|s| uuid_text(s)) {
            Some(u) => {
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
            None => return fail(),
        },
        SqlType::TextArray => match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(match i {
                        Value::Null => Value::Null,
                        other => match scalar_text(other) {
                            Some(t) => Value::String(t),
                            None => return fail(),
                        },
                    });
                }
                Value::Array(out)
            }
            _ => return fail(),
        },
    };
    Ok(Some(out))
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

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Microseconds since 1970-01-01 UTC of an accepted timestamp (no zone means UTC, as the forward
/// script sets TIME ZONE 'UTC'); fractions are rounded to microseconds as PostgreSQL does.
pub fn timestamp_micros(s: &str) -> Option<i64> {
    let s = trimmed(s);
    if !iso_timestamp(s) {
        return None;
    }
    let num = |a: usize, b: usize| s[a..b].parse::<i64>().ok();
    let days = days_from_civil(num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let rest = &s[10..];
    let mut micros = days * 86_400_000_000;
    if rest.is_empty() {
        return Some(micros);
    }
    let time = &rest[1..];
    micros += (num(11, 13)? * 3600 + num(14, 16)? * 60) * 1_000_000;
    let mut tail = &time[5..];
    if let Some(sec) = tail.strip_prefix(':') {
        micros += sec[..2].parse::<i64>().ok()? * 1_000_000;
        tail = &sec[2..];
        if let Some(frac) = tail.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            let digits = &frac[..n];
            let mut us: i64 = format!("{:0<6}", &digits[..n.min(6)]).parse().ok()?;
            if n > 6 && digits.as_bytes()[6] >= b'5' {
                us += 1;
            }
            micros += us;
            tail = &frac[n..];
        }
    }
    let offset_secs = match tail {
        "" | "Z" | "z" => 0,
        off => {
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let o = &off[1..];
            let h: i64 = o[..2].parse().ok()?;
            let rest = o[2..].trim_start_matches(':');
            let m: i64 = if rest.is_empty() {
                0
            } else {
                rest.parse().ok()?
            };
            sign * (h * 3600 + m * 60)
        }
    };
    Some(micros - offset_secs * 1_000_000)
}

/// How `to_jsonb(timestamptz)` prints an instant in UTC: `2024-05-01T06:30:00.123+00:00`.
pub fn format_timestamptz(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rem = micros.rem_euclid(86_400_000_000);
    let (y, m, d) = civil_from_days(days);
    let (secs, us) = (rem / 1_000_000, rem % 1_000_000);
    let frac = if us == 0 {
        String::new()
    } else {
        format!(".{us:06}").trim_end_matches('0').to_string()
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}+00:00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
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
