"""IMAGE tensors → PNG/base64 and MP4 bytes → frames, as the node relies on them."""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import textured_image
from nodes.common.errors import InvalidImageError, VideoDecodeError
from nodes.media.image_codec import batch_to_base64, upload_size
from nodes.media.video_codec import decode_video, encode_mp4


def png_pixels(b64):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64, validate=True))))


def test_png_round_trip_is_lossless():
    pixels = (np.random.default_rng(1).integers(0, 256, (64, 80, 3))).astype(np.uint8)
    [b64] = batch_to_base64(torch.from_numpy(pixels.astype(np.float32) / 255.0)[None])
    assert not b64.startswith("data:")
    np.testing.assert_array_equal(png_pixels(b64), pixels)


def test_one_png_per_image_in_batch_order():
    batch = torch.stack([torch.full((64, 64, 3), v) for v in (0.0, 0.5, 1.0)])
    decoded = [png_pixels(b) for b in batch_to_base64(batch)]
    assert [int(d[0, 0, 0]) for d in decoded] == [0, 128, 255]


def test_rgba_drops_alpha_and_gray_becomes_rgb():
    rgba = torch.rand(1, 64, 72, 4)
    [b64] = batch_to_base64(rgba)
    np.testing.assert_array_equal(png_pixels(b64), np.rint(rgba[0, :, :, :3].numpy() * 255).astype(np.uint8))
    gray = torch.rand(1, 64, 72, 1)
    out = png_pixels(batch_to_base64(gray)[0])
    assert out.shape == (64, 72, 3) and (out[..., 0] == out[..., 2]).all()


def test_half_precision_and_non_contiguous_tensors():
    image = torch.from_numpy(textured_image(96, 64))
    reference = png_pixels(batch_to_base64(image[None])[0])
    half = png_pixels(batch_to_base64(image[None].half())[0])
    assert np.abs(half.astype(int) - reference).max() <= 1
    flipped = image.permute(1, 0, 2).permute(1, 0, 2)[None]  # same values, strided view
    transposed = torch.from_numpy(textured_image(64, 96)).transpose(0, 1)[None]
    assert not transposed.is_contiguous()
    np.testing.assert_array_equal(png_pixels(batch_to_base64(flipped)[0]), reference)
    assert png_pixels(batch_to_base64(transposed)[0]).shape == (64, 96, 3)


def test_out_of_range_values_are_clipped():
    image = torch.tensor([-0.5, 0.5, 1.5]).expand(1, 64, 64, 3)
    assert png_pixels(batch_to_base64(image)[0])[0, 0].tolist() == [0, 128, 255]


@pytest.mark.parametrize("bad,words", [
    (torch.zeros(0, 8, 8, 3), "empty batch"),
    (torch.full((1, 64, 64, 3), float("nan")), "NaN"),
    (torch.full((2, 64, 64, 3), float("inf")), "NaN or infinite"),
    (torch.zeros(1, 64, 64, 2), "channels"),
    (torch.zeros(1, 1, 1, 3), "at least 64x64"),
    (torch.zeros(8, 8), "shape"),
])
def test_bad_images_are_clear_errors(bad, words):
    with pytest.raises(InvalidImageError, match=words):
        batch_to_base64(bad)


def test_nan_error_names_which_image():
    batch = torch.rand(3, 64, 64, 3)
    batch[2, 0, 0, 0] = float("nan")
    with pytest.raises(InvalidImageError, match="Image 3 of"):
        batch_to_base64(batch)


@pytest.mark.parametrize("size,expected", [
    ((4000, 3000), (1024, 768)),   # landscape: width reaches 1024 first... height 768 >= 576
    ((4000, 1000), (2304, 576)),   # very wide: the height decides
    ((3000, 4000), (768, 1024)),   # portrait covers 576x1024
    ((2000, 2000), (1024, 1024)),
    ((800, 600), (800, 600)),      # never upscaled
    ((1024, 576), (1024, 576)),
])
def test_upload_size_covers_the_model_frame_without_upscaling(size, expected):
    assert upload_size(*size) == expected


def test_big_images_are_downscaled_before_upload():
    big = torch.rand(1, 1200, 1600, 3)
    assert png_pixels(batch_to_base64(big)[0]).shape == (768, 1024, 3)


def test_decode_gives_exact_frames_and_fps():
    frames = (np.random.default_rng(2).integers(0, 256, (14, 64, 96, 3))).astype(np.uint8)
    data = encode_mp4(frames, 9)
    video = decode_video(data)
    assert video.frames.dtype == np.float32 and video.frames.shape == (14, 64, 96, 3)
    assert video.fps == pytest.approx(9)
    assert 0.0 <= video.frames.min() and video.frames.max() <= 1.0
    import imageio.v3 as iio
    reference = np.stack(list(iio.imiter(data, plugin="pyav", format="rgb24"))).astype(np.float32) / 255
    np.testing.assert_allclose(video.frames, reference, atol=1e-6)


def test_decode_limits_fail_clearly():
    data = encode_mp4(np.zeros((14, 64, 64, 3), np.uint8), 7)
    with pytest.raises(VideoDecodeError, match="more than 5 frames"):
        decode_video(data, max_frames=5)
    with pytest.raises(VideoDecodeError, match="pixel limit"):
        decode_video(data, max_frame_pixels=1000)
    with pytest.raises(VideoDecodeError, match="GiB limit"):
        decode_video(data, max_output_bytes=1000)


def test_decode_garbage_is_a_clear_error():
    with pytest.raises(VideoDecodeError, match="could not be decoded"):
        decode_video(b"\0\0\0\x18ftypisom" + b"\0" * 100)
