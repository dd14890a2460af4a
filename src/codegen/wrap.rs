//! Lines of generated SQL folded to a width a reviewer reads without scrolling sideways. A long
//! line is broken at a blank outside quotes and comments (where SQL takes a newline as it takes a
//! blank), preferably before `AND`, `OR`, `WHEN`, `THEN` or `ELSE` or after a comma, and goes on
//! four columns further in; a long comment goes on as a comment. What cannot be broken (one long
//! literal) stays whole.

/// Widest line of the generated files.
pub const WIDTH: usize = 120;

/// `text` with every line longer than `width` folded.
pub fn fold(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.lines() {
        fold_line(line, width, &mut out);
    }
    out
}

fn fold_line(line: &str, width: usize, out: &mut String) {
    if line.chars().count() <= width {
        out.push_str(line);
        out.push('\n');
        return;
    }
    let indent = line.len() - line.trim_start().len();
    if line.trim_start().starts_with("--") {
        return fold_comment(line.trim_start(), indent, width, out);
    }
    let (breaks, comment) = scan(line);
    let code = &line[..comment.unwrap_or(line.len())];
    fold_code(code, &breaks, indent, width, out);
    // A trailing comment too long to stay goes on below the code, as a comment.
    if let Some(c) = comment {
        fold_comment(line[c..].trim_start(), indent, width, out);
    }
}

/// Code, broken at `breaks`: each piece ends at the last break point that keeps it within the
/// width (or, when none does, at the first one past it).
fn fold_code(code: &str, breaks: &[usize], indent: usize, width: usize, out: &mut String) {
    let mut start = 0;
    let mut lead = 0;
    while code[start..].chars().count() > width.saturating_sub(lead) {
        let room = width.saturating_sub(lead);
        let candidates: Vec<usize> = breaks
            .iter()
            .copied()
            .filter(|&b| b > start && b < code.len() && !code[start..b].trim().is_empty())
            .collect();
        let fits: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&b| code[start..b].chars().count() <= room)
            .collect();
        let Some(at) = fits
            .iter()
            .rev()
            .find(|&&b| preferred(code, b))
            .or_else(|| fits.last())
            .or_else(|| candidates.first())
            .copied()
        else {
            break;
        };
        push_piece(out, lead, code[start..at].trim_end());
        start = at + code[at..].len() - code[at..].trim_start().len();
        lead = indent + 4;
    }
    push_piece(out, lead, code[start..].trim_end());
}

fn push_piece(out: &mut String, lead: usize, piece: &str) {
    out.extend(std::iter::repeat_n(' ', lead));
    out.push_str(piece);
    out.push('\n');
}

/// A break before one of these words, or after a comma, reads best.
fn preferred(line: &str, at: usize) -> bool {
    let after = &line[at..];
    ["AND ", "OR ", "WHEN ", "THEN ", "ELSE "]
        .iter()
        .any(|w| after.trim_start().starts_with(w))
        || line[..at].trim_end().ends_with(',')
}

/// A line without its trailing `--` comment (quotes respected) and the blanks around it.
pub fn code_of(line: &str) -> &str {
    let cut = match scan(line) {
        (_, Some(comment)) => comment,
        _ => line.len(),
    };
    line[..cut].trim()
}

/// The byte offsets of the blanks a line may be broken at (outside quotes), and where a trailing
/// `--` comment starts, if one does.
fn scan(line: &str) -> (Vec<usize>, Option<usize>) {
    let b = line.as_bytes();
    let mut breaks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // E'...' takes backslash escapes; '' is a quote within either kind.
                let escapes = i > 0 && (b[i - 1] == b'E' || b[i - 1] == b'e');
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
            }
            // A dollar quote: nothing after it on this line is broken.
            b'$' if line[i + 1..].find('$').is_some_and(|n| {
                line[i + 1..i + 1 + n]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_')
            }) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) =>
            {
                return (breaks, None);
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                // The comment starts at the blank before it.
                let c = line[..i].trim_end().len();
                return (breaks, Some(c));
            }
            b' ' => breaks.push(i),
            _ => {}
        }
        i += 1;
    }
    (breaks, None)
}

/// A comment (from its `--`), its words on as many comment lines as they need, `indent` in.
fn fold_comment(comment: &str, indent: usize, width: usize, out: &mut String) {
    let text = comment.trim_start_matches('-').trim_start();
    let prefix = format!("{}-- ", " ".repeat(indent));
    let mut current = prefix.clone();
    for word in text.split(' ') {
        if current.len() > prefix.len() && current.len() + 1 + word.len() > width {
            out.push_str(current.trim_end());
            out.push('\n');
            current = prefix.clone();
        }
        if current.len() > prefix.len() {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push_str(current.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn long_lines_break_between_tokens_and_go_on_indented() {
        let line = format!(
            "    SELECT {}, 'a, quoted; literal that is long' AS x WHERE a = 1 AND b = 2",
            (0..30)
                .map(|i| format!("col{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let folded = fold(&line, 60);
        assert!(folded.lines().all(|l| l.len() <= 60), "{folded}");
        assert!(folded.lines().skip(1).all(|l| l.starts_with("        ")));
        // The same tokens in the same order: only blanks became newlines.
        let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(squash(&folded), squash(&line));
        assert!(folded.contains("'a, quoted; literal that is long'"));
    }

    #[test]
    fn quotes_comments_and_dollar_quotes_are_not_broken() {
        let long = "x".repeat(80);
        let literal = format!("  SELECT '{long} {long}' AS y");
        let folded = fold(&literal, 60);
        assert!(folded.contains(&format!("'{long} {long}'")), "{folded}");
        assert_eq!(folded.lines().count(), 3, "{folded}");
        let commented = format!("  SELECT 1, 2 -- {long} {long}");
        let folded = fold(&commented, 60);
        assert_eq!(folded.lines().next(), Some("  SELECT 1, 2"));
        assert!(
            folded
                .lines()
                .skip(1)
                .all(|l| l.trim_start().starts_with("--"))
        );
        let comment = format!("  -- {long} {long}");
        assert!(fold(&comment, 90).lines().all(|l| l.starts_with("  -- ")));
        let dollar = format!("  AS $$ SELECT {long} {long}");
        let folded = fold(&dollar, 60);
        assert!(
            folded.contains(&format!("$$ SELECT {long} {long}\n")),
            "{folded}"
        );
    }
}
