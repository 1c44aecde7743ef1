//! Documents and the readers for every input format (JSONL, gzip'd JSONL, CSV, a folder per label,
//! plain `.txt` files, the SemEval-2023 Task 3 layout). Readers stream where they can and fail with
//! the file, line and field of a bad record, or skip and count it when asked to.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use flate2::read::MultiGzDecoder;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Read buffer size of [`open_text`]: large enough that a multi-gigabyte JSONL file is read in few
/// system calls, small enough not to matter next to the documents themselves.
const BUFFER_CAPACITY: usize = 1 << 20;

/// How many skipped-record messages [`ReadReport::skipped_examples`] keeps.
const MAX_SKIPPED_EXAMPLES: usize = 5;

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

    /// Case-insensitive; an unknown name is an [`Error::InvalidParameter`] listing the choices.
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        InputFormat::ALL
            .into_iter()
            .find(|f| f.name() == wanted)
            .ok_or_else(|| {
                let choices: Vec<&str> = InputFormat::ALL.iter().map(|f| f.name()).collect();
                Error::param(
                    "format",
                    s,
                    format!("expected one of: {}", choices.join(", ")),
                )
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
    fn skip(&mut self, message: String) {
        self.skipped += 1;
        if self.skipped_examples.len() < MAX_SKIPPED_EXAMPLES {
            self.skipped_examples.push(message);
        }
    }

    /// Skips `error` if it is a bad record and skipping is on; otherwise hands it back.
    fn skip_or_fail(&mut self, error: Error, skip_invalid: bool) -> Result<()> {
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
/// [`Error::InvalidParameter`] when the options do not fit the input, and [`Error::NoDocuments`]
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

/// Opens a file for buffered reading (1 MiB buffer), transparently decompressing it when its name
/// ends in `.gz` (concatenated gzip members included), on a thread of its own that stays a few
/// blocks ahead of the reader: decompressing imdb's 35 MB took as long as parsing them, and now
/// both run at once. Decompression errors surface as [`Error::Io`] while reading.
pub fn open_text(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    if is_gzip(path) {
        Ok(Box::new(ReadAhead::spawn(MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(BufReader::with_capacity(BUFFER_CAPACITY, file)))
    }
}

/// A reader fed by a thread that reads its source in blocks of [`BUFFER_CAPACITY`] bytes, at most
/// [`ReadAhead::BLOCKS`] blocks ahead. The thread ends at the end of the source, at its first
/// error (which the reader then returns, once, after the bytes before it), or when the reader is
/// dropped.
struct ReadAhead {
    blocks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    const BLOCKS: usize = 4;

    fn spawn(mut source: impl Read + Send + 'static) -> ReadAhead {
        let (tx, rx) = std::sync::mpsc::sync_channel(Self::BLOCKS);
        std::thread::spawn(move || loop {
            let mut block = vec![0u8; BUFFER_CAPACITY];
            let mut filled = 0;
            while filled < block.len() {
                match source.read(&mut block[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        if filled > 0 {
                            block.truncate(filled);
                            let _ = tx.send(Ok(block));
                        }
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            let end = filled < block.len();
            block.truncate(filled);
            // A failed send means the reader is gone: nothing more to do.
            if (filled > 0 && tx.send(Ok(block)).is_err()) || end {
                return;
            }
        });
        ReadAhead {
            blocks: rx,
            current: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos == self.current.len() && !self.done {
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    self.current = block;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread has ended after the last block.
                Err(_) => self.done = true,
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.current.len());
    }
}

/// Streams the documents of a JSON Lines input, one line at a time (used to score stdin as it
/// arrives).
///
/// Each non-blank line must be one JSON object. The id comes from [`ReadOptions::id_field`] (a
/// string or a number; missing, null or empty → `"<file stem>:<line>"`), the text from
/// [`ReadOptions::text_field`] (must be a string, kept as is), the labels from
/// [`ReadOptions::label_field`] (a list of strings or one string; integers are accepted and
/// stringified; trimmed, empty ones rejected, duplicates dropped keeping the first). Other
/// top-level strings, numbers and booleans go to [`Document::meta`]; nulls, lists and objects are
/// dropped.
///
/// The iterator yields `Err(`[`Error::BadRecord`]`)` for a bad line and can be resumed after it;
/// with [`ReadOptions::skip_invalid`] it skips such lines itself and counts them in
/// [`JsonlReader::report`]. After an [`Error::Io`] it ends.
pub struct JsonlReader<R: BufRead> {
    reader: R,
    path: String,
    stem: String,
    fields: RecordFields,
    skip_invalid: bool,
    line: usize,
    buffer: Vec<u8>,
    report: ReadReport,
    finished: bool,
}

/// The field names and rules shared by the JSONL and CSV readers.
#[derive(Debug, Clone)]
struct RecordFields {
    text: String,
    label: String,
    id: String,
    labels_required: bool,
}

impl RecordFields {
    fn new(opts: &ReadOptions) -> Self {
        RecordFields {
            text: opts.text_field.clone(),
            label: opts.label_field.clone(),
            id: opts.id_field.clone(),
            labels_required: opts.labels_required,
        }
    }
}

impl<R: BufRead> JsonlReader<R> {
    /// Reads `reader`; `path` names the input in error messages (e.g. `"<stdin>"`) and its file
    /// stem makes the ids of records without one.
    pub fn new(reader: R, path: impl Into<String>, opts: &ReadOptions) -> Self {
        let path = path.into();
        JsonlReader {
            reader,
            stem: file_stem(Path::new(&path)),
            path,
            fields: RecordFields::new(opts),
            skip_invalid: opts.skip_invalid,
            line: 0,
            buffer: Vec::new(),
            report: ReadReport::default(),
            finished: false,
        }
    }

    /// Documents yielded and records skipped so far.
    pub fn report(&self) -> &ReadReport {
        &self.report
    }

    /// The final report, once reading is done.
    pub fn into_report(self) -> ReadReport {
        self.report
    }

    /// Parses the line in `self.buffer`; `Ok(None)` for a blank line.
    fn parse_buffered_line(&self) -> Result<Option<Document>> {
        let bytes = trim_line_end(&self.buffer);
        let text = std::str::from_utf8(bytes).map_err(|e| Error::BadRecord {
            path: self.path.clone(),
            line: self.line,
            field: None,
            reason: format!(
                "invalid UTF-8 at byte {} of the line (the file must be UTF-8)",
                e.valid_up_to() + 1
            ),
        })?;
        let text = if self.line == 1 {
            strip_bom(text)
        } else {
            text
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        let bad = |field: Option<&str>, reason: String| Error::BadRecord {
            path: self.path.clone(),
            line: self.line,
            field: field.map(str::to_string),
            reason,
        };
        let value: Value = serde_json::from_str(text).map_err(|e| bad(None, json_reason(&e)))?;
        let Value::Object(object) = value else {
            let mut reason = format!("expected a JSON object, found {}", json_type_name(&value));
            if self.line == 1 && value.is_array() {
                reason.push_str(
                    "; this looks like one JSON array, but JSON Lines needs one object per line \
                     (convert with `jq -c '.[]'`)",
                );
            }
            return Err(bad(None, reason));
        };
        json_document(object, &self.fields, &self.stem, self.line)
            .map(Some)
            .map_err(|(field, reason)| bad(Some(&field), reason))
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            self.buffer.clear();
            // read_until, not lines(): a line of invalid UTF-8 must become a BadRecord with its
            // line number, not an opaque I/O error that ends the stream.
            match self.reader.read_until(b'\n', &mut self.buffer) {
                Ok(0) => self.finished = true,
                Ok(_) => {
                    self.line += 1;
                    match self.parse_buffered_line() {
                        Ok(None) => {}
                        Ok(Some(doc)) => {
                            self.report.documents += 1;
                            return Some(Ok(doc));
                        }
                        Err(e) => {
                            if let Err(e) = self.report.skip_or_fail(e, self.skip_invalid) {
                                return Some(Err(e));
                            }
                        }
                    }
                }
                Err(e) => {
                    self.finished = true;
                    return Some(Err(Error::io(&self.path, e)));
                }
            }
        }
        None
    }
}

/// A record-level failure: (field, reason).
type FieldError = (String, String);

fn json_document(
    mut object: Map<String, Value>,
    fields: &RecordFields,
    stem: &str,
    line: usize,
) -> std::result::Result<Document, FieldError> {
    // Everything is validated on the intact object (so error messages list all its fields), then
    // the text is moved out rather than copied.
    match object.get(&fields.text) {
        Some(Value::String(_)) => {}
        Some(other) => {
            return Err((
                fields.text.clone(),
                format!("expected a string, found {}", json_type_name(other)),
            ))
        }
        None => {
            return Err((
                fields.text.clone(),
                format!(
                    "missing; the record has {} (set --text-field)",
                    list_keys(&object)
                ),
            ))
        }
    }

    let present = |key: &str| object.get(key).is_some_and(|v| !v.is_null());
    // `label` is the other common spelling (one string per record); accepted only when the user
    // left the default, so a deliberate --label-field is never second-guessed.
    let label_field = if fields.label == "labels" && !present("labels") && present("label") {
        "label"
    } else {
        fields.label.as_str()
    };
    let labels = match object.get(label_field).filter(|v| !v.is_null()) {
        Some(value) => json_labels(value).map_err(|reason| (label_field.to_string(), reason))?,
        None if fields.labels_required => {
            let also = if fields.label == "labels" {
                " (nor `label`)"
            } else {
                ""
            };
            return Err((
                fields.label.clone(),
                format!(
                    "missing{also}; the record has {} (set --label-field)",
                    list_keys(&object)
                ),
            ));
        }
        None => Vec::new(),
    };
    if labels.is_empty() && fields.labels_required {
        return Err((
            label_field.to_string(),
            "empty: at least one label is required".to_string(),
        ));
    }

    let id = match object.get(&fields.id) {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) | Some(Value::String(_)) => generated_id(stem, line),
        Some(other) => {
            return Err((
                fields.id.clone(),
                format!(
                    "expected a string or a number, found {}",
                    json_type_name(other)
                ),
            ))
        }
    };

    let text = match object.remove(&fields.text) {
        Some(Value::String(text)) => text,
        _ => String::new(), // checked above
    };
    object.remove(label_field);
    object.remove(&fields.id);
    let meta = object
        .into_iter()
        .filter_map(|(key, value)| match value {
            Value::String(s) => Some((key, s)),
            Value::Number(n) => Some((key, n.to_string())),
            Value::Bool(b) => Some((key, b.to_string())),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        })
        .collect();
    Ok(Document {
        id,
        text,
        labels,
        meta,
    })
}

fn json_labels(value: &Value) -> std::result::Result<Vec<String>, String> {
    let mut labels = Vec::new();
    let one = |value: &Value| match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(json_type_name(other)),
    };
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let label = one(item).map_err(|found| {
                    format!(
                        "element {} of the list is {found}, expected a string",
                        i + 1
                    )
                })?;
                push_label(&mut labels, &label)?;
            }
        }
        other => {
            let label = one(other).map_err(|found| {
                format!("expected a list of strings or a string, found {found}")
            })?;
            push_label(&mut labels, &label)?;
        }
    }
    Ok(labels)
}

/// Adds a trimmed label unless it is already there; an empty label is an error.
fn push_label(labels: &mut Vec<String>, raw: &str) -> std::result::Result<(), String> {
    let label = raw.trim();
    if label.is_empty() {
        return Err("empty label".to_string());
    }
    if !labels.iter().any(|l| l == label) {
        labels.push(label.to_string());
    }
    Ok(())
}

/// serde_json's message without its " at line 1 column N" suffix: the line is always 1 inside a
/// JSONL line, so only the column is worth keeping.
fn json_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    let mut reason = format!("invalid JSON at column {}: {message}", error.column());
    if error.is_eof() {
        reason.push_str(" (a record must fit on one line: pretty-printed JSON is not JSON Lines)");
    }
    reason
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn list_keys(object: &Map<String, Value>) -> String {
    if object.is_empty() {
        return "no other fields".to_string();
    }
    let keys: Vec<String> = object.keys().map(|k| format!("`{k}`")).collect();
    format!("fields {}", keys.join(", "))
}

fn read_csv(path: &Path, opts: &ReadOptions, report: &mut ReadReport) -> Result<Vec<Document>> {
    let path_str = display(path);
    let delimiter = if inner_extension(path).as_deref() == Some("tsv") {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(open_text(path)?);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(e, &path_str))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.is_empty() {
        return Ok(Vec::new());
    }
    let column = |name: &str| header.iter().position(|h| h == name);
    let missing_column = |name: &str, flag: &str| Error::BadRecord {
        path: path_str.clone(),
        line: 1,
        field: Some(name.to_string()),
        reason: format!(
            "no such column; the header has {} (set {flag}{})",
            header
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if delimiter == b',' && header.len() == 1 && header[0].contains('\t') {
                ", or name the file .tsv if it is tab-separated"
            } else {
                ""
            }
        ),
    };
    let text_column =
        column(&opts.text_field).ok_or_else(|| missing_column(&opts.text_field, "--text-field"))?;
    let label_column = column(&opts.label_field);
    if label_column.is_none() && opts.labels_required {
        return Err(missing_column(&opts.label_field, "--label-field"));
    }
    let id_column = column(&opts.id_field);
    let stem = file_stem(path);

    let mut docs = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.skip_or_fail(csv_error(e, &path_str), opts.skip_invalid)?;
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |i: usize| record.get(i).unwrap_or("");
        let mut labels = Vec::new();
        let mut label_error = None;
        if let Some(i) = label_column {
            let raw = cell(i);
            if !raw.trim().is_empty() {
                for piece in raw.split(opts.label_separator) {
                    if push_label(&mut labels, piece).is_err() {
                        label_error = Some(format!(
                            "empty label in `{raw}` (labels are separated by `{}`)",
                            opts.label_separator
                        ));
                        break;
                    }
                }
            }
        }
        if label_error.is_none() && labels.is_empty() && opts.labels_required {
            label_error = Some("empty: at least one label is required".to_string());
        }
        if let Some(reason) = label_error {
            let error = Error::BadRecord {
                path: path_str.clone(),
                line,
                field: Some(opts.label_field.clone()),
                reason,
            };
            report.skip_or_fail(error, opts.skip_invalid)?;
            continue;
        }
        let id = match id_column.map(cell) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => generated_id(&stem, line),
        };
        let meta = header
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != text_column && Some(*i) != label_column && Some(*i) != id_column)
            .map(|(i, name)| (name.clone(), cell(i).to_string()))
            .collect();
        docs.push(Document {
            id,
            text: cell(text_column).to_string(),
            labels,
            meta,
        });
    }
    Ok(docs)
}

fn csv_error(error: csv::Error, path: &str) -> Error {
    let line = error.position().map_or(0, |p| p.line() as usize);
    let reason = match error.kind() {
        csv::ErrorKind::Io(_) => None,
        csv::ErrorKind::Utf8 { err, .. } => Some(format!(
            "invalid UTF-8 in field {} (the file must be UTF-8)",
            err.field() + 1
        )),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Some(format!(
            "the row has {len} fields but the header has {expected_len} (an unquoted delimiter or line break in a cell?)"
        )),
        _ => Some(error.to_string()),
    };
    match reason {
        Some(reason) => Error::BadRecord {
            path: path.to_string(),
            line,
            field: None,
            reason,
        },
        None => match error.into_kind() {
            csv::ErrorKind::Io(e) => Error::io(path, e),
            other => Error::BadRecord {
                path: path.to_string(),
                line,
                field: None,
                reason: format!("{other:?}"),
            },
        },
    }
}

/// A folder per label. Reading `.txt` files that sit directly in the folder (no label) is allowed
/// when labels are not required, so a flat folder of articles can be scored.
fn read_label_folders(
    root: &Path,
    opts: &ReadOptions,
    report: &mut ReadReport,
) -> Result<Vec<Document>> {
    let mut docs = Vec::new();
    for entry in visible_entries(root)? {
        let name = file_name(&entry);
        if entry.is_dir() {
            let label = name.trim().to_string();
            for file in visible_entries(&entry)? {
                if !is_txt_file(&file) {
                    continue;
                }
                match read_utf8_file(&file) {
                    Ok(text) => docs.push(Document {
                        id: format!("{name}/{}", file_name(&file)),
                        text,
                        labels: vec![label.clone()],
                        meta: BTreeMap::new(),
                    }),
                    Err(e) => report.skip_or_fail(e, opts.skip_invalid)?,
                }
            }
        } else if !opts.labels_required && is_txt_file(&entry) {
            match read_utf8_file(&entry) {
                Ok(text) => docs.push(Document {
                    id: name,
                    text,
                    labels: Vec::new(),
                    meta: BTreeMap::new(),
                }),
                Err(e) => report.skip_or_fail(e, opts.skip_invalid)?,
            }
        }
    }
    Ok(docs)
}

fn read_txt(path: &Path) -> Result<Document> {
    let mut bytes = Vec::new();
    open_text(path)?
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(Document {
        id: file_name(path),
        text: decode_utf8(bytes, path)?,
        labels: Vec::new(),
        meta: BTreeMap::new(),
    })
}

fn read_semeval(dir: &Path, opts: &ReadOptions, report: &mut ReadReport) -> Result<Vec<Document>> {
    let labels_path = opts.labels_file.as_deref().ok_or_else(|| {
        Error::param(
            "labels_file",
            "(none)",
            "the SemEval layout needs a labels file with lines `<ID><TAB>label1,label2,...` (--labels)",
        )
    })?;
    let labels_display = display(labels_path);
    let mut on_disk = semeval_articles(dir)?;
    let mut listed: HashMap<String, usize> = HashMap::new();
    let mut docs = Vec::new();

    let mut reader = open_text(labels_path)?;
    let mut buffer = Vec::new();
    let mut line = 0;
    loop {
        buffer.clear();
        if reader
            .read_until(b'\n', &mut buffer)
            .map_err(|e| Error::io(labels_path, e))?
            == 0
        {
            break;
        }
        line += 1;
        let bad = |reason: String| Error::BadRecord {
            path: labels_display.clone(),
            line,
            field: None,
            reason,
        };
        let parsed = std::str::from_utf8(trim_line_end(&buffer))
            .map_err(|e| {
                bad(format!(
                    "invalid UTF-8 at byte {} of the line (the file must be UTF-8)",
                    e.valid_up_to() + 1
                ))
            })
            .and_then(|text| {
                let text = if line == 1 { strip_bom(text) } else { text };
                if text.trim().is_empty() {
                    return Ok(None);
                }
                let (id, labels) = parse_labels_line(text, opts.labels_required).map_err(&bad)?;
                if let Some(first) = listed.get(&id) {
                    return Err(bad(format!(
                        "article {id} is already listed on line {first}"
                    )));
                }
                listed.insert(id.clone(), line);
                let file = on_disk.remove(&id).ok_or_else(|| {
                    bad(format!(
                        "article {id}: no file {}",
                        display(&dir.join(format!("article{id}.txt")))
                    ))
                })?;
                Ok(Some((id, labels, file)))
            });
        let (id, labels, file) = match parsed {
            Ok(Some(entry)) => entry,
            Ok(None) => continue,
            Err(e) => {
                report.skip_or_fail(e, opts.skip_invalid)?;
                continue;
            }
        };
        match read_utf8_file(&file) {
            Ok(text) => docs.push(semeval_document(id, text, labels)),
            Err(e) => report.skip_or_fail(e, opts.skip_invalid)?,
        }
    }

    // Articles the labels file does not mention: unlabelled data for training is useless but not
    // wrong (the labels file may be a subset), so they are counted rather than failing the read.
    for (id, file) in on_disk {
        if opts.labels_required {
            report.skip(format!(
                "{}: article {id} has no line in the labels file {labels_display}; skipped",
                display(&file)
            ));
        } else {
            match read_utf8_file(&file) {
                Ok(text) => docs.push(semeval_document(id, text, Vec::new())),
                Err(e) => report.skip_or_fail(e, opts.skip_invalid)?,
            }
        }
    }
    Ok(docs)
}

fn semeval_document(id: String, text: String, labels: Vec<String>) -> Document {
    let mut meta = BTreeMap::new();
    let title = text.lines().next().unwrap_or("").trim();
    if !title.is_empty() {
        meta.insert("title".to_string(), title.to_string());
    }
    Document {
        id,
        text,
        labels,
        meta,
    }
}

/// `<ID><TAB>label1,label2,...` → (ID, labels). A line with only an ID has no labels.
fn parse_labels_line(
    line: &str,
    labels_required: bool,
) -> std::result::Result<(String, Vec<String>), String> {
    const EXPECTED: &str = "expected `<ID><TAB>label1,label2,...`";
    let columns: Vec<&str> = line.split('\t').collect();
    if columns.len() > 2 {
        return Err(format!(
            "{EXPECTED}, found {} tab-separated columns",
            columns.len()
        ));
    }
    let id = columns[0].trim();
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(format!("{EXPECTED}, found `{line}`"));
    }
    let raw = columns.get(1).map_or("", |c| c.trim());
    let mut labels = Vec::new();
    if !raw.is_empty() {
        for piece in raw.split(',') {
            push_label(&mut labels, piece)
                .map_err(|_| format!("empty label in `{raw}` (labels are separated by `,`)"))?;
        }
    }
    if labels.is_empty() && labels_required {
        return Err(format!("article {id} has no labels"));
    }
    Ok((id.to_string(), labels))
}

/// `article<ID>.txt` files of `dir`, by ID.
fn semeval_articles(dir: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let mut articles = BTreeMap::new();
    for path in visible_entries(dir)? {
        if let Some(id) = semeval_id(&path) {
            if path.is_file() {
                articles.insert(id, path);
            }
        }
    }
    Ok(articles)
}

fn semeval_id(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let id = name.strip_prefix("article")?.strip_suffix(".txt")?;
    (!id.is_empty()).then(|| id.to_string())
}

fn resolve_format(path: &Path, is_dir: bool, opts: &ReadOptions) -> Result<InputFormat> {
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
        return Err(Error::param(
            "format",
            format,
            format!(
                "this format reads a folder, but {} is a file",
                display(path)
            ),
        ));
    }
    if !needs_dir && is_dir {
        return Err(Error::param(
            "format",
            format,
            format!(
                "this format reads one file, but {} is a folder (use dir or semeval)",
                display(path)
            ),
        ));
    }
    if format == InputFormat::Txt && opts.labels_required {
        return Err(Error::param(
            "format",
            format,
            format!(
                "{} is one .txt document and carries no labels, but labels are needed here \
                 (training, evaluation); give labelled data: JSONL, CSV, a folder per label or \
                 the SemEval layout",
                display(path)
            ),
        ));
    }
    if let Some(labels_file) = &opts.labels_file {
        if format != InputFormat::Semeval {
            return Err(Error::param(
                "labels_file",
                display(labels_file),
                format!(
                    "a labels file is only used by the SemEval layout (a folder of article<ID>.txt \
                     files), but {} is read as {format}",
                    display(path)
                ),
            ));
        }
    }
    Ok(format)
}

fn undetectable_format(path: &Path) -> Error {
    Error::param(
        "format",
        InputFormat::Auto,
        format!(
            "cannot tell the format of {} from its name (known: .jsonl, .json, .ndjson, .csv, \
             .tsv, each optionally .gz, .txt, or a folder); name the format explicitly",
            display(path)
        ),
    )
}

fn no_documents_hint(
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
fn visible_entries(dir: &Path) -> Result<Vec<PathBuf>> {
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

fn is_txt_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
        && path.is_file()
}

fn read_utf8_file(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_utf8(bytes, path)
}

/// Whole-file UTF-8 decoding; the error names the line of the first invalid byte.
fn decode_utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
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

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// The lower-cased extension under an optional `.gz`: `a.JSONL.gz` → `jsonl`.
fn inner_extension(path: &Path) -> Option<String> {
    let inner = if is_gzip(path) {
        Path::new(path.file_stem()?)
    } else {
        path
    };
    Some(inner.extension()?.to_string_lossy().to_ascii_lowercase())
}

/// The file name without `.gz` and without its extension: `data/train.jsonl.gz` → `train`.
fn file_stem(path: &Path) -> String {
    let inner = if is_gzip(path) {
        path.file_stem().map(Path::new).unwrap_or(path)
    } else {
        path
    };
    inner
        .file_stem()
        .map_or_else(|| display(path), |s| s.to_string_lossy().into_owned())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| display(path), |s| s.to_string_lossy().into_owned())
}

fn generated_id(stem: &str, line: usize) -> String {
    format!("{stem}:{line}")
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes `i % 251` for i below `len`, then an error if `fail`, else the end.
    struct Source {
        at: usize,
        len: usize,
        fail: bool,
    }

    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.len {
                return if self.fail {
                    Err(std::io::Error::other("broken at the end"))
                } else {
                    Ok(0)
                };
            }
            // Odd-sized reads, as a decoder gives.
            let n = buf.len().min(self.len - self.at).min(70_001);
            for (k, b) in buf[..n].iter_mut().enumerate() {
                *b = ((self.at + k) % 251) as u8;
            }
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn read_ahead_gives_every_byte_in_order_then_the_error() {
        for (len, fail) in [
            (0, false),
            (5, false),
            (BUFFER_CAPACITY, false),
            (3 * BUFFER_CAPACITY + 17, false),
            (0, true),
            (2 * BUFFER_CAPACITY + 3, true),
            (9 * BUFFER_CAPACITY, true),
        ] {
            let mut reader = ReadAhead::spawn(Source { at: 0, len, fail });
            let mut got = Vec::new();
            let result = reader.read_to_end(&mut got);
            assert_eq!(got.len(), len, "{len} {fail}");
            assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
            assert_eq!(result.is_err(), fail, "{len} {fail}");
        }
        // A reader dropped early: the thread must not keep it waiting (this would hang).
        let mut reader = ReadAhead::spawn(Source {
            at: 0,
            len: 20 * BUFFER_CAPACITY,
            fail: false,
        });
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).unwrap();
        drop(reader);
    }

    fn jsonl(input: &str, opts: &ReadOptions) -> Vec<Result<Document>> {
        JsonlReader::new(input.as_bytes(), "mem/test.jsonl", opts).collect()
    }

    fn one(input: &str, opts: &ReadOptions) -> Result<Document> {
        let mut all = jsonl(input, opts);
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    fn scoring() -> ReadOptions {
        ReadOptions {
            labels_required: false,
            ..ReadOptions::default()
        }
    }

    #[test]
    fn input_format_parses_every_name_and_lists_choices_on_error() {
        for format in InputFormat::ALL {
            assert_eq!(format.name().parse::<InputFormat>().unwrap(), format);
        }
        assert_eq!(
            " JSONL ".parse::<InputFormat>().unwrap(),
            InputFormat::Jsonl
        );
        let message = "xml".parse::<InputFormat>().unwrap_err().to_string();
        assert!(message.contains("xml"), "{message}");
        assert!(
            message.contains("auto, jsonl, csv, dir, txt, semeval"),
            "{message}"
        );
    }

    #[test]
    fn read_options_defaults() {
        let o = ReadOptions::default();
        assert_eq!(o.format, InputFormat::Auto);
        assert_eq!(
            (
                o.text_field.as_str(),
                o.label_field.as_str(),
                o.id_field.as_str()
            ),
            ("text", "labels", "id")
        );
        assert!(o.labels_required && !o.skip_invalid && o.labels_file.is_none());
        assert_eq!(o.label_separator, '|');
    }

    #[test]
    fn detect_format_from_extensions() {
        let cases = [
            ("a.jsonl", InputFormat::Jsonl),
            ("a.json", InputFormat::Jsonl),
            ("a.NDJSON.gz", InputFormat::Jsonl),
            ("a.csv", InputFormat::Csv),
            ("a.tsv.gz", InputFormat::Csv),
            ("a.txt", InputFormat::Txt),
            ("a.parquet", InputFormat::Auto),
            ("a.gz", InputFormat::Auto),
            ("noext", InputFormat::Auto),
        ];
        for (name, expected) in cases {
            assert_eq!(detect_format(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn jsonl_record_with_every_kind_of_field() {
        let doc = one(
            r#"{"id": 7, "text": "Resistance axis", "labels": [" war ", "war", "politics"], "source": "PressTV", "year": 2024, "paywall": false, "tags": ["x"], "n": null}"#,
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(doc.id, "7");
        assert_eq!(doc.text, "Resistance axis");
        assert_eq!(doc.labels, ["war", "politics"]);
        let meta: Vec<(&str, &str)> = doc
            .meta
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            meta,
            [
                ("paywall", "false"),
                ("source", "PressTV"),
                ("year", "2024")
            ]
        );
    }

    #[test]
    fn jsonl_missing_id_is_stem_and_line_and_blank_lines_are_skipped() {
        let docs = jsonl(
            "\n{\"text\": \"a\", \"labels\": \"x\"}\n   \r\n{\"text\": \"b\", \"labels\": \"y\", \"id\": \"\"}\n",
            &ReadOptions::default(),
        );
        let ids: Vec<String> = docs.into_iter().map(|d| d.unwrap().id).collect();
        assert_eq!(ids, ["test:2", "test:4"]);
    }

    #[test]
    fn jsonl_label_string_fallback_only_with_default_field() {
        let line = r#"{"text": "a", "label": "economy"}"#;
        let doc = one(line, &ReadOptions::default()).unwrap();
        assert_eq!(doc.labels, ["economy"]);
        assert!(!doc.meta.contains_key("label"));
        let renamed = ReadOptions {
            label_field: "frame".into(),
            ..ReadOptions::default()
        };
        let err = one(line, &renamed).unwrap_err().to_string();
        assert!(err.contains("field `frame`: missing"), "{err}");
        // The list names every field of the record, the text included.
        assert!(err.contains("fields `label`, `text`"), "{err}");
    }

    #[test]
    fn jsonl_text_errors_name_the_field_and_line() {
        let err = one(r#"{"body": "a", "labels": ["x"]}"#, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mem/test.jsonl:1: field `text`: missing"),
            "{err}"
        );
        assert!(err.contains("`body`"), "{err}");
        let err = one(r#"{"text": 3, "labels": ["x"]}"#, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `text`: expected a string, found a number"),
            "{err}"
        );
    }

    #[test]
    fn jsonl_label_rules() {
        let opts = ReadOptions::default();
        let cases = [
            (r#"{"text": "a"}"#, "field `labels`: missing"),
            (r#"{"text": "a", "labels": []}"#, "field `labels`: empty"),
            (r#"{"text": "a", "labels": ["x", " "]}"#, "empty label"),
            (
                r#"{"text": "a", "labels": [{"x": 1}]}"#,
                "element 1 of the list is an object",
            ),
            (r#"{"text": "a", "labels": true}"#, "found a boolean"),
            (
                r#"{"text": "a", "labels": ["x"], "id": [1]}"#,
                "field `id`: expected a string or a number",
            ),
        ];
        for (line, expected) in cases {
            let err = one(line, &opts).unwrap_err().to_string();
            assert!(err.contains(expected), "{line}: {err}");
        }
        assert_eq!(
            one(r#"{"text": "a", "labels": [3, "3"]}"#, &opts)
                .unwrap()
                .labels,
            ["3"]
        );
    }

    #[test]
    fn jsonl_labels_optional_when_scoring() {
        let doc = one(r#"{"text": "a"}"#, &scoring()).unwrap();
        assert!(doc.labels.is_empty());
        let doc = one(r#"{"text": "a", "labels": []}"#, &scoring()).unwrap();
        assert!(doc.labels.is_empty());
    }

    #[test]
    fn jsonl_malformed_and_non_object_lines() {
        let docs = jsonl(
            "{\"text\": \"a\", \"labels\": \"x\"}\n{\"text\": \"b\",\n[1, 2]\n",
            &ReadOptions::default(),
        );
        assert!(docs[0].is_ok());
        let err = docs[1].as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with("mem/test.jsonl:2: invalid JSON at column"),
            "{err}"
        );
        assert!(!err.contains("at line 1"), "{err}");
        assert!(err.contains("one line"), "{err}");
        let err = docs[2].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("mem/test.jsonl:3: expected a JSON object, found a list"),
            "{err}"
        );
    }

    #[test]
    fn jsonl_array_file_gets_a_conversion_hint() {
        let err = one(r#"[{"text": "a", "labels": "x"}]"#, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("jq -c"), "{err}");
    }

    #[test]
    fn jsonl_invalid_utf8_is_a_bad_record_and_reading_resumes() {
        let mut input = b"{\"text\": \"a\", \"labels\": \"x\"}\n{\"text\": \"caf".to_vec();
        input.extend_from_slice(&[0xe9, b'"', b'}', b'\n']);
        input.extend_from_slice(b"{\"text\": \"c\", \"labels\": \"x\"}\n");
        let docs: Vec<_> = JsonlReader::new(&input[..], "in.jsonl", &scoring()).collect();
        assert_eq!(docs.len(), 3);
        let err = docs[1].as_ref().unwrap_err().to_string();
        assert_eq!(
            err,
            "in.jsonl:2: invalid UTF-8 at byte 14 of the line (the file must be UTF-8)"
        );
        assert_eq!(docs[2].as_ref().unwrap().text, "c");
    }

    #[test]
    fn jsonl_reader_skips_and_counts_when_asked() {
        let opts = ReadOptions {
            skip_invalid: true,
            ..ReadOptions::default()
        };
        let input = (0..8)
            .map(|i| {
                if i % 4 == 0 {
                    format!("{{\"text\": \"ok{i}\", \"labels\": \"x\"}}")
                } else {
                    "{bad".to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut reader = JsonlReader::new(input.as_bytes(), "s.jsonl", &opts);
        let docs: Vec<Document> = reader.by_ref().map(|d| d.unwrap()).collect();
        assert_eq!(docs.len(), 2);
        let report = reader.into_report();
        assert_eq!((report.documents, report.skipped), (2, 6));
        assert_eq!(report.skipped_examples.len(), 5);
        assert!(report.skipped_examples[0].starts_with("s.jsonl:2: invalid JSON"));
    }

    #[test]
    fn jsonl_bom_on_first_line_is_ignored() {
        let doc = one(
            "\u{feff}{\"text\": \"a\", \"labels\": \"x\"}",
            &ReadOptions::default(),
        );
        assert_eq!(doc.unwrap().text, "a");
    }

    #[test]
    fn jsonl_io_error_ends_the_stream() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let opts = ReadOptions {
            skip_invalid: true,
            ..ReadOptions::default()
        };
        let mut reader = JsonlReader::new(BufReader::new(Failing), "f.jsonl", &opts);
        assert!(matches!(reader.next(), Some(Err(Error::Io { .. }))));
        assert!(reader.next().is_none());
    }

    #[test]
    fn labels_line_rules() {
        assert_eq!(
            parse_labels_line("111\t Economic, Political ,Economic", true).unwrap(),
            (
                "111".to_string(),
                vec!["Economic".to_string(), "Political".to_string()]
            )
        );
        assert_eq!(
            parse_labels_line("112", false).unwrap().1,
            Vec::<String>::new()
        );
        assert_eq!(
            parse_labels_line("112\t", false).unwrap().1,
            Vec::<String>::new()
        );
        assert!(parse_labels_line("112\t", true)
            .unwrap_err()
            .contains("no labels"));
        assert!(parse_labels_line("1 2\tA", true)
            .unwrap_err()
            .contains("expected"));
        assert!(parse_labels_line("1\tA\tB", true)
            .unwrap_err()
            .contains("3 tab-separated"));
        assert!(parse_labels_line("1\tA,,B", true)
            .unwrap_err()
            .contains("empty label"));
    }

    #[test]
    fn decode_utf8_reports_line_of_first_invalid_byte() {
        let err = decode_utf8(b"one\ntwo\nth\xffree".to_vec(), Path::new("x.txt"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x.txt:3: invalid UTF-8 at byte 3 of the line (the file must be UTF-8)"
        );
        assert_eq!(
            decode_utf8(b"\xef\xbb\xbfhi".to_vec(), Path::new("x")).unwrap(),
            "hi"
        );
    }

    #[test]
    fn file_stem_strips_gz_and_extension() {
        assert_eq!(file_stem(Path::new("d/train.jsonl.gz")), "train");
        assert_eq!(file_stem(Path::new("d/train.jsonl")), "train");
        assert_eq!(file_stem(Path::new("<stdin>")), "<stdin>");
    }
}
