"""The pack as ComfyUI sees it: loaded by path, validated like ComfyUI validates, run with torch tensors
against the fake Segmind server over real HTTP."""

import json
import threading
import time

import numpy as np
import pytest
import torch

from comfy_host import InterruptProcessingException, load_pack, mp4_bytes, run_node, tensor_of, widgets
from conftest import textured_image
from fake_segmind import TEST_KEY, FakeSegmind
from nodes.media.image_codec import image_to_base64
from nodes.media.video_codec import decode_video

PINNED_ORDER = ["image", "motion", "motion_speed", "fps", "motion_bucket_id", "cond_aug", "seed", "decoding_t",
                "maintain_aspect_ratio"]


# ---- loading and the pinned interface --------------------------------------------------------------------

def test_pack_loads_by_path_beside_comfyuis_nodes_module(pack, host):
    import sys
    assert sys.modules["nodes"] is host.modules["nodes"]  # ComfyUI's module is still the one named `nodes`
    assert set(pack.NODE_CLASS_MAPPINGS) == {"SegmindMotionCtrlSVD", "MotionCtrlCameraPreview", "SegmindMotionCtrlSequence",
                                       "MotionCtrlCameraPreviewSequence"}
    assert pack.NODE_DISPLAY_NAME_MAPPINGS["SegmindMotionCtrlSVD"] == "MotionCtrl SVD (Segmind API)"
    assert pack.NODE_DISPLAY_NAME_MAPPINGS["MotionCtrlCameraPreview"] == "MotionCtrl Camera Preview (local, free)"
    assert pack.WEB_DIRECTORY and (pack.__file__ and True)


@pytest.mark.parametrize("node", ["SegmindMotionCtrlSVD", "MotionCtrlCameraPreview"])
def test_node_definition_is_valid_for_comfyui(pack, node):
    cls = pack.NODE_CLASS_MAPPINGS[node]
    spec = cls.INPUT_TYPES()
    json.dumps(spec)  # /object_info serialises it
    assert list(spec["required"]) == PINNED_ORDER
    assert spec["hidden"] == {"unique_id": "UNIQUE_ID"}
    for name, (kind, options) in spec["required"].items():
        assert options.get("tooltip") and len(options["tooltip"]) > 30, name
        if isinstance(kind, list):
            assert options["default"] in kind
        elif kind in ("INT", "FLOAT"):
            assert options["min"] <= options["default"] <= options["max"], name
            assert options["step"] > 0
            if kind == "INT":
                assert all(isinstance(options[k], int) for k in ("min", "max", "default", "step")), name
        elif kind == "BOOLEAN":
            assert isinstance(options["default"], bool)
        else:
            assert kind == "IMAGE"
    assert len(cls.RETURN_TYPES) == len(cls.RETURN_NAMES) == len(cls.OUTPUT_TOOLTIPS) == 3
    assert cls.RETURN_TYPES == ("IMAGE", "FLOAT", "VIDEO") and cls.RETURN_NAMES == ("frames", "fps", "video")
    assert callable(getattr(cls, cls.FUNCTION)) and cls.CATEGORY.startswith("Segmind/")


def test_pinned_ranges_and_defaults(pack):
    req = pack.NODE_CLASS_MAPPINGS["SegmindMotionCtrlSVD"].INPUT_TYPES()["required"]
    assert req["motion"][0] == ["Pan Up", "Pan Down", "Pan Right", "Pan Left", "Zoom In", "Zoom Out", "CW", "ACW"]
    assert req["motion"][1]["default"] == "CW"
    pinned = {"motion_speed": ("FLOAT", 0, 10, 0.1, 1.0), "fps": ("INT", 5, 30, 1, 7),
              "motion_bucket_id": ("INT", 127, 255, 1, 127), "cond_aug": ("FLOAT", 0, 1, 0.01, 0.02),
              "seed": ("INT", 0, 4294967295, 1, 985445), "decoding_t": ("INT", 1, 14, 1, 1)}
    for name, (kind, low, high, step, default) in pinned.items():
        got = req[name][1]
        assert (req[name][0], got["min"], got["max"], got["step"], got["default"]) == (kind, low, high, step,
                                                                                        default), name
    assert req["maintain_aspect_ratio"] == ("BOOLEAN", req["maintain_aspect_ratio"][1])
    assert req["maintain_aspect_ratio"][1]["default"] is True
    assert "fixed" in req["seed"][1]["tooltip"]


def test_description_states_cost_time_and_key_place(pack):
    text = pack.NODE_CLASS_MAPPINGS["SegmindMotionCtrlSVD"].DESCRIPTION
    assert "$0.09" in text and "60 s" in text and "SEGMIND_API_KEY" in text and "api_key.txt" in text


def comfy_validate(spec, values):
    """ComfyUI's built-in constant-input checks (execution.validate_inputs): coerce, min/max, list combos."""
    errors = []
    for name, (kind, options) in spec["required"].items():
        if kind == "IMAGE":
            continue
        value = values[name]
        if isinstance(kind, list):
            if value not in kind:
                errors.append((name, "value_not_in_list"))
            continue
        value = {"INT": int, "FLOAT": float, "BOOLEAN": bool}[kind](value)
        if "min" in options and value < options["min"]:
            errors.append((name, "value_smaller_than_min"))
        if "max" in options and value > options["max"]:
            errors.append((name, "value_bigger_than_max"))
    return errors


def test_comfyui_validation_accepts_defaults_and_rejects_out_of_range(pack):
    spec = pack.NODE_CLASS_MAPPINGS["SegmindMotionCtrlSVD"].INPUT_TYPES()
    assert comfy_validate(spec, widgets()) == []
    assert comfy_validate(spec, widgets(fps=31, motion="Sideways")) == [("motion", "value_not_in_list"),
                                                                        ("fps", "value_bigger_than_max")]


# ---- running it --------------------------------------------------------------------------------------------

def test_node_returns_the_served_frames_fps_video_and_preview(pack, host, server):
    image = textured_image(96, 64)
    out = run_node(pack, tensor_of(image), fps=10)
    frames, fps, video = out["result"]
    expected = server.expected_video(image_to_base64(image), widgets(fps=10))
    assert isinstance(frames, torch.Tensor) and frames.dtype == torch.float32 and frames.shape[0] == 14
    np.testing.assert_array_equal(frames.numpy(), decode_video(expected).frames)
    assert fps == 10.0 and isinstance(fps, float)
    assert isinstance(video, host.video_class()) and mp4_bytes(video) == expected
    [preview] = out["ui"]["images"]
    assert out["ui"]["animated"] == [True] and preview["type"] == "temp"
    assert (host.tmp_path / "temp" / preview["filename"]).read_bytes() == expected
    assert out["ui"]["segmind_status"][0].startswith("Segmind: 1 clip in")
    assert host.texts and host.texts[-1] == ("7", out["ui"]["segmind_status"][0])
    assert host.progress and host.progress[-1][1] == host.progress[-1][2]


@pytest.mark.parametrize("container", ["mp4", "fragmented", "trimmed"])
def test_batch_comes_back_in_order(pack, server, container):
    # fragmented: no frame count in the MP4's header (what an encoder streaming to storage writes), so the
    # batch cannot size its buffer before a clip has been decoded. trimmed: the header counts 14 frames but an
    # edit list leaves the last one out, so the buffer sized from the header is one frame too long per clip.
    server.video_container = container
    per_clip = 13 if container == "trimmed" else 14
    images = [textured_image(96, 64, seed=s) for s in (11, 22, 33, 22)]
    frames = run_node(pack, tensor_of(*images))["result"][0]
    assert frames.shape[0] == 4 * per_clip
    for i, image in enumerate(images):
        expected = decode_video(server.expected_video(image_to_base64(image), widgets())).frames
        assert expected.shape[0] == per_clip
        np.testing.assert_array_equal(frames[per_clip * i:per_clip * (i + 1)].numpy(), expected)
    assert len(server.accepted_posts()) == 3
    again = run_node(pack, tensor_of(*images))  # every clip was checked and cached on its way in
    assert len(server.accepted_posts()) == 3
    torch.testing.assert_close(again["result"][0], frames)


def test_repeat_is_served_from_the_disk_cache_with_zero_requests(pack, server, host):
    image = tensor_of(textured_image())
    first = run_node(pack, image)["result"][0]
    before = len(server.recorded())
    again = load_pack()  # a fresh import, like a ComfyUI restart: only the disk cache remains
    out = run_node(again, image)
    assert len(server.recorded()) == before
    torch.testing.assert_close(out["result"][0], first)
    assert "from cache, $0" in out["ui"]["segmind_status"][0]


def test_a_changed_parameter_is_a_new_call(pack, server):
    image = tensor_of(textured_image())
    run_node(pack, image)
    run_node(pack, image, seed=1)
    assert len(server.accepted_posts()) == 2


def test_cancelled_run_resumes_after_restart_without_a_new_submit(pack, server, host):
    server.latency = 3.0
    image = tensor_of(textured_image())

    def interrupt_once_submitted():
        while not server.accepted_posts():
            time.sleep(0.02)
        host.interrupt = True

    threading.Thread(target=interrupt_once_submitted, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(InterruptProcessingException):
        run_node(pack, image)
    assert time.monotonic() - started < 2.5  # stopped within about a second of the cancel
    assert len(server.posts()) == 1
    server.latency = 0.0
    restarted = load_pack()
    out = run_node(restarted, image)
    assert len(server.posts()) == 1  # resumed the recorded job: nothing new submitted, nothing paid twice
    expected = server.expected_video(image_to_base64(textured_image()), widgets())
    assert mp4_bytes(out["result"][2]) == expected


def test_missing_key_says_where_to_put_it(pack, host, monkeypatch):
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        with pytest.raises(Exception) as caught:
            run_node(pack, tensor_of(textured_image()))
        text = str(caught.value)
        assert "SEGMIND_API_KEY" in text and str(host.tmp_path / "user" / "segmind_motionctrl" / "api_key.txt") in text
        assert "Settings > Segmind MotionCtrl" in text
        assert fake.recorded() == []


def test_key_file_in_comfyui_user_dir_is_used(pack, host, monkeypatch):
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        key_path = host.tmp_path / "user" / "segmind_motionctrl" / "api_key.txt"
        key_path.parent.mkdir(parents=True)
        key_path.write_text(f'"{TEST_KEY}"\n')
        run_node(pack, tensor_of(textured_image()))
        assert fake.accepted_posts()[0].headers["x-api-key"] == TEST_KEY


def test_one_failure_in_a_batch_names_the_image_and_keeps_the_rest(pack, server):
    images = [textured_image(96, 64, seed=s) for s in (1, 2)]
    server.inject("fail_job", on="v2", error="NSFW content detected")
    with pytest.raises(Exception) as caught:
        run_node(pack, tensor_of(*images))
    assert "Image" in str(caught.value) and "of 2" in str(caught.value) and "NSFW" in str(caught.value)
    run_node(pack, tensor_of(*images))
    assert len(server.accepted_posts()) == 3  # only the failed image was sent again


def test_images_of_different_shapes_are_an_explicit_error(pack, server):
    wide = textured_image(128, 64)
    image = tensor_of(wide)
    tall = tensor_of(textured_image(64, 128))
    frames_wide = run_node(pack, image)["result"][0]
    frames_tall = run_node(pack, tall)["result"][0]
    assert frames_wide.shape[1:3] != frames_tall.shape[1:3]  # each alone is fine
    # ComfyUI batches always share one size, so "mixed" can only arise from clips: assemble two by hand.
    from nodes.jobs.engine import Clip
    from nodes.jobs.frames import FrameAssembler, MixedClipSizesError
    assembler = FrameAssembler(2)
    assembler.add([0], Clip(server.expected_video(image_to_base64(wide), widgets()), {}, "segmind"))
    assembler.add([1], Clip(server.expected_video(image_to_base64(textured_image(64, 128)), widgets()), {}, "segmind"))
    with pytest.raises(MixedClipSizesError, match="different sizes"):
        assembler.frames()


def test_nothing_holds_the_key(pack, server, host, no_key_in_logs, tmp_path):
    out = run_node(pack, tensor_of(textured_image()))
    blob = json.dumps(out["ui"]) + repr(out["result"][1]) + repr(out["result"][2])
    assert TEST_KEY not in blob
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path
    assert all(TEST_KEY not in t for _, t in host.texts)


def test_preview_node_needs_no_key_and_no_network(pack, host):
    out = run_node(pack, tensor_of(textured_image(96, 64)), node="MotionCtrlCameraPreview", motion="Zoom In")
    frames, fps, video = out["result"]
    assert frames.shape[0] == 14 and frames.dtype == torch.float32 and fps == 7.0
    assert decode_video(mp4_bytes(video)).frames.shape == tuple(frames.shape)
    assert "not a MotionCtrl video" in out["ui"]["segmind_status"][0]


def test_on_a_comfyui_without_async_nodes_the_nodes_still_run(host, server):
    """ComfyUI before 0.3.44 calls FUNCTION and uses what it returns: there the nodes run to the end themselves."""
    import types
    host.modules["comfyui_version"] = types.SimpleNamespace(__version__="0.3.40")
    import sys
    sys.modules["comfyui_version"] = host.modules["comfyui_version"]
    try:
        old = load_pack()
        cls = old.NODE_CLASS_MAPPINGS["SegmindMotionCtrlSVD"]
        assert cls.FUNCTION == "generate_blocking"
        out = getattr(cls(), cls.FUNCTION)(image=tensor_of(textured_image(seed=3)), unique_id="7", **widgets())
        assert out["result"][0].shape[0] == 14 and len(server.posts()) == 1
    finally:
        del sys.modules["comfyui_version"]
