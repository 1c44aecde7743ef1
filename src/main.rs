//! The `framelens` binary: parse the command line, run it, map errors to exit codes.
mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    keep_freed_memory();
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

/// By default mimalloc returns freed memory to the OS after 10 ms, and the next allocation faults
/// it back in (with transparent huge pages, 2 MiB cleared per fault). framelens is a batch tool
/// that frees and reallocates large buffers all along a run: imdb training took 5,981 page faults
/// with purging and 543 without, and a quarter of its time was the kernel clearing pages. The
/// memory goes back to the OS when the process exits. `MIMALLOC_PURGE_DELAY` still overrides this.
fn keep_freed_memory() {
    /// `mi_option_purge_delay` in mimalloc.h (v2): milliseconds, -1 = never purge.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: called first thing in main, before any other thread exists (the function is not
    // thread safe); it only sets an option's default value.
    unsafe { libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DELAY, -1) };
}
