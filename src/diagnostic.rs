//! Diagnostics: problems in the user's input, each with a stable code, a location and a hint.
//!
//! Everything that reads spec files reports through [`Diagnostic`]; the CLI renders them all at once
//! with a source excerpt, so one run shows every problem instead of the first.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based like editors show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One problem found in a spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable identifier, e.g. `E-parent-unknown`; tests and scripts match on it.
    pub code: &'static str,
    pub message: String,
    pub file: PathBuf,
    pub pos: Option<Pos>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(
        code: &'static str,
        file: &Path,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            file: file.to_path_buf(),
            pos,
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:column`, or just the file when the position is unknown.
    pub fn location(&self) -> String {
        match self.pos {
            Some(p) => format!("{}:{}:{}", self.file.display(), p.line, p.column),
            None => self.file.display().to_string(),
        }
    }

    /// Renders the diagnostic with the offending source line and a caret under the column.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = format!(
            "error[{}]: {}\n  --> {}\n",
            self.code,
            self.message,
            self.location()
        );
        if let (Some(src), Some(pos)) = (source, self.pos)
            && let Some(text) = src.lines().nth(pos.line.saturating_sub(1))
        {
            let gutter = pos.line.to_string();
            let pad = " ".repeat(gutter.len());
            let (text, column) = excerpt(text, pos.column);
            let caret_pad: String = text
                .chars()
                .take(column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!(
                "{pad} |\n{gutter} | {text}\n{pad} | {caret_pad}^\n"
            ));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  = hint: {hint}\n"));
        }
        out
    }
}

/// Characters of a source line shown around the caret; a longer line is cut to a window.
const EXCERPT_CHARS: usize = 100;

/// The part of `line` to show, and the caret's column in it: the whole line when short, else a
/// window around `column` with `...` where it was cut (a minified or generated file can hold
/// one line of megabytes).
fn excerpt(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= EXCERPT_CHARS {
        return (line.to_string(), column);
    }
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(EXCERPT_CHARS / 2);
    let end = (start + EXCERPT_CHARS).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut caret = at - start + 1;
    if start > 0 {
        shown.insert_str(0, "...");
        caret += 3;
    }
    if end < chars.len() {
        shown.push_str("...");
    }
    (shown, caret)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: error[{}]: {}",
            self.location(),
            self.code,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// All diagnostics of one load, in file then position order.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
    /// Source text per file, so rendering can show excerpts without reading files again.
    pub sources: Vec<(PathBuf, String)>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn add_source(&mut self, file: &Path, text: &str) {
        self.sources.push((file.to_path_buf(), text.to_string()));
    }

    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            (&a.file, a.pos, a.code, &a.message).cmp(&(&b.file, b.pos, b.code, &b.message))
        });
        self.items.dedup();
    }

    /// Every diagnostic rendered with excerpts, followed by a count line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            let src = self
                .sources
                .iter()
                .find(|(p, _)| p == &d.file)
                .map(|(_, s)| s.as_str());
            out.push_str(&d.render(src));
            out.push('\n');
        }
        let n = self.items.len();
        out.push_str(&format!(
            "{n} error{} found; nothing was compiled or applied\n",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        assert_eq!(excerpt("short", 3), ("short".to_string(), 3));
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let (shown, caret) = excerpt(&line, 501);
        assert_eq!(shown.chars().nth(caret - 1), Some('X'));
        assert!(
            shown.starts_with("...") && shown.ends_with("..."),
            "{shown}"
        );
        assert_eq!(shown.chars().count(), EXCERPT_CHARS + 6);
        let (shown, caret) = excerpt(&line, 2);
        assert_eq!((caret, shown.starts_with("aa")), (2, true));
    }
}
