//! `ffu estimate` (how long a plan takes) and `ffu recover` (the way back from a run that
//! stopped): DESIGN §10.

use std::path::PathBuf;

use clap::Args;
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
    /// `downtime_s` (per service), `hops` (with their phases) and `figures`.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

pub(super) fn estimate(args: &EstimateArgs) -> Result<(), Failure> {
    let catalog = load_catalog(&args.catalog)?;
    let (text, name) = read_input(&args.plan)?;
    let plan = Plan::from_json(&text, &name)?;
    let time = ffu_core::estimate::estimate(&plan, &catalog);
    emit(None, |out| match args.format {
        ReportFormat::Json => {
            out.write_all(time.to_json().as_bytes())?;
            writeln!(out)
        }
        ReportFormat::Text => {
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
