//! What the interrupted run did: a walk over the plan's steps up to the last that began.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;

use super::{irreversible, Changed, Instance};
use crate::catalog::Catalog;
use crate::plan::{Plan, Step, StepKind};
use crate::sql::journal::StepState;

/// Where the run left the cloud. Sets beside the lists keep a 10,000-host plan linear.
pub(super) struct Walked<'p> {
    /// Per instance touched, the release it runs at (`None`: stopped).
    pub(super) running: BTreeMap<Instance, Option<String>>,
    /// Every instance of the plan, first seen first.
    pub(super) order: Vec<Instance>,
    pub(super) in_order: FxHashSet<Instance>,
    /// (service, host) where the hop installed its target.
    pub(super) installed: Vec<(String, Option<String>)>,
    /// Per service, its last rollback point that is done.
    pub(super) backups: BTreeMap<String, &'p Step>,
    /// Per service, the irreversible steps of the hop since its last rollback point.
    changed: BTreeMap<String, Vec<String>>,
    /// The plan's services, first seen first.
    pub(super) service_order: Vec<String>,
}

impl<'p> Walked<'p> {
    /// The walk over `plan` (whose steps stand at `states`) up to step `last`, the last
    /// that began, in hop `hop`.
    pub(super) fn of(
        catalog: &Catalog,
        plan: &'p Plan,
        states: &[StepState],
        last: usize,
        hop: usize,
    ) -> Walked<'p> {
        let mut walked = Walked {
            running: BTreeMap::new(),
            order: Vec::new(),
            in_order: FxHashSet::default(),
            installed: Vec::new(),
            backups: BTreeMap::new(),
            changed: BTreeMap::new(),
            service_order: Vec::new(),
        };
        walked.list_instances(plan);
        let target = &plan.hops[hop].to;
        let mut is_installed: FxHashSet<(String, Option<String>)> = FxHashSet::default();
        for (index, step) in plan.steps[..=last].iter().enumerate() {
            let state = states[index];
            if state == StepState::Pending {
                continue;
            }
            walked.follow_instances(plan, step, target);
            if step.kind == StepKind::Install && step.hop == hop {
                if let Some(service) = &step.service {
                    let key = (service.clone(), step.host.clone());
                    if is_installed.insert(key.clone()) {
                        walked.installed.push(key);
                    }
                }
            }
            if step.kind == StepKind::Backup && step.rollback_point && state == StepState::Done {
                if let Some(service) = &step.service {
                    walked.backups.insert(service.clone(), step);
                    walked.changed.remove(service);
                }
            }
            if step.hop == hop && irreversible(catalog, step) {
                if let Some(service) = &step.service {
                    walked
                        .changed
                        .entry(service.clone())
                        .or_default()
                        .push(step.id.clone());
                }
            }
        }
        walked
    }

    /// Every instance and service of the plan, first seen first.
    fn list_instances(&mut self, plan: &Plan) {
        let mut seen_services: FxHashSet<&str> = FxHashSet::default();
        for step in &plan.steps {
            if let (StepKind::Stop | StepKind::Start, Some(component)) =
                (step.kind, step.component.as_deref())
            {
                let instance = (component.to_owned(), step.host.clone());
                if self.in_order.insert(instance.clone()) {
                    self.order.push(instance);
                }
            }
            if let Some(service) = &step.service {
                if seen_services.insert(service) {
                    self.service_order.push(service.clone());
                }
            }
        }
    }

    /// What a stop or start that began did to its instance.
    fn follow_instances(&mut self, plan: &Plan, step: &Step, target: &str) {
        let step_hop = plan.hops.get(step.hop).map_or(target, |h| &h.to);
        match (step.kind, step.component.as_deref()) {
            (StepKind::Stop, Some(component)) => {
                self.running
                    .insert((component.to_owned(), step.host.clone()), None);
            }
            (StepKind::Start, Some(component)) => {
                let release = step.release.clone().unwrap_or_else(|| step_hop.to_owned());
                self.running
                    .insert((component.to_owned(), step.host.clone()), Some(release));
            }
            _ => {}
        }
    }

    /// Every service an irreversible step of hop `hop` changed since its last rollback
    /// point, with that backup, which must be done and taken at `start_release`.
    pub(super) fn changed_services(
        &self,
        hop: usize,
        start_release: &str,
    ) -> Result<Vec<Changed>, String> {
        let mut changed = Vec::new();
        for (service, steps) in &self.changed {
            let Some(backup) = self.backups.get(service) else {
                return Err(format!(
                    "step {} changed {service}'s databases irreversibly, but no backup of {service} is done: restore by hand",
                    steps[0]
                ));
            };
            let release = backup
                .release
                .clone()
                .unwrap_or_else(|| start_release.to_owned());
            if release != start_release {
                return Err(format!(
                    "step {} changed {service}'s databases in hop {hop}, but its last backup {} is at {release}, not {start_release}",
                    steps[0], backup.id
                ));
            }
            changed.push(Changed {
                service: service.clone(),
                databases: backup.databases.clone().unwrap_or_default(),
                backup: backup.id.clone(),
                release,
                steps: steps.clone(),
            });
        }
        Ok(changed)
    }
}
