//! The Python modules of a project, from an unpacked source tree or straight from a wheel
//! (a zip archive): only those that import `oslo_config`, tests left out.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One module's text.
pub(crate) struct ModuleText {
    /// The dotted module name (`nova.conf.scheduler`).
    pub(crate) name: String,
    /// Whether it is a package's `__init__.py`.
    pub(crate) is_package: bool,
    /// The path shown in messages: inside a wheel, `WHEEL!path/in/wheel.py`.
    pub(crate) shown: String,
    pub(crate) text: String,
}

/// Whether a module's text may define or register options: the reader skips the rest.
fn may_hold_options(text: &str) -> bool {
    text.contains("oslo_config") || text.contains("register_opt")
}

/// Whether a file name is a Python module's (`.py`, in lower case as Python wants it).
#[allow(clippy::case_sensitive_file_extension_comparisons)]
fn is_python(name: &str) -> bool {
    name.ends_with(".py")
}

/// Whether a wheel's top directory holds its metadata or data, not importable modules.
fn is_metadata(top: &str) -> bool {
    Path::new(top)
        .extension()
        .is_some_and(|ext| ext == "data" || ext == "dist-info")
}

/// Whether a path (as `/`-separated parts) is test code, which defines options of its own.
fn is_test_path(parts: &[&str]) -> bool {
    parts.iter().any(|part| *part == "tests" || *part == "test")
}

/// The modules of `path`: a directory (the project's source tree or its package) or a
/// wheel. Files that are not UTF-8 are passed over with a warning.
pub(crate) fn read_modules(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<ModuleText>> {
    let metadata = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut modules = if metadata.is_dir() {
        read_dir(path, warnings)?
    } else {
        read_wheel(path, warnings)?
    };
    modules.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(modules)
}

fn read_dir(root: &Path, warnings: &mut Vec<String>) -> Result<Vec<ModuleText>> {
    // A package directory given itself (`nova/`) names its modules from its own name, so
    // that `nova.conf` imports resolve as they do from the source tree's root.
    let prefix: Vec<String> = if root.join("__init__.py").is_file() {
        let name = root
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        vec![name]
    } else {
        Vec::new()
    };
    let mut files = crate::input::python_files(root, &|name| is_test_path(&[name]))?;
    files.sort();
    let mut modules = Vec::new();
    for rel in files {
        let path: PathBuf = rel.iter().fold(root.to_path_buf(), |p, part| p.join(part));
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let shown = path.display().to_string();
        let Ok(text) = String::from_utf8(bytes) else {
            warnings.push(format!("{shown}: not UTF-8, not read"));
            continue;
        };
        if !may_hold_options(&text) {
            continue;
        }
        let mut parts: Vec<String> = prefix.clone();
        parts.extend(rel);
        modules.push(module_text(&parts, shown, text));
    }
    Ok(modules)
}

/// The module named by a `.py` path's parts.
fn module_text(parts: &[String], shown: String, text: String) -> ModuleText {
    let mut names: Vec<&str> = parts.iter().map(String::as_str).collect();
    let last = names.pop().unwrap_or_default();
    let is_package = last == "__init__.py";
    if !is_package {
        names.push(last.strip_suffix(".py").unwrap_or(last));
    }
    ModuleText {
        name: names.join("."),
        is_package,
        shown,
        text,
    }
}

fn read_wheel(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<ModuleText>> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let shown = path.display().to_string();
    let mut archive = zip::ZipArchive::new(file).map_err(|err| Error::Parse {
        file: shown.clone(),
        location: None,
        message: format!("not a directory, and not a wheel (a zip archive): {err}"),
        source: Some(Box::new(err)),
    })?;
    let mut modules = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|err| Error::Parse {
            file: shown.clone(),
            location: None,
            message: format!("cannot read entry {index} of the wheel: {err}"),
            source: Some(Box::new(err)),
        })?;
        let name = entry.name().to_owned();
        let parts: Vec<&str> = name.split('/').collect();
        if !is_python(&name) || entry.is_dir() || is_test_path(&parts) || is_metadata(parts[0]) {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|err| Error::Parse {
            file: format!("{shown}!{name}"),
            location: None,
            message: format!("cannot unpack it from the wheel: {err}"),
            source: Some(Box::new(err)),
        })?;
        let Ok(text) = String::from_utf8(bytes) else {
            warnings.push(format!("{shown}!{name}: not UTF-8, not read"));
            continue;
        };
        if !may_hold_options(&text) {
            continue;
        }
        let parts: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
        modules.push(module_text(&parts, format!("{shown}!{name}"), text));
    }
    Ok(modules)
}
