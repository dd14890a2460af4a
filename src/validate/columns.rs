//! Checks of a mapping's columns: names, types, paths, defaults, conversions; the value column of
//! scalars; the dropped paths.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::draft::{claim_name, ident_diag, path_diag};
use crate::cast;
use crate::diagnostic::Diagnostics;
use crate::ir::{Column, Format, SqlType};
use crate::jsonpath::{self, FieldPath};
use crate::spec::MappingSpec;
use crate::spec::load::SourceFile;
use crate::spec::schema::suggest;

/// The one column of a mapping of scalar elements.
pub(super) fn value_column<'a>(
    file: &'a SourceFile<MappingSpec>,
    names: &mut HashMap<&'a str, String>,
    diags: &mut Diagnostics,
) -> Option<Column> {
    let m = &file.spec;
    let v = m.value.as_ref()?;
    if !m.columns.is_empty() || !m.drop.is_empty() || matches!(m.extra, Some(Value::String(_))) {
        diags.push(
            file.at_key(
                "E-value",
                "/value",
                "a mapping of scalar elements has one column, `value`: no columns, extra or drop",
            )
            .with_hint("remove `columns`, `extra` and `drop`, or map the elements as objects"),
        );
    }
    if let Some(d) = ident_diag(file, "/value/name", &v.name, "column name") {
        diags.push(d);
    }
    claim_name(
        file,
        names,
        &v.name,
        "/value/name",
        "the value column",
        diags,
    );
    // The schema admits only known types.
    if let Some(ty) = SqlType::parse(&v.ty) {
        return Some(Column {
            name: v.name.clone(),
            path: FieldPath(Vec::new()),
            ty,
            required: false,
            default: None,
            keep_original: false,
            format: None,
            parsed: None,
            more_formats: Vec::new(),
            precision: None,
            format_by: None,
        });
    }
    None
}

/// One mapped column: its name, type, path and default checked; `None` when it cannot be used.
pub(super) fn check_column<'a>(
    file: &SourceFile<MappingSpec>,
    i: usize,
    c: &'a crate::spec::ColumnSpec,
    names: &mut HashMap<&'a str, String>,
    seen_paths: &mut BTreeMap<FieldPath, String>,
    diags: &mut Diagnostics,
) -> Option<Column> {
    let ptr = format!("/columns/{i}");
    if let Some(d) = ident_diag(file, &format!("{ptr}/name"), &c.name, "column name") {
        diags.push(d);
    }
    claim_name(
        file,
        names,
        &c.name,
        &format!("{ptr}/name"),
        &format!("the column mapped from `{}`", c.path),
        diags,
    );
    let ty = column_type(file, &ptr, c, diags)?;
    let path = match jsonpath::parse_field(&c.path) {
        Ok(p) => p,
        Err(e) => {
            diags.push(path_diag(file, &format!("{ptr}/path"), &c.path, e));
            return None;
        }
    };
    if let Some(other) = seen_paths.get(&path) {
        diags.push(
            file.at(
                "E-path-twice",
                &format!("{ptr}/path"),
                format!("path `{path}` is already mapped to column `{other}`"),
            )
            .with_hint("map each JSON path to one column; use a view for copies"),
        );
    } else {
        seen_paths.insert(path.clone(), c.name.clone());
    }
    check_conversion(file, &ptr, c, ty, diags);
    let parsed = c
        .parsed
        .as_ref()
        .and_then(|p| parsed_column(file, &ptr, c, ty, &path, names, diags, p));
    Some(Column {
        name: c.name.clone(),
        path,
        ty,
        required: c.required,
        default: c.default.clone(),
        keep_original: c.keep_original,
        format: c.format.clone(),
        more_formats: Vec::new(),
        precision: None,
        format_by: None,
        parsed,
    })
}

/// The companion column of a free-text date: on a text column, of a time type, with a format that
/// fits it, and a name of its own.
#[allow(clippy::too_many_arguments)]
fn parsed_column<'a>(
    file: &SourceFile<MappingSpec>,
    ptr: &str,
    c: &crate::spec::ColumnSpec,
    ty: SqlType,
    path: &FieldPath,
    names: &mut HashMap<&'a str, String>,
    diags: &mut Diagnostics,
    p: &'a crate::spec::ParsedSpec,
) -> Option<Box<Column>> {
    let at = format!("{ptr}/parsed");
    if ty != SqlType::Text {
        diags.push(
            file.at_key(
                "E-parsed",
                &at,
                format!(
                    "`parsed` goes on a text column that keeps the free text; `{}` is {}",
                    c.name,
                    ty.sql()
                ),
            )
            .with_hint(
                "make the column `type: text`, or convert it directly with its type and `format`",
            ),
        );
        return None;
    }
    if let Some(d) = ident_diag(file, &format!("{at}/name"), &p.name, "column name") {
        diags.push(d);
    }
    claim_name(
        file,
        names,
        &p.name,
        &format!("{at}/name"),
        &format!("the date parsed from `{}`", c.path),
        diags,
    );
    let parsed_ty = match SqlType::parse(&p.ty) {
        Some(t @ (SqlType::Date | SqlType::Timestamptz)) => t,
        _ => {
            diags.push(
                file.at(
                    "E-parsed",
                    &format!("{at}/type"),
                    format!(
                        "a parsed companion is a date or timestamptz, not `{}`",
                        p.ty
                    ),
                )
                .with_hint("write `type: date` or `type: timestamptz`"),
            );
            return None;
        }
    };
    let formats = p.format.as_ref().map(|f| f.all()).unwrap_or_default();
    for (k, f) in formats.iter().enumerate() {
        let ptr = match p.format {
            Some(crate::spec::Formats::Many(_)) => format!("{at}/format/{k}"),
            _ => format!("{at}/format"),
        };
        check_format(file, &ptr, &p.name, parsed_ty, f, true, diags);
    }
    let format_by = p.format_by.as_ref().and_then(|by| {
        let at = format!("{at}/format_by");
        let path = match jsonpath::parse_field(&by.path) {
            Ok(path) => path,
            Err(e) => {
                diags.push(path_diag(file, &format!("{at}/path"), &by.path, e));
                return None;
            }
        };
        let choices = by
            .formats
            .iter()
            .map(|(value, formats)| {
                let formats = formats.all();
                for (k, f) in formats.iter().enumerate() {
                    let ptr = match formats.len() {
                        1 => format!("{at}/formats/{value}"),
                        _ => format!("{at}/formats/{value}/{k}"),
                    };
                    check_format(file, &ptr, &p.name, parsed_ty, f, true, diags);
                }
                crate::ir::FormatChoice {
                    value: value.clone(),
                    formats,
                }
            })
            .collect();
        Some(crate::ir::FormatBy { path, choices })
    });
    if let Some(precision) = &p.precision {
        let at = format!("{at}/precision");
        if parsed_ty != SqlType::Date {
            diags.push(
                file.at(
                    "E-parsed",
                    &at,
                    "`precision` says how much of a date the text named, for a date companion",
                )
                .with_hint("make the companion `type: date`, or remove `precision`"),
            );
        }
        if let Some(d) = ident_diag(file, &at, precision, "column name") {
            diags.push(d);
        }
        claim_name(
            file,
            names,
            precision,
            &at,
            &format!("the precision of the date parsed from `{}`", c.path),
            diags,
        );
    }
    Some(Box::new(Column {
        name: p.name.clone(),
        path: path.clone(),
        ty: parsed_ty,
        required: false,
        default: None,
        keep_original: false,
        format: formats.first().cloned(),
        more_formats: formats.into_iter().skip(1).collect(),
        precision: p.precision.clone(),
        format_by,
        parsed: None,
    }))
}

/// The column's type, or a located error with the nearest known type.
fn column_type(
    file: &SourceFile<MappingSpec>,
    ptr: &str,
    c: &crate::spec::ColumnSpec,
    diags: &mut Diagnostics,
) -> Option<SqlType> {
    let Some(ty) = SqlType::parse(&c.ty) else {
        let all: Vec<&str> = SqlType::ALL.iter().map(|t| t.sql()).collect();
        let mut d = file.at(
            "E-type",
            &format!("{ptr}/type"),
            format!("unknown type `{}`", c.ty),
        );
        d = match suggest(&c.ty, all.iter().copied()) {
            Some(s) => d.with_hint(format!("did you mean `{s}`?")),
            None => d.with_hint(format!("supported types: {}", all.join(", "))),
        };
        diags.push(d);
        return None;
    };
    Some(ty)
}

/// The default fits the type; a Unix time `format` is on a timestamptz, a date format on a date
/// and parses.
fn check_conversion(
    file: &SourceFile<MappingSpec>,
    ptr: &str,
    c: &crate::spec::ColumnSpec,
    ty: SqlType,
    diags: &mut Diagnostics,
) {
    if let Some(def) = &c.default
        && let Err(expected) = cast::check(ty, def)
    {
        diags.push(
            file.at(
                "E-default",
                &format!("{ptr}/default"),
                format!("default {def} does not fit type {}", ty.sql()),
            )
            .with_hint(format!("expected {expected}")),
        );
    }
    if let Some(format) = &c.format {
        check_format(
            file,
            &format!("{ptr}/format"),
            &c.name,
            ty,
            format,
            false,
            diags,
        );
    }
}

/// A Unix time `format` is on a timestamptz, a date format on a date and parses, `json` on a
/// jsonb column. A partial date (no `%d`) only where the text is kept: a parsed companion.
fn check_format(
    file: &SourceFile<MappingSpec>,
    ptr: &str,
    name: &str,
    ty: SqlType,
    format: &Format,
    partial_ok: bool,
    diags: &mut Diagnostics,
) {
    let at = |message: String, hint: &str| {
        file.at("E-format", ptr, message)
            .with_hint(hint.to_string())
    };
    match format {
        Format::Json if ty == SqlType::Jsonb => {}
        Format::Json => diags.push(at(
            format!(
                "`format: json` reads JSON written inside a string, for a jsonb column; `{}` is {}",
                name,
                ty.sql()
            ),
            "make the column `type: jsonb`, or remove `format`",
        )),
        Format::Date(f) if ty == SqlType::Date => match cast::DateFormat::parse(f) {
            Err(e) => diags.push(at(
                format!("date format `{f}`: {e}"),
                "write the format with %d, %m and %Y, for example \"%d/%m/%Y\"",
            )),
            Ok(d) if d.precision() != "day" && !partial_ok => diags.push(at(
                format!(
                    "date format `{f}` reads a {} only, which a date column would store as its first day",
                    d.precision()
                ),
                "keep the text in a text column with a parsed companion (`parsed: {name, type: date, format, precision}`)",
            )),
            Ok(_) => {}
        },
        Format::Date(f) => diags.push(at(
            format!(
                "`format: \"{f}\"` reads a date, for a date column; `{}` is {}",
                name,
                ty.sql()
            ),
            "make the column `type: date`, or remove `format` (epoch_s and epoch_ms are for timestamptz)",
        )),
        _ if ty != SqlType::Timestamptz => diags.push(at(
            format!(
                "`format` reads a Unix time, for a timestamptz column; `{}` is {}",
                name,
                ty.sql()
            ),
            "make the column `type: timestamptz`, or remove `format`",
        )),
        _ => {}
    }
}

/// The dropped paths, none of them also mapped, nor a field every element is read for (`read`:
/// the legacy id and the parent's field, with what each is), which a drop would not remove.
pub(super) fn check_drop(
    file: &SourceFile<MappingSpec>,
    seen_paths: &BTreeMap<FieldPath, String>,
    read: &[(&FieldPath, &str)],
    diags: &mut Diagnostics,
) -> Vec<FieldPath> {
    let m = &file.spec;
    let mut drop = Vec::new();
    for (i, t) in m.drop.iter().enumerate() {
        let ptr = format!("/drop/{i}");
        match jsonpath::parse_field(t) {
            Ok(p) => {
                if let Some(col) = seen_paths.get(&p) {
                    diags.push(
                        file.at(
                            "E-path-twice",
                            &ptr,
                            format!("path `{p}` is dropped but also mapped to column `{col}`"),
                        )
                        .with_hint("remove it from `drop` or from `columns`"),
                    );
                }
                if let Some((_, what)) = read.iter().find(|(r, _)| **r == p) {
                    diags.push(
                        file.at(
                            "E-path-twice",
                            &ptr,
                            format!(
                                "path `{p}` is dropped but it is {what}, read for every element"
                            ),
                        )
                        .with_hint("remove it from `drop`: the field stays in the tables as it is"),
                    );
                }
                drop.push(p);
            }
            Err(e) => diags.push(path_diag(file, &ptr, t, e)),
        }
    }
    drop
}
