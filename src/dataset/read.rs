//! Documents, input formats and reading a whole input (a file or a folder) into documents, with
//! the format resolved from the path and the options.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self};

use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::*;
use crate::error::{Error, Result};

/// Read buffer size of [`open_text`]: large enough that a multi-gigabyte JSONL file is read in few
/// system calls, small enough not to matter next to the documents themselves.
pub(super) const BUFFER_CAPACITY: usize = 1 << 20;

/// How many skipped-record messages [`ReadReport::skipped_examples`] keeps.
pub(super) const MAX_SKIPPED_EXAMPLES: usize = 5;

/// One article: what every stage of framelens consumes.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Document {
    /// Identifier, unique within a data set by convention (not enforced).
    pub id: String,
    /// The full text (title included where the source has one).
    pub text: String,
    /// Gold labels; empty when the input has none (scoring).
    pub labels: Vec<String>,
    /// Any other string fields of the record (source, date, url...), kept for analysis.
    pub meta: BTreeMap<String, String>,
}

/// The layout of an input. Default: [`InputFormat::Auto`].
///
/// Parsed from (and displayed as) `auto`, `jsonl`, `csv`, `dir`, `txt`, `semeval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InputFormat {
    /// Decide from the path: see [`detect_format`] and [`read_documents`].
    #[default]
    Auto,
    /// JSON Lines: one JSON object per line (`.jsonl`, `.json`, `.ndjson`, optionally `.gz`).
    Jsonl,
    /// CSV with a header row (`.csv`); tab-separated when the file name ends in `.tsv` (optionally `.gz`).
    Csv,
    /// A folder with one sub-folder per label, each holding `.txt` files.
    Dir,
    /// One `.txt` file = one unlabelled document.
    Txt,
    /// SemEval-2023 Task 3: a folder of `article<ID>.txt` files plus a labels file
    /// ([`ReadOptions::labels_file`]).
    Semeval,
}

impl InputFormat {
    /// Every format, in the order they are listed to users.
    pub const ALL: [InputFormat; 6] = [
        InputFormat::Auto,
        InputFormat::Jsonl,
        InputFormat::Csv,
        InputFormat::Dir,
        InputFormat::Txt,
        InputFormat::Semeval,
    ];

    /// The name accepted by [`FromStr`] and printed by [`Display`](fmt::Display).
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Csv => "csv",
            InputFormat::Dir => "dir",
            InputFormat::Txt => "txt",
            InputFormat::Semeval => "semeval",
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputFormat {
    type Err = Error;

    /// Case-insensitive; an unknown name is an [`Error::UnknownChoice`] listing the choices.
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        InputFormat::ALL
            .into_iter()
            .find(|f| f.name() == wanted)
            .ok_or_else(|| {
                let choices: Vec<&str> = InputFormat::ALL.iter().map(|f| f.name()).collect();
                Error::UnknownChoice {
                    name: "format",
                    value: s.to_string(),
                    expected: format!("one of: {}", choices.join(", ")),
                }
            })
    }
}

/// How [`read_documents`] and [`JsonlReader`] interpret an input.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// Input layout. Default: [`InputFormat::Auto`].
    pub format: InputFormat,
    /// JSONL field / CSV column holding the text. Default: `"text"`.
    pub text_field: String,
    /// JSONL field / CSV column holding the labels. Default: `"labels"`; with the default, a JSONL
    /// record without `labels` may carry a single `label` instead.
    pub label_field: String,
    /// JSONL field / CSV column holding the id. Default: `"id"`. Optional in the data: a record
    /// without one gets `"<file stem>:<line>"`.
    pub id_field: String,
    /// Whether every document must carry at least one label. Default: `true` (training,
    /// evaluation); set `false` for scoring, where labels are read if present.
    pub labels_required: bool,
    /// Default: `false`, the first bad record is an error. `true`: bad records are skipped and
    /// counted in [`ReadReport`]. I/O errors are never skipped.
    pub skip_invalid: bool,
    /// The labels file of the SemEval layout (lines `<ID><TAB>label1,label2,...`). Default: `None`.
    /// Required by [`InputFormat::Semeval`]; with [`InputFormat::Auto`], a folder of
    /// `article*.txt` files plus a labels file is read as SemEval. Rejected by the other formats.
    pub labels_file: Option<PathBuf>,
    /// Separates several labels in one CSV cell. Default: `'|'`. Not used by JSONL (labels are a
    /// list there) nor SemEval (whose labels file uses commas).
    pub label_separator: char,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: InputFormat::Auto,
            text_field: "text".to_string(),
            label_field: "labels".to_string(),
            id_field: "id".to_string(),
            labels_required: true,
            skip_invalid: false,
            labels_file: None,
            label_separator: '|',
        }
    }
}

/// What a read produced besides the documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadReport {
    /// Documents returned.
    pub documents: usize,
    /// Records skipped: invalid ones when [`ReadOptions::skip_invalid`] is set, and SemEval
    /// articles that have no line in the labels file when labels are required.
    pub skipped: usize,
    /// The messages of the first 5 skipped records, for the user to see what went wrong.
    pub skipped_examples: Vec<String>,
}

impl ReadReport {
    pub(super) fn skip(&mut self, message: String) {
        self.skipped += 1;
        if self.skipped_examples.len() < MAX_SKIPPED_EXAMPLES {
            self.skipped_examples.push(message);
        }
    }

    /// Skips `error` if it is a bad record and skipping is on; otherwise hands it back.
    pub(super) fn skip_or_fail(&mut self, error: Error, skip_invalid: bool) -> Result<()> {
        if skip_invalid && matches!(error, Error::BadRecord { .. }) {
            self.skip(error.to_string());
            Ok(())
        } else {
            Err(error)
        }
    }
}

/// Reads every document of `path` in the layout `opts.format`.
///
/// With [`InputFormat::Auto`] the layout comes from [`detect_format`], except that a folder is
/// read as [`InputFormat::Semeval`] when `opts.labels_file` is set and the folder holds
/// `article*.txt` files. Errors: [`Error::Io`] (never skipped), [`Error::BadRecord`] with the file
/// and 1-based line of the first bad record (unless `opts.skip_invalid`),
/// [`Error::FormatMismatch`], [`Error::LabelsFileMismatch`] and the like when the options do not
/// fit the input, and [`Error::NoDocuments`]
/// when nothing usable is left.
pub fn read_documents(path: &Path, opts: &ReadOptions) -> Result<(Vec<Document>, ReadReport)> {
    let is_dir = fs::metadata(path).map_err(|e| Error::io(path, e))?.is_dir();
    let format = resolve_format(path, is_dir, opts)?;
    let mut report = ReadReport::default();
    let docs = match format {
        InputFormat::Jsonl => {
            let mut reader = JsonlReader::new(open_text(path)?, display(path), opts);
            let docs = reader.by_ref().collect::<Result<Vec<_>>>()?;
            report = reader.into_report();
            docs
        }
        InputFormat::Csv => read_csv(path, opts, &mut report)?,
        InputFormat::Dir => read_label_folders(path, opts, &mut report)?,
        InputFormat::Txt => vec![read_txt(path)?],
        InputFormat::Semeval => read_semeval(path, opts, &mut report)?,
        InputFormat::Auto => return Err(undetectable_format(path)),
    };
    report.documents = docs.len();
    if docs.is_empty() {
        return Err(Error::NoDocuments {
            path: display(path),
            hint: no_documents_hint(path, format, opts, &report),
        });
    }
    Ok((docs, report))
}

/// The layout a path's name implies: a folder → [`InputFormat::Dir`]; `.jsonl`, `.json`,
/// `.ndjson` → [`InputFormat::Jsonl`]; `.csv`, `.tsv` → [`InputFormat::Csv`]; `.txt` →
/// [`InputFormat::Txt`] (each also with `.gz` appended; extensions are case-insensitive);
/// anything else → [`InputFormat::Auto`], meaning "cannot tell".
///
/// The SemEval layout is a folder too; [`read_documents`] picks it over `Dir` when a labels file
/// is given and the folder holds `article*.txt` files, which this function cannot know.
pub fn detect_format(path: &Path) -> InputFormat {
    if path.is_dir() {
        return InputFormat::Dir;
    }
    match inner_extension(path).as_deref() {
        Some("jsonl" | "json" | "ndjson") => InputFormat::Jsonl,
        Some("csv" | "tsv") => InputFormat::Csv,
        Some("txt") => InputFormat::Txt,
        _ => InputFormat::Auto,
    }
}

pub(super) fn resolve_format(path: &Path, is_dir: bool, opts: &ReadOptions) -> Result<InputFormat> {
    let format = match opts.format {
        InputFormat::Auto if is_dir => {
            if opts.labels_file.is_some() && !semeval_articles(path)?.is_empty() {
                InputFormat::Semeval
            } else {
                InputFormat::Dir
            }
        }
        InputFormat::Auto => match detect_format(path) {
            InputFormat::Auto => return Err(undetectable_format(path)),
            format => format,
        },
        format => format,
    };
    let needs_dir = matches!(format, InputFormat::Dir | InputFormat::Semeval);
    if needs_dir && !is_dir {
        return Err(Error::FormatMismatch {
            format: format.to_string(),
            reason: format!(
                "this format reads a folder, but {} is a file",
                display(path)
            ),
        });
    }
    if !needs_dir && is_dir {
        return Err(Error::FormatMismatch {
            format: format.to_string(),
            reason: format!(
                "this format reads one file, but {} is a folder (use dir or semeval)",
                display(path)
            ),
        });
    }
    if format == InputFormat::Txt && opts.labels_required {
        return Err(Error::FormatMismatch {
            format: format.to_string(),
            reason: format!(
                "{} is one .txt document and carries no labels, but labels are needed here \
                 (training, evaluation); give labelled data: JSONL, CSV, a folder per label or \
                 the SemEval layout",
                display(path)
            ),
        });
    }
    if let Some(labels_file) = &opts.labels_file {
        if format != InputFormat::Semeval {
            return Err(Error::LabelsFileMismatch {
                path: display(labels_file),
                reason: format!(
                    "a labels file is only used by the SemEval layout (a folder of article<ID>.txt \
                     files), but {} is read as {format}",
                    display(path)
                ),
            });
        }
    }
    Ok(format)
}

pub(super) fn undetectable_format(path: &Path) -> Error {
    Error::UndetectableFormat {
        reason: format!(
            "cannot tell the format of {} from its name (known: .jsonl, .json, .ndjson, .csv, \
             .tsv, each optionally .gz, .txt, or a folder); name the format explicitly",
            display(path)
        ),
    }
}

pub(super) fn no_documents_hint(
    path: &Path,
    format: InputFormat,
    opts: &ReadOptions,
    report: &ReadReport,
) -> String {
    if report.skipped > 0 {
        let first = report.skipped_examples.first().map_or("", String::as_str);
        return format!(
            "; all {} record(s) were skipped, the first because: {first}",
            report.skipped
        );
    }
    match format {
        InputFormat::Jsonl => "; the input is empty or has only blank lines".to_string(),
        InputFormat::Csv => "; the file is empty or has a header but no rows".to_string(),
        InputFormat::Semeval => "; the labels file lists no articles".to_string(),
        InputFormat::Dir => {
            let entries = visible_entries(path).unwrap_or_default();
            let loose_txt = entries.iter().filter(|p| is_txt_file(p)).count();
            let articles = entries.iter().filter(|p| semeval_id(p).is_some()).count();
            if articles > 0 && opts.labels_file.is_none() {
                format!(
                    "; it holds {articles} article*.txt file(s): for the SemEval layout give the \
                     labels file (--labels)"
                )
            } else if loose_txt > 0 && opts.labels_required {
                format!(
                    "; it holds {loose_txt} .txt file(s) but a labelled folder needs one \
                     sub-folder per label holding the .txt files"
                )
            } else {
                "; expected one sub-folder per label holding .txt files".to_string()
            }
        }
        InputFormat::Txt | InputFormat::Auto => String::new(),
    }
}

/// The entries of a folder, hidden ones (`.name`) left out, sorted by path.
pub(super) fn visible_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            paths.push(entry.path());
        }
    }
    paths.sort();
    Ok(paths)
}

pub(super) fn is_txt_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
        && path.is_file()
}

pub(super) fn read_utf8_file(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_utf8(bytes, path)
}

/// Whole-file UTF-8 decoding; the error names the line of the first invalid byte.
pub(super) fn decode_utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        }),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let line_start = bytes[..valid]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            Err(Error::BadRecord {
                path: display(path),
                line: bytes[..valid].iter().filter(|&&b| b == b'\n').count() + 1,
                field: None,
                reason: format!(
                    "invalid UTF-8 at byte {} of the line (the file must be UTF-8)",
                    valid - line_start + 1
                ),
            })
        }
    }
}

pub(super) fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub(super) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

pub(super) fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// The lower-cased extension under an optional `.gz`: `a.JSONL.gz` → `jsonl`.
pub(super) fn inner_extension(path: &Path) -> Option<String> {
    let inner = if is_gzip(path) {
        Path::new(path.file_stem()?)
    } else {
        path
    };
    Some(inner.extension()?.to_string_lossy().to_ascii_lowercase())
}

/// The file name without `.gz` and without its extension: `data/train.jsonl.gz` → `train`.
pub(super) fn file_stem(path: &Path) -> String {
    let inner = if is_gzip(path) {
        path.file_stem().map(Path::new).unwrap_or(path)
    } else {
        path
    };
    inner
        .file_stem()
        .map_or_else(|| display(path), |s| s.to_string_lossy().into_owned())
}

pub(super) fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| display(path), |s| s.to_string_lossy().into_owned())
}

pub(super) fn generated_id(stem: &str, line: usize) -> String {
    format!("{stem}:{line}")
}

pub(super) fn display(path: &Path) -> String {
    path.display().to_string()
}
