//! The `framelens` binary: parse the command line, run it, map errors to exit codes.
mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain of causes, each said once: an error whose message already quotes
            // its cause (a file error quotes the operating system's) would otherwise repeat it.
            let mut message = e.to_string();
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !message.contains(&cause) {
                    message = format!("{message}: {cause}");
                }
            }
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

// mimalloc: tokenising and counting allocate many small strings; the system allocator spent a
// large share of training time in malloc/free (BENCHMARKS.md, "Where the time goes").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
