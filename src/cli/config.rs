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

/// `ffu config ...`: a service's configuration across releases.
#[derive(Debug, clap::Subcommand)]
pub(super) enum ConfigCommand {
    /// The configuration changes composed over the path from one release to another (a
    /// rename of a rename is one rename, a rename then a removal is a removal).
    Diff {
        #[command(flatten)]
        path: PathArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormat,
    },
    /// Rewrite an oslo.config INI file for the target release: renames and group moves
    /// applied, removed options kept as `#ffu-removed(RELEASE)` comments and listed on
    /// stderr, everything else kept as it is.
    Migrate {
        /// The configuration file ("-" for stdin).
        file: PathBuf,
        #[command(flatten)]
        path: PathArgs,
        /// Write the new file to FILE (atomically: a failed run leaves no half-written
        /// file); stdout without it.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// The service and the releases a configuration command spans.
#[derive(Debug, Args)]
pub(super) struct PathArgs {
    /// The service whose configuration it is.
    #[arg(long)]
    service: String,
    /// The release the configuration is written for.
    #[arg(long, value_name = "RELEASE")]
    from: String,
    /// The release to move it to.
    #[arg(long, value_name = "RELEASE")]
    to: String,
    #[command(flatten)]
    catalog: super::CatalogArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum DiffFormat {
    Text,
    Json,
}

/// Every error of a configuration command is bad input (exit 2): an unknown or backward
/// release is a wrong argument here, not a plan that cannot exist.
fn bad_input(err: ffu_core::Error) -> Failure {
    match Failure::from(err) {
        Failure::Negative(message) => {
            Failure::BadInput(message.replace("error: no plan possible: ", "error: "))
        }
        bad @ Failure::BadInput(_) => bad,
    }
}

/// The catalog of a configuration command: the embedded one with its generated
/// configuration changes, unless `--catalog` names another.
fn config_catalog(arg: &super::CatalogArg) -> Result<ffu_core::Catalog, Failure> {
    match &arg.catalog {
        Some(_) => super::load_catalog(arg),
        None => Ok(ffu_core::Catalog::openstack_with_config()),
    }
}

/// Runs `ffu config diff` or `ffu config migrate`.
pub(super) fn config(command: &ConfigCommand) -> Result<(), Failure> {
    match command {
        ConfigCommand::Diff { path, format } => {
            let catalog = config_catalog(&path.catalog)?;
            let diff = catalog
                .config_diff(&path.service, &path.from, &path.to)
                .map_err(bad_input)?;
            let text = match format {
                DiffFormat::Text => diff.to_text(),
                DiffFormat::Json => diff.to_json(),
            };
            emit(None, |out| out.write_all(text.as_bytes()))
        }
        ConfigCommand::Migrate { file, path, output } => {
            let catalog = config_catalog(&path.catalog)?;
            let (text, name) = super::read_input(file)?;
            let migrated = catalog
                .migrate_config(&text, &name, &path.service, &path.from, &path.to)
                .map_err(bad_input)?;
            for moved in &migrated.moved {
                eprintln!(
                    "renamed: {} -> {} ({name}:{})",
                    moved.from, moved.to, moved.line
                );
            }
            for removed in &migrated.removed {
                eprintln!(
                    "removed: [{}] {} = {} ({name}:{}; removed in {}), kept as a {} comment",
                    removed.section,
                    removed.option,
                    removed.value.replace('\n', "\\n"),
                    removed.line,
                    removed.release,
                    ffu_core::REMOVED_MARKER
                );
            }
            emit(output.as_deref(), |out| {
                out.write_all(migrated.text.as_bytes())
            })
        }
    }
}
