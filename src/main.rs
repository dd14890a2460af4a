//! The `pgshred` binary: parse arguments, run, print errors, exit with a documented code.

fn main() {
    let code = pgshred::cli::main();
    std::process::exit(code as i32);
}
