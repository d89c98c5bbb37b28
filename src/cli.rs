//! Argument parsing and the commands of the `ffu` command line, run by [`run`] for the
//! `ffu` binary and for `python -m ffu`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

mod config;
mod export;
mod runner;
mod schema;
mod time;
use ffu_core::{
    render, verify_document, Catalog, Error, Inventory, Mode, NoPlan, Plan, PlanRequest, Policy,
    ServiceState,
};

/// Plans fast-forward upgrades of multi-service clouds (OpenStack first).
#[derive(Debug, Parser)]
#[command(name = "ffu", version, about, long_about = None)]
struct Cli {
    /// Show what ffu does (-v: debug, -vv: trace), on stderr.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Plan an upgrade from one release to another.
    Plan(PlanArgs),
    /// Check a plan (from ffu, another tool or a person) against the safety rules V1-V15
    /// (V17 for its windows; a recovery plan against V16).
    Verify(VerifyArgs),
    /// Validate or show a catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// List the releases of a catalog, in upgrade order.
    Releases(CatalogArg),
    /// What each service may advertise now, given where its servers stand.
    Extensions(ExtensionsArgs),
    /// Import migrations from other tools' histories.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Where a database stands: applied and pending migrations per service.
    Discover(DiscoverArgs),
    /// The journal of an upgrade run: which steps are done, and the next one to run.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Export a plan for an execution engine that runs it across the fleet.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Print the JSON Schema of a document: catalog, inventory or plan.
    Schema(schema::SchemaArgs),
    /// A service's configuration files across releases: composed changes, files rewritten.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// How long a plan takes: total, control-plane downtime per service, per hop and phase.
    Estimate(time::EstimateArgs),
    /// The recovery plan of a run that stopped: back to a serving cloud (checked by V16).
    Recover(time::RecoverArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Mysql,
}

impl From<BackendArg> for ffu_core::Backend {
    fn from(arg: BackendArg) -> Self {
        match arg {
            BackendArg::Sqlite => ffu_core::Backend::Sqlite,
            BackendArg::Postgres => ffu_core::Backend::Postgres,
            BackendArg::Mysql => ffu_core::Backend::Mysql,
        }
    }
}

#[derive(Debug, Args)]
struct DiscoverArgs {
    /// The database, as sqlite:PATH (required unless --sql; repeat for a service whose
    /// histories live in several databases, such as nova's API and main databases: their
    /// heads are read together).
    #[arg(long, value_name = "sqlite:PATH", required_unless_present = "sql")]
    db: Vec<String>,
    /// A service to report on (repeat for several).
    #[arg(long = "service", value_name = "NAME", required_unless_present = "sql")]
    services: Vec<String>,
    #[command(flatten)]
    catalog: CatalogArg,
    /// Output format: json is {"SERVICE": {"release": R, "applied": [...], "pending": [...]}}.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Print the discovery statements for --backend instead of running them.
    #[arg(long)]
    sql: bool,
    /// The database flavour of --sql.
    #[arg(long, value_enum, default_value = "sqlite", requires = "sql")]
    backend: BackendArg,
}

#[derive(Debug, Args)]
struct JournalArgs {
    /// The journal's database, as sqlite:PATH.
    #[arg(long, value_name = "sqlite:PATH")]
    db: String,
    /// The plan the journal follows (ffu-plan/1 JSON); needed by `init` only: the journal
    /// keeps it. Given, it is checked against the journal's.
    #[arg(long, value_name = "PLAN.json")]
    plan: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct JournalStepArgs {
    #[command(flatten)]
    journal: JournalArgs,
    /// The step id, as `next` gave it.
    step: String,
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// Create the journal for a plan (nothing changes if it exists for the same plan).
    Init(JournalArgs),
    /// How many steps are pending, running, done and failed.
    Status {
        #[command(flatten)]
        journal: JournalArgs,
        /// Output format: json lists every step with its state and attempts.
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
    },
    /// Take the next step (print its id), or print nothing when every step is done.
    Next {
        #[command(flatten)]
        journal: JournalArgs,
        /// Who runs the steps; holds the journal's lock.
        #[arg(long, value_name = "NAME", default_value = "ffu")]
        owner: String,
        /// Seconds after which the lock of a silent runner may be taken over.
        #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
        lock_ttl: u64,
        /// Take up to N steps that run together (the hosts of one agent batch), one id a
        /// line.
        #[arg(long, value_name = "N", default_value_t = 1)]
        max: usize,
        /// Output format: text prints the ids, one a line; json a list of the steps as the
        /// plan has them (id, host, command, kind, service, hop, phase, batch, requires, ...),
        /// each with its `attempt`, empty when every step is done.
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
    },
    /// Mark a running step done (--force: an operator marks any step done).
    Done(runner::DoneArgs),
    /// Mark a running step failed (`next` gives it again).
    Fail(runner::FailArgs),
    /// Claim one given step for a runner: print `run` (it is marked running) or `done`.
    Start(runner::StartArgs),
    /// Take the journal's lock for a runner's whole run.
    Lock(runner::LockArgs),
    /// Release the runner's lock (--force: whoever holds it, naming them).
    Unlock(runner::LockArgs),
    /// An operator skips a step: it counts as done.
    Skip(JournalStepArgs),
    /// An operator resets a step to pending, its attempts to 0.
    Reset(JournalStepArgs),
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Read alembic revision scripts (as text, never run) into a catalog fragment for
    /// `include:`; `requires` follow `down_revision` and `depends_on`.
    Alembic {
        /// The directory of revision scripts (neutron-style `<release>/<expand|contract>/`
        /// directories, unless --release is given).
        dir: PathBuf,
        /// The service the migrations belong to.
        #[arg(long)]
        service: String,
        /// Put every revision in this release, as `migrate`.
        #[arg(long, value_name = "RELEASE")]
        release: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "yaml")]
        format: DocFormat,
    },
    /// Read a release's oslo.config option definitions (as text, never run) into a catalog
    /// fragment of `config_changes` for `include:`.
    OsloConfig(config::OsloConfigArgs),
}

#[derive(Debug, Args)]
struct ExtensionsArgs {
    /// The inventory (ffu-inventory/1, YAML or JSON).
    #[arg(long, value_name = "FILE")]
    inventory: PathBuf,
    #[command(flatten)]
    catalog: CatalogArg,
    /// Output format: text explains what is withheld and why; json is
    /// {"SERVICE": ["ext", ...]}.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct CatalogArg {
    /// Catalog file (YAML, or JSON when it ends in .json; "-" for stdin); the embedded
    /// OpenStack catalog without it.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// With the embedded catalog: also the option renames and removals generated from the
    /// projects' own code (ffu-core/catalog/config/), so that a plan's config steps carry
    /// them; left out by default, as they double the time of a plan.
    #[arg(long, conflicts_with = "catalog")]
    with_config_changes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlanFormat {
    Text,
    Json,
    Dot,
    /// The plan over time: a row per service, a bar per step, downtime and windows drawn.
    Svg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Offline,
    Rolling,
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// The release the cloud runs now (name or alias); read from --inventory when given,
    /// and from the databases' state (--db) when not given.
    #[arg(
        long,
        value_name = "RELEASE",
        required_unless_present_any = ["inventory", "db"],
        conflicts_with = "inventory"
    )]
    from: Option<String>,
    /// Plan per host for the cloud this inventory (ffu-inventory/1) describes.
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Plan from where this database stands (repeat for several): the migrations it holds
    /// (`alembic_version`, as `ffu discover` reads it) are left out of the plan.
    #[arg(long, value_name = "sqlite:PATH")]
    db: Vec<String>,
    /// The release to upgrade to (name or alias).
    #[arg(long, value_name = "RELEASE")]
    to: String,
    #[command(flatten)]
    catalog: CatalogArg,
    /// Offline (control plane stopped) or rolling (mixed versions).
    #[arg(long, value_enum, default_value = "offline")]
    mode: ModeArg,
    /// Allow skip-level edges (SLURP to SLURP, declared edges).
    #[arg(long)]
    skip_level: bool,
    /// Only upgrade these services (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    services: Option<Vec<String>>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: PlanFormat,
    /// Rolling mode: how many agent hosts may be down at once: a count or a percentage.
    #[arg(long, value_name = "N|P%")]
    max_unavailable: Option<String>,
    /// Switch package sources before each hop's installs with this command (`{release}`
    /// is replaced), e.g. 'tripleo-repos -b {release} current'.
    #[arg(long, value_name = "TEMPLATE")]
    repo_command: Option<String>,
    /// Back up a service's databases with this command; placeholders {databases}, {dir},
    /// {service}, {release} (default: a consistent mysqldump).
    #[arg(long, value_name = "TEMPLATE")]
    backup_command: Option<String>,
    /// Where backups go: the {dir} of the backup command (default: .).
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<String>,
    /// Write the plan to FILE (atomically: a failed run leaves no half-written file).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Split the plan into maintenance windows of at most DURATION each (4h, 90m, 1h30m,
    /// or seconds), each ending where the cloud serves.
    #[arg(long, value_name = "DURATION")]
    window: Option<String>,
    /// With --window: at most N hosts touched in a window.
    #[arg(long, value_name = "N", requires = "window")]
    max_hosts_per_window: Option<usize>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The plan, as ffu-plan/1 JSON ("-" for stdin).
    plan: PathBuf,
    #[command(flatten)]
    catalog: CatalogArg,
    /// Output format of the report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DocFormat {
    Yaml,
    Json,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Load a catalog and report the first problem, or how big it is.
    Validate {
        /// The catalog file ("-" for stdin).
        file: PathBuf,
    },
    /// Print a catalog (its fragments merged) as YAML or JSON.
    Show {
        /// The catalog file; the embedded OpenStack catalog without it.
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "yaml")]
        format: DocFormat,
    },
}

/// How a command failed, which fixes the exit status.
enum Failure {
    /// No plan possible, or violations found: exit 1. The message is already printed
    /// when empty.
    Negative(String),
    /// Bad input or usage: exit 2.
    BadInput(String),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        // A bad value may be a megabyte long, or hold control characters: the line says
        // its start and length, escaped. Only an order cycle's facts are lines of their own.
        let message = err.to_string();
        let line_breaks = matches!(&err, Error::NoPlan(NoPlan::OrderCycle { .. }));
        let message = ffu_core::error_text(&message, line_breaks);
        if err.is_no_plan() {
            Failure::Negative(format!("error: no plan possible: {message}"))
        } else {
            Failure::BadInput(format!("error: {message}"))
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Failure::BadInput(format!("error: cannot write output: {err}"))
    }
}

/// Who calls [`run`], which decides who shows the log events and whether large values are
/// freed.
pub enum Caller<'a> {
    /// The `ffu` binary, whose process ends when [`run`] returns.
    ///
    /// [`run`] installs `tracing-subscriber`'s fmt subscriber on stderr (warnings as plain
    /// `warning: ...` lines; `-v` debug and `-vv` trace events as the fmt subscriber writes
    /// them), unless a global subscriber is set already; and it leaves a large catalog or plan
    /// to the operating system instead of freeing it piece by piece, which would take longer
    /// than planning did.
    Binary,
    /// A program that runs commands in its own process, perhaps many times (the Python
    /// bindings, tests).
    ///
    /// [`run`] installs no subscriber: the caller's own (the bindings forward events to
    /// Python's `logging`) receives the events. `verbosity` is called once the arguments are
    /// parsed, before the command runs, with the number of `-v` given (0 when none), so that
    /// the caller can show what they ask for; it is not called for `--help`, `--version` or a
    /// usage error. Everything the command allocates is freed before [`run`] returns.
    InProcess {
        /// Told the `-v` count: 0 (warnings, for the operator), 1 (debug) or 2 and more
        /// (trace).
        verbosity: &'a mut dyn FnMut(u8),
    },
}

impl Caller<'_> {
    /// Whether the process ends right after [`run`] returns.
    fn exits(&self) -> bool {
        matches!(self, Caller::Binary)
    }
}

/// Runs the `ffu` command line with `args`, the program name first (as
/// [`std::env::args_os`] gives them), and returns the exit status: 0 success (also
/// `--help` and `--version`); 1 no plan possible, or violations found; 2 bad input or usage.
///
/// The command writes to the process's standard output and error (file descriptors 1 and
/// 2, not a buffer of the caller's) and reads `-` from its standard input; both are flushed
/// before `run` returns. Usage errors, `--help` and `--version` are printed as clap prints
/// them, but never end the process: `run` returns their status. The program name only
/// appears in clap's usage lines (`Usage: ffu plan ...`). A `u8` rather than an
/// [`std::process::ExitCode`] so that a caller can read it: the binary turns it into one
/// with `ExitCode::from`, the Python bindings return it as an `int`.
pub fn run<I, T>(args: I, caller: Caller<'_>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version on stdout (status 0), usage errors on stderr (status 2).
            let _ = err.print();
            let _ = std::io::stdout().flush();
            return u8::try_from(err.exit_code()).unwrap_or(2);
        }
    };
    let exits = caller.exits();
    match caller {
        Caller::Binary => init_logging(cli.verbose),
        Caller::InProcess { verbosity } => verbosity(cli.verbose),
    }
    let status = execute(cli.command, exits);
    let _ = std::io::stdout().flush();
    status
}

/// Runs `command` and prints its error; `exits` when the process ends right after.
fn execute(command: Command, exits: bool) -> u8 {
    let result = match command {
        Command::Plan(args) => plan(&args, exits),
        Command::Verify(args) => verify_plan(&args),
        Command::Catalog(CatalogCommand::Validate { file }) => validate(&file),
        Command::Catalog(CatalogCommand::Show { file, format }) => show(file.as_deref(), format),
        Command::Releases(args) => releases(&args),
        Command::Extensions(args) => extensions(&args),
        Command::Import(ImportCommand::Alembic {
            dir,
            service,
            release,
            format,
        }) => import_alembic(&dir, &service, release, format),
        Command::Import(ImportCommand::OsloConfig(args)) => config::import(&args),
        Command::Discover(args) => discover(&args),
        Command::Journal(command) => journal(&command),
        Command::Export(command) => export::export(&command),
        Command::Schema(args) => schema::schema(&args),
        Command::Config(command) => config::config(&command),
        Command::Estimate(args) => time::estimate(&args),
        Command::Recover(args) => time::recover(&args),
    };
    match result {
        Ok(()) => 0,
        Err(Failure::Negative(message)) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            1
        }
        Err(Failure::BadInput(message)) => {
            eprintln!("{message}");
            2
        }
    }
}

/// Installs the binary's subscriber on stderr, unless one is set already (a second run in
/// the same process).
fn init_logging(verbose: u8) {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let level = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    // The events of the core and of the command line.
    let filter = Targets::new()
        .with_target("ffu_core", level)
        .with_target("ffu", level);
    if verbose == 0 {
        // Warnings are for the operator (a stale journal lock taken over, a database that
        // holds nothing of a service): shown always, as plain `warning: ...` lines.
        let _ = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::stderr)
            .event_format(PlainWarnings)
            .finish()
            .with(filter)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .finish()
        .with(filter)
        .try_init();
}

/// Formats events as `warning: MESSAGE` (or `error: ...`), like the CLI's own messages.
struct PlainWarnings;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for PlainWarnings
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let label = if *event.metadata().level() == tracing::Level::ERROR {
            "error"
        } else {
            "warning"
        };
        write!(writer, "{label}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

fn load_catalog(arg: &CatalogArg) -> Result<Catalog, Failure> {
    match &arg.catalog {
        Some(path) => catalog_from(path),
        None if arg.with_config_changes => Ok(Catalog::openstack_with_config()),
        None => Ok(Catalog::openstack()),
    }
}

/// The catalog in the file at `path`, or on stdin for `-` (JSON when it starts with `{`,
/// else YAML; without `include:`, which needs a directory).
fn catalog_from(path: &Path) -> Result<Catalog, Failure> {
    if path.as_os_str() != "-" {
        return Ok(Catalog::from_path(path)?);
    }
    let (text, name) = read_input(path)?;
    Ok(if text.trim_start().starts_with('{') {
        Catalog::from_json_str(&text, &name)?
    } else {
        Catalog::from_yaml_str(&text, &name)?
    })
}

/// Standard output without std's line buffering, which scans everything written for
/// newlines: for the 40 MB of a large plan that is 4% of a whole `ffu plan`. Output is
/// buffered by the caller anyway. Falls back to the locked `Stdout` where the descriptor
/// cannot be duplicated.
fn raw_stdout() -> Box<dyn Write> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        // Nothing has been written through `Stdout` yet, so no bytes of its buffer can end
        // up after ours.
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout().lock())
}

/// Writes `render` to stdout, or to `path`.
///
/// A regular file (or a new one) is written through a temporary file renamed into place,
/// so that a failed run leaves no half-written file; through a symbolic link, the file it
/// points to is replaced (or created) and the link kept. Anything else that exists (`/dev/null`,
/// `/dev/stdout`, a named pipe) is written to as it is: renaming over it would replace the
/// device or pipe with a regular file.
fn emit(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let Some(path) = path else {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, raw_stdout());
        return match render(&mut out).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            // A closed pipe (`ffu plan ... | head`) is the reader's choice, not an error.
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(err) => Err(err.into()),
        };
    };
    let cannot_write = |err: std::io::Error| {
        Failure::BadInput(format!("error: cannot write {}: {err}", path.display()))
    };
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(cannot_write)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            render(&mut out)
                .and_then(|()| out.flush())
                .map_err(cannot_write)
        }
        Ok(_) => {
            // An existing regular file, perhaps behind links: replace the file itself.
            let target = std::fs::canonicalize(path).map_err(cannot_write)?;
            replace_file(&target, render).map_err(cannot_write)
        }
        // Nothing there yet, or a link to a file that is not there yet (created, the link
        // kept).
        Err(_) => {
            let target = link_target(path).map_err(cannot_write)?;
            replace_file(&target, render).map_err(cannot_write)
        }
    }
}

/// Where `path` leads through symbolic links, followed one by one as far as they go (the
/// last one may point to nothing yet); `path` itself when it is not a link.
fn link_target(path: &Path) -> std::io::Result<PathBuf> {
    // As many links as Linux follows before it gives up (ELOOP).
    const MAX_LINKS: usize = 40;
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::read_link(&current) {
            Ok(next) => {
                let base = current.parent().unwrap_or(Path::new("."));
                current = base.join(next);
            }
            Err(_) => return Ok(current),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// The temporary files made so far: each gets a name of its own, since runs in process
/// (from Python's threads) may write the same file at once, each through its own temporary
/// file (the last rename wins, whole).
static TEMP_FILES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Writes `render` into a temporary file beside `path`, then renames it to `path`.
fn replace_file(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let run = TEMP_FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.ffu-tmp-{}-{run}", std::process::id()));
    // Said apart: `-o /proc/version` fails to create the temporary file, not to find the
    // file it names.
    let file = std::fs::File::create(&temp).map_err(|err| {
        std::io::Error::new(
            err.kind(),
            format!(
                "cannot create a temporary file in {} to replace it: {err}",
                dir.display()
            ),
        )
    })?;
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        render(&mut out)?;
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// Frees `value`, unless the process `exits` right after: freeing a large catalog and plan
/// piece by piece would take longer than planning did, and the operating system reclaims
/// them at once. A program that runs commands in process frees them (no leak per call).
fn release<T>(value: T, exits: bool) {
    if exits {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// `ffu plan --window`: the plan split into maintenance windows, or exit 1 naming the
/// stretch that does not fit.
fn windowed(args: &PlanArgs, catalog: &Catalog, plan: &Plan, window: &str) -> Result<(), Failure> {
    let seconds = ffu_core::windows::parse_duration(window).ok_or_else(|| {
        Failure::BadInput(format!(
            "error: --window {window:?} is not a duration (such as 4h, 90m, 1h30m or 3600)"
        ))
    })?;
    if seconds == 0 || args.max_hosts_per_window == Some(0) {
        return Err(Failure::BadInput(
            "error: --window and --max-hosts-per-window must be more than 0".to_owned(),
        ));
    }
    let limits = ffu_core::windows::WindowLimits {
        limit_s: seconds,
        max_hosts: args.max_hosts_per_window,
    };
    let windows = ffu_core::windows::split(plan, catalog, limits)
        .map_err(|no_fit| Failure::Negative(format!("error: no plan fits the window: {no_fit}")))?;
    let mut plan = plan.clone();
    plan.window_s = Some(seconds);
    plan.max_hosts_per_window = args.max_hosts_per_window;
    plan.windows = windows;
    let timeline = if args.format == PlanFormat::Svg {
        ffu_core::timeline::svg(&plan, catalog)?
    } else {
        String::new()
    };
    emit(args.output.as_deref(), |out| match args.format {
        PlanFormat::Json => {
            plan.write_json(&mut *out)?;
            writeln!(out)
        }
        PlanFormat::Dot => out.write_all(render::dot(&plan).as_bytes()),
        PlanFormat::Svg => out.write_all(timeline.as_bytes()),
        PlanFormat::Text => out.write_all(render::text(&plan, Some(catalog)).as_bytes()),
    })
}

fn plan(args: &PlanArgs, exits: bool) -> Result<(), Failure> {
    let catalog = load_catalog(&args.catalog)?;
    let policy = Policy {
        mode: match args.mode {
            ModeArg::Offline => Mode::Offline,
            ModeArg::Rolling => Mode::Rolling,
        },
        skip_level: args.skip_level,
        keep_dataplane: true,
        services: args.services.clone(),
        max_unavailable: args.max_unavailable.clone(),
        repo_command: args.repo_command.clone(),
        backup_command: args.backup_command.clone(),
        backup_dir: args.backup_dir.clone(),
    };
    let inventory = match &args.inventory {
        Some(path) => Some(Inventory::from_path(&catalog, path)?),
        None => None,
    };
    let state = if args.db.is_empty() {
        None
    } else {
        Some(discover_all(&args.db, &catalog, args.services.as_deref())?)
    };
    let request = match (&inventory, &args.from, &state) {
        (Some(inventory), _, _) => PlanRequest::from_inventory(inventory, &args.to, &policy),
        (None, Some(from), _) => PlanRequest::from_release(from, &args.to, &policy),
        (None, None, Some(state)) => PlanRequest::from_state(state, &args.to, &policy),
        (None, None, None) => {
            return Err(Failure::BadInput(
                "error: give --from RELEASE or --inventory FILE".to_owned(),
            ))
        }
    };
    let request = request.with_state(state.as_ref());
    // The plan stays compact: as JSON and text its migration steps are written straight
    // from the catalog, never built; the DOT graph builds them.
    let catalog = std::sync::Arc::new(catalog);
    let plan = catalog.plan_compact(&request)?;
    if let Some(window) = &args.window {
        return windowed(args, &catalog, &plan.to_plan(), window);
    }
    let result = if args.format == PlanFormat::Json {
        let written = emit(args.output.as_deref(), |out| {
            plan.write_json(&mut *out)?;
            writeln!(out)
        });
        release(plan, exits);
        written
    } else {
        let rendered = match args.format {
            PlanFormat::Dot => render::dot(&plan.to_plan()),
            PlanFormat::Svg => ffu_core::timeline::svg(&plan.to_plan(), &catalog)?,
            PlanFormat::Text | PlanFormat::Json => plan.to_text(),
        };
        release(plan, exits);
        emit(args.output.as_deref(), |out| {
            out.write_all(rendered.as_bytes())
        })
    };
    release(catalog, exits);
    result
}

/// The text of an input document and the name errors give it (`-` is stdin).
fn read_input(path: &Path) -> Result<(String, String), Failure> {
    let (text, name) = if path.as_os_str() == "-" {
        let name = Path::new("<stdin>");
        let text = ffu_core::read_document_from(std::io::stdin().lock(), name);
        (text, name.display().to_string())
    } else {
        (ffu_core::read_document(path), path.display().to_string())
    };
    let text = text.map_err(|err| Failure::BadInput(format!("error: {err}")))?;
    Ok((text, name))
}

fn verify_plan(args: &VerifyArgs) -> Result<(), Failure> {
    let catalog = load_catalog(&args.catalog)?;
    let (text, name) = read_input(&args.plan)?;
    let plan = Plan::from_json(&text, &name)?;
    let violations = verify_document(&catalog, &plan, &name)?;
    emit(None, |out| match args.format {
        ReportFormat::Json => {
            let list: Vec<serde_json::Value> = violations
                .iter()
                .map(
                    |v| serde_json::json!({"rule": v.rule, "message": v.message, "steps": v.steps}),
                )
                .collect();
            serde_json::to_writer_pretty(&mut *out, &list)?;
            writeln!(out)
        }
        ReportFormat::Text => {
            if violations.is_empty() {
                let rules = if plan.recovery {
                    "V16"
                } else if plan.windows.is_empty() {
                    "V1-V15"
                } else {
                    "V1-V15, V17"
                };
                writeln!(
                    out,
                    "ok: {} steps, {} hops, no violation of {rules}",
                    plan.steps.len(),
                    plan.hops.len()
                )
            } else {
                for violation in &violations {
                    writeln!(out, "{violation}")?;
                    if !violation.steps.is_empty() {
                        writeln!(out, "    steps: {}", violation.steps.join(", "))?;
                    }
                }
                Ok(())
            }
        }
    })?;
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Failure::Negative(format!(
            "error: {name}: the plan breaks the safety rules ({} violations)",
            violations.len()
        )))
    }
}

fn validate(file: &Path) -> Result<(), Failure> {
    let catalog = catalog_from(file)?;
    emit(None, |out| {
        writeln!(
            out,
            "ok: catalog {}: {} releases, {} services, {} components, {} migrations, {} extensions, {} config changes",
            catalog.name(),
            catalog.releases().len(),
            catalog.services().len(),
            catalog.components().len(),
            catalog.migrations().len(),
            catalog.extensions().len(),
            catalog.config_changes().len()
        )
    })
}

fn show(file: Option<&Path>, format: DocFormat) -> Result<(), Failure> {
    let catalog = match file {
        Some(path) => catalog_from(path)?,
        None => Catalog::openstack(),
    };
    let text = match format {
        DocFormat::Yaml => catalog.to_yaml()?,
        DocFormat::Json => catalog.to_json()?,
    };
    emit(None, |out| {
        out.write_all(text.as_bytes())?;
        if text.ends_with('\n') {
            Ok(())
        } else {
            writeln!(out)
        }
    })
}

fn releases(args: &CatalogArg) -> Result<(), Failure> {
    let catalog = load_catalog(args)?;
    emit(None, |out| {
        for release in catalog.releases() {
            let mut line = release.name.clone();
            if !release.aliases.is_empty() {
                line = format!("{line} ({})", release.aliases.join(", "));
            }
            if let Some(date) = &release.date {
                line = format!("{line:<24} {date}");
            }
            if release.slurp {
                line.push_str("  SLURP");
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    })
}

fn extensions(args: &ExtensionsArgs) -> Result<(), Failure> {
    let catalog = load_catalog(&args.catalog)?;
    let inventory = Inventory::from_path(&catalog, &args.inventory)?;
    let negotiated = catalog.negotiate(&inventory);
    emit(None, |out| match args.format {
        ReportFormat::Json => {
            let map: std::collections::BTreeMap<&str, &Vec<String>> = negotiated
                .iter()
                .map(|(service, n)| (service.as_str(), &n.advertised))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &map)?;
            writeln!(out)
        }
        ReportFormat::Text => {
            for (service, n) in &negotiated {
                writeln!(out, "{service}: {}", n.advertised.join(", "))?;
                for (extension, why) in &n.withheld {
                    writeln!(out, "  withheld {extension}: {why}")?;
                }
            }
            Ok(())
        }
    })
}

/// The path of a `sqlite:PATH` database argument.
fn sqlite_path(db: &str) -> Result<PathBuf, Failure> {
    match db.strip_prefix("sqlite:") {
        Some(path) if !path.is_empty() => {
            Ok(PathBuf::from(path.strip_prefix("//").unwrap_or(path)))
        }
        _ => Err(Failure::BadInput(format!(
            "error: unsupported database {db:?}: give sqlite:PATH"
        ))),
    }
}

/// The state of `services` (all of the catalog's when `None`) in the databases `dbs`,
/// merged: a service's applied migrations are those any of the databases holds.
fn discover_all(
    dbs: &[String],
    catalog: &Catalog,
    services: Option<&[String]>,
) -> Result<BTreeMap<String, ServiceState>, Failure> {
    let names: Vec<String> = match services {
        Some(names) => names.to_vec(),
        None => catalog.services().iter().map(|s| s.name.clone()).collect(),
    };
    let paths = dbs
        .iter()
        .map(|db| sqlite_path(db))
        .collect::<Result<Vec<_>, Failure>>()?;
    let paths: Vec<&std::path::Path> = paths.iter().map(AsRef::as_ref).collect();
    Ok(ffu_core::sql::discover_sqlite_many(
        &paths, catalog, &names,
    )?)
}

fn discover(args: &DiscoverArgs) -> Result<(), Failure> {
    if args.sql {
        let statements = ffu_core::sql::discovery_queries(args.backend.into());
        return emit(None, |out| {
            for statement in &statements {
                writeln!(out, "{statement};")?;
            }
            Ok(())
        });
    }
    let catalog = load_catalog(&args.catalog)?;
    let state = discover_all(&args.db, &catalog, Some(&args.services))?;
    emit(None, |out| match args.format {
        ReportFormat::Json => {
            // ServiceState serializes as the documented form: release, applied, pending.
            serde_json::to_writer_pretty(&mut *out, &state)?;
            writeln!(out)
        }
        ReportFormat::Text => {
            for (service, s) in &state {
                writeln!(
                    out,
                    "{service}: release {}, {} applied, {} pending",
                    s.release.as_deref().unwrap_or("none"),
                    s.applied.len(),
                    s.pending.len()
                )?;
                if let Some(version) = s.legacy_version {
                    writeln!(out, "  sqlalchemy-migrate version {version}")?;
                }
                for id in &s.pending {
                    writeln!(out, "  pending {id}")?;
                }
                if !s.applied_revisions.is_empty() {
                    writeln!(
                        out,
                        "  partway: revisions {} applied",
                        s.applied_revisions.join(", ")
                    )?;
                }
                if !s.pending_revisions.is_empty() {
                    writeln!(
                        out,
                        "  pending revisions {}",
                        s.pending_revisions.join(", ")
                    )?;
                }
            }
            Ok(())
        }
    })
}

/// The journal `args` name: opened with `--plan` (created if needed), else with the plan it
/// keeps.
fn open_journal(args: &JournalArgs) -> Result<ffu_core::Journal, Failure> {
    Ok(open_journal_plan(args, false)?.0)
}

/// [`open_journal`], and the plan (`--plan`, else the journal's) when `want_plan`.
fn open_journal_plan(
    args: &JournalArgs,
    want_plan: bool,
) -> Result<(ffu_core::Journal, Option<Plan>), Failure> {
    let path = sqlite_path(&args.db)?;
    if let Some(file) = &args.plan {
        let (text, name) = read_input(file)?;
        let plan = Plan::from_json(&text, &name)?;
        let journal = ffu_core::Journal::open_sqlite(&path, &plan)?;
        return Ok((journal, want_plan.then_some(plan)));
    }
    let mut journal = ffu_core::Journal::open_sqlite_stored(&path)?;
    let plan = if want_plan {
        Some(journal.plan()?)
    } else {
        None
    };
    Ok((journal, plan))
}

fn journal(command: &JournalCommand) -> Result<(), Failure> {
    match command {
        JournalCommand::Init(args) => {
            if args.plan.is_none() {
                return Err(Failure::BadInput(
                    "error: journal init: --plan PLAN.json is needed: the journal keeps the plan it is made for".to_owned(),
                ));
            }
            let mut journal = open_journal(args)?;
            let counts = journal.status()?;
            emit(None, |out| {
                writeln!(
                    out,
                    "ok: journal for plan {}: {} steps, {} done",
                    journal.checksum(),
                    counts.total(),
                    counts.done
                )
            })
        }
        JournalCommand::Status { journal, format } => {
            let mut journal = open_journal(journal)?;
            let steps = journal.steps()?;
            let counts = ffu_core::sql::Counts::of(&steps);
            let errors = journal.errors()?;
            let lock = journal.lock_holder()?;
            emit(None, |out| match format {
                ReportFormat::Json => {
                    let list: Vec<serde_json::Value> = steps
                        .iter()
                        .map(|s| {
                            serde_json::json!({
                                "id": s.id, "state": s.state.as_str(), "attempts": s.attempts,
                                "host": s.host, "started_at": s.started_at,
                                "finished_at": s.finished_at, "error": errors.get(&s.id),
                            })
                        })
                        .collect();
                    serde_json::to_writer_pretty(
                        &mut *out,
                        &serde_json::json!({
                            "checksum": journal.checksum(), "steps": list,
                            "lock": lock.as_ref().map(|(owner, _)| owner),
                        }),
                    )?;
                    writeln!(out)
                }
                ReportFormat::Text => {
                    writeln!(
                        out,
                        "{} steps: {} done, {} running, {} failed, {} pending",
                        counts.total(),
                        counts.done,
                        counts.running,
                        counts.failed,
                        counts.pending
                    )?;
                    runner::write_status_details(out, &steps, &errors, lock.as_ref())
                }
            })
        }
        JournalCommand::Next {
            journal,
            owner,
            lock_ttl,
            max,
            format,
        } => runner::next(journal, owner, *lock_ttl, *max, *format),
        JournalCommand::Done(args) => runner::done(args),
        JournalCommand::Fail(args) => runner::fail(args),
        JournalCommand::Start(args) => runner::start(args),
        JournalCommand::Lock(args) => runner::lock(args),
        JournalCommand::Unlock(args) => runner::unlock(args),
        JournalCommand::Skip(args) => {
            runner::set_state(&args.journal, &args.step, ffu_core::sql::StepState::Done)
        }
        JournalCommand::Reset(args) => {
            runner::set_state(&args.journal, &args.step, ffu_core::sql::StepState::Pending)
        }
    }
}

fn import_alembic(
    dir: &Path,
    service: &str,
    release: Option<String>,
    format: DocFormat,
) -> Result<(), Failure> {
    let layout = match release {
        Some(release) => ffu_core::AlembicLayout::Single { release },
        None => ffu_core::AlembicLayout::ReleaseDirs,
    };
    let imported = ffu_core::import_alembic(dir, service, &layout)?;
    for warning in imported.warnings() {
        eprintln!("warning: {warning}");
    }
    let text = match format {
        DocFormat::Yaml => imported.to_yaml(),
        DocFormat::Json => imported.to_json(),
    };
    emit(None, |out| out.write_all(text.as_bytes()))
}
