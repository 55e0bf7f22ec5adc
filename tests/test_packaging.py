"""What the Comfy Registry, ComfyUI-Manager and template browser read, and what the README promises."""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest

from nodes.camera.motions import parse_motions
from nodes.node_inputs import input_types, sequence_input_types
from nodes.common.params import PARAMS

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / "example_workflows").glob("*.json"))
OUR_NODES = {"SegmindMotionCtrlSVD", "MotionCtrlCameraPreview", "SegmindMotionCtrlSequence",
                                       "MotionCtrlCameraPreviewSequence"}


def test_pyproject_meets_the_registry_rules():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project, comfy = meta["project"], meta["tool"]["comfy"]
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]{0,98}", project["name"])
    assert "comfyui" not in project["name"].lower()
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert isinstance(project["license"], dict) and (ROOT / project["license"]["file"]).exists()
    assert project["urls"]["Repository"].startswith("https://")
    assert {"PublisherId", "DisplayName", "Icon"} <= set(comfy)
    assert "web" not in comfy  # WEB_DIRECTORY already serves js/; both would load the scripts twice


def test_requirements_leave_comfyuis_own_packages_alone():
    names = [re.split(r"[<>=!~ \[]", line.strip())[0].lower()
             for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert set(names) == {"requests", "numpy", "pillow"}
    assert not any("==" in line for line in (ROOT / "requirements.txt").read_text().splitlines())


def test_the_pack_never_imports_imageio():
    # Its PyAV plugin ran two full gc.collect() per clip, a pause of the whole ComfyUI server that grew with
    # the host's live objects; the codecs use PyAV directly, and imageio is not a dependency any more.
    for path in [*(ROOT / "nodes").rglob("*.py"), ROOT / "__init__.py"]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "imageio" for name in names), path


def test_published_archive_excludes_tests():
    ignored = (ROOT / ".comfyignore").read_text().split()
    assert "tests/" in ignored and "benchmarks/" in ignored


def test_pack_code_has_no_eval_exec_or_absolute_self_import():
    for path in list((ROOT / "nodes").glob("*.py")) + [ROOT / "__init__.py"]:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("eval", "exec"):
                pytest.fail(f"{path.name}: {node.func.id}()")
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "nodes" for a in node.names), path.name
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] != "nodes", path.name


def test_readme_documents_every_parameter_with_its_range_and_default():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Parameters", 1)[1].split("\n## ", 1)[0]
    for p in PARAMS:
        row = next((line for line in section.splitlines() if line.startswith(f"| `{p.name}` |")), None)
        assert row, p.name
        if p.kind in ("int", "float"):
            low, high = (int(v) if float(v).is_integer() else v for v in (p.minimum, p.maximum))
            assert f"{low} – {high}" in row, p.name
            assert str(p.default) in row
        if p.kind == "choice":
            assert all(f"`{c}`" in row for c in p.choices)


def test_readme_gives_the_two_contributor_commands():
    readme = (ROOT / "README.md").read_text()
    assert "bash .ci/run  " in readme and "bash .ci/run demo" in readme
    assert "pytest" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_example_workflows_load_with_valid_widgets_and_no_key(path):
    assert path.with_suffix(".jpg").exists(), "the template browser shows a same-name .jpg as thumbnail"
    text = path.read_text()
    assert not re.search(r"SG_[A-Za-z0-9]{8,}", text)
    workflow = json.loads(text)
    assert {"nodes", "links", "last_node_id", "last_link_id"} <= set(workflow)  # UI format, as templates need
    nodes = {n["id"]: n for n in workflow["nodes"]}
    ours = [n for n in nodes.values() if n["type"] in OUR_NODES]
    assert ours
    for node in ours:
        spec = (sequence_input_types() if "Sequence" in node["type"] else input_types())["required"]
        widget_names = [name for name in spec if name != "image"]
        values = list(node["widgets_values"])
        assert values.pop(widget_names.index("seed") + 1) == "fixed"  # the seed's control widget
        for name, value in zip(widget_names, values, strict=True):
            kind, options = spec[name]
            if isinstance(kind, list):
                assert value in kind
            elif kind in ("INT", "FLOAT"):
                assert options["min"] <= value <= options["max"]
            elif name == "motions":
                assert parse_motions(value)
    for link_id, src, src_slot, dst, dst_slot, kind in workflow["links"]:
        assert nodes[src]["outputs"][src_slot]["type"] == kind
        assert link_id in (nodes[src]["outputs"][src_slot]["links"] or [])
        assert nodes[dst]["inputs"][dst_slot]["link"] == link_id


def test_readme_lists_every_setting_with_its_default():
    from nodes.common.settings import SETTINGS

    readme = (ROOT / "README.md").read_text()
    for setting in SETTINGS:
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{setting.name}` |")), None)
        assert row, setting.name
        if setting.kind in ("int", "seconds", "dollars") and setting.default is not None:
            assert f"`{setting.default_text()}`" in row, setting.name
        if setting.minimum is not None and setting.maximum is not None and setting.kind != "dollars":
            assert f"{setting.minimum:g} – {setting.maximum:g}" in row, setting.name
