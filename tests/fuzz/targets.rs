//! The in-process targets: every reader under `catch_unwind`.

use super::*;

/// Catalogs from text, YAML or JSON.
pub(crate) fn fuzz_catalog_text(target: &'static str, syntax: Syntax) {
    fuzz_in_process(target, move |findings, progress| {
        let seeds = catalog_seeds(syntax);
        let name = if syntax == Syntax::Json {
            "fuzz-case.json"
        } else {
            "fuzz-case.yaml"
        };
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let seed = rng.pick(&seeds);
            let other = &rng.pick(&seeds).text;
            let bytes = mutate(&mut rng, seed, syntax, other);
            let files = vec![(name.to_owned(), bytes)];
            progress.begin(case, &files);
            // The text readers take `str`; invalid UTF-8 reaches them as replacement
            // characters (the file readers see the bytes: the `catalog_files` target).
            let text = String::from_utf8_lossy(&files[0].1);
            let loaded = guarded(|| match syntax {
                Syntax::Json => Catalog::from_json_str(&text, name),
                _ => Catalog::from_yaml_str(&text, name),
            });
            let found = judge_catalog(
                loaded,
                "panic in reading a catalog",
                &|file| file == name,
                findings,
                &mut rng,
            );
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

/// What a catalog read came to: a panic, an error that must name an `accepted` file, or a
/// catalog that goes on as a user's next command would take it.
fn judge_catalog(
    loaded: Result<Result<Catalog, Error>, String>,
    panic_rule: &str,
    accepted: &dyn Fn(&str) -> bool,
    findings: &Findings,
    rng: &mut Rng,
) -> Option<Broken> {
    match loaded {
        Err(panic) => Some(broken(panic_rule, panic)),
        Ok(Err(err)) => check_reader_error(&err, accepted),
        Ok(Ok(catalog)) => {
            findings.accepted.fetch_add(1, Ordering::Relaxed);
            exercise_catalog(rng, &catalog)
        }
    }
}

#[test]
pub(crate) fn catalog_yaml() {
    fuzz_catalog_text("catalog_yaml", Syntax::Yaml);
}

#[test]
pub(crate) fn catalog_json() {
    fuzz_catalog_text("catalog_json", Syntax::Json);
}

/// A case of the include sets: one file mutated, or the root's `include:` list (then also
/// the odd entry put in it).
pub(crate) fn mutate_include_set(
    rng: &mut Rng,
    set: &[(String, Vec<u8>)],
    other: &str,
) -> (Files, Option<String>) {
    let mut files = set.to_vec();
    if rng.percent(25) {
        // An odd entry in the root's `include:` (written as YAML flow, which every root
        // here can take in place of its own list: a duplicate key is an error too).
        let odd = odd_includes();
        let entry = rng.pick(&odd).clone();
        let line = format!("include: [{}]\n", Value::String(entry.clone()));
        let root = &mut files[0].1;
        let text = String::from_utf8_lossy(root).into_owned();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("include:"))
            .collect();
        *root = format!("{line}{}\n", kept.join("\n")).into_bytes();
        return (files, Some(entry));
    }
    // The root half the time, else a fragment (not the loop or chain files).
    let fragments = files
        .iter()
        .take_while(|(name, _)| !name.starts_with("loop-"))
        .count();
    let index = if rng.percent(50) {
        0
    } else {
        rng.below(fragments)
    };
    let (name, bytes) = &files[index];
    let syntax = if has_extension(name, "json") {
        Syntax::Json
    } else {
        Syntax::Yaml
    };
    let seed = Seed::new(name, String::from_utf8_lossy(bytes).into_owned(), None);
    files[index].1 = mutate(rng, &seed, syntax, other);
    (files, None)
}

#[test]
pub(crate) fn catalog_files() {
    let target = "catalog_files";
    fuzz_in_process(target, move |findings, progress| {
        let sets = include_sets();
        let dir = common::temp_dir("fuzz-catalog-files");
        let case_dir = dir.join("case");
        let prefix = case_dir.display().to_string();
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let set = rng.pick(&sets);
            let other_set = rng.pick(&sets);
            let other = String::from_utf8_lossy(&rng.pick(other_set).1).into_owned();
            let (files, _) = mutate_include_set(&mut rng, set, &other);
            progress.begin(case, &files);
            write_files(&case_dir, &files);
            let root = case_dir.join("root.yaml");
            let loaded = guarded(|| Catalog::from_path(&root));
            let accepted =
                |file: &str| file.starts_with(&prefix) || file.starts_with("/nonexistent");
            let found = judge_catalog(
                loaded,
                "panic in reading a catalog file",
                &accepted,
                findings,
                &mut rng,
            );
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

#[test]
pub(crate) fn inventories() {
    let target = "inventories";
    fuzz_in_process(target, move |findings, progress| {
        let catalog = Catalog::openstack();
        let yaml = inventory_seeds(Syntax::Yaml);
        let json = inventory_seeds(Syntax::Json);
        let releases: Vec<String> = catalog.releases().iter().map(|r| r.name.clone()).collect();
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let syntax = if rng.percent(25) {
                Syntax::Json
            } else {
                Syntax::Yaml
            };
            let seeds = if syntax == Syntax::Json { &json } else { &yaml };
            let seed = rng.pick(seeds);
            let other = &rng.pick(&yaml).text;
            let name = if syntax == Syntax::Json {
                "fuzz-inventory.json"
            } else {
                "fuzz-inventory.yaml"
            };
            let files = vec![(name.to_owned(), mutate(&mut rng, seed, syntax, other))];
            progress.begin(case, &files);
            let text = String::from_utf8_lossy(&files[0].1);
            let loaded = guarded(|| match syntax {
                Syntax::Json => Inventory::from_json_str(&catalog, &text, name),
                _ => Inventory::from_yaml_str(&catalog, &text, name),
            });
            let found = match loaded {
                Err(panic) => Some(broken("panic in reading an inventory", panic)),
                Ok(Err(err)) => check_reader_error(&err, &|file| file == name),
                Ok(Ok(inventory)) if inventory.hosts().len() <= MAX_PLANNED_HOSTS => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    let to = if rng.percent(50) {
                        "queens".to_owned()
                    } else {
                        rng.pick(&releases).clone()
                    };
                    let policy = random_policy(&mut rng, &catalog);
                    let planned = guarded(|| {
                        let _ = catalog.negotiate(&inventory);
                        catalog.plan_request(&PlanRequest::from_inventory(&inventory, &to, &policy))
                    });
                    match planned {
                        Err(panic) => Some(broken("panic in planning an inventory", panic)),
                        Ok(Err(err)) => check_plan_error(&err),
                        Ok(Ok(plan)) => check_own_plan(&catalog, &plan),
                    }
                }
                Ok(Ok(_)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

#[test]
pub(crate) fn plans() {
    let target = "plans";
    fuzz_in_process(target, move |findings, progress| {
        let seeds = plan_seeds();
        let name = "fuzz-plan.json";
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let (seed, catalog) = rng.pick(&seeds);
            let other = &rng.pick(&seeds).0.text;
            let files = vec![(name.to_owned(), mutate(&mut rng, seed, Syntax::Json, other))];
            progress.begin(case, &files);
            let text = String::from_utf8_lossy(&files[0].1);
            let found = match guarded(|| Plan::from_json(&text, name)) {
                Err(panic) => Some(broken("panic in reading a plan", panic)),
                Ok(Err(err)) => check_reader_error(&err, &|file| file == name),
                Ok(Ok(plan)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    // What `ffu verify` does, and what Python's Plan.from_json(...).to_text()
                    // and .to_json() do with a plan nobody checked.
                    let used = guarded(|| {
                        let verified = verify(catalog, &plan);
                        let _ = render::text(&plan, Some(catalog));
                        let _ = render::dot(&plan);
                        // What `ffu estimate`, `ffu recover` (half the run done) and
                        // `ffu plan --window` do with it: errors, never panics.
                        let _ = ffu_core::estimate::estimate(&plan, catalog);
                        let half = plan.steps.len() / 2;
                        let states: Vec<_> = (0..plan.steps.len())
                            .map(|i| {
                                if i < half {
                                    ffu_core::sql::StepState::Done
                                } else {
                                    ffu_core::sql::StepState::Pending
                                }
                            })
                            .collect();
                        let options = ffu_core::recovery::RecoveryOptions {
                            restore_command: None,
                            checksum: "fuzz",
                            file: name,
                        };
                        if let Ok(recovery) =
                            ffu_core::recovery::recovery_plan(catalog, &plan, &states, &options)
                        {
                            let _ = verify(catalog, &recovery);
                        }
                        let limits = ffu_core::windows::WindowLimits {
                            limit_s: 3600,
                            max_hosts: Some(2),
                        };
                        let _ = ffu_core::windows::split(&plan, catalog, limits);
                        let again = Plan::from_json(&plan.to_json(), name);
                        (verified, again)
                    });
                    match used {
                        Err(panic) => Some(broken("panic in verifying or writing a plan", panic)),
                        Ok((Err(err), _)) => check_plan_error(&err),
                        Ok((Ok(_), Err(err))) => Some(broken(
                            "a plan read does not read back from its own JSON",
                            err.to_string(),
                        )),
                        Ok((Ok(_), Ok(again))) if again != plan => Some(broken(
                            "a plan read changes through to_json and from_json",
                            String::new(),
                        )),
                        Ok(_) => None,
                    }
                }
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

pub(crate) fn has_extension(name: &str, extension: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case(extension))
}

/// Script names of a directory snapshot.
pub(crate) fn scripts(files: &[(String, Vec<u8>)]) -> Vec<usize> {
    (0..files.len())
        .filter(|&i| has_extension(&files[i].0, "py"))
        .collect()
}

/// One to three mutations of an alembic directory: a script's text, or whole scripts.
pub(crate) fn mutate_alembic(
    rng: &mut Rng,
    snapshot: &[(String, Vec<u8>)],
    pool: &[String],
) -> Files {
    let mut files = snapshot.to_vec();
    for _ in 0..=rng.below(3) {
        let list = scripts(&files);
        if list.is_empty() {
            break;
        }
        let index = *rng.pick(&list);
        match rng.below(10) {
            0 => {
                files.remove(index);
            }
            1 => {
                // The same revision twice.
                let copy = files[index].1.clone();
                files.push((format!("copy_{}", files[index].0), copy));
            }
            2 => {
                // Out of the `<release>/<expand|contract>/` layout.
                let base = files[index]
                    .0
                    .rsplit('/')
                    .next()
                    .unwrap_or("x.py")
                    .to_owned();
                let dirs = [
                    "",
                    "weird/",
                    "a/b/c/d/e/",
                    "newton/sideways/",
                    "ocata/expand/deeper/",
                ];
                files[index].0 = format!("{}{base}", rng.pick(&dirs));
            }
            3 => {
                let junk = *rng.pick(&[
                    &b""[..],
                    &b"revision = 'init'\n"[..],
                    &b"\xff\xfe"[..],
                    &b"revision = '"[..],
                ]);
                let name = *rng.pick(&["__init__.py", ".hidden.py", "empty.py", "notes.txt"]);
                files.push((name.to_owned(), junk.to_vec()));
            }
            _ => {
                let text = String::from_utf8_lossy(&files[index].1).into_owned();
                let seed = Seed {
                    name: files[index].0.clone(),
                    text,
                    tree: None,
                    pool: pool.to_vec(),
                };
                let other_index = *rng.pick(&list);
                let other = String::from_utf8_lossy(&files[other_index].1).into_owned();
                files[index].1 = mutate(rng, &seed, Syntax::Python, &other);
            }
        }
    }
    files
}

#[test]
pub(crate) fn alembic_scripts() {
    let target = "alembic_scripts";
    fuzz_in_process(target, move |findings, progress| {
        let generated = read_tree(&common::data("alembic/generated"));
        let neutron = read_tree(&common::data("alembic/neutron"));
        // Revision ids, to make duplicates and cycles.
        let pool = |files: &Files| -> Vec<String> {
            files
                .iter()
                .filter_map(|(name, _)| {
                    name.rsplit('/')
                        .next()?
                        .split('_')
                        .next()
                        .map(str::to_owned)
                })
                .collect()
        };
        let pools = [pool(&generated), pool(&neutron)];
        let dir = common::temp_dir("fuzz-alembic");
        let case_dir = dir.join("case");
        let prefix = case_dir.display().to_string();
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let which = rng.below(2);
            let snapshot = if which == 0 { &generated } else { &neutron };
            let files = mutate_alembic(&mut rng, snapshot, &pools[which]);
            let releases_dirs = if which == 0 {
                rng.percent(15)
            } else {
                rng.percent(85)
            };
            let layout = if releases_dirs {
                AlembicLayout::ReleaseDirs
            } else {
                let huge = "r".repeat(5000);
                let releases = ["r2", "", "newton", "no such", huge.as_str()];
                AlembicLayout::Single {
                    release: (*rng.pick(&releases)).to_owned(),
                }
            };
            let service = *rng.pick(&["neutron", "demo", "", "a b"]);
            progress.begin(case, &files);
            write_files(&case_dir, &files);
            let imported = guarded(|| {
                import_alembic(&case_dir, service, &layout).map(|import| {
                    let json = import.to_json();
                    let _ = import.to_yaml();
                    serde_json::from_str::<Value>(&json).is_ok()
                })
            });
            let found = match imported {
                Err(panic) => Some(broken("panic in importing alembic scripts", panic)),
                Ok(Err(err)) => check_reader_error(&err, &|file| file.starts_with(&prefix)),
                Ok(Ok(true)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    None
                }
                Ok(Ok(false)) => Some(broken(
                    "an alembic import writes JSON that does not parse",
                    String::new(),
                )),
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}
