"""``ffu import oslo-config`` judged by oslo.config itself.

Real nova wheels from PyPI (``pip download --no-deps``, cached under ``target/oslo-wheels``)
are read twice: by ffu, statically, and by oslo.config, which imports a few of nova's conf
modules (nova's packages are stood in for, so that only those modules' own code runs, not
nova's ``__init__`` with its eventlet and database imports) and builds their options. The
deprecated names and removal flags oslo.config keeps on each option must be those ffu read.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, run_ffu

#: Where the wheels are kept between runs.
CACHE = ROOT / "target" / "oslo-wheels"

#: A queens release and a recent one.
NOVA_VERSIONS = ["17.0.13", "31.0.0"]

#: Conf modules whose imports are oslo.config and nova's own light modules only (others pull
#: keystoneauth1 or oslo.utils in, whose options are theirs, not nova's).
MODULES = ["api", "compute", "libvirt", "scheduler", "vnc", "workarounds", "wsgi", "notifications", "crypto"]

#: An option as compared: (group, name) -> (deprecated names as "GROUP.name", deprecated_for_removal).
Table = dict[tuple[str, str], tuple[frozenset[str], bool]]


def nova_wheel(version: str) -> Path:
    """The nova wheel of `version`, downloaded once into the cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"nova-{version}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", f"nova=={version}", "-d", str(CACHE)],
            check=True, timeout=600,
        )
        found = sorted(CACHE.glob(f"nova-{version}-*.whl"))
    assert found, f"pip downloaded no wheel of nova {version}"
    return found[0]


def unpacked(wheel: Path, into: Path) -> Path:
    """The wheel's nova/ tree, unpacked under `into`."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("nova/") and name.endswith(".py"):
                archive.extract(name, into)
    return into


@pytest.fixture
def nova_modules(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A loader of nova conf modules from an unpacked tree, with nova's packages stood in
    for; everything it put in sys.modules is taken out again afterwards."""
    before = set(sys.modules)

    def load(tree: Path, names: list[str]) -> list[types.ModuleType]:
        # Another tree's modules (another release) must not be found in the cache.
        for name in [n for n in sys.modules if n == "nova" or n.startswith("nova.")]:
            del sys.modules[name]
        for package in ["nova", "nova.conf", "nova.virt"]:
            stand_in = types.ModuleType(package)
            stand_in.__path__ = [str(tree / package.replace(".", "/"))]
            sys.modules[package] = stand_in
        return [importlib.import_module(f"nova.conf.{name}") for name in names]

    yield load
    for name in set(sys.modules) - before:
        del sys.modules[name]


def oslo_table(modules: list[types.ModuleType]) -> Table:
    """What oslo.config knows of the modules' options: each registered in its group on a
    fresh ConfigOpts, then its deprecated names as oslo.config resolves them (a deprecation
    without a group or name keeps the option's own, `Opt._get_from_namespace`)."""
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    table: Table = {}
    for module in modules:
        for group, opts in module.list_opts().items():
            group_name = group.name if isinstance(group, cfg.OptGroup) else str(group)
            conf.register_opts(opts, group=group_name)
            for opt in opts:
                names = frozenset(
                    f"{d.group or group_name}.{(d.name or opt.dest).replace('-', '_')}"
                    for d in opt.deprecated_opts
                ) - {f"{group_name}.{opt.dest}"}
                table[(group_name, opt.dest)] = (names, bool(opt.deprecated_for_removal))
    return table


def ffu_table(source: Path, release: str, modules: list[str]) -> Table:
    """What `ffu import oslo-config` read of the same modules."""
    run = run_ffu("import", "oslo-config", str(source), "--service", "nova", "--release", release,
                  "--format", "options")
    assert run.returncode == 0, run.stderr
    files = tuple(f"nova/conf/{name}.py" for name in modules)
    table: Table = {}
    for option in json.loads(run.stdout)["options"]:
        if option["file"].endswith(files):
            table[(option["group"], option["name"])] = (
                frozenset(option["deprecated"]), option["deprecated_for_removal"])
    return table


def differences(ours: Table, theirs: Table) -> list[str]:
    """Each option on which ffu and oslo.config disagree, said in a line."""
    lines = []
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            lines.append(f"{key[0]}.{key[1]}: ffu {ours.get(key)} oslo.config {theirs.get(key)}")
    return lines


@pytest.mark.parametrize("version", NOVA_VERSIONS)
def test_deprecations_read_statically_are_oslo_configs(
    version: str, tmp_path: Path, nova_modules: Any
) -> None:
    wheel = nova_wheel(version)
    tree = unpacked(wheel, tmp_path)
    present = [name for name in MODULES if (tree / "nova" / "conf" / f"{name}.py").exists()]
    theirs = oslo_table(nova_modules(tree, present))
    # From the wheel itself, as an operator would run it.
    ours = ffu_table(wheel, "any", present)
    assert differences(ours, theirs) == []
    # Enough to mean something: hundreds of options, dozens of them with deprecated names.
    assert len(theirs) > 150
    assert sum(1 for names, _ in theirs.values() if names) > 20


def test_the_comparison_catches_a_misread_deprecation(tmp_path: Path, nova_modules: Any) -> None:
    """ffu reads a tree in which one deprecated name differs from the one oslo.config loads:
    the comparison must name that option."""
    wheel = nova_wheel(NOVA_VERSIONS[0])
    tree = unpacked(wheel, tmp_path / "real")
    theirs = oslo_table(nova_modules(tree, ["scheduler"]))
    mutated = tmp_path / "mutated"
    shutil.copytree(tree, mutated)
    scheduler = mutated / "nova" / "conf" / "scheduler.py"
    text = scheduler.read_text()
    assert 'deprecated_name="scheduler_driver"' in text
    scheduler.write_text(text.replace('deprecated_name="scheduler_driver"', 'deprecated_name="scheduler_drivr"'))
    ours = ffu_table(mutated, "queens", ["scheduler"])
    assert differences(ours, theirs) == [
        "scheduler.driver: ffu (frozenset({'DEFAULT.scheduler_drivr'}), False) "
        "oslo.config (frozenset({'DEFAULT.scheduler_driver'}), False)"
    ]


def test_fragment_names_the_renames_and_loads_through_include(tmp_path: Path) -> None:
    wheel = nova_wheel(NOVA_VERSIONS[0])
    run = run_ffu("import", "oslo-config", str(wheel), "--service", "nova", "--release", "queens")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"# ffu import oslo-config: nova queens, read from {wheel.name}\n")
    assert ("  - {service: nova, release: queens, action: rename, from: DEFAULT.scheduler_driver, "
            "to: scheduler.driver}\n") in run.stdout
    # Options that keystoneauth builds at run time are named, not guessed.
    assert "nova/conf/glance.py" in run.stderr
    fragment = tmp_path / "nova-queens.yaml"
    fragment.write_text(run.stdout)
    root = tmp_path / "catalog.yaml"
    root.write_text(
        "format: ffu-catalog/1\nname: t\nreleases: [{name: pike}, {name: queens}]\n"
        "services: [{name: nova, components: [{name: nova-api, role: control}]}]\n"
        "include: [nova-queens.yaml]\n"
    )
    shown = run_ffu("catalog", "validate", str(root))
    assert shown.returncode == 0, shown.stderr


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.whl", "missing.whl: cannot read file"),
        (lambda d: (d / "not.whl").write_text("plain text") and d / "not.whl", "not a directory, and not a wheel"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "no oslo.config option definitions"),
    ],
)
def test_bad_input_exits_2_naming_it(tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path)
    run = run_ffu("import", "oslo-config", str(path), "--service", "nova", "--release", "queens")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("error: ") and message in run.stderr, run.stderr
    assert str(path.name) in run.stderr


# --- ffu config diff / migrate ---------------------------------------------------------------


def test_config_diff_text_of_the_embedded_catalog() -> None:
    run = run_ffu("config", "diff", "--service", "keystone", "--from", "newton", "--to", "ocata")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        "keystone configuration, newton -> ocata: 1 changes\n"
        "default token.provider = fernet  [ocata: default of token.provider becomes fernet]\n"
    )


def test_config_migrate_refuses_an_option_under_both_names(tmp_path: Path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text("[DEFAULT]\nrabbit_durable_queues = true\n\n[oslo_messaging_rabbit]\n"
                    "amqp_durable_queues = false\n")
    out = tmp_path / "out.conf"
    run = run_ffu("config", "migrate", str(conf), "--service", "nova", "--from", "rocky", "--to", "stein",
                  "-o", str(out))
    assert run.returncode == 2
    assert run.stderr == (
        f"error: {conf}:5:1: option oslo_messaging_rabbit.amqp_durable_queues: set twice: as [DEFAULT] "
        f"rabbit_durable_queues at {conf}:2 and as [oslo_messaging_rabbit] amqp_durable_queues at {conf}:5; "
        "keep one of them\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe[DEFAULT]\n", "not UTF-8"),
        (b"<html>not ini</html>\n", "not an oslo.config INI file"),
    ],
)
def test_config_migrate_bad_files_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_bytes(content)
    run = run_ffu("config", "migrate", str(conf), "--service", "nova", "--from", "rocky", "--to", "stein")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"error: {conf}") and message in run.stderr, run.stderr


def test_python_config_diff_and_migrate(openstack: Any) -> None:
    import ffu

    diff = openstack.config_diff("nova", "rocky", "stein")
    assert {"action": "remove", "from": "DEFAULT.rpc_backend", "release": "stein",
            "steps": ["stein: DEFAULT.rpc_backend removed"]} in diff["changes"]
    migrated = openstack.migrate_config("[DEFAULT]\nrpc_backend = rabbit\n", "nova", "rocky", "stein",
                                        file="nova.conf")
    assert migrated["text"] == "[DEFAULT]\n#ffu-removed(stein) rpc_backend = rabbit\n"
    assert migrated["removed"] == [{"section": "DEFAULT", "option": "rpc_backend", "value": "rabbit",
                                    "line": 2, "release": "stein"}]
    with pytest.raises(ffu.FfuError, match="nova.conf:1:1: not an oslo.config INI file"):
        openstack.migrate_config("x = 1\n", "nova", "rocky", "stein", file="nova.conf")


#: A nova.conf in the shape of a real deployment's: comments, many sections, a multi-line
#: value and a repeated key (a MultiStrOpt). The values of `{...}` are filled in by the test.
DEPLOYED_NOVA_CONF = """\
# Managed by the deployment tool.
[DEFAULT]
# Scheduling, still under the names of older releases.
scheduler_host_manager = host_manager
scheduler_available_filters = nova.scheduler.filters.all_filters
scheduler_available_filters = my.filters.Extra
scheduler_default_filters = RetryFilter,
    AvailabilityZoneFilter,
    ComputeFilter
vncserver_listen = 192.0.2.10
my_ip = 192.0.2.10

[api]
auth_strategy = keystone

[libvirt]
; the hypervisor
virt_type = kvm
"""


def oslo_values(modules: list[types.ModuleType], conf_file: Path) -> dict[tuple[str, str], Any]:
    """Every option's value as oslo.config reads `conf_file` under the modules' definitions."""
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    keys = []
    for module in modules:
        for group, opts in module.list_opts().items():
            group_name = group.name if isinstance(group, cfg.OptGroup) else str(group)
            conf.register_opts(opts, group=group_name)
            keys += [(group_name, opt.dest) for opt in opts]
    conf(args=[], default_config_files=[str(conf_file)])
    values = {}
    for group, name in keys:
        try:
            values[(group, name)] = conf[name] if group == "DEFAULT" else conf[group][name]
        except cfg.NoSuchOptError:
            # A default that names an option of a module not loaded here ($state_path):
            # oslo.config cannot give it, with or without ffu.
            continue
    return values


def test_migrated_file_reads_the_same_under_the_target_release(tmp_path: Path, nova_modules: Any) -> None:
    """The judge of `ffu config migrate`: a catalog made of ffu's own fragments for nova
    queens (17.0.13) and 2025.1 (31.0.0, against queens), a queens nova.conf under old
    names, and oslo.config reading the old file under queens' definitions and the migrated
    one under 2025.1's. Every option both releases have reads the same value, under its new
    name where ffu renamed it."""
    old_wheel, new_wheel = (nova_wheel(v) for v in NOVA_VERSIONS)
    fragments = {}
    for release, wheel, previous in [("queens", old_wheel, None), ("2025.1", new_wheel, old_wheel)]:
        args = ["import", "oslo-config", str(wheel), "--service", "nova", "--release", release]
        run = run_ffu(*args, *(["--previous", str(previous)] if previous else []))
        assert run.returncode == 0, run.stderr
        fragments[release] = tmp_path / f"nova-{release}.yaml"
        fragments[release].write_text(run.stdout)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "format: ffu-catalog/1\nname: t\nreleases: [{name: pike}, {name: queens}, {name: \"2025.1\"}]\n"
        "services: [{name: nova, components: [{name: nova-api, role: control}]}]\n"
        "include: [nova-queens.yaml, nova-2025.1.yaml]\n"
    )
    old_conf = tmp_path / "nova.conf"
    old_conf.write_text(DEPLOYED_NOVA_CONF)
    new_conf = tmp_path / "nova-2025.1.conf"
    run = run_ffu("config", "migrate", str(old_conf), "--catalog", str(catalog), "--service", "nova",
                  "--from", "pike", "--to", "2025.1", "-o", str(new_conf))
    assert run.returncode == 0, run.stderr
    text = new_conf.read_text()
    # Comments and the multi-line value's shape stay.
    assert "# Managed by the deployment tool.\n" in text and "; the hypervisor\n" in text
    assert "enabled_filters = RetryFilter,\n    AvailabilityZoneFilter,\n    ComputeFilter\n" in text
    # 2025.1 has no host_manager any more: kept as a comment, and said with its value.
    assert "#ffu-removed(2025.1) scheduler_host_manager = host_manager\n" in text
    assert f"removed: [DEFAULT] scheduler_host_manager = host_manager ({old_conf}:4; removed in 2025.1)" in run.stderr

    old_tree = unpacked(old_wheel, tmp_path / "old")
    new_tree = unpacked(new_wheel, tmp_path / "new")
    present = [n for n in MODULES if all((t / "nova" / "conf" / f"{n}.py").exists() for t in (old_tree, new_tree))]
    before = oslo_values(nova_modules(old_tree, present), old_conf)
    after = oslo_values(nova_modules(new_tree, present), new_conf)
    diff = json.loads(run_ffu("config", "diff", "--catalog", str(catalog), "--service", "nova", "--from", "pike",
                              "--to", "2025.1", "--format", "json").stdout)
    renamed = {tuple(c["from"].split(".", 1)): [tuple(t.split(".", 1)) for t in c["to"]]
               for c in diff["changes"] if c["action"] == "rename"}
    new_defaults = {tuple(c["from"].split(".", 1)) for c in diff["changes"] if c["action"] == "default"}
    set_in_file = {("filter_scheduler", "available_filters"),
                   ("filter_scheduler", "enabled_filters"), ("vnc", "server_listen"),
                   ("libvirt", "virt_type")}
    compared, mismatched = set(), []
    for key, value in before.items():
        for target in renamed.get(key, [key]):
            # Options 2025.1 no longer has are reported as removed; defaults that changed
            # are in the diff (they matter only where the file leaves an option unset):
            # every other option must read the same.
            if target not in after or (target in new_defaults and target not in set_in_file):
                continue
            compared.add(target)
            if after[target] != value:
                mismatched.append(f"{key} -> {target}: {value!r} != {after[target]!r}")
    assert mismatched == []
    # Among them, every option the file sets, read back under its 2025.1 name.
    assert set_in_file <= compared
    assert len(compared) > 100
    assert after[("filter_scheduler", "available_filters")] == [
        "nova.scheduler.filters.all_filters", "my.filters.Extra"]
    assert after[("vnc", "server_listen")] == "192.0.2.10"


def test_embedded_generated_changes_compose_over_the_path() -> None:
    """Without --catalog, `ffu config` has the changes generated from the wheels: nova's
    [DEFAULT]scheduler_driver (deprecated in ocata) becomes [scheduler]driver."""
    import ffu

    run = run_ffu("config", "diff", "--service", "nova", "--from", "newton", "--to", "queens")
    assert run.returncode == 0, run.stderr
    assert ("rename DEFAULT.scheduler_driver -> scheduler.driver  "
            "[ocata: DEFAULT.scheduler_driver -> scheduler.driver]\n") in run.stdout
    diff = ffu.Catalog.openstack_with_config().config_diff("nova", "newton", "queens")
    assert len(diff["changes"]) == int(run.stdout.split(": ")[1].split()[0])
    # The planning catalog stays without them.
    assert ffu.Catalog.openstack().config_diff("nova", "newton", "queens")["changes"] == []
