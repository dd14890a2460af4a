//! The command's result on stdout, written so that a reader who stops early (`pgshred ... | head`)
//! ends nothing: a closed pipe drops the rest of the output instead of panicking mid-command.
//! Logs and progress go to stderr, through [`crate::executor::Reporter`].

use std::io::Write;

/// Writes `text` to stdout; a closed stdout is not an error, anything else is reported once on
/// stderr.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(std::io::stderr(), "writing the result to stdout: {e}");
    }
}

/// `1 user`, `2 users`: a count with its noun.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `print!` through [`emit`].
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::stdout::emit(&format!($($t)*)) };
}

/// `println!` through [`emit`].
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::stdout::emit(&format!("{}\n", format_args!($($t)*))) };
}
