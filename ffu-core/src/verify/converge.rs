//! V15 converge: every step of phase `converge` comes after the last `start` of every
//! component of its service in the plan (a converge step that concerns no service is not
//! judged); a temporary setting (a `config` step whose edit is `temporary`, action `set`)
//! is removed again by a later `config` step of phase `converge` (action `unset`, the same
//! file, section and option, and the same host where both name one).
//!
//! A plan without any `phase` (written by an older tool) is not checked.

use rustc_hash::FxHashMap as HashMap;

use super::{Context, Violation};
use crate::plan::{ConfigEdit, ConfigEditAction, Phase, Step, StepKind};

/// V15, in step order: converge steps before a start, then temporary settings never
/// removed.
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    if !context.phased {
        return;
    }
    check_after_last_starts(context, out);
    check_temporary_settings(context, out);
}

/// Each converge step comes after the last start of every component of its service.
fn check_after_last_starts(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    // Per service: the last start of any of its components, with that component.
    let mut last_start: Vec<Option<usize>> = vec![None; catalog.services().len()];
    for (index, step) in context.steps() {
        if let (StepKind::Start, Some(component)) = (step.kind, context.component[index]) {
            last_start[catalog.component(component).service.index()] = Some(index);
        }
    }
    for (index, step) in context.steps() {
        if step.phase != Some(Phase::Converge) {
            continue;
        }
        let Some(service) = context.step_service(index) else {
            continue;
        };
        let Some(start) = last_start[service.index()].filter(|&start| start > index) else {
            continue;
        };
        let component =
            context.component[start].map_or("?", |c| catalog.component(c).name.as_str());
        out.push(Violation::new(
            "V15",
            format!(
                "converge step {} comes before {}, the last start of {component}: converge runs once every {} component has started",
                step.id,
                context.plan.steps[start].id,
                catalog.service(service).name
            ),
            vec![step.id.clone(), context.id(start)],
        ));
    }
}

/// The place a configuration edit changes: file, section, option.
type Place<'a> = (&'a str, &'a str, &'a str);

fn place(edit: &ConfigEdit) -> Place<'_> {
    (&edit.file, &edit.section, &edit.option)
}

/// Each temporary setting has a later converge step that removes it.
fn check_temporary_settings(context: &Context, out: &mut Vec<Violation>) {
    // Per place: the converge steps that remove a setting there, in step order.
    let mut removals: HashMap<Place<'_>, Vec<usize>> = HashMap::default();
    for (index, step) in context.steps() {
        let Some(edit) = step.config.as_ref() else {
            continue;
        };
        if step.kind == StepKind::Config
            && step.phase == Some(Phase::Converge)
            && edit.action == ConfigEditAction::Unset
        {
            removals.entry(place(edit)).or_default().push(index);
        }
    }
    for (index, step) in context.steps() {
        let Some(edit) = step.config.as_ref() else {
            continue;
        };
        if step.kind != StepKind::Config || !edit.temporary || edit.action != ConfigEditAction::Set
        {
            continue;
        }
        let removed = removals.get(&place(edit)).is_some_and(|later| {
            later
                .iter()
                .any(|&at| at > index && same_host(step, &context.plan.steps[at]))
        });
        if removed {
            continue;
        }
        out.push(Violation::at(
            "V15",
            format!(
                "step {} sets [{}]{} in {} for the upgrade only, but no later converge step removes it",
                step.id, edit.section, edit.option, edit.file
            ),
            &step.id,
        ));
    }
}

/// Whether two steps run on the same host, as far as they say (a step without a host
/// runs wherever the other does).
fn same_host(one: &Step, other: &Step) -> bool {
    one.host.is_none() || other.host.is_none() || one.host == other.host
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        kit, kit_with_tasks, messages, move_after, move_before, of_rule, offline, phased,
        plan_with_tasks, remove, step,
    };
    use crate::plan::Phase;

    #[test]
    fn converge_comes_after_the_last_starts() {
        let catalog = kit();
        let plan = phased(&catalog, offline(&catalog, "r1", "r2", false));
        assert_eq!(messages(&catalog, &plan, "V15"), Vec::<String>::new());
        let catalog = kit_with_tasks();
        assert_eq!(
            messages(&catalog, &plan_with_tasks(&catalog), "V15"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_converge_step_before_a_start() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r1", "r2", false));
        move_before(&mut plan, "h0.compute.r2.online", "h0.start.compute-agent");
        let v15 = of_rule(&catalog, &plan, "V15");
        assert_eq!(v15.len(), 1, "{v15:?}");
        assert_eq!(
            v15[0].message,
            "converge step h0.compute.r2.online comes before h0.start.compute-agent, the last start of compute-agent: converge runs once every compute component has started"
        );
        assert_eq!(
            v15[0].steps,
            ["h0.compute.r2.online", "h0.start.compute-agent"]
        );
        // Another service's start does not hold it back.
        let mut plan = phased(&catalog, offline(&catalog, "r1", "r2", false));
        remove(&mut plan, "h0.postcheck.ident");
        move_after(&mut plan, "h0.start.ident-api", "h0.postcheck.compute");
        assert_eq!(messages(&catalog, &plan, "V15"), Vec::<String>::new());
    }

    #[test]
    fn a_temporary_setting_never_removed() {
        let catalog = kit_with_tasks();
        let setting = "step h0.compute.r2.workaround sets [workarounds]skip_check in /etc/compute.conf for the upgrade only, but no later converge step removes it";
        let mut plan = plan_with_tasks(&catalog);
        remove(&mut plan, "h0.compute.r2.workaround.unset");
        assert_eq!(messages(&catalog, &plan, "V15"), [setting]);
        // Removed outside converge, on another host, or before it is set: not removed.
        for edit in [
            (|s: &mut crate::plan::Step| s.phase = Some(Phase::Start)) as fn(&mut _),
            |s| s.host = Some("c1".into()),
            |s| {
                if let Some(edit) = s.config.as_mut() {
                    edit.option = "other".into();
                }
            },
        ] {
            let mut plan = plan_with_tasks(&catalog);
            step(&mut plan, "h0.compute.r2.workaround").host = Some("c2".into());
            edit(step(&mut plan, "h0.compute.r2.workaround.unset"));
            assert_eq!(messages(&catalog, &plan, "V15"), [setting]);
        }
        let mut plan = plan_with_tasks(&catalog);
        move_before(
            &mut plan,
            "h0.compute.r2.workaround.unset",
            "h0.compute.r2.workaround",
        );
        assert!(messages(&catalog, &plan, "V15").contains(&setting.to_owned()));
    }

    #[test]
    fn plans_without_phases_are_not_checked() {
        let catalog = kit_with_tasks();
        let mut plan = plan_with_tasks(&catalog);
        remove(&mut plan, "h0.compute.r2.workaround.unset");
        move_before(&mut plan, "h0.compute.r2.online", "h0.start.compute-agent");
        for step in &mut plan.steps {
            step.phase = None;
        }
        assert_eq!(messages(&catalog, &plan, "V15"), Vec::<String>::new());
    }
}
