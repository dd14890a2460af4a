//! Dates written in a declared format (`format: "%d/%m/%Y"`): the format parsed once, and read
//! the same way by the generated SQL (a regular expression rewriting the text to ISO 8601, then
//! the ISO date checks every date column has) and by the preview.

/// A date format: `%d` (day, two digits), `%m` (month, two digits) and `%Y` (year, four digits),
/// each at most once, between literal characters; `%%` is a literal `%`. `%Y` is required, and
/// `%d` needs `%m`: a format without `%d` (`%m/%Y`) or without both (`%Y`) reads a partial date,
/// as the first day of its month or year (`precision` says which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(char),
    Field(Field),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Day,
    Month,
    Year,
}

impl Field {
    fn digits(self) -> usize {
        match self {
            Field::Year => 4,
            Field::Day | Field::Month => 2,
        }
    }
}

impl DateFormat {
    /// The format, or what is wrong with it.
    pub fn parse(s: &str) -> Result<DateFormat, String> {
        let mut parts = Vec::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                if c.is_control() {
                    return Err("a date format cannot hold control characters".into());
                }
                parts.push(Part::Literal(c));
                continue;
            }
            parts.push(match chars.next() {
                Some('d') => Part::Field(Field::Day),
                Some('m') => Part::Field(Field::Month),
                Some('Y') => Part::Field(Field::Year),
                Some('%') => Part::Literal('%'),
                Some(other) => {
                    return Err(format!(
                        "`%{other}` is not supported; a date format uses %d, %m, %Y and %%"
                    ));
                }
                None => return Err("the format ends in a lone `%`".into()),
            });
        }
        let count = |f: Field| parts.iter().filter(|p| **p == Part::Field(f)).count();
        for (f, name) in [
            (Field::Day, "%d"),
            (Field::Month, "%m"),
            (Field::Year, "%Y"),
        ] {
            let n = count(f);
            if n > 1 || (f == Field::Year && n == 0) {
                let times = if f == Field::Year {
                    "exactly once"
                } else {
                    "at most once"
                };
                return Err(format!(
                    "a date format holds {name} {times} (found {n} times)"
                ));
            }
        }
        if count(Field::Day) == 1 && count(Field::Month) == 0 {
            return Err("a date format with %d holds %m too".into());
        }
        if matches!(parts.first(), Some(Part::Literal(c)) if c.is_whitespace())
            || matches!(parts.last(), Some(Part::Literal(c)) if c.is_whitespace())
        {
            return Err(
                "surrounding whitespace is always allowed; leave it out of the format".into(),
            );
        }
        Ok(DateFormat { parts })
    }

    /// The PostgreSQL regular expression (ARE) a value in this format matches, with one group
    /// per field; whitespace around the value is allowed, as for ISO dates.
    pub fn regex(&self) -> String {
        let mut re = String::from("^[ \\t\\n\\r]*");
        for p in &self.parts {
            match p {
                Part::Field(f) => re.push_str(&format!("([0-9]{{{}}})", f.digits())),
                Part::Literal(c) if c.is_ascii_alphanumeric() => re.push(*c),
                Part::Literal(c) if c.is_ascii() => {
                    re.push('\\');
                    re.push(*c);
                }
                // Non-ASCII characters are literals in an ARE as they are.
                Part::Literal(c) => re.push(*c),
            }
        }
        re.push_str("[ \\t\\n\\r]*$");
        re
    }

    /// How much of a date the format says: `day`, `month` (no `%d`) or `year` (`%Y` alone).
    pub fn precision(&self) -> &'static str {
        let has = |f: Field| self.parts.contains(&Part::Field(f));
        match (has(Field::Day), has(Field::Month)) {
            (true, _) => "day",
            (false, true) => "month",
            (false, false) => "year",
        }
    }

    /// The `regexp_replace` replacement turning a match of `regex()` into `YYYY-MM-DD` (a field
    /// the format does not hold is `01`).
    pub fn iso_replacement(&self) -> String {
        let group = |f: Field| {
            self.parts
                .iter()
                .filter(|p| matches!(p, Part::Field(_)))
                .position(|p| *p == Part::Field(f))
                .map_or_else(|| "01".to_string(), |n| format!("\\{}", n + 1))
        };
        format!(
            "{}-{}-{}",
            group(Field::Year),
            group(Field::Month),
            group(Field::Day)
        )
    }

    /// The value as `YYYY-MM-DD` text, if it is written in this format (the date itself is not
    /// checked here: that is the ISO date's check).
    pub fn to_iso(&self, value: &str) -> Option<String> {
        let mut rest = super::trimmed(value);
        let (mut y, mut m, mut d) = ("", "01", "01");
        for p in &self.parts {
            match p {
                Part::Literal(c) => rest = rest.strip_prefix(*c)?,
                Part::Field(f) => {
                    let n = f.digits();
                    let digits = rest.get(..n).filter(|t| super::is_digits(t))?;
                    match f {
                        Field::Day => d = digits,
                        Field::Month => m = digits,
                        Field::Year => y = digits,
                    }
                    rest = &rest[n..];
                }
            }
        }
        rest.is_empty().then(|| format!("{y}-{m}-{d}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_declared_formats() {
        let f = DateFormat::parse("%d/%m/%Y").unwrap();
        assert_eq!(f.to_iso(" 31/12/2020 ").as_deref(), Some("2020-12-31"));
        assert_eq!(f.to_iso("31/12/20"), None);
        assert_eq!(f.to_iso("2020-12-31"), None);
        assert_eq!(f.iso_replacement(), "\\3-\\2-\\1");
        assert_eq!(
            f.regex(),
            r"^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$"
        );
        let g = DateFormat::parse("%Y.%m.%d%%").unwrap();
        assert_eq!(g.to_iso("2021.02.03%").as_deref(), Some("2021-02-03"));
        assert_eq!(g.iso_replacement(), "\\1-\\2-\\3");
    }

    /// A format without %d reads a month, without %d and %m a year: the first day of it.
    #[test]
    fn reads_partial_dates_as_their_first_day() {
        let m = DateFormat::parse("%m/%Y").unwrap();
        assert_eq!(m.to_iso("03/2019").as_deref(), Some("2019-03-01"));
        assert_eq!(m.iso_replacement(), "\\2-\\1-01");
        assert_eq!(m.precision(), "month");
        let y = DateFormat::parse("%Y").unwrap();
        assert_eq!(y.to_iso(" 2015 ").as_deref(), Some("2015-01-01"));
        assert_eq!(y.to_iso("2015-09"), None);
        assert_eq!(y.iso_replacement(), "\\1-01-01");
        assert_eq!(y.precision(), "year");
        assert_eq!(DateFormat::parse("%Y-%m-%d").unwrap().precision(), "day");
    }

    #[test]
    fn refuses_unusable_formats() {
        for bad in [
            "%d/%m",
            "%d/%Y",
            "%m/%m/%Y",
            "%d/%m/%Y %H",
            "%d/%d/%m/%Y",
            "%d/%m/%Y%",
            " %d/%m/%Y",
        ] {
            assert!(DateFormat::parse(bad).is_err(), "{bad}");
        }
    }
}
