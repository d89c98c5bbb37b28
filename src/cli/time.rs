//! `ffu estimate` (how long a plan takes) and `ffu recover` (the way back from a run that
//! stopped): DESIGN §10.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ffu_core::Plan;

use super::{emit, load_catalog, read_input, CatalogArg, Failure, ReportFormat};

#[derive(Debug, Args)]
pub(super) struct EstimateArgs {
    /// The plan, as ffu-plan/1 JSON ("-" for stdin).
    plan: PathBuf,
    /// The catalog the plan was made from: it tells the catalog's figures from the
    /// defaults, and which components are control components.
    #[command(flatten)]
    catalog: CatalogArg,
    /// Output format: json is an object with `total_s`, `control_plane_downtime_s`,
    /// `downtime_s` (per service), `hops` (with their phases) and `figures`; svg the
    /// plan's timeline (as `ffu plan --format svg`).
    #[arg(long, value_enum, default_value = "text")]
    format: EstimateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EstimateFormat {
    Text,
    Json,
    Svg,
}

pub(super) fn estimate(args: &EstimateArgs) -> Result<(), Failure> {
    let catalog = load_catalog(&args.catalog)?;
    let (text, name) = read_input(&args.plan)?;
    let plan = Plan::from_json(&text, &name)?;
    if args.format == EstimateFormat::Svg {
        let timeline = ffu_core::timeline::svg(&plan, &catalog).map_err(|err| match err {
            // The plan's own file, not "the plan", in the message.
            ffu_core::Error::BadPlan { message, .. } => Failure::BadInput(format!(
                "error: {}",
                ffu_core::error_text(&format!("{name}: {message}"), false)
            )),
            other => other.into(),
        })?;
        return emit(None, |out| out.write_all(timeline.as_bytes()));
    }
    let time = ffu_core::estimate::estimate(&plan, &catalog);
    emit(None, |out| match args.format {
        EstimateFormat::Svg => Ok(()),
        EstimateFormat::Json => {
            out.write_all(time.to_json().as_bytes())?;
            writeln!(out)
        }
        EstimateFormat::Text => {
            writeln!(
                out,
                "estimate of {name}: {} -> {}, {}, {} steps",
                plan.from,
                plan.to,
                plan.policy.mode.as_str(),
                plan.steps.len()
            )?;
            out.write_all(time.to_text().as_bytes())
        }
    })
}

#[derive(Debug, Args)]
pub(super) struct RecoverArgs {
    /// The plan the interrupted run was running (ffu-plan/1 JSON).
    #[arg(long, value_name = "PLAN.json")]
    plan: PathBuf,
    /// The run's journal, as sqlite:PATH.
    #[arg(long, value_name = "sqlite:PATH")]
    journal: String,
    #[command(flatten)]
    catalog: CatalogArg,
    /// Restore a backup with this command instead of the one derived from the backup's
    /// command; placeholders {databases}, {service}, {release}, {backup}.
    #[arg(long, value_name = "TEMPLATE")]
    restore_command: Option<String>,
    /// Output format: json is the recovery plan (ffu-plan/1 with "recovery": true).
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Write the recovery plan to FILE.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(super) fn recover(args: &RecoverArgs) -> Result<(), Failure> {
    let catalog = load_catalog(&args.catalog)?;
    let path = super::sqlite_path(&args.journal)?;
    if !path.exists() {
        return Err(Failure::BadInput(format!(
            "error: journal {}: no such file (a run that never started needs no recovery)",
            path.display()
        )));
    }
    let (text, name) = read_input(&args.plan)?;
    let plan = Plan::from_json(&text, &name)?;
    let mut journal = ffu_core::Journal::open_sqlite(&path, &plan)?;
    let recovery =
        journal.recovery_plan(&catalog, &plan, args.restore_command.as_deref(), &name)?;
    emit(args.output.as_deref(), |out| match args.format {
        ReportFormat::Json => {
            recovery.write_json(&mut *out)?;
            writeln!(out)
        }
        ReportFormat::Text => {
            if let Some(recovers) = &recovery.recovers {
                if recovers.serving {
                    writeln!(
                        out,
                        "Recovery: the run stopped in hop {} after everything started at {}; nothing to restore",
                        recovers.hop, recovers.release
                    )?;
                } else {
                    writeln!(
                        out,
                        "Recovery: the run stopped in hop {}; back to {}",
                        recovers.hop, recovers.release
                    )?;
                }
                for change in &recovers.changed {
                    writeln!(
                        out,
                        "Restore {} ({}) from backup {}: changed by {}",
                        change.service,
                        change.databases.join(", "),
                        change.backup,
                        change.steps.join(", ")
                    )?;
                }
            }
            out.write_all(ffu_core::render::text(&recovery, Some(&catalog)).as_bytes())
        }
    })
}
