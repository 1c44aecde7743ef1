//! The walk over input paths that the scoring subcommands share: JSONL files (plain or gzip'd),
//! `.txt` files, folders of `.txt` files and standard input, streamed document by document so
//! that memory stays constant whatever the corpus size.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::*;
use crate::error::{Error, Result};

/// Streams the documents of `paths` to `sink`, one at a time, in order: each path in turn, the
/// `.txt` files of a folder sorted by name. With no path, or the single path `-`, it reads JSONL
/// from `stdin()` (called only then). `opts.format` is `Auto` (by file extension), `Jsonl`,
/// `Csv` (CSV or TSV, read whole per file) or `Txt`; other formats are refused per file.
///
/// An unreadable file or a bad record is passed to `sink` as an error and the walk goes on (the
/// sink decides whether to stop); `sink` returning `false` ends the walk at once.
pub fn stream_documents(
    paths: &[PathBuf],
    opts: &ReadOptions,
    stdin: impl FnOnce() -> Box<dyn BufRead + Send>,
    mut sink: impl FnMut(Result<Document>) -> bool,
) {
    if paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-") {
        if paths.len() > 1 {
            sink(Err(Error::StdinWithPaths));
            return;
        }
        JsonlReader::new(stdin(), "<stdin>", opts).all(&mut sink);
        return;
    }
    for path in paths {
        let files = match files_of(path) {
            Ok(files) => files,
            Err(e) => {
                sink(Err(e));
                return;
            }
        };
        for file in files {
            let format = match opts.format {
                InputFormat::Auto => detect_format(&file),
                f => f,
            };
            let go_on = match format {
                InputFormat::Txt => {
                    let txt = ReadOptions {
                        format: InputFormat::Txt,
                        ..opts.clone()
                    };
                    sink(read_documents(&file, &txt).map(|(mut d, _)| d.remove(0)))
                }
                InputFormat::Jsonl => match open_text(&file) {
                    Ok(r) => JsonlReader::new(r, file.display().to_string(), opts).all(&mut sink),
                    Err(e) => sink(Err(e)),
                },
                // A CSV/TSV file is read whole (its quoting can span lines), then streamed; the
                // rows skipped with --skip-invalid are passed on for the consumer to count.
                InputFormat::Csv => {
                    let csv = ReadOptions {
                        format: InputFormat::Csv,
                        ..opts.clone()
                    };
                    match read_documents(&file, &csv) {
                        Ok((docs, report)) => {
                            let mut go_on = true;
                            for i in 0..report.skipped {
                                let message =
                                    report.skipped_examples.get(i).cloned().unwrap_or_else(|| {
                                        format!("{}: another malformed row", file.display())
                                    });
                                go_on = go_on && sink(Err(Error::SkippedRecord { message }));
                            }
                            for d in docs {
                                if !go_on {
                                    break;
                                }
                                go_on = sink(Ok(d));
                            }
                            go_on
                        }
                        Err(e) => sink(Err(e)),
                    }
                }
                InputFormat::Auto => sink(Err(Error::UndetectableStreamFormat {
                    path: file.display().to_string(),
                })),
                other => sink(Err(Error::UnstreamableFormat {
                    path: file.display().to_string(),
                    format: other.to_string(),
                })),
            };
            if !go_on {
                return;
            }
        }
    }
}

/// The files a path stands for: itself, or the `.txt` files of a folder sorted by name.
fn files_of(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    // In a folder, only regular files (links to them included) are documents: reading a FIFO
    // named like one would wait forever for a writer.
    if let Some(odd) = files.iter().find(|f| !f.is_file()) {
        return Err(Error::io(
            odd,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, device or socket) in a folder of documents",
            ),
        ));
    }
    Ok(files)
}
