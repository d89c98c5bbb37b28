//! The steps of a recovery, section by section: stop, restore, reinstall, start, check.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{at, derived_restore, postcheck, Changed, Instance, RecoveryOptions, Walked};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::plan::{Phase, Plan, Step, StepKind};
use crate::service::Role;

/// The recovery's steps as they are made, back to the release the hop started from.
pub(super) struct Recovering<'a> {
    catalog: &'a Catalog,
    start_release: &'a str,
    hop: usize,
    /// The services whose databases are restored.
    restored: Vec<String>,
    /// The instances the recovery stops.
    stopped: FxHashSet<Instance>,
    pub(super) steps: Vec<Step>,
}

impl<'a> Recovering<'a> {
    pub(super) fn new(
        catalog: &'a Catalog,
        start_release: &'a str,
        hop: usize,
        changed: &[Changed],
    ) -> Recovering<'a> {
        Recovering {
            catalog,
            start_release,
            hop,
            restored: changed.iter().map(|c| c.service.clone()).collect(),
            stopped: FxHashSet::default(),
            steps: Vec::new(),
        }
    }

    /// The service of `component`, unless it is data plane (which keeps running).
    fn service_of(&self, component: &str) -> Option<String> {
        let catalog = self.catalog;
        catalog
            .component_id(component)
            .map(|id| catalog.component(id))
            .filter(|c| c.role != Role::Dataplane)
            .map(|c| catalog.service(c.service).name.clone())
    }

    /// (1) Stops what runs at another release, and everything of a service to restore.
    /// Returns the ids of the stops per service.
    pub(super) fn stop(&mut self, walked: &Walked<'_>) -> FxHashMap<Option<String>, Vec<String>> {
        let start_release = self.start_release;
        let mut stops_of: FxHashMap<Option<String>, Vec<String>> = FxHashMap::default();
        for instance in &walked.order {
            // An instance no step that began touched still runs the release the hop
            // started from: it too must stop while its service's databases are restored.
            let release = match walked.running.get(instance) {
                Some(Some(release)) => release.as_str(),
                Some(None) => continue,
                None => start_release,
            };
            let service = self.service_of(&instance.0);
            let restored = service
                .as_deref()
                .is_some_and(|s| self.restored.iter().any(|r| r == s));
            if release == start_release && !restored {
                continue;
            }
            let id = at(&format!("r.stop.{}", instance.0), instance.1.as_deref());
            let reason = format!(
                "stop {} (running at {release}) before going back to {start_release}",
                instance.0
            );
            let mut step = Step::new(id, 0, StepKind::Stop, reason).in_phase(Phase::Stop);
            step.service = service;
            step.component = Some(instance.0.clone());
            step.release = Some(release.to_owned());
            step.host.clone_from(&instance.1);
            step.disable = true;
            stops_of
                .entry(step.service.clone())
                .or_default()
                .push(step.id.clone());
            self.stopped.insert(instance.clone());
            self.steps.push(step);
        }
        stops_of
    }

    /// (2) Restores the databases changed since their last rollback point, each after every
    /// stop of its service (the others may run on: their databases stay).
    pub(super) fn restore(
        &mut self,
        walked: &Walked<'_>,
        changed: &[Changed],
        stops_of: &FxHashMap<Option<String>, Vec<String>>,
        options: &RecoveryOptions<'_>,
    ) -> Result<()> {
        for change in changed {
            let backup = walked.backups[&change.service];
            let command = restore_command(backup, change, options)?;
            let reason = format!(
                "restore {}'s databases from {} (taken at {}): {} changed them irreversibly",
                change.service,
                backup.id,
                change.release,
                change.steps.join(", ")
            );
            let id = format!("r.restore.{}", change.service);
            let mut step = Step::new(id, 0, StepKind::Restore, reason).in_phase(Phase::Restore);
            step.service = Some(change.service.clone());
            step.release = Some(change.release.clone());
            step.databases = Some(change.databases.clone());
            step.command = Some(command);
            step.restores = Some(backup.id.clone());
            step.requires = stops_of
                .get(&Some(change.service.clone()))
                .cloned()
                .unwrap_or_default();
            self.steps.push(step);
        }
        Ok(())
    }

    /// (3) Reinstalls the release the hop started from where the hop installed its target.
    /// Returns the ids of the reinstalls per (service, host).
    pub(super) fn reinstall(
        &mut self,
        walked: &Walked<'_>,
    ) -> FxHashMap<(String, Option<String>), String> {
        let (catalog, start_release, hop) = (self.catalog, self.start_release, self.hop);
        let mut install_of = FxHashMap::default();
        for (service, host) in &walked.installed {
            let id = at(&format!("r.install.{service}"), host.as_deref());
            install_of.insert((service.clone(), host.clone()), id.clone());
            let reason = format!(
                "reinstall {service} at {start_release}, the release hop {hop} started from"
            );
            let mut step = Step::new(id, 0, StepKind::Install, reason).in_phase(Phase::Install);
            step.service = Some(service.clone());
            step.release = Some(start_release.to_owned());
            step.host.clone_from(host);
            step.version = catalog
                .service_id(service)
                .zip(catalog.release_id(start_release))
                .and_then(|(s, r)| {
                    catalog
                        .service(s)
                        .versions
                        .get(r.index())
                        .cloned()
                        .flatten()
                })
                .map(|version| version.to_string());
            self.steps.push(step);
        }
        install_of
    }

    /// (4) Starts everything at that release, in the plan's order of starts, each after its
    /// service's restore and its reinstall on its host, where there are.
    pub(super) fn start(
        &mut self,
        plan: &Plan,
        walked: &Walked<'_>,
        install_of: &FxHashMap<(String, Option<String>), String>,
    ) {
        let start_release = self.start_release;
        for instance in starts_in_order(plan, walked) {
            let now = walked
                .running
                .get(instance)
                .map_or(Some(start_release), Option::as_deref);
            if now == Some(start_release) && !self.stopped.contains(instance) {
                continue;
            }
            let Some(service) = self.service_of(&instance.0) else {
                continue;
            };
            let id = at(&format!("r.start.{}", instance.0), instance.1.as_deref());
            let reason = format!("start {} at {start_release}", instance.0);
            let mut step = Step::new(id, 0, StepKind::Start, reason).in_phase(Phase::Start);
            if self.restored.contains(&service) {
                step.requires.push(format!("r.restore.{service}"));
            }
            if let Some(install) = install_of.get(&(service.clone(), instance.1.clone())) {
                step.requires.push(install.clone());
            }
            step.service = Some(service);
            step.component = Some(instance.0.clone());
            step.release = Some(start_release.to_owned());
            step.host.clone_from(&instance.1);
            step.enable = true;
            self.steps.push(step);
        }
    }

    /// (5) Checks every service, after all of its starts.
    pub(super) fn check(&mut self, services: &[String]) {
        for service in services {
            let starts: Vec<String> = self
                .steps
                .iter()
                .filter(|s| s.kind == StepKind::Start && s.service.as_ref() == Some(service))
                .map(|s| s.id.clone())
                .collect();
            let step = postcheck(self.catalog, service, self.start_release, starts);
            self.steps.push(step);
        }
    }
}

/// The command that restores `change` from `backup`: the operator's template, or the one
/// matching the backup's command.
fn restore_command(
    backup: &Step,
    change: &Changed,
    options: &RecoveryOptions<'_>,
) -> Result<String> {
    if let Some(template) = options.restore_command {
        return Ok(crate::text::fill_template(template, |name| match name {
            "service" => Some(change.service.as_str()),
            "release" => Some(change.release.as_str()),
            "backup" => backup.command.as_deref(),
            _ => None,
        })
        .replace("{databases}", &change.databases.join(" ")));
    }
    backup
        .command
        .as_deref()
        .and_then(|command| derived_restore(command, &change.databases))
        .ok_or_else(|| Error::BadPlan {
            file: options.file.to_owned(),
            message: format!(
                "cannot tell how to restore backup {} (command {:?}): give a restore command",
                backup.id,
                backup.command.as_deref().unwrap_or("")
            ),
            source: None,
        })
}

/// The instances in the plan's order of starts, then those the plan never starts.
fn starts_in_order<'w>(plan: &Plan, walked: &'w Walked<'_>) -> Vec<&'w Instance> {
    let mut starts: Vec<&Instance> = Vec::new();
    let mut in_starts: FxHashSet<&Instance> = FxHashSet::default();
    for step in &plan.steps {
        if let (StepKind::Start, Some(component)) = (step.kind, step.component.as_deref()) {
            let key = (component.to_owned(), step.host.clone());
            if let Some(instance) = walked.in_order.get(&key) {
                if in_starts.insert(instance) {
                    starts.push(instance);
                }
            }
        }
    }
    for instance in &walked.order {
        if in_starts.insert(instance) {
            starts.push(instance);
        }
    }
    starts
}
