//! The replay: walks the steps once, keeping which instances run at which release
//! (`fleet.rs`), and asks the rules about what runs at each step. Per step, in this order:
//!
//! 1. a `stop` is checked for V7 (`running.rs`), then the fleet follows the `stop` or
//!    `start`;
//! 2. V11 (`skew.rs`) for the service whose component the step stopped or started;
//! 3. in rolling mode, V10 (`extensions.rs`) for what the step advertises and the
//!    services it concerns;
//! 4. at a migration step, V8 then V6 (`running.rs`).

use super::extensions::Advertising;
use super::fleet::Fleet;
use super::running::{self, MigrationChecks};
use super::skew::SkewCheck;
use super::{Context, Violation};
use crate::plan::{Mode, Step, StepKind};
use crate::service::ServiceId;

/// V6, V7, V8, V10 and V11, step by step. Nothing when `from` is unknown (V1 says so).
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    let Some(from) = context.from else { return };
    let mut fleet = Fleet::at_start(context, from);
    let rolling = context.plan.policy.mode == Mode::Rolling;
    let mut advertising = rolling.then(|| Advertising::new(context, &fleet));
    let mut skew = SkewCheck::new(context);
    let mut migrations = MigrationChecks::new(context);
    for (index, step) in context.steps() {
        if let Some(service) = stop_or_start(context, &mut fleet, index, step, out) {
            skew.check(context, &fleet, service, step, out);
        }
        if let Some(advertising) = &mut advertising {
            advertising.check(context, &fleet, index, step, out);
        }
        if let Some(id) = context.migration[index] {
            migrations.check(context, &fleet, step, id, out);
        }
    }
}

/// Follows a `stop` (checked for V7 first) or a `start` of a component in the fleet, and
/// returns the component's service; other steps change nothing. A start without a release
/// starts the hop's target release.
fn stop_or_start<'a>(
    context: &Context<'a>,
    fleet: &mut Fleet<'a>,
    index: usize,
    step: &'a Step,
    out: &mut Vec<Violation>,
) -> Option<ServiceId> {
    let component = context.component[index]?;
    let instance = (step.host.as_deref(), component);
    match step.kind {
        StepKind::Stop => {
            running::check_stop(context, component, step, out);
            fleet.set(instance, None);
        }
        StepKind::Start => {
            let release = context.release[index].or(context.hop_target[step.hop]);
            fleet.set(instance, release);
        }
        _ => return None,
    }
    Some(context.catalog.component(component).service)
}
