//! What follows a successful read: the user's next command.

use super::*;

/// A policy for a plan, now and then odd.
pub(crate) fn random_policy(rng: &mut Rng, catalog: &Catalog) -> Policy {
    let services = rng.percent(15).then(|| {
        let mut names: Vec<String> = catalog
            .services()
            .iter()
            .filter(|_| rng.percent(50))
            .map(|s| s.name.clone())
            .collect();
        if rng.percent(20) {
            names.push("no-such-service".to_owned());
        }
        names
    });
    let rolling = rng.percent(25);
    Policy {
        mode: if rolling {
            Mode::Rolling
        } else {
            Mode::Offline
        },
        skip_level: rng.percent(30),
        keep_dataplane: rng.percent(90),
        services,
        max_unavailable: (rolling && rng.percent(50)).then(|| {
            (*rng.pick(&[
                "1",
                "2",
                "10%",
                "0",
                "0%",
                "-1",
                "abc",
                "100%",
                "1000%",
                "99999999999999999999",
                "",
            ]))
            .to_owned()
        }),
        repo_command: rng.percent(20).then(|| "repos {release}".to_owned()),
        ..Policy::default()
    }
}

/// A plan the planner made: it must pass its own verification, come back equal through
/// JSON, and render.
pub(crate) fn check_own_plan(catalog: &Catalog, plan: &Plan) -> Option<Broken> {
    let outcome = guarded(|| {
        let json = plan.to_json();
        let again = Plan::from_json(&json, "own-plan.json");
        let violations = verify(catalog, plan);
        let _ = render::text(plan, Some(catalog));
        let _ = render::dot(plan);
        (again, violations)
    });
    let (again, violations) = match outcome {
        Ok(result) => result,
        Err(panic) => return Some(broken("panic with a plan the planner made", panic)),
    };
    match again {
        Ok(again) if again == *plan => {}
        Ok(_) => {
            return Some(broken(
                "the planner's plan changes through to_json and from_json",
                format!("{} -> {}", plan.from, plan.to),
            ))
        }
        Err(err) => {
            return Some(broken(
                "the planner's plan does not read back from its JSON",
                err.to_string(),
            ))
        }
    }
    match violations {
        Ok(list) if list.is_empty() => None,
        Ok(list) => {
            let shown: Vec<String> = list.iter().take(3).map(ToString::to_string).collect();
            Some(broken(
                "the planner's plan fails its own verify",
                format!(
                    "{} -> {} ({:?}): {} violations: {}",
                    plan.from,
                    plan.to,
                    plan.policy.mode,
                    list.len(),
                    shown.join(" | ")
                ),
            ))
        }
        Err(err) => Some(broken("verify refuses the planner's plan", err.to_string())),
    }
}

/// A loaded catalog, used as the next commands would: shown (and loaded again), and
/// planned between two of its releases.
pub(crate) fn exercise_catalog(rng: &mut Rng, catalog: &Catalog) -> Option<Broken> {
    let shown = guarded(|| {
        if rng.percent(50) {
            catalog
                .to_json()
                .map(|text| Catalog::from_json_str(&text, "shown.json"))
        } else {
            catalog
                .to_yaml()
                .map(|text| Catalog::from_yaml_str(&text, "shown.yaml"))
        }
    });
    match shown {
        Err(panic) => return Some(broken("panic in showing a catalog", panic)),
        Ok(Err(err)) => return Some(broken("a loaded catalog cannot be shown", err.to_string())),
        Ok(Ok(Err(err))) => {
            return Some(broken(
                "a shown catalog does not load again",
                err.to_string(),
            ))
        }
        Ok(Ok(Ok(_))) => {}
    }
    let releases: Vec<String> = catalog.releases().iter().map(|r| r.name.clone()).collect();
    if releases.is_empty() || rng.percent(30) {
        return None;
    }
    let a = rng.below(releases.len());
    let b = rng.below(releases.len());
    let (from, to) = if rng.percent(85) {
        (&releases[a.min(b)], &releases[a.max(b)])
    } else {
        (&releases[a], &releases[b])
    };
    let policy = random_policy(rng, catalog);
    match guarded(|| catalog.plan(from, to, &policy)) {
        Err(panic) => Some(broken(
            "panic in planning",
            format!("{from} -> {to}: {panic}"),
        )),
        Ok(Err(err)) => check_plan_error(&err),
        Ok(Ok(plan)) => check_own_plan(catalog, &plan),
    }
}
