//! JSON Lines, plain or gzip'd (decompressed on a thread of its own), streamed record by record.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde_json::{Map, Value};

use super::*;
use crate::error::{Error, Result};

/// Opens a file for buffered reading (1 MiB buffer), transparently decompressing it when its name
/// ends in `.gz` (concatenated gzip members included), on a thread of its own that stays a few
/// blocks ahead of the reader: decompressing costs about as much as parsing, so both run at once. Decompression errors surface as [`Error::Io`] while reading.
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
pub(super) struct ReadAhead {
    blocks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    const BLOCKS: usize = 4;

    pub(super) fn spawn(mut source: impl Read + Send + 'static) -> ReadAhead {
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
pub(super) struct RecordFields {
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
pub(super) type FieldError = (String, String);

pub(super) fn json_document(
    mut object: Map<String, Value>,
    fields: &RecordFields,
    stem: &str,
    line: usize,
) -> std::result::Result<Document, FieldError> {
    // Everything is validated on the intact object (so error messages list all its fields), then
    // the text is moved out rather than copied.
    match object.get(&fields.text) {
        // An empty text teaches and tests nothing; scoring still accepts it (and flags it).
        Some(Value::String(t)) if fields.labels_required && t.trim().is_empty() => {
            return Err((
                fields.text.clone(),
                "empty: a labelled document needs text".to_string(),
            ))
        }
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

pub(super) fn json_labels(value: &Value) -> std::result::Result<Vec<String>, String> {
    let mut labels = Vec::new();
    // Labels are strings: a number is refused rather than silently turned into one (write "5").
    let one = |value: &Value| match value {
        Value::String(s) => Ok(s.clone()),
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
pub(super) fn push_label(labels: &mut Vec<String>, raw: &str) -> std::result::Result<(), String> {
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
pub(super) fn json_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    let mut reason = format!("invalid JSON at column {}: {message}", error.column());
    if error.is_eof() {
        reason.push_str(" (a record must fit on one line: pretty-printed JSON is not JSON Lines)");
    }
    reason
}

pub(super) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(super) fn list_keys(object: &Map<String, Value>) -> String {
    if object.is_empty() {
        return "no other fields".to_string();
    }
    let keys: Vec<String> = object.keys().map(|k| format!("`{k}`")).collect();
    format!("fields {}", keys.join(", "))
}
