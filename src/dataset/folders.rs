//! Folder layouts: a folder per label, single `.txt` articles, and the SemEval-2023 Task 3 layout
//! (one `article<ID>.txt` per article and a labels file).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use super::*;
use crate::error::{Error, Result};

pub(super) fn read_label_folders(
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
                if file.is_dir() {
                    // Its files would be left out without a word: say so instead.
                    return Err(Error::FormatMismatch {
                        format: "dir".to_string(),
                        reason: format!(
                            "{} is a folder inside the label folder `{name}`; a label folder holds \
                             .txt files only (move the files up into it)",
                            file.display()
                        ),
                    });
                }
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

pub(super) fn read_txt(path: &Path) -> Result<Document> {
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

pub(super) fn read_semeval(
    dir: &Path,
    opts: &ReadOptions,
    report: &mut ReadReport,
) -> Result<Vec<Document>> {
    let labels_path = opts.labels_file.as_deref().ok_or_else(|| {
        Error::LabelsFileMismatch {
            path: "(none)".into(),
            reason: "the SemEval layout needs a labels file with lines `<ID><TAB>label1,label2,...` (--labels)".into(),
        }
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

pub(super) fn semeval_document(id: String, text: String, labels: Vec<String>) -> Document {
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
pub(super) fn parse_labels_line(
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
pub(super) fn semeval_articles(dir: &Path) -> Result<BTreeMap<String, PathBuf>> {
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

pub(super) fn semeval_id(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let id = name.strip_prefix("article")?.strip_suffix(".txt")?;
    (!id.is_empty()).then(|| id.to_string())
}
