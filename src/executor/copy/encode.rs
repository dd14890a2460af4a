//! Rows in PostgreSQL's binary COPY format: the header, one tuple per row, the trailer, and each
//! value as the column type's binary send format, from the JSON the evaluator gives it (the value
//! as `to_jsonb` of the column would show it).

use serde_json::Value;
use uuid::Uuid;

use crate::ir::SqlType;

/// The type of a column as written by COPY: the mapping's types, and the columns pgshred adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Mapped(SqlType),
    UuidArray,
}

impl Kind {
    pub(crate) const UUID: Kind = Kind::Mapped(SqlType::Uuid);
    pub(crate) const TEXT: Kind = Kind::Mapped(SqlType::Text);
    pub(crate) const INTEGER: Kind = Kind::Mapped(SqlType::Integer);
    pub(crate) const BIGINT: Kind = Kind::Mapped(SqlType::Bigint);
    pub(crate) const JSONB: Kind = Kind::Mapped(SqlType::Jsonb);
}

/// Days and microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400_000_000;
const TEXT_OID: u32 = 25;
const UUID_OID: u32 = 2950;

pub(crate) fn header(out: &mut Vec<u8>) {
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension
}

pub(crate) fn trailer(out: &mut Vec<u8>) {
    out.extend_from_slice(&(-1i16).to_be_bytes());
}

pub(crate) fn tuple_start(out: &mut Vec<u8>, fields: usize) {
    out.extend_from_slice(&(fields as i16).to_be_bytes());
}

/// One field: its length and bytes, or -1 for NULL. A value that does not fit its type (which
/// the evaluator never gives) is an error naming it.
pub(crate) fn field(out: &mut Vec<u8>, kind: Kind, v: &Value) -> Result<(), String> {
    if v.is_null() {
        out.extend_from_slice(&(-1i32).to_be_bytes());
        return Ok(());
    }
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    value(out, kind, v).ok_or_else(|| format!("{v} is not a {kind:?} value"))?;
    let len = (out.len() - at - 4) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn value(out: &mut Vec<u8>, kind: Kind, v: &Value) -> Option<()> {
    match kind {
        Kind::UuidArray => array(out, UUID_OID, v, |out, x| {
            out.extend_from_slice(Uuid::parse_str(x.as_str()?).ok()?.as_bytes());
            Some(())
        })?,
        Kind::Mapped(t) => match t {
            SqlType::Text => out.extend_from_slice(v.as_str()?.as_bytes()),
            SqlType::Integer => {
                out.extend_from_slice(&i32::try_from(v.as_i64()?).ok()?.to_be_bytes())
            }
            SqlType::Bigint => out.extend_from_slice(&v.as_i64()?.to_be_bytes()),
            SqlType::Numeric => numeric(out, &v.to_string())?,
            SqlType::Boolean => out.push(u8::from(v.as_bool()?)),
            SqlType::Timestamptz => {
                let us = crate::cast::timestamp_micros(v.as_str()?)?;
                out.extend_from_slice(&(us - PG_EPOCH_MICROS).to_be_bytes());
            }
            SqlType::Date => {
                let s = v.as_str()?;
                let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
                let days =
                    crate::cast::days_from_civil(n(0, 4)?, n(5, 7)?, n(8, 10)?) - PG_EPOCH_DAYS;
                out.extend_from_slice(&i32::try_from(days).ok()?.to_be_bytes());
            }
            SqlType::Jsonb => {
                out.push(1);
                out.extend_from_slice(v.to_string().as_bytes());
            }
            SqlType::Uuid => out.extend_from_slice(Uuid::parse_str(v.as_str()?).ok()?.as_bytes()),
            SqlType::TextArray => array(out, TEXT_OID, v, |out, x| {
                out.extend_from_slice(x.as_str()?.as_bytes());
                Some(())
            })?,
        },
    }
    Some(())
}

/// A one-dimensional array (empty: no dimensions), each element encoded by `elem`.
fn array(
    out: &mut Vec<u8>,
    oid: u32,
    v: &Value,
    elem: impl Fn(&mut Vec<u8>, &Value) -> Option<()>,
) -> Option<()> {
    let items = v.as_array()?;
    let dims = i32::from(!items.is_empty());
    out.extend_from_slice(&dims.to_be_bytes());
    out.extend_from_slice(&i32::from(items.iter().any(Value::is_null)).to_be_bytes());
    out.extend_from_slice(&oid.to_be_bytes());
    if dims == 1 {
        out.extend_from_slice(&(items.len() as i32).to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
    }
    for x in items {
        if x.is_null() {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            continue;
        }
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        elem(out, x)?;
        let len = (out.len() - at - 4) as i32;
        out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Some(())
}

/// numeric's send format from its text (`-12.340`): base-10000 digits, the weight of the first,
/// the sign and the scale (digits after the point, kept as written).
fn numeric(out: &mut Vec<u8>, text: &str) -> Option<()> {
    let negative = text.starts_with('-');
    let t = text.trim_start_matches(['-', '+']);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if !(int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let scale = frac.len();
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let digits_text = format!("{}{int}{frac}{}", "0".repeat(int_pad), "0".repeat(frac_pad));
    let mut groups: Vec<i16> = digits_text
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).ok()?.parse().ok())
        .collect::<Option<_>>()?;
    let mut weight = ((int.len() + int_pad) / 4) as i16 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign: u16 = if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    };
    out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(scale as i16).to_be_bytes());
    for g in groups {
        out.extend_from_slice(&g.to_be_bytes());
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(t: &str) -> Vec<i16> {
        let mut out = Vec::new();
        numeric(&mut out, t).unwrap();
        out.chunks(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn numeric_is_sent_in_base_10000() {
        // ndigits, weight, sign, dscale, digits...
        assert_eq!(numeric_bytes("12345.678"), [3, 1, 0, 3, 1, 2345, 6780]);
        assert_eq!(numeric_bytes("-0.0012"), [1, -1, 0x4000, 4, 12]);
        assert_eq!(numeric_bytes("0.00"), [0, 0, 0, 2]);
        assert_eq!(numeric_bytes("10000"), [1, 1, 0, 0, 1]);
        assert_eq!(numeric_bytes("7"), [1, 0, 0, 0, 7]);
    }
}
