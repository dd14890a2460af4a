//! JSON of any depth, as PostgreSQL stores it. serde_json refuses documents nested deeper than 128
//! levels (and the postgres crate's jsonb conversion with it) where jsonb nests far deeper, so
//! every document pgshred reads (from the source table, a backup, an input file, the rebuilt
//! documents of the round trip) is parsed here: without the recursion limit, on a stack that
//! grows on the heap as deep as the document needs (serde_stacker).

use postgres::types::{FromSql, Type};
use serde::de::{DeserializeOwned, DeserializeSeed};
use serde_json::Value;

/// `T` from JSON text of any depth.
pub fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let value = T::deserialize(serde_stacker::Deserializer::new(&mut de))?;
    de.end()?;
    Ok(value)
}

/// A seed's value from a reader of JSON of any depth.
pub fn seed_from_reader<'de, R: std::io::Read, S: DeserializeSeed<'de>>(
    reader: R,
    seed: S,
) -> serde_json::Result<S::Value> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    de.disable_recursion_limit();
    let value = seed.deserialize(serde_stacker::Deserializer::new(&mut de))?;
    de.end()?;
    Ok(value)
}

/// A `json` or `jsonb` value read from PostgreSQL with [`from_str`]: what `row.get::<_,
/// Value>` cannot read past 128 levels.
pub struct Json(pub Value);

impl<'a> FromSql<'a> for Json {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            // jsonb's binary form is a version byte (1) and the text.
            match raw.split_first() {
                Some((1, text)) => text,
                _ => return Err("unsupported jsonb binary format version".into()),
            }
        } else {
            raw
        };
        Ok(Json(from_str(std::str::from_utf8(text)?)?))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }
}

/// The size of a `json` or `jsonb` value as it came over the wire, in bytes (its text).
pub struct WireSize(pub usize);

impl<'a> FromSql<'a> for WireSize {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(WireSize(raw.len()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }
}

/// A nullable `json` or `jsonb` column, SQL NULL as JSON null.
pub fn column(row: &postgres::Row, idx: usize) -> Value {
    row.get::<_, Option<Json>>(idx).map_or(Value::Null, |j| j.0)
}

/// `v` as jsonb's text output writes it (`jsonb::text`): a space after each `:` and `,`, an
/// object's keys shorter first (jsonb's order), control characters other than \b \f \n \r \t as
/// `\u00xx`, every other character as itself. Numbers are written as `v` holds them (jsonb's
/// numeric form where `v` was read from jsonb).
pub fn jsonb_text(v: &Value) -> String {
    fn string(out: &mut String, s: &str) {
        out.push('"');
        for ch in s.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    fn write(out: &mut String, v: &Value) {
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::String(s) => string(out, s),
            Value::Array(xs) => {
                out.push('[');
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(out, x);
                }
                out.push(']');
            }
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    string(out, k);
                    out.push_str(": ");
                    write(out, &m[k]);
                }
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    write(&mut out, v);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn documents_deeper_than_serde_json_s_limit_parse() {
        assert!(serde_json::from_str::<Value>(&nested(1_000)).is_err());
        let v: Value = from_str(&nested(100_000)).unwrap();
        let mut depth = 0;
        let mut at = &v;
        while let Value::Array(items) = at {
            depth += 1;
            at = &items[0];
        }
        assert_eq!(depth, 100_000);
        // Dropping it recurses too; a deep value is dropped without overflowing here.
        std::mem::forget(v);
    }

    #[test]
    fn trailing_text_is_refused() {
        assert!(from_str::<Value>("[1] x").is_err());
    }
}
