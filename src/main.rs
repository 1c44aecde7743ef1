//! The `framelens` binary: parse the command line, run it, map errors to exit codes.
mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

// mimalloc: tokenising and counting allocate many small strings; the system allocator spent a
// quarter of training time in malloc/free (perf, imdb).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
