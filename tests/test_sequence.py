"""The sequence nodes through the host emulation against the fake server: each move continues from the last
frame of the one before, joins drop the repeated frame, colours are matched, every move is cached on its own,
and a bad `motions` text is refused before anything is sent."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from comfy_host import run_node, tensor_of
from conftest import textured_image
from fake_segmind import FakeSegmind
from nodes.media.video_codec import decode_video

SEQUENCE = "SegmindMotionCtrlSequence"
PREVIEW = "MotionCtrlCameraPreviewSequence"
SEQUENCE_WIDGETS = {"motions": "Pan Left\nZoom In", "fps": 7, "motion_bucket_id": 127, "cond_aug": 0.02,
                    "seed": 985445, "decoding_t": 1, "maintain_aspect_ratio": True, "color_match": False}


def run_sequence(pack, image, node=SEQUENCE, **changes):
    from comfy_host import run_graph
    return run_graph(pack, [("9", node, dict(image=image, **{**SEQUENCE_WIDGETS, **changes}))])["9"]


def posted_pixels(post):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(post.json["input_image"]))).convert("RGB"))


def video_of(server, post):
    """The video the fake made for a POST (the same bytes it served)."""
    body = post.json
    params = {k: v for k, v in body.items() if k not in ("input_image", "base64")}
    return server.expected_video(body["input_image"], params)


def test_pinned_interface(pack):
    for name, display in ((SEQUENCE, "MotionCtrl SVD Sequence (Segmind API)"),
                          (PREVIEW, "MotionCtrl Camera Preview Sequence (local, free)")):
        cls = pack.NODE_CLASS_MAPPINGS[name]
        spec = cls.INPUT_TYPES()
        assert list(spec["required"]) == ["image", "motions", "fps", "motion_bucket_id", "cond_aug", "seed",
                                          "decoding_t", "maintain_aspect_ratio", "color_match"]
        assert spec["required"]["motions"] == ("STRING", spec["required"]["motions"][1])
        assert spec["required"]["motions"][1]["multiline"] and spec["required"]["motions"][1]["default"] == "Pan Left\nZoom In"
        assert spec["required"]["color_match"][1]["default"] is True
        single = pack.NODE_CLASS_MAPPINGS["SegmindMotionCtrlSVD"].INPUT_TYPES()["required"]
        for widget in ("fps", "motion_bucket_id", "cond_aug", "seed", "decoding_t", "maintain_aspect_ratio"):
            assert spec["required"][widget] == single[widget], widget
        assert cls.RETURN_TYPES == ("IMAGE", "FLOAT", "VIDEO") and cls.RETURN_NAMES == ("frames", "fps", "video")
        assert cls.CATEGORY == pack.NODE_CLASS_MAPPINGS["SegmindMotionCtrlSVD"].CATEGORY
        assert pack.NODE_DISPLAY_NAME_MAPPINGS[name] == display


def test_two_moves_chain_from_the_last_frame_and_join_without_the_repeated_frame(pack, server):
    image = textured_image(seed=80)
    out = run_sequence(pack, tensor_of(image))
    frames, fps, video = out["result"]
    posts = server.posts()
    assert len(posts) == 2 and [p.json["motion"] for p in posts] == ["Pan Left", "Zoom In"]
    assert [p.json["seed"] for p in posts] == [985445, 985446]  # seed + k: every move deterministic, cached alone
    first = decode_video(video_of(server, posts[0])).frames
    second = decode_video(video_of(server, posts[1])).frames
    # The second move's image is the first video's last frame, decoded, exactly.
    np.testing.assert_array_equal(posted_pixels(posts[1]), np.rint(first[-1] * 255).astype(np.uint8))
    assert frames.shape[0] == 27 and fps == 7.0
    np.testing.assert_array_equal(frames[:14].numpy(), first)
    np.testing.assert_array_equal(frames[14:].numpy(), second[1:])
    assert decode_video(video.file.getvalue()).frames.shape[0] == 27  # the joined clip as one VIDEO
    assert "2 calls" in out["ui"]["segmind_status"][0]


def test_the_first_move_is_the_single_nodes_call(pack, server):
    image = tensor_of(textured_image(seed=81))
    run_node(pack, image, motion="Pan Left")
    run_sequence(pack, image)
    assert len(server.posts()) == 2  # move 1 came from the single node's cache entry


def test_colour_matching_makes_the_join_smoother_on_a_drifting_model(pack, host, monkeypatch):
    with FakeSegmind(color_shift=(1.06, 1.0, 0.93)) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", fake.api_key)
        image = tensor_of(textured_image(seed=82))
        raw = run_sequence(pack, image, color_match=False)["result"][0].numpy()
        matched = run_sequence(pack, image, color_match=True)["result"][0].numpy()
        assert len(fake.posts()) == 2  # the second run came from the cache: matching is local, free
        step = lambda f: np.abs(f[14].mean(axis=(0, 1)) - f[13].mean(axis=(0, 1))).sum()  # noqa: E731
        assert step(matched) < 0.5 * step(raw), (step(matched), step(raw))
        np.testing.assert_array_equal(matched[:14], raw[:14])  # the first move is never changed


def test_a_rerun_makes_no_call(pack, server):
    image = tensor_of(textured_image(seed=83))
    run_sequence(pack, image, motions="Pan Left, Zoom In, CW")
    out = run_sequence(pack, image, motions="Pan Left, Zoom In, CW")
    assert len(server.posts()) == 3 and "from cache, $0" in out["ui"]["segmind_status"][0]


def test_a_failure_in_a_later_move_keeps_the_earlier_ones(pack, server):
    image = tensor_of(textured_image(seed=85))
    server.inject("fail_job", on="v2", after=1, error="CUDA out of memory")  # move 2's job fails (unbilled)
    with pytest.raises(Exception) as caught:
        run_sequence(pack, image)
    text = str(caught.value)
    assert "Image 1, move 2 (Zoom In)" in text and "CUDA out of memory" in text and "1 finished clip(s)" in text
    assert len(server.posts()) == 2
    run_sequence(pack, image)
    assert len(server.posts()) == 3  # exactly one more: only move 2 was paid again


@pytest.mark.parametrize("motions,words", [
    ("Sideways", "is not a camera motion"),
    ("Pan Left 11", "outside 0 to 10"),
    (", ".join(["CW"] * 9), "at most 8"),
    ("", "empty"),
    ("  \n , ", "empty"),
])
@pytest.mark.parametrize("node", [SEQUENCE, PREVIEW])
def test_bad_motions_are_clear_errors_with_nothing_sent(pack, server, motions, words, node):
    with pytest.raises(Exception) as caught:
        run_sequence(pack, tensor_of(textured_image(seed=86)), node=node, motions=motions)
    text = str(caught.value)
    assert words in text and "Pan Up, Pan Down" in text and "Nothing was sent" in text
    assert server.recorded() == []


def test_a_batch_gives_one_sequence_per_image_in_order(pack, server):
    images = [textured_image(seed=s) for s in (87, 88)]
    frames = run_sequence(pack, tensor_of(*images))["result"][0]
    assert frames.shape[0] == 54 and len(server.posts()) == 4
    firsts = [p for p in server.posts() if p.json["motion"] == "Pan Left"]
    for index, image in enumerate(images):
        post = next(p for p in firsts if np.array_equal(posted_pixels(p), np.rint(image * 255).astype(np.uint8)))
        np.testing.assert_array_equal(frames[27 * index:27 * index + 14].numpy(),
                                      decode_video(video_of(server, post)).frames)


def test_the_preview_sequence_gives_the_same_frame_count_with_no_network(pack, host):
    out = run_sequence(pack, tensor_of(textured_image(96, 64, seed=89)), node=PREVIEW, motions="Pan Left, Zoom In, CW 2")
    frames, fps, video = out["result"]
    assert frames.shape[0] == 14 + 13 * 2 and fps == 7.0
    assert "3 moves" in out["ui"]["segmind_status"][0] and "free" in out["ui"]["segmind_status"][0]


def test_the_motions_rules_are_the_frontends():
    import json
    from pathlib import Path

    from nodes.camera.motions import InvalidMotionsError, parse_motions

    for text, expected in json.loads((Path(__file__).parent / "motions_cases.json").read_text())["cases"]:
        try:
            got = [[s.motion, s.speed] for s in parse_motions(text)]
        except InvalidMotionsError:
            got = None
        assert got == expected, text
