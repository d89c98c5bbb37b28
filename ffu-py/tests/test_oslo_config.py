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
