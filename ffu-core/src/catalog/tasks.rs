//! Validating the catalog's `tasks` (DESIGN §8): every name resolved, ids unique among
//! tasks and migrations, a configuration edit complete, and `requires` acyclic among tasks.
//!
//! Whether a task's requirement runs before it depends on the plan (the phases of the hop
//! that runs it); the planner refuses a plan where it does not, with the chain of facts.

use rustc_hash::FxHashMap as HashMap;

use super::document::{CatalogDoc, TaskDoc};
use super::validate::{Context, Migrations, Services};
use crate::error::Result;
use crate::plan::{CodeSide, ConfigEdit, ConfigEditAction};
use crate::task::{Requirement, Task, TaskId, TaskPhase};

/// The catalog's tasks, in catalog order, and their ids.
pub(super) fn build_tasks(
    doc: &CatalogDoc,
    context: &Context<'_>,
    services: &Services,
    migrations: &Migrations,
) -> Result<(Vec<Task>, HashMap<String, TaskId>)> {
    let by_id = index_tasks(doc, context, migrations)?;
    let mut tasks = Vec::with_capacity(doc.tasks.len());
    for (index, written) in doc.tasks.iter().enumerate() {
        let file = context.origins.tasks[index];
        let item = || format!("task {}", written.id);
        let service = services
            .by_name
            .get(&written.service)
            .copied()
            .ok_or_else(|| {
                context.report.invalid(
                    file,
                    item(),
                    &written.service,
                    format!("unknown service {:?}", written.service),
                )
            })?;
        let release = written
            .release
            .as_deref()
            .map(|name| context.release(name, file, &item))
            .transpose()?;
        let (since, until) = context.lifetime(
            written.since.as_deref(),
            written.until.as_deref(),
            file,
            &item,
        )?;
        if release.is_some() && (since.is_some() || until.is_some()) {
            return Err(context.report.invalid(
                file,
                item(),
                "release",
                "a task has either a `release` or a `since`/`until` range, not both".into(),
            ));
        }
        check_action(written, context, file, &item)?;
        let requires = requirements(written, context, migrations, &by_id, file, &item)?;
        tasks.push(Task {
            id: written.id.clone(),
            service,
            release,
            since,
            until,
            phase: written.phase,
            code: written.code.unwrap_or(match written.phase {
                TaskPhase::PrecheckStart | TaskPhase::Prepare => CodeSide::Current,
                _ => CodeSide::Target,
            }),
            on: written.on,
            command: written.command.clone(),
            config: written.config.clone(),
            requires,
            mode: written.mode,
            reason: written.reason.clone(),
            duration_s: written.duration_s,
            x: written.x.0.clone(),
        });
    }
    check_task_cycle(&tasks, context)?;
    Ok((tasks, by_id))
}

/// Each task's id; refuses empty ids and ids used by another task or by a migration.
fn index_tasks(
    doc: &CatalogDoc,
    context: &Context<'_>,
    migrations: &Migrations,
) -> Result<HashMap<String, TaskId>> {
    let mut by_id = HashMap::default();
    for (index, written) in doc.tasks.iter().enumerate() {
        let file = context.origins.tasks[index];
        let item = || format!("task {}", written.id);
        let clash = if written.id.trim().is_empty() {
            Some("empty id")
        } else if by_id
            .insert(written.id.clone(), TaskId(index as u32))
            .is_some()
        {
            Some("duplicate task id")
        } else if migration_named(migrations, &written.id).is_some() {
            Some("a migration has this id already (ids are unique among tasks and migrations)")
        } else {
            None
        };
        if let Some(message) = clash {
            return Err(context
                .report
                .invalid(file, item(), &written.id, message.into()));
        }
    }
    Ok(by_id)
}

/// The migration with id `id`, if any.
fn migration_named(migrations: &Migrations, id: &str) -> Option<crate::migration::MigrationId> {
    migrations
        .by_id
        .get(id, |found| &migrations.list[found.index()].id)
}

/// A task runs a command, makes a configuration edit, or is an action for the operator;
/// a configuration edit names what it needs for its action.
fn check_action(
    written: &TaskDoc,
    context: &Context<'_>,
    file: usize,
    item: &dyn Fn() -> String,
) -> Result<()> {
    let invalid =
        |needle: &str, message: String| Err(context.report.invalid(file, item(), needle, message));
    if written.reason.trim().is_empty() {
        return invalid(
            "reason",
            "a task needs a `reason` saying why it is there".into(),
        );
    }
    let Some(edit) = &written.config else {
        return Ok(());
    };
    if written.command.is_some() {
        return invalid(
            "config",
            "a task has either a `command` or a `config` edit, not both".into(),
        );
    }
    let missing = match edit.action {
        ConfigEditAction::Set | ConfigEditAction::Default if edit.value.is_none() => Some("value"),
        ConfigEditAction::Rename if edit.to.is_none() => Some("to"),
        _ => None,
    };
    if let Some(field) = missing {
        return invalid(
            "config",
            format!("a `{}` edit needs `{field}`", edit.action.as_str()),
        );
    }
    if edit.temporary && edit.action != ConfigEditAction::Set {
        return invalid(
            "temporary",
            "only a `set` edit can be temporary (it is unset again in converge)".into(),
        );
    }
    if edit.temporary && written.phase == TaskPhase::Converge {
        return invalid(
            "temporary",
            "a temporary setting made in converge would be removed at once: set it earlier".into(),
        );
    }
    Ok(())
}

/// The migrations and tasks a task requires; refuses unknown ids and itself.
fn requirements(
    written: &TaskDoc,
    context: &Context<'_>,
    migrations: &Migrations,
    by_id: &HashMap<String, TaskId>,
    file: usize,
    item: &dyn Fn() -> String,
) -> Result<Vec<Requirement>> {
    let mut requires = Vec::with_capacity(written.requires.len());
    for id in &written.requires {
        let found = match (by_id.get(id), migration_named(migrations, id)) {
            (Some(_), _) if *id == written.id => {
                return Err(context.report.invalid(
                    file,
                    item(),
                    id,
                    "a task cannot require itself".into(),
                ));
            }
            (Some(&task), _) => Requirement::Task(task),
            (None, Some(migration)) => Requirement::Migration(migration),
            (None, None) => {
                return Err(context.report.invalid(
                    file,
                    item(),
                    id,
                    format!("`requires` names {id:?}, which is neither a task nor a migration"),
                ))
            }
        };
        requires.push(found);
    }
    Ok(requires)
}

/// Refuses a cycle in `requires` among tasks.
fn check_task_cycle(tasks: &[Task], context: &Context<'_>) -> Result<()> {
    let edges: Vec<Vec<usize>> = tasks
        .iter()
        .map(|task| {
            task.requires
                .iter()
                .filter_map(|requirement| match requirement {
                    Requirement::Task(task) => Some(task.index()),
                    Requirement::Migration(_) => None,
                })
                .collect()
        })
        .collect();
    match super::validate::find_cycle(&edges) {
        None => Ok(()),
        Some(cycle) => {
            let names: Vec<String> = cycle.iter().map(|&i| tasks[i].id.clone()).collect();
            Err(crate::error::Error::Cycle {
                file: context.root().to_owned(),
                what: "tasks (requires)",
                cycle: names,
            })
        }
    }
}

/// The configuration edit a catalog `config_changes` entry asks for, in the file `file`.
pub(crate) fn edit_of_change(change: &crate::extension::ConfigChange, file: String) -> ConfigEdit {
    use crate::extension::ConfigAction;
    let option = change.from.as_deref().unwrap_or("");
    let (section, option) = option.split_once('.').unwrap_or(("DEFAULT", option));
    ConfigEdit {
        file,
        section: section.to_owned(),
        option: option.to_owned(),
        action: match change.action {
            ConfigAction::Rename => ConfigEditAction::Rename,
            ConfigAction::Remove => ConfigEditAction::Remove,
            ConfigAction::Default => ConfigEditAction::Default,
        },
        value: change.value.clone(),
        to: change.to.clone(),
        temporary: false,
    }
}
