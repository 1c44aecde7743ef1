//! Output helpers shared by the subcommands: reading input with its skip report, writing to
//! standard output (a closed pipe ends the output quietly) and files.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

use framelens::dataset::{self, ReadOptions, ReadReport};
use framelens::{Classifier, Document, Prediction};

pub(super) fn read(path: &Path, opts: &ReadOptions) -> Result<(Vec<Document>, ReadReport)> {
    let (docs, report) = dataset::read_documents(path, opts)?;
    warn_duplicate_ids(&docs);
    Ok((docs, report))
}

/// Documents are named by their ids in reports and galleries: ids used more than once are said.
fn warn_duplicate_ids(docs: &[Document]) {
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for d in docs {
        *seen.entry(d.id.as_str()).or_insert(0) += 1;
    }
    let mut repeated: Vec<(&str, usize)> = seen.into_iter().filter(|(_, n)| *n > 1).collect();
    if repeated.is_empty() {
        return;
    }
    repeated.sort();
    let extra: usize = repeated.iter().map(|(_, n)| n - 1).sum();
    let examples: Vec<String> = repeated
        .iter()
        .take(3)
        .map(|(id, n)| format!("\"{}\" ({n} times)", framelens::report::printable(id)))
        .collect();
    eprintln!(
        "warning: {} id(s) are used by more than one document ({extra} repeat(s)), e.g. {}",
        repeated.len(),
        examples.join(", ")
    );
}

pub(super) fn report_skips(report: &ReadReport) {
    if report.skipped > 0 {
        eprintln!("  skipped {} invalid record(s):", report.skipped);
        for m in &report.skipped_examples {
            eprintln!("    {m}");
        }
    }
}

/// The bytes this process may still take: the kernel's `MemAvailable`, lowered to the room left
/// under a cgroup limit (containers, CI runners) when there is one. `None` where neither can be
/// read (not Linux): then nothing is refused in advance.
pub(super) fn available_memory() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let meminfo = read("/proc/meminfo").and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let number = |p: &str| read(p).and_then(|s| s.trim().parse::<u64>().ok());
    // cgroup v2, then v1 (where "no limit" is a huge number, which min() ignores).
    let cgroup = number("/sys/fs/cgroup/memory.max")
        .zip(number("/sys/fs/cgroup/memory.current"))
        .or_else(|| {
            number("/sys/fs/cgroup/memory/memory.limit_in_bytes")
                .zip(number("/sys/fs/cgroup/memory/memory.usage_in_bytes"))
        })
        .map(|(max, used)| max.saturating_sub(used));
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Refuse to write to a closed standard output (`framelens score ... >&-`). Rust's runtime
/// reopens a standard descriptor that is closed at start on /dev/null, read-write, so the output
/// would vanish with exit status 0. A shell's `> /dev/null` opens it write-only; descriptor 1 on
/// /dev/null opened read-write is taken as the closed descriptor.
pub(super) fn stdout_open() -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let null = std::fs::metadata("/dev/null").map(|m| m.rdev()).ok();
        // SAFETY: fstat writes into the zeroed struct we own; fcntl(F_GETFL) only reads flags.
        let (rdev, mode, flags) = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(1, &mut st) != 0 {
                anyhow::bail!("standard output is closed: redirect it to a file, or use --out");
            }
            (st.st_rdev, st.st_mode, libc::fcntl(1, libc::F_GETFL))
        };
        let on_null = mode & libc::S_IFMT == libc::S_IFCHR && Some(rdev) == null;
        if on_null && flags != -1 && flags & libc::O_ACCMODE == libc::O_RDWR {
            anyhow::bail!(
                "standard output is closed: redirect it to a file (or > /dev/null), or use --out"
            );
        }
    }
    Ok(())
}

pub(super) fn handle_write_error(e: std::io::Error) -> Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Ok(());
    }
    Err(e).context("writing to standard output")
}

/// A line of output into `$buf` (a `String`), as `println!` would print it.
macro_rules! outln {
    ($buf:expr) => {
        $buf.push('\n')
    };
    ($buf:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($buf, $($arg)*);
    }};
}

/// Write `text` to standard output. A reader that stopped reading (`| head`) ends the output
/// quietly, as it does for `score`; `println!` panicked there.
pub(super) fn emit(text: &str) -> Result<()> {
    stdout_open()?;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => handle_write_error(e),
    }
}

pub(super) use outln;

/// One scored document as `score` writes it (one JSON line): id, labels, every label's
/// probability, and the explanation of each predicted label. `serve` answers with the same.
pub(super) fn prediction_json(clf: &Classifier, p: &Prediction) -> serde_json::Value {
    let probabilities: serde_json::Map<String, serde_json::Value> = p
        .probabilities
        .iter()
        .map(|(l, v)| (l.clone(), serde_json::json!(v)))
        .collect();
    let explanation: serde_json::Map<String, serde_json::Value> = p
        .explanation
        .iter()
        .map(|e| {
            (
                e.label.clone(),
                serde_json::to_value(e).expect("explanations serialise"),
            )
        })
        .collect();
    let mut v = serde_json::json!({
        "id": p.id,
        "labels": p.labels,
        "probabilities": probabilities,
        "explanation": explanation,
        "known_terms": p.known_terms,
    });
    if p.no_known_terms {
        v["no_known_terms"] = serde_json::json!(true);
    } else if p.known_terms < super::score::FEW_KNOWN_TERMS {
        v["few_known_terms"] = serde_json::json!(true);
    }
    if clf.is_multi_label() {
        v["multi_label"] = serde_json::json!(true);
    }
    // No label reached its threshold and the most probable one was taken: say so.
    if let (Some(t), [label]) = (&clf.thresholds, p.labels.as_slice()) {
        let k = clf.labels.iter().position(|l| l == label);
        if let Some(k) = k {
            if p.probabilities[k].1 < t[k] {
                v["forced"] = serde_json::json!(true);
            }
        }
    }
    v
}

/// Refuse an output path that names one of the inputs (the same file, however it is spelled: a
/// link, `./x`...), before any work: writing it would replace the input.
pub(super) fn check_not_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(o) = std::fs::metadata(out) else {
        return Ok(());
    };
    if !o.is_file() {
        return Ok(());
    }
    for input in inputs {
        if let Ok(i) = std::fs::metadata(input) {
            if i.dev() == o.dev() && i.ino() == o.ino() {
                anyhow::bail!(
                    "{}: this is also an input ({}); write the output to another file",
                    out.display(),
                    input.display()
                );
            }
        }
    }
    Ok(())
}

/// Whether an output path means standard output (`-`).
pub(super) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Write `bytes` to `path` (atomically), or to standard output when `path` is `-`.
pub(super) fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    if is_stdout(path) {
        stdout_open()?;
        let mut out = std::io::stdout().lock();
        return match out.write_all(bytes).and_then(|_| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) => handle_write_error(e),
        };
    }
    framelens::model::write_atomic(path, bytes)?;
    Ok(())
}

/// A bad record (JSON, CSV, UTF-8...) may be skipped with --skip-invalid; a missing file or an
/// unreadable format may not.
pub(super) fn skippable(e: &framelens::Error) -> bool {
    matches!(
        e,
        framelens::Error::BadRecord { .. } | framelens::Error::SkippedRecord { .. }
    )
}

/// The error that stopped a stream of documents after `done` of them, with the --skip-invalid
/// hint only where skipping would have helped.
pub(super) fn stopped(e: framelens::Error, done: u64) -> anyhow::Error {
    let hint = if skippable(&e) {
        "; use --skip-invalid to skip bad records"
    } else {
        ""
    };
    if done == 0 && !skippable(&e) {
        return anyhow::Error::new(e);
    }
    anyhow::Error::new(e).context(format!("stopped after {done} document(s){hint}"))
}

/// Stream the documents of `paths` (none or `-`: JSONL on standard input) on a thread of their
/// own, into a channel of `capacity` documents: reading overlaps scoring. Join the handle once
/// the receiver is dropped.
pub(super) fn spawn_reader(
    paths: &[std::path::PathBuf],
    opts: ReadOptions,
    capacity: usize,
) -> (
    std::sync::mpsc::Receiver<framelens::Result<Document>>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<framelens::Result<Document>>(capacity);
    let paths = paths.to_vec();
    let reader = std::thread::spawn(move || {
        let stdin = || -> Box<dyn std::io::BufRead + Send> {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        };
        dataset::stream_documents(&paths, &opts, stdin, |item| tx.send(item).is_ok());
    });
    (rx, reader)
}

/// Runs `work` with a spinner on stderr saying `message` and the time elapsed, for long steps that
/// report nothing until they end (training, cross-validation). indicatif draws only when stderr
/// is a terminal; `quiet` hides it there too.
/// With the solver's latest status line from `progress` after the message, refreshed every 200 ms.
pub(super) fn with_spinner<T>(
    message: &str,
    quiet: bool,
    progress: &framelens::logistic::Progress,
    work: impl FnOnce() -> T,
) -> T {
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    // The refresher waits on a channel that closes when the work ends, so it stops at once.
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let out = std::thread::scope(|scope| {
        if !bar.is_hidden() {
            let bar = &bar;
            scope.spawn(move || {
                let tick = std::time::Duration::from_millis(200);
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(tick)
                {
                    if let Some(line) = progress.latest() {
                        bar.set_message(format!("{message}; {line}"));
                    }
                }
            });
        }
        let out = work();
        drop(done);
        out
    });
    bar.finish_and_clear();
    out
}

/// A spinner on stderr for a stream of documents (drawn only when stderr is a terminal);
/// `template` is indicatif's, e.g. `"{spinner} {human_pos} documents read ({per_sec})"`.
pub(super) fn stream_spinner(template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Fills `batch` (emptied first) with up to `max` documents from `rx`. A bad record is skipped
/// and counted in `skipped` (and shown above `progress`) when `skip_invalid`, else it ends the
/// stream as `Err`. `Ok(false)` once the input is exhausted (the batch may still hold documents).
pub(super) fn next_batch(
    rx: &std::sync::mpsc::Receiver<framelens::Result<Document>>,
    batch: &mut Vec<Document>,
    max: usize,
    skip_invalid: bool,
    skipped: &mut u64,
    progress: &indicatif::ProgressBar,
) -> std::result::Result<bool, framelens::Error> {
    batch.clear();
    while batch.len() < max {
        match rx.recv() {
            Ok(Ok(d)) => batch.push(d),
            Ok(Err(e)) if skip_invalid && skippable(&e) => {
                *skipped += 1;
                progress.suspend(|| eprintln!("skipped: {e:#}"));
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(false),
        }
    }
    Ok(true)
}

/// The title of a page made from `paths`: "framelens COMMAND: a, b", or standard input.
pub(super) fn page_title(command: &str, paths: &[std::path::PathBuf]) -> String {
    if paths.is_empty() {
        return format!("framelens {command}: standard input");
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!("framelens {command}: {}", names.join(", "))
}
