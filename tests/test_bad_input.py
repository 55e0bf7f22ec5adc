"""The bad-input matrix, through the node as ComfyUI runs it: every case gives a clear error or a correct
result, never a traceback from deep inside a library, and nothing is sent for input the pack can reject."""

import importlib
import json
import resource
import signal

import numpy as np
import pytest
import torch

from comfy_host import run_node, tensor_of
from conftest import textured_image
from fake_segmind import TEST_KEY, FakeSegmind
from nodes.common.params import PARAMS


def rejected(pack, server, image, error_name="SegmindError", **changes):
    # The pack loaded ComfyUI's way has its own copy of every class: look its errors up there.
    errors = importlib.import_module(pack.__name__ + ".nodes.common.errors")
    with pytest.raises(getattr(errors, error_name)) as caught:
        run_node(pack, image, **changes)
    assert server.recorded() == [], "nothing may be sent for input the pack can reject"
    assert isinstance(caught.value, errors.SegmindError)  # the pack's own, readable error, not a library's
    return str(caught.value)


def accepted(pack, server, image, **changes):
    out = run_node(pack, image, **changes)
    frames = out["result"][0]
    assert frames.dtype == torch.float32 and frames.shape[0] == 14 * image.shape[0]
    assert len(server.accepted_posts()) >= 1
    return out


@pytest.mark.parametrize("image,words", [
    (torch.zeros(0, 64, 64, 3), "empty batch"),
    (torch.zeros(1, 1, 1, 3), "at least 64x64"),
    (torch.full((1, 64, 64, 3), float("nan")), "NaN"),
    (torch.full((1, 64, 64, 3), float("inf")), "infinite"),
    (torch.zeros(1, 64, 64, 2), "channels"),
    (torch.zeros(64, 64), "shape"),
], ids=["empty batch", "1x1", "nan", "inf", "2 channels", "2-D tensor"])
def test_images_rejected_before_sending(pack, server, image, words):
    assert words in rejected(pack, server, image, "InvalidImageError")


def test_in_a_batch_with_several_bad_images_the_first_one_is_named_and_nothing_is_sent(pack, server):
    # The images are checked side by side; the error is still about the first bad one in input order.
    good = [textured_image(seed=s) for s in range(6)]
    bad = np.full((64, 96, 3), np.nan, np.float32)
    images = tensor_of(*good[:2], bad, *good[2:4], bad, *good[4:])
    message = rejected(pack, server, images, "InvalidImageError")
    assert message.startswith("Image 3 of the image input contains NaN")


@pytest.mark.parametrize("image,words", [
    (torch.full((1, 64, 64, 3), 1000, dtype=torch.int16), "int16 values (signed integers)"),
    (torch.ones(1, 64, 64, 3, dtype=torch.bool), "boolean values"),
    (torch.zeros(1, 64, 64, 3, device="meta"), "'meta' device: it has a shape but no pixel data"),
], ids=["int16", "bool", "meta tensor"])
def test_signed_boolean_and_meta_images_rejected_before_sending(pack, server, image, words):
    message = rejected(pack, server, image, "InvalidImageError")
    assert words in message and "The image input" in message and "Nothing was sent to Segmind." in message


def test_a_16_bit_image_is_uploaded_at_its_own_brightness(pack, server):
    # Read as floats, 32767 would clip to white: a white frame uploaded and paid for.
    from PIL import Image
    import base64
    import io
    grey = torch.from_numpy(np.full((1, 64, 96, 3), 65535 // 2, np.uint16))
    accepted(pack, server, grey)
    sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(server.accepted_posts()[0].json["input_image"]))))
    assert sent.shape == (64, 96, 3) and set(np.unique(sent)) <= {127, 128}


@pytest.mark.parametrize("make", [
    lambda: torch.from_numpy(np.dstack([textured_image(), np.ones((64, 96, 1), np.float32)]))[None],  # RGBA
    lambda: torch.from_numpy(textured_image()[..., :1].copy())[None],  # grayscale
    lambda: torch.from_numpy(textured_image())[None].half(),  # float16
    lambda: torch.from_numpy(textured_image(64, 96)).transpose(0, 1)[None],  # non-contiguous
    lambda: torch.from_numpy(textured_image() * 3 - 1)[None],  # values outside 0..1
], ids=["rgba", "grayscale", "float16", "non-contiguous", "out of range"])
def test_unusual_but_valid_images_give_a_result(pack, server, make):
    accepted(pack, server, make())


def test_an_8k_image_is_downscaled_before_upload(pack, server):
    image = torch.rand(1, 4320, 7680, 3)
    accepted(pack, server, image)
    sent = server.accepted_posts()[0].json["input_image"]
    from PIL import Image
    import base64
    import io
    assert Image.open(io.BytesIO(base64.b64decode(sent))).size == (1024, 576)


def _limits():
    for p in PARAMS:
        if p.kind in ("int", "float"):
            step = p.step if p.kind == "float" else 1
            yield p.name, p.minimum, p.maximum, p.minimum - step, p.maximum + step


@pytest.mark.parametrize("name,low,high,below,above", list(_limits()), ids=lambda v: str(v))
def test_every_widget_at_and_beyond_its_limits(pack, server, name, low, high, below, above):
    image = tensor_of(textured_image())
    for bad in (below, above):
        message = rejected(pack, server, image, "InvalidParameterError", **{name: bad})
        assert name in message and "Nothing was sent" in message
    for good in (low, high):
        accepted(pack, server, image, **{name: int(good) if isinstance(good, int) else good})
    # The fake server checks Segmind's documented ranges on its own: both limits got through it.
    assert len(server.accepted_posts()) == 2


def test_unknown_motion_from_a_hand_edited_workflow(pack, server):
    message = rejected(pack, server, tensor_of(textured_image()), "InvalidParameterError", motion="Barrel Roll")
    assert "Barrel Roll" in message and "Pan Left" in message


def test_wrong_widget_types_from_a_hand_edited_workflow(pack, server):
    image = tensor_of(textured_image())
    rejected(pack, server, image, "InvalidParameterError", fps="seven")
    rejected(pack, server, image, "InvalidParameterError", maintain_aspect_ratio="yes")


@pytest.mark.parametrize("raw", ['"{k}"', "{k}\n", "  '{k}'  ", '"{k}"\r\n'])
def test_key_with_quotes_or_newline_works_from_env_and_file(pack, host, monkeypatch, raw):
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", raw.format(k=TEST_KEY))
        run_node(pack, tensor_of(textured_image()))
        monkeypatch.delenv("SEGMIND_API_KEY")
        key_file = host.tmp_path / "key.txt"
        key_file.write_text(raw.format(k=TEST_KEY))
        monkeypatch.setenv("SEGMIND_API_KEY_FILE", str(key_file))
        run_node(pack, tensor_of(textured_image(seed=5)))
        assert [r.headers["x-api-key"] for r in fake.accepted_posts()] == [TEST_KEY, TEST_KEY]


def test_unwritable_cache_directory_still_gives_the_result(pack, server, host, monkeypatch):
    blocker = host.tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SEGMIND_CACHE_DIR", str(blocker / "cache"))
    image = tensor_of(textured_image())
    first = run_node(pack, image)["result"][0]
    second = run_node(pack, image)["result"][0]
    torch.testing.assert_close(first, second)
    assert len(server.accepted_posts()) == 2  # no cache, so each run is a call: correct, just not free


def test_full_disk_still_gives_the_result(pack, server):
    # Emulate a full disk: every file write beyond 4 KiB fails (EFBIG) while the limit is in force.
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, old_limit[1]))
    try:
        out = run_node(pack, tensor_of(textured_image()))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert out["result"][0].shape[0] == 14


def test_corrupted_cache_entry_is_replaced(pack, server, host):
    image = tensor_of(textured_image())
    good = run_node(pack, image)["result"][0]
    [entry] = list((host.tmp_path / "cache").rglob("*.mp4"))
    entry.write_bytes(entry.read_bytes()[:500])  # cut off, as after a crash mid-write by another tool
    again = run_node(pack, image)["result"][0]
    torch.testing.assert_close(good, again)
    assert len(server.accepted_posts()) == 2
    assert json.loads(next((host.tmp_path / "cache").rglob("*.json")).read_text())["request_id"]
