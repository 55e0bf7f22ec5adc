"""Leak audit: run the example workflow with a key set, then search everything the run produced for the key.

What ComfyUI itself would write is reproduced from the workflow (the prompt it builds from the widgets, the
workflow JSON it saves, the prompt and workflow it embeds in a saved MP4), so the audit covers every place
the internals notes list: workflow, prompt/history, file metadata, previews, cache, logs, errors, node text.
"""

import io
import json
from pathlib import Path

import av
import pytest

from comfy_host import run_node, tensor_of
from conftest import textured_image
from fake_segmind import TEST_KEY, FakeSegmind
from nodes.node_inputs import input_types

WORKFLOW = Path(__file__).resolve().parents[1] / "example_workflows" / "motionctrl_svd_save_video.json"


def prompt_from_workflow(workflow):
    """What the frontend's graphToPrompt sends for our node: every widget value except the seed control."""
    names = [n for n in input_types()["required"] if n != "image"]
    prompt = {}
    for node in workflow["nodes"]:
        if node["type"] == "SegmindMotionCtrlSVD":
            values = list(node["widgets_values"])
            del values[names.index("seed") + 1]
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": dict(zip(names, values))}
        elif node["type"] != "MarkdownNote":
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": {}}
    return prompt


def save_video_like_comfyui(data, path, metadata):
    """SaveVideo stream-copies the MP4 and writes the prompt and workflow into the container's tags."""
    with av.open(io.BytesIO(data)) as source, av.open(str(path), "w", format="mp4", options={"movflags": "use_metadata_tags"}) as target:
        for key, value in metadata.items():
            target.metadata[key] = json.dumps(value)
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)


def every_file_holds_no_key(root):
    checked = 0
    for path in Path(root).rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path
            checked += 1
    return checked


def test_the_example_workflow_leaves_the_key_nowhere(pack, host, tmp_path, monkeypatch, no_key_in_logs):
    key_file = tmp_path / "user" / "segmind_motionctrl" / "api_key.txt"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(TEST_KEY)
    key_file.chmod(0o600)
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        workflow = json.loads(WORKFLOW.read_text())
        prompt = prompt_from_workflow(workflow)
        node_inputs = next(n["inputs"] for n in prompt.values() if n["class_type"] == "SegmindMotionCtrlSVD")
        out = run_node(pack, tensor_of(textured_image()), **node_inputs)
        assert fake.accepted_posts()[0].headers["x-api-key"] == TEST_KEY  # the key was really used

    output_dir = tmp_path / "output"
    output_dir.mkdir()
    video = out["result"][2]
    video.file.seek(0)
    saved = output_dir / "motionctrl_00001_.mp4"
    save_video_like_comfyui(video.file.read(), saved, {"prompt": prompt, "workflow": workflow})
    (tmp_path / "user" / "default" / "workflows").mkdir(parents=True)
    (tmp_path / "user" / "default" / "workflows" / "saved.json").write_text(json.dumps(workflow))
    history = {"prompt": [0, "id", prompt, {"extra_pnginfo": {"workflow": workflow}}], "outputs": {"2": out["ui"]}}
    (tmp_path / "history.json").write_text(json.dumps(history))

    with av.open(str(saved)) as container:
        tags = json.dumps(dict(container.metadata))
    assert "SegmindMotionCtrlSVD" in tags and TEST_KEY not in tags
    key_file.unlink()  # the one place the key belongs; everything else must be clean
    assert every_file_holds_no_key(tmp_path) >= 5  # output, preview, cache entry, workflow, history
    assert all(TEST_KEY not in text for _, text in host.texts)
    assert TEST_KEY not in json.dumps(out["ui"])
    # The autouse fixture fails the test if any DEBUG log record holds the key; make sure there were some.
    assert any("segmind" in t.lower() for t in no_key_in_logs.texts)


def test_a_server_that_echoes_the_key_in_an_error_is_scrubbed(pack, host, monkeypatch):
    with FakeSegmind(api_key="SG_a_different_key_000", echo_key_in_errors=True) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", TEST_KEY)
        with pytest.raises(Exception) as caught:
            run_node(pack, tensor_of(textured_image()))
    text = str(caught.value) + repr(caught.value) + "".join(map(str, caught.value.args))
    assert "redacted" in text and TEST_KEY not in text
    every_file_holds_no_key(host.tmp_path)
