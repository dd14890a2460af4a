//! Dates and timestamps as PostgreSQL reads and prints them: ISO 8601 text of the shapes in
//! `cast::patterns`, checked for what the server's cast accepts (the calendar's days, an hour
//! 24:00), and timestamptz in UTC to the microsecond.

use super::{is_digits, trimmed};

fn two(s: &str, at: usize) -> Option<u32> {
    let d = s.get(at..at + 2)?;
    is_digits(d).then(|| d.parse().ok())?
}

/// `YYYY-MM-DD` with a real calendar day.
pub(super) fn iso_date(s: &str) -> bool {
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
    if time.get(2..3) != Some(":") || h > 24 || m > 59 {
        return false;
    }
    // PostgreSQL reads 24:00 (and 24:00:00.0) as the next midnight, and nothing else past 23:59.
    let mut past_midnight = h == 24 && m > 0;
    let mut rest = &time[5..];
    if let Some(sec) = rest.strip_prefix(':') {
        let Some(sv) = two(sec, 0) else { return false };
        if sv > 60 {
            return false;
        }
        past_midnight |= h == 24 && sv > 0;
        rest = &sec[2..];
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            past_midnight |= h == 24 && fraction_micros(&frac[..n]) > 0;
            rest = &frac[n..];
        }
    }
    if past_midnight {
        return false;
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

/// Days from 1970-01-01 to a day of the proleptic Gregorian calendar.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
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
    if !super::patterns::COMPILED.timestamp_shaped.is_match(s) {
        return None;
    }
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
            micros += fraction_micros(&frac[..n]);
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

/// A second's fraction (its digits) in microseconds, rounded as PostgreSQL rounds it.
fn fraction_micros(digits: &str) -> i64 {
    let n = digits.len();
    let mut us: i64 = format!("{:0<6}", &digits[..n.min(6)]).parse().unwrap_or(0);
    if n > 6 && digits.as_bytes()[6] >= b'5' {
        us += 1;
    }
    us
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
