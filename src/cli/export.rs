//! `ffu export ansible`: a plan as a playbook directory (DESIGN §9).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ffu_core::export::ansible::{self, AnsibleOptions};
use ffu_core::export::CommandTemplate;
use ffu_core::{Inventory, Plan};

use super::{emit, load_catalog, read_input, sqlite_path, CatalogArg, Failure};

/// `ffu export ...`.
#[derive(Debug, Subcommand)]
pub(super) enum ExportCommand {
    /// A plan as an Ansible playbook directory: DIR/inventory.yml, DIR/site.yml and
    /// DIR/plan.json, for `ansible-playbook -i DIR/inventory.yml DIR/site.yml`.
    Ansible(AnsibleArgs),
}

#[derive(Debug, Args)]
pub(super) struct AnsibleArgs {
    /// The plan (ffu-plan/1 JSON; "-" for stdin).
    #[arg(long, value_name = "PLAN.json")]
    plan: PathBuf,
    /// The hosts (ffu-inventory/1), read with --catalog; without it, the plan's hosts, or a
    /// bootstrap group per service to fill in.
    #[arg(long, value_name = "INV")]
    inventory: Option<PathBuf>,
    #[command(flatten)]
    catalog: CatalogArg,
    /// Record every step in this journal (sqlite:PATH): a run started again skips what is
    /// done.
    #[arg(long, value_name = "sqlite:PATH")]
    journal: Option<String>,
    /// The command of the steps of a kind (repeat for several kinds); placeholders {step},
    /// {service}, {component}, {unit}, {release}, {host}, {action}.
    #[arg(long = "command", value_name = "KIND=TEMPLATE")]
    commands: Vec<String>,
    /// The ffu the playbook runs for the journal (default: ffu, found on PATH).
    #[arg(long, value_name = "PATH")]
    ffu: Option<String>,
    /// The directory to write (made, or its three files replaced).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

pub(super) fn export(command: &ExportCommand) -> Result<(), Failure> {
    let ExportCommand::Ansible(args) = command;
    let (text, name) = read_input(&args.plan)?;
    let plan = Plan::from_json(&text, &name)?;
    let commands = args
        .commands
        .iter()
        .map(|c| CommandTemplate::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let journal = match &args.journal {
        Some(db) => Some(absolute_journal(db)?),
        None => None,
    };
    let ffu = match &args.ffu {
        // A relative path with a slash is relative to here, not to where Ansible runs.
        Some(path) if path.contains('/') => absolute(Path::new(path))?.display().to_string(),
        Some(name) => name.clone(),
        None => "ffu".to_owned(),
    };
    let options = AnsibleOptions {
        journal,
        commands,
        ffu,
    };
    let exported = if let Some(path) = &args.inventory {
        let catalog = load_catalog(&args.catalog)?;
        let inventory = Inventory::from_path(&catalog, path)?;
        ansible::export(&plan, Some((&catalog, &inventory)), &options)?
    } else {
        ansible::export(&plan, None, &options)?
    };
    write_dir(&args.output, &exported.files)?;
    report_manual(&exported.manual);
    emit(None, |out| {
        writeln!(
            out,
            "ok: {}: inventory.yml, site.yml, plan.json ({} plays, {} tasks, {} steps)",
            args.output.display(),
            exported.plays,
            exported.tasks,
            plan.steps.len()
        )
    })
}

/// The steps that became `debug` tasks, on stderr: the operator must do them by hand or
/// give a template.
fn report_manual(manual: &[String]) {
    const SHOWN: usize = 40;
    if manual.is_empty() {
        return;
    }
    eprintln!(
        "note: {} steps have nothing to run and became debug tasks (do them by hand, or give --command KIND=TEMPLATE):",
        manual.len()
    );
    for id in manual.iter().take(SHOWN) {
        eprintln!("  {id}");
    }
    if manual.len() > SHOWN {
        eprintln!("  ... and {} more", manual.len() - SHOWN);
    }
}

fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path).map_err(|err| {
        Failure::BadInput(format!(
            "error: {}: cannot make it absolute: {err}",
            path.display()
        ))
    })
}

/// `sqlite:PATH` with an absolute path, whose directory exists: the playbook may run
/// from anywhere.
fn absolute_journal(db: &str) -> Result<String, Failure> {
    let path = absolute(&sqlite_path(db)?)?;
    match path.parent() {
        Some(dir) if dir.is_dir() => Ok(format!("sqlite:{}", path.display())),
        _ => Err(Failure::BadInput(format!(
            "error: --journal {db:?}: the directory of {} does not exist",
            path.display()
        ))),
    }
}

/// Writes `files` into `dir`: a new directory is made beside it under a temporary name and
/// renamed into place, so that a failure leaves no half-written directory; in an existing
/// directory each file is replaced whole (the operator's other files stay).
fn write_dir(dir: &Path, files: &[(String, String)]) -> Result<(), Failure> {
    let failed = |err: std::io::Error| {
        Failure::BadInput(format!("error: cannot write {}: {err}", dir.display()))
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            for (name, text) in files {
                super::replace_file(&dir.join(name), |out| out.write_all(text.as_bytes()))
                    .map_err(failed)?;
            }
            return Ok(());
        }
        Ok(_) => {
            return Err(Failure::BadInput(format!(
                "error: -o {}: it is a file, not a directory",
                dir.display()
            )))
        }
        Err(_) => {}
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let Some(name) = name else {
        return Err(Failure::BadInput(format!(
            "error: -o {}: give a directory name",
            dir.display()
        )));
    };
    let temp = parent.join(format!(".{name}.ffu-tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir(&temp)?;
        for (file, text) in files {
            std::fs::write(temp.join(file), text)?;
        }
        std::fs::rename(&temp, dir)
    };
    write().map_err(|err| {
        let _ = std::fs::remove_dir_all(&temp);
        failed(err)
    })
}
