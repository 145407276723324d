//! Reading a LEAP2A export — a zip holding `leap2a.xml` (or `leap.xml`, `leap2.xml`) and its
//! files, or the same unpacked in a folder — into what the importer writes. Everything is read
//! and checked before anything is written; a hostile archive is refused whole, naming the entry
//! (and for the feed, the line and column): names that leave the folder (`..`, absolute paths,
//! drive letters, backslashes), links, encrypted entries, duplicates, entries too large or
//! compressed beyond a sane ratio (zip bombs), too many entries, a feed that is not well-formed
//! XML or has a DTD.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::files::{Folder, Refused, read_regular};
use super::import::MAX_EVIDENCE_BYTES;
use crate::domain::leap2a;
use crate::domain::sanitize::sanitize_line;

/// The names an exporter gives the feed.
pub const FEED_NAMES: &[&str] = &["leap2a.xml", "leap2.xml", "leap.xml"];
/// Largest export archive read.
pub const MAX_ARCHIVE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Most bytes an archive may unpack to in all.
pub const MAX_UNPACKED_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Largest feed read.
pub const MAX_FEED_BYTES: u64 = 64 * 1024 * 1024;
/// Most entries an archive may hold.
pub const MAX_ENTRIES: usize = 20_000;
/// Highest ratio of unpacked to packed size for an entry of more than 1 MiB.
pub const MAX_RATIO: u64 = 200;

/// Whether `path` is a LEAP2A export assay should read: a `.zip` file, or a folder holding a
/// feed (and no `portfolio.yaml`).
pub fn is_export(path: &Path) -> bool {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return false,
    };
    if meta.is_file() {
        return path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    }
    meta.is_dir()
        && !path.join("portfolio.yaml").exists()
        && FEED_NAMES.iter().any(|n| path.join(n).is_file())
}

/// The export's files, by path relative to the feed's folder.
pub enum Files {
    Zip(HashMap<String, Vec<u8>>),
    Folder(Folder),
}

/// A LEAP2A export read and converted.
pub struct Export {
    /// The export's path, for messages.
    pub name: String,
    pub conversion: leap2a::Conversion,
    files: Files,
}

impl Export {
    /// The bytes of `rel` (a path the manifest names): written by the conversion, or the
    /// export's own.
    pub fn read(&self, rel: &str) -> Result<Vec<u8>, String> {
        if let Some((_, b)) = self.conversion.written.iter().find(|(p, _)| p == rel) {
            return Ok(b.clone());
        }
        match &self.files {
            Files::Zip(m) => m
                .get(rel)
                .cloned()
                .ok_or_else(|| format!("the export holds no file `{}`", sanitize_line(rel))),
            Files::Folder(f) => f.read(rel, MAX_EVIDENCE_BYTES).map_err(|r| match r {
                Refused::Outside => format!(
                    "`{}` is a symbolic link (or passes through one) out of the export's folder",
                    sanitize_line(rel)
                ),
                Refused::NotRegular(what) => {
                    format!("`{}` is {what}, not a regular file", sanitize_line(rel))
                }
                Refused::TooLarge(n) => format!(
                    "`{}` is {n} bytes; evidence files are limited to {} MiB",
                    sanitize_line(rel),
                    MAX_EVIDENCE_BYTES / (1024 * 1024)
                ),
                Refused::Missing => format!("the export holds no file `{}`", sanitize_line(rel)),
                Refused::Io(e) => format!("`{}` cannot be read: {e}", sanitize_line(rel)),
            }),
        }
    }
}

/// Why an entry name may not be unpacked, if it may not.
fn bad_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("has no name");
    }
    if name.contains('\\') {
        return Some("has a backslash in its name (a Windows path that could leave the folder)");
    }
    if name.starts_with('/') {
        return Some("is an absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("starts with a drive letter");
    }
    if name.split('/').any(|c| c == "..") {
        return Some("has `..` in its path: it would leave the folder");
    }
    if name.chars().any(crate::domain::sanitize::is_forbidden_char) {
        return Some("has control characters in its name");
    }
    None
}

/// The number of entries a zip archive's end-of-central-directory record says it holds
/// (`None` when it cannot be read or is a ZIP64 archive's placeholder).
fn directory_count(bytes: &[u8]) -> Option<usize> {
    let tail_from = bytes.len().saturating_sub(22 + 65_535);
    let tail = &bytes[tail_from..];
    let at = memchr::memmem::rfind(tail, b"PK\x05\x06")?;
    let rec = tail.get(at..at + 22)?;
    let total = u16::from_le_bytes([rec[10], rec[11]]);
    (total != 0xFFFF).then_some(total as usize)
}

/// Unpacks a zip archive into memory, refusing it whole at its first bad entry.
fn unzip(name: &str, bytes: &[u8]) -> Result<HashMap<String, Vec<u8>>, String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("{name}: not a zip archive that can be read: {e}"))?;
    if z.len() > MAX_ENTRIES {
        return Err(format!(
            "{name}: the archive holds {} entries; at most {MAX_ENTRIES} are read",
            z.len()
        ));
    }
    // (the zip reader keeps one entry of each name: the directory's own count says whether
    // the archive held two of one name, which would make what is imported depend on the reader)
    if let Some(n) = directory_count(bytes)
        && n != z.len()
    {
        return Err(format!(
            "{name}: the archive lists {n} entries but only {} different names: an entry is in it twice; the archive is refused",
            z.len()
        ));
    }
    let mut out: HashMap<String, Vec<u8>> = HashMap::new();
    let mut total: u64 = 0;
    for i in 0..z.len() {
        let mut f = z
            .by_index(i)
            .map_err(|e| format!("{name}: entry {} cannot be read: {e}", i + 1))?;
        let entry = f
            .name()
            .map_err(|e| {
                format!(
                    "{name}: entry {} has a name that cannot be read: {e}",
                    i + 1
                )
            })?
            .to_string();
        let shown = sanitize_line(&entry);
        if let Some(why) = bad_name(&entry) {
            return Err(format!(
                "{name}: entry `{shown}` {why}; the archive is refused"
            ));
        }
        if f.is_symlink() {
            return Err(format!(
                "{name}: entry `{shown}` is a symbolic link; an export holds files only, and links are never followed"
            ));
        }
        if f.encrypted() {
            return Err(format!(
                "{name}: entry `{shown}` is encrypted; export without a password"
            ));
        }
        if f.is_dir() {
            continue;
        }
        let size = f.size();
        if size > MAX_EVIDENCE_BYTES {
            return Err(format!(
                "{name}: entry `{shown}` unpacks to {size} bytes; files are limited to {} MiB",
                MAX_EVIDENCE_BYTES / (1024 * 1024)
            ));
        }
        let packed = f.compressed_size().max(1);
        if size > 1024 * 1024 && size / packed > MAX_RATIO {
            return Err(format!(
                "{name}: entry `{shown}` unpacks {size} bytes from {packed}, a ratio over {MAX_RATIO}:1 (a zip bomb); the archive is refused"
            ));
        }
        total += size;
        if total > MAX_UNPACKED_BYTES {
            return Err(format!(
                "{name}: the archive unpacks to more than {} GiB; the archive is refused",
                MAX_UNPACKED_BYTES >> 30
            ));
        }
        // (the sizes a zip declares can lie: never read more than declared)
        let mut data = Vec::with_capacity(size.min(64 * 1024 * 1024) as usize);
        (&mut f)
            .take(size + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("{name}: entry `{shown}` cannot be unpacked: {e}"))?;
        if data.len() as u64 != size {
            return Err(format!(
                "{name}: entry `{shown}` holds other than the {size} bytes it declares; the archive is damaged"
            ));
        }
        let key = entry.trim_start_matches("./").to_string();
        if out.insert(key, data).is_some() {
            return Err(format!(
                "{name}: entry `{shown}` is in the archive twice; the archive is refused"
            ));
        }
    }
    Ok(out)
}

/// Finds the feed among the archive's files: at the top, or in the one folder at the top.
fn feed_in_zip(name: &str, files: &HashMap<String, Vec<u8>>) -> Result<(String, String), String> {
    let mut found: Vec<(String, String)> = files
        .keys()
        .filter_map(|k| {
            let (dir, file) = match k.rsplit_once('/') {
                Some((d, f)) => (format!("{d}/"), f),
                None => (String::new(), k.as_str()),
            };
            (FEED_NAMES.contains(&file) && dir.matches('/').count() <= 1).then(|| (dir, k.clone()))
        })
        .collect();
    found.sort();
    match found.len() {
        0 => Err(format!(
            "{name}: the archive holds no LEAP2A feed ({}): is it an e-portfolio export?",
            FEED_NAMES.join(", ")
        )),
        1 => Ok(found.remove(0)),
        _ => Err(format!(
            "{name}: the archive holds {} feeds ({}); export one portfolio at a time",
            found.len(),
            found
                .iter()
                .map(|f| sanitize_line(&f.1))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Reads and converts the LEAP2A export at `path`. Errors are the lines to show.
pub fn read(path: &Path, opts: &leap2a::Options) -> Result<Export, Vec<String>> {
    let name = path.display().to_string();
    let one = |m: String| vec![m];
    let (feed_name, feed_bytes, files) = if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        let folder = Folder::open(path).map_err(|e| one(format!("{name}: {e}")))?;
        let feed = FEED_NAMES
            .iter()
            .find(|n| folder.kind(n) == super::files::Kind::File)
            .ok_or_else(|| {
                // (a feed that is there but is no regular file says what it is)
                let what = FEED_NAMES.iter().find_map(|n| match folder.kind(n) {
                    super::files::Kind::Symlink => Some(format!(
                        "{n} is a symbolic link; put the feed itself in the folder"
                    )),
                    super::files::Kind::Dir => Some(format!("{n} is a folder, not the feed")),
                    super::files::Kind::Special(w) => Some(format!("{n} is {w}, not the feed")),
                    _ => None,
                });
                one(format!(
                    "{name}: {}",
                    what.unwrap_or_else(|| {
                        "the folder holds no LEAP2A feed (leap2a.xml, leap2.xml or leap.xml)".into()
                    })
                ))
            })?;
        let bytes = folder.read(feed, MAX_FEED_BYTES).map_err(|r| {
            one(format!(
                "{}: cannot be read as the feed: {}",
                path.join(feed).display(),
                match r {
                    Refused::TooLarge(n) => format!("it is {n} bytes"),
                    Refused::Outside => "a link out of the folder".into(),
                    Refused::NotRegular(w) => format!("it is {w}"),
                    Refused::Missing => "missing".into(),
                    Refused::Io(e) => e,
                }
            ))
        })?;
        (
            path.join(feed).display().to_string(),
            bytes,
            Files::Folder(folder),
        )
    } else {
        let bytes =
            read_regular(path, MAX_ARCHIVE_BYTES).map_err(|e| one(format!("{name}: {e}")))?;
        let mut all = unzip(&name, &bytes).map_err(one)?;
        let (dir, feed) = feed_in_zip(&name, &all).map_err(one)?;
        let feed_bytes = all.remove(&feed).unwrap_or_default();
        if feed_bytes.len() as u64 > MAX_FEED_BYTES {
            return Err(one(format!(
                "{name}: {feed} is {} bytes; a feed is limited to {} MiB",
                feed_bytes.len(),
                MAX_FEED_BYTES >> 20
            )));
        }
        // paths relative to the feed's folder
        let files: HashMap<String, Vec<u8>> = all
            .into_iter()
            .filter_map(|(k, v)| k.strip_prefix(&dir).map(|r| (r.to_string(), v)))
            .collect();
        (format!("{name}: {feed}"), feed_bytes, Files::Zip(files))
    };
    let text = std::str::from_utf8(&feed_bytes).map_err(|e| {
        let at = leap2a::position(&feed_bytes, e.valid_up_to());
        one(format!(
            "{feed_name}:{at}: error: the feed is not UTF-8 text (byte {}); LEAP2A feeds are UTF-8",
            e.valid_up_to() + 1
        ))
    })?;
    let feed = leap2a::parse(text).map_err(|e| one(format!("{feed_name}:{e}")))?;
    let exists = |rel: &str| match &files {
        Files::Zip(m) => m.contains_key(rel),
        Files::Folder(f) => f.kind(rel) != super::files::Kind::Missing,
    };
    let conversion =
        leap2a::convert(&feed, opts, &exists).map_err(|e| one(format!("{feed_name}:{e}")))?;
    Ok(Export {
        name,
        conversion,
        files,
    })
}
