//! `ffu import oslo-config`: configuration changes read from a project's option
//! definitions.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{emit, Failure};

/// The arguments of `ffu import oslo-config`.
#[derive(Debug, Args)]
pub(super) struct OsloConfigArgs {
    /// The project's source tree, package directory, or wheel (.whl) of that release.
    path: PathBuf,
    /// The service the options belong to.
    #[arg(long)]
    service: String,
    /// The release these definitions are.
    #[arg(long, value_name = "RELEASE")]
    release: String,
    /// The previous release's tree or wheel: then only what changed between the two
    /// (new and dropped deprecated names, removed options, changed literal defaults).
    #[arg(long, value_name = "DIR_OR_WHEEL")]
    previous: Option<PathBuf>,
    /// Output: a catalog fragment (yaml, json), or every option read (options, JSON).
    #[arg(long, value_enum, default_value = "yaml")]
    format: ImportFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ImportFormat {
    Yaml,
    Json,
    /// Every option read, with its deprecated names, as JSON (not a fragment).
    Options,
}

/// Runs `ffu import oslo-config`: warnings on stderr, the fragment on stdout.
pub(super) fn import(args: &OsloConfigArgs) -> Result<(), Failure> {
    let imported = ffu_core::import_oslo_config(
        &args.path,
        &args.service,
        &args.release,
        args.previous.as_deref(),
    )?;
    for warning in imported.warnings() {
        eprintln!("warning: {warning}");
    }
    let text = match args.format {
        ImportFormat::Yaml => imported.to_yaml(),
        ImportFormat::Json => imported.to_json(),
        ImportFormat::Options => imported.options_json(),
    };
    emit(None, |out| out.write_all(text.as_bytes()))
}
