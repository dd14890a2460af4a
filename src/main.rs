//! The `pgshred` binary: parse arguments, run, print errors, exit with a documented code.

// mimalloc instead of glibc's malloc: `apply --engine copy` evaluates documents on every core,
// and with glibc's allocator about a third of that time went to malloc and free under
// contention (perf, 10,000 users).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = pgshred::cli::main();
    std::process::exit(code as i32);
}
