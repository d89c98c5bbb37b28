"""The timeline (`Plan.to_svg()`, `ffu plan --format svg`) at the Python boundary: it is XML
with rows, bars and a legend for real plans, and a real renderer (`rsvg-convert`, Debian's
librsvg2-bin, installed by scripts/svg-renderer.sh) draws it to a PNG that is not blank.
Without rsvg-convert the PNG tests fail under CI=true (or FFU_REQUIRE_RENDERER=1) and skip
otherwise."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

import ffu

SVG = "{http://www.w3.org/2000/svg}"
INVENTORY = Path(__file__).resolve().parents[2] / "tests" / "data" / "inventory-pike.yaml"


def _classes(root: ET.Element, name: str) -> list[ET.Element]:
    return [node for node in root.iter() if name in node.get("class", "").split()]


def _windowed_inventory_plan() -> ffu.Plan:
    cat = ffu.Catalog.openstack()
    inventory = ffu.Inventory.from_file(cat, INVENTORY)
    plan = cat.plan_inventory(inventory, "rocky", mode="rolling", max_unavailable="10%")
    return plan.with_windows("2h")


def test_newton_to_queens_has_rows_bars_downtime_and_a_legend() -> None:
    plan = ffu.Catalog.openstack().plan("newton", "queens")
    root = ET.fromstring(plan.to_svg())
    assert root.tag == SVG + "svg"
    labels = {(node.text or "").strip() for node in _classes(root, "row-label")}
    assert {"keystone", "nova", "neutron", "glance", "cinder"} <= labels
    bars = _classes(root, "bar")
    assert sum(int(bar.get("data-steps", "0")) for bar in bars) == len(plan)
    assert {"stop", "backup", "install", "migrate", "start"} <= {bar.get("data-kind") for bar in bars}
    legend = {(text.text or "").strip() for item in _classes(root, "legend-item") for text in item.iter(SVG + "text")}
    assert {"stop", "install", "control plane down", "maintenance window"} <= legend
    assert _classes(root, "down"), "an offline plan's control plane is down"
    assert len(_classes(root, "tick")) >= 2
    # The same document as from its JSON with the catalog named.
    assert ffu.Plan.from_json(plan.to_json()).to_svg(ffu.Catalog.openstack()) == plan.to_svg()


def test_an_inventory_plan_with_windows_draws_them_and_groups_hosts() -> None:
    plan = _windowed_inventory_plan()
    assert len(plan.to_dict()["windows"]) > 1
    root = ET.fromstring(plan.to_svg())
    assert len(_classes(root, "window")) == len(plan.to_dict()["windows"])
    labels = [(node.text or "").strip() for node in _classes(root, "row-label")]
    assert any("per host" in label and "hosts)" in label for label in labels), labels
    # Hosts of a batch share bars: far fewer bars than steps.
    assert len(_classes(root, "bar")) < len(plan) / 2


def test_a_window_naming_no_step_raises_plan_error() -> None:
    document = ffu.Catalog.openstack().plan("newton", "pike").with_windows("30h").to_dict()
    document["windows"][0]["first_step"] = "no-such-step"
    plan = ffu.Plan.from_dict(document)
    with pytest.raises(ffu.PlanError, match="no-such-step"):
        plan.to_svg()


def _renderer() -> str:
    found = shutil.which("rsvg-convert")
    if found:
        return found
    required = os.environ.get("FFU_REQUIRE_RENDERER", os.environ.get("CI", ""))
    message = "rsvg-convert (librsvg2-bin) is missing: run scripts/svg-renderer.sh"
    if required in ("1", "true"):
        pytest.fail(message)
    pytest.skip(message)


def _png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the set of distinct pixels of an 8-bit RGB or RGBA PNG
    (what rsvg-convert writes), decoded with the standard library only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, header = 8, b"", b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    pixels: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        pixels.update(bytes(line[i : i + bpp]) for i in range(0, stride, bpp * 7))
        previous = line
    return width, height, pixels


@pytest.mark.parametrize("which", ["newton-queens", "inventory-windows"])
def test_rsvg_convert_draws_it(which: str, tmp_path: Path) -> None:
    renderer = _renderer()
    plan = ffu.Catalog.openstack().plan("newton", "queens") if which == "newton-queens" else _windowed_inventory_plan()
    svg = tmp_path / "plan.svg"
    svg.write_text(plan.to_svg())
    png = tmp_path / "plan.png"
    subprocess.run([renderer, "--format", "png", "-o", str(png), str(svg)], check=True, timeout=120)
    data = png.read_bytes()
    assert len(data) > 5_000, len(data)
    width, height, pixels = _png_pixels(data)
    assert width >= 1000 and height >= 150, (width, height)
    # Not blank: the bars' colours, the shading and the text are all there.
    assert len(pixels) > 20, len(pixels)
