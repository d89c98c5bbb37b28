//! The real documents the cases start from.

use super::*;

pub(crate) fn data_text(name: &str) -> String {
    std::fs::read_to_string(common::data(name)).expect("test data")
}

/// The catalog's JSON as a tree.
pub(crate) fn tree_of(catalog: &Catalog) -> Value {
    serde_json::from_str(&catalog.to_json().expect("show the catalog")).expect("its JSON")
}

/// Catalogs as YAML or JSON text: the embedded one and those of `tests/data`.
pub(crate) fn catalog_seeds(syntax: Syntax) -> Vec<Seed> {
    let texts = [
        ("openstack", Catalog::openstack_yaml().to_owned()),
        ("small", data_text("small.yaml")),
        ("alembic-test", data_text("alembic-test.yaml")),
    ];
    texts
        .into_iter()
        .map(|(name, yaml)| {
            let catalog = Catalog::from_yaml_str(&yaml, name).expect("a seed catalog loads");
            let tree = tree_of(&catalog);
            match syntax {
                Syntax::Json => {
                    let json = catalog.to_json().expect("show the catalog");
                    Seed::new(&format!("{name}.json"), json, Some(tree))
                }
                _ => Seed::new(&format!("{name}.yaml"), yaml, Some(tree)),
            }
        })
        .collect()
}

/// Inventories of realistic clouds, as trees (written as YAML or JSON when used).
pub(crate) fn inventory_trees() -> Vec<(&'static str, Value)> {
    let pike = |names: &[&str]| -> Value {
        Value::Object(
            names
                .iter()
                .map(|n| ((*n).to_owned(), json!("pike")))
                .collect::<Map<String, Value>>(),
        )
    };
    let at = |release: &str, names: &[&str]| -> Value {
        Value::Object(
            names
                .iter()
                .map(|n| ((*n).to_owned(), json!(release)))
                .collect::<Map<String, Value>>(),
        )
    };
    vec![
        (
            // A pike cloud with a network node: neutron-server and the L3 agent on one host.
            "network-node",
            json!({
                "format": "ffu-inventory/1",
                "hosts": [
                    {"name": "ctl-[1:3]", "components": pike(&[
                        "keystone-api", "glance-api", "cinder-api", "cinder-scheduler",
                        "nova-api", "nova-conductor", "nova-scheduler", "neutron-server",
                        "heat-api", "heat-engine"])},
                    {"name": "net-1", "components": pike(&[
                        "neutron-server", "neutron-l3-agent", "neutron-dhcp-agent",
                        "neutron-metadata-agent", "neutron-openvswitch-agent", "ovs-vswitchd"])},
                    {"name": "cmp-[a:c]-[01:16]", "components": pike(&[
                        "nova-compute", "neutron-openvswitch-agent", "libvirt-guests",
                        "ovs-vswitchd"])},
                    {"name": "spare-1"},
                ]
            }),
        ),
        (
            // A 2023.1 cloud with placement and ironic, computes in a stepped range.
            "antelope",
            json!({
                "format": "ffu-inventory/1",
                "hosts": [
                    {"name": "ctl-[01:03]", "components": at("2023.1", &[
                        "keystone-api", "glance-api", "placement-api", "nova-api",
                        "nova-conductor", "nova-scheduler", "nova-novncproxy", "neutron-server",
                        "ironic-api", "ironic-conductor", "cinder-api", "cinder-scheduler",
                        "cinder-volume"])},
                    {"name": "cmp-[000:200:10]", "components": at("2023.1", &[
                        "nova-compute", "neutron-openvswitch-agent", "libvirt-guests",
                        "ovs-vswitchd"])},
                ]
            }),
        ),
        (
            // A small newton cloud.
            "newton",
            json!({
                "format": "ffu-inventory/1",
                "hosts": [
                    {"name": "ctl-1", "components": at("newton", &[
                        "keystone-api", "glance-api", "nova-api", "nova-conductor",
                        "nova-scheduler", "nova-consoleauth", "neutron-server"])},
                    {"name": "cmp-[1:4]", "components": at("newton", &[
                        "nova-compute", "libvirt-guests", "neutron-openvswitch-agent"])},
                ]
            }),
        ),
    ]
}

/// Inventories as text: the trees written as YAML (or JSON), and those of `tests/data`.
pub(crate) fn inventory_seeds(syntax: Syntax) -> Vec<Seed> {
    let mut seeds: Vec<Seed> = inventory_trees()
        .into_iter()
        .map(|(name, tree)| {
            let text = if syntax == Syntax::Json {
                serde_json::to_string_pretty(&tree).expect("JSON")
            } else {
                let mut out = String::new();
                to_yaml(&tree, 0, &mut out);
                out
            };
            Seed::new(name, text, Some(tree))
        })
        .collect();
    if syntax == Syntax::Yaml {
        for name in ["inventory-pike.yaml", "inventory-mixed.yaml"] {
            seeds.push(Seed::new(name, data_text(name), None));
        }
    }
    seeds
}

/// Plans the planner made, as JSON, with the catalog each was made from.
pub(crate) fn plan_seeds() -> Vec<(Seed, Arc<Catalog>)> {
    let openstack = Arc::new(Catalog::openstack());
    let small = Arc::new(
        Catalog::from_yaml_str(&data_text("small.yaml"), "small.yaml").expect("small catalog"),
    );
    let alembic = Arc::new(
        Catalog::from_yaml_str(&data_text("alembic-test.yaml"), "alembic-test.yaml")
            .expect("alembic-test catalog"),
    );
    let skip = Policy {
        skip_level: true,
        ..Policy::default()
    };
    let rolling = Policy {
        mode: Mode::Rolling,
        max_unavailable: Some("10%".to_owned()),
        ..Policy::default()
    };
    let inventory = Inventory::from_yaml_str(
        &openstack,
        &data_text("inventory-pike.yaml"),
        "inventory-pike.yaml",
    )
    .expect("pike inventory");
    let plans = [
        (
            "newton-queens",
            &openstack,
            openstack.plan("newton", "queens", &Policy::default()),
        ),
        (
            "antelope-epoxy",
            &openstack,
            openstack.plan("2023.1", "2025.1", &skip),
        ),
        (
            "pike-queens-rolling",
            &openstack,
            openstack.plan_request(&PlanRequest::from_inventory(&inventory, "queens", &rolling)),
        ),
        (
            "inventory-pike-queens",
            &openstack,
            openstack.plan_request(&PlanRequest::from_inventory(
                &inventory,
                "queens",
                &Policy::default(),
            )),
        ),
        ("small", &small, small.plan("r1", "r4", &skip)),
        (
            "alembic-test",
            &alembic,
            alembic.plan("r1", "r3", &Policy::default()),
        ),
    ];
    plans
        .into_iter()
        .map(|(name, catalog, plan)| {
            let plan = plan.unwrap_or_else(|err| panic!("seed plan {name}: {err}"));
            let text = plan.to_json();
            let tree = serde_json::from_str(&text).expect("plan JSON");
            (Seed::new(name, text, Some(tree)), Arc::clone(catalog))
        })
        .collect()
}

/// The files under `dir`, by relative `/`-separated name.
pub(crate) fn read_tree(dir: &Path) -> Files {
    fn walk(dir: &Path, prefix: &str, out: &mut Files) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read test data")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if path.is_dir() {
                walk(&path, &rel, out);
            } else {
                out.push((rel, std::fs::read(&path).expect("read test data")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out
}

/// Writes files into a fresh `dir`.
pub(crate) fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("case dir");
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("case subdir");
        }
        std::fs::write(&path, bytes).expect("case file");
    }
}

/// Catalogs split into fragments joined by `include:`: the root first. Each has the
/// files a mutated `include:` list may name to make a loop or a chain too deep.
pub(crate) fn include_sets() -> Vec<Files> {
    let yaml = |value: &Value| {
        let mut out = String::new();
        to_yaml(value, 0, &mut out);
        out.into_bytes()
    };
    let json = |value: &Value| serde_json::to_vec_pretty(value).expect("JSON");
    let split = |catalog: &Catalog| -> Files {
        let Value::Object(tree) = tree_of(catalog) else {
            unreachable!("a catalog is a mapping")
        };
        let mut root = Map::new();
        let mut services = Map::new();
        let mut migrations = Map::new();
        let mut rest = Map::new();
        for (key, value) in tree {
            match key.as_str() {
                "format" | "name" | "releases" | "skip_level" | "edges" => {
                    root.insert(key, value);
                }
                "services" => {
                    services.insert(key, value);
                }
                "migrations" => {
                    migrations.insert(key, value);
                }
                _ => {
                    rest.insert(key, value);
                }
            }
        }
        root.insert(
            "include".to_owned(),
            json!(["services.yaml", "frag/migrations.json"]),
        );
        // Paths in a fragment are relative to the fragment.
        migrations.insert("include".to_owned(), json!(["../rest.yaml"]));
        vec![
            ("root.yaml".to_owned(), yaml(&Value::Object(root))),
            ("services.yaml".to_owned(), yaml(&Value::Object(services))),
            (
                "frag/migrations.json".to_owned(),
                json(&Value::Object(migrations)),
            ),
            ("rest.yaml".to_owned(), yaml(&Value::Object(rest))),
        ]
    };
    let alembic = import_alembic(
        &common::data("alembic/generated"),
        "demo",
        &AlembicLayout::Single {
            release: "r2".to_owned(),
        },
    )
    .expect("import the generated scripts");
    let alembic_root = "format: ffu-catalog/1\nname: demo\ninclude: [fragment.yaml]\nreleases: [{name: r1}, {name: r2}]\nservices:\n  - name: demo\n    components: [{name: demo-server, role: control}]\n";
    let mut sets = vec![
        split(&Catalog::openstack()),
        split(&Catalog::from_yaml_str(&data_text("small.yaml"), "small.yaml").expect("small")),
        vec![
            ("root.yaml".to_owned(), alembic_root.as_bytes().to_vec()),
            ("fragment.yaml".to_owned(), alembic.to_yaml().into_bytes()),
        ],
        vec![("root.yaml".to_owned(), data_text("small.yaml").into_bytes())],
    ];
    // Always there, for mutated includes to name: a loop, and a chain deeper than allowed.
    for set in &mut sets {
        set.push((
            "loop-a.yaml".to_owned(),
            b"include: [loop-b.yaml]\n".to_vec(),
        ));
        set.push((
            "loop-b.yaml".to_owned(),
            b"include: [loop-a.yaml]\n".to_vec(),
        ));
        for depth in 0..20 {
            set.push((
                format!("chain/{depth}.yaml"),
                format!("include: [{}.yaml]\n", depth + 1).into_bytes(),
            ));
        }
    }
    sets
}

/// Odd `include:` entries, relative to the root's directory.
pub(crate) fn odd_includes() -> Vec<String> {
    vec![
        "missing.yaml".to_owned(),
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        "root.yaml".to_owned(),
        "frag".to_owned(),
        "/nonexistent/x.yaml".to_owned(),
        "loop-a.yaml".to_owned(),
        "chain/0.yaml".to_owned(),
        "a".repeat(300),
        "x/".repeat(2100),
        "services.yaml".to_owned(),
        "fragment.yaml\0".to_owned(),
    ]
}
