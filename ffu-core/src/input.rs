//! Reading input documents with a bound: the one place where ffu reads a file's text.
//!
//! A file's reported length cannot be trusted for a bound: `/dev/zero`, `/dev/urandom`, a
//! pipe and stdin all report 0 and never end (or end late). So every read stops at
//! [`MAX_DOCUMENT_BYTES`] and says so, in bounded memory. Files that a document only
//! *names* (an `include:` target, a script of an alembic history) must be regular files:
//! a FIFO without a writer would block the read forever, and a device has no end.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest document ffu reads (a 94,000-migration catalog is about 13 MB of JSON).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024 * 1024;

/// Reads the UTF-8 text of the file at `path`, whatever kind of file it is (a pipe such as
/// `/dev/stdin` included), stopping at [`MAX_DOCUMENT_BYTES`].
///
/// # Errors
/// [`Error::Io`] when it cannot be opened or read; [`Error::Parse`] when it is longer than
/// the limit or not UTF-8.
pub fn read_document(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    // A regular file's length sizes the buffer at once; a pipe or device says 0.
    let length = file.metadata().map_or(0, |m| m.len());
    if length > MAX_DOCUMENT_BYTES as u64 {
        // Said without reading it.
        return Err(Error::Parse {
            file: path.display().to_string(),
            location: None,
            message: format!("file is {length} bytes, more than the limit of {MAX_DOCUMENT_BYTES}"),
            source: None,
        });
    }
    read_capped(file, length as usize, path)
}

/// Reads the UTF-8 text of `reader` (stdin, say), stopping at [`MAX_DOCUMENT_BYTES`];
/// `name` names it in errors.
///
/// # Errors
/// As [`read_document`].
pub fn read_document_from(reader: impl Read, name: &Path) -> Result<String> {
    read_capped(reader, 0, name)
}

/// Reads at most one byte more than the limit, into a buffer that never holds more than
/// that: the buffer grows in stages (the first sized by `hint`), each read bounded by the
/// room left, so that `read_to_end` never doubles it past the limit itself.
fn read_capped(mut reader: impl Read, hint: usize, name: &Path) -> Result<String> {
    let cap = MAX_DOCUMENT_BYTES + 1;
    let io = |source| Error::Io {
        path: name.to_owned(),
        source,
    };
    let mut bytes: Vec<u8> = Vec::new();
    let mut stage = hint.saturating_add(1).clamp(8 * 1024, cap);
    loop {
        bytes.reserve_exact(stage - bytes.len());
        let room = (stage - bytes.len()) as u64;
        let read = (&mut reader)
            .take(room)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if (read as u64) < room || bytes.len() >= cap {
            break;
        }
        stage = (stage * 2).min(cap);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::Parse {
            file: name.display().to_string(),
            location: None,
            message: format!(
                "more than {} MiB: larger than any document ffu reads (stopped reading there)",
                MAX_DOCUMENT_BYTES >> 20
            ),
            source: None,
        });
    }
    String::from_utf8(bytes).map_err(|err| Error::Parse {
        file: name.display().to_string(),
        location: None,
        message: format!(
            "not UTF-8 text (invalid byte at offset {})",
            err.utf8_error().valid_up_to()
        ),
        // The `Utf8Error`, not the `FromUtf8Error`: that one holds all the bytes read.
        source: Some(Box::new(err.utf8_error())),
    })
}

/// [`read_document`] for a file that another document names (`what`: "included file",
/// "alembic script"): it must be a regular file (links followed), never a FIFO, device,
/// socket or directory.
///
/// # Errors
/// As [`read_document`]; [`Error::Parse`] for a file that is not a regular file.
pub(crate) fn read_named_document(path: &Path, what: &str) -> Result<String> {
    let metadata = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if !metadata.is_file() {
        return Err(Error::Parse {
            file: path.display().to_string(),
            location: None,
            message: format!(
                "not a regular file ({}): an {what} must be one",
                file_kind(metadata.file_type())
            ),
            source: None,
        });
    }
    read_document(path)
}

/// What kind of file it is, in words.
#[cfg(unix)]
fn file_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

/// What kind of file it is, in words.
#[cfg(not(unix))]
fn file_kind(kind: std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

/// The `.py` files under `dir`, as path components relative to it, in directory order:
/// hidden entries and `__pycache__` are passed over, and so is any directory or file whose
/// name `skip` refuses (such as `tests`, or `__init__.py`).
pub(crate) fn python_files(dir: &Path, skip: &dyn Fn(&str) -> bool) -> Result<Vec<Vec<String>>> {
    let mut files = Vec::new();
    walk_python(dir, &mut Vec::new(), skip, &mut files)?;
    Ok(files)
}

fn walk_python(
    dir: &Path,
    prefix: &mut Vec<String>,
    skip: &dyn Fn(&str) -> bool,
    out: &mut Vec<Vec<String>>,
) -> Result<()> {
    let here = prefix
        .iter()
        .fold(dir.to_path_buf(), |path, part| path.join(part));
    let io = |source| Error::Io {
        path: here.clone(),
        source,
    };
    for entry in std::fs::read_dir(&here).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "__pycache__" || skip(&name) {
            continue;
        }
        if entry.file_type().map_err(io)?.is_dir() {
            prefix.push(name);
            walk_python(dir, prefix, skip, out)?;
            prefix.pop();
        } else if Path::new(&name).extension().is_some_and(|ext| ext == "py") {
            let mut relative = prefix.clone();
            relative.push(name);
            out.push(relative);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_an_end_stops_at_the_limit() {
        let err = read_document(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: more than 256 MiB: larger than any document ffu reads (stopped reading there)"
        );
    }

    #[test]
    fn named_documents_must_be_regular_files() {
        let err = read_named_document(Path::new("/dev/null"), "included file").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/null: not a regular file (a character device): an included file must be one"
        );
        let err = read_named_document(Path::new("/"), "alembic script").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/: not a regular file (a directory): an alembic script must be one"
        );
    }

    #[test]
    fn pipes_are_read_to_their_end() {
        let text = read_document_from(&b"format: x\n"[..], Path::new("-")).unwrap();
        assert_eq!(text, "format: x\n");
        // Across several stages of the buffer.
        let long = "x".repeat(100_000);
        assert_eq!(
            read_document_from(long.as_bytes(), Path::new("-")).unwrap(),
            long
        );
    }
}
