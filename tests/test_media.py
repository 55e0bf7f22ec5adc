"""IMAGE tensors → PNG/base64, MP4 bytes ⇄ frames and colour matching, as the nodes rely on them."""

import base64
import gc
import io
import tracemalloc

import av
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import textured_image
from nodes.common.errors import InvalidImageError, VideoDecodeError
from nodes.media.color_match import match_colors, srgb_to_lab
from nodes.media.image_codec import batch_to_base64, upload_size
from nodes.media.video_codec import (MAX_FRAMES, MAX_SIDE, VideoInfo, allocate_frames, decode_video, encode_mp4,
                                     video_info)
from nodes.jobs.engine import Clip
from nodes.jobs.frames import FrameAssembler, MixedClipSizesError


def png_pixels(b64):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64, validate=True))))


def test_png_round_trip_is_lossless():
    pixels = (np.random.default_rng(1).integers(0, 256, (64, 80, 3))).astype(np.uint8)
    [b64] = batch_to_base64(torch.from_numpy(pixels.astype(np.float32) / 255.0)[None])
    assert not b64.startswith("data:")
    np.testing.assert_array_equal(png_pixels(b64), pixels)


def text_graphic(width=512, height=288):
    """A screenshot-like picture: the same words over and over on a flat background (exact repeats)."""
    from PIL import ImageDraw

    canvas = Image.new("RGB", (width, height), (240, 240, 236))
    draw = ImageDraw.Draw(canvas)
    for row in range(2, height - 12, 14):
        draw.text((row % 37, row), "motion camera frames queue seed " * 4, fill=(20, 20, 20))
    return np.asarray(canvas)


@pytest.mark.parametrize("picture", ["photo", "text"])
def test_the_upload_png_is_lossless_and_never_larger_than_pillows_own(picture):
    from nodes.media.image_codec import encode_png

    pixels = (np.rint(textured_image(512, 288, seed=9) * 255).astype(np.uint8) if picture == "photo"
              else text_graphic())
    png = encode_png(pixels)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), pixels)
    pillows = io.BytesIO()
    Image.fromarray(pixels).save(pillows, format="PNG", compress_level=4)
    assert len(png) <= len(pillows.getvalue())


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


# ---- unsigned, signed and unreadable images ---------------------------------------------------------------

def test_uint16_images_are_scaled_by_their_range_not_read_as_floats():
    # A 16-bit loader's mid-grey is 32768, not 0.5: read as a float it would clip to white (and be paid for).
    grey = torch.from_numpy(np.full((1, 64, 64, 3), 32768, np.uint16))
    assert png_pixels(batch_to_base64(grey)[0])[0, 0].tolist() == [128, 128, 128]
    every_value = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    image = np.repeat(every_value[:, :, None], 3, axis=2)[None]
    expected = np.rint(every_value.astype(np.float64) * 255 / 65535).astype(np.uint8)
    for source in (image, torch.from_numpy(image)):  # numpy array and torch.uint16 tensor
        np.testing.assert_array_equal(png_pixels(batch_to_base64(source)[0])[..., 0], expected)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_wider_unsigned_images_use_their_full_range(dtype):
    top = np.iinfo(dtype).max
    values = np.array([0, top // 2, top // 2 + 1, top], dtype)  # black, just under and over half, white
    image = np.broadcast_to(values[None, :, None, None], (1, 4, 64, 3)).repeat(16, axis=1)
    pixels = png_pixels(batch_to_base64(image)[0])
    assert pixels[::16, 0, 0].tolist() == [0, 127, 128, 255]


@pytest.mark.parametrize("bad,words", [
    (torch.full((1, 64, 64, 3), 100, dtype=torch.int16), "int16 values (signed integers)"),
    (np.full((1, 64, 64, 3), 100, np.int32), "int32 values (signed integers)"),
    (torch.zeros(1, 64, 64, 3, dtype=torch.int64), "int64"),
    (torch.ones(1, 64, 64, 3, dtype=torch.bool), "boolean"),
    (np.ones((1, 64, 64, 3), bool), "boolean"),
    (torch.zeros(1, 64, 64, 3, dtype=torch.complex64), "complex64"),
], ids=["torch int16", "numpy int32", "torch int64", "torch bool", "numpy bool", "complex"])
def test_signed_boolean_and_other_images_are_refused_with_what_to_do(bad, words):
    with pytest.raises(InvalidImageError) as caught:
        batch_to_base64(bad)
    message = str(caught.value)
    assert words in message and "The image input" in message
    assert "float 0..1 IMAGE" in message and "Nothing was sent to Segmind." in message


def test_a_meta_tensor_is_a_clear_error_not_a_torch_traceback():
    with pytest.raises(InvalidImageError, match="'meta' device: it has a shape but no pixel data") as caught:
        batch_to_base64(torch.zeros(1, 64, 64, 3, device="meta"))
    assert "The image input" in str(caught.value) and "Nothing was sent to Segmind." in str(caught.value)


class _UnreadableTensor:
    """Quacks like a CUDA tensor whose copy to the CPU fails, as after a device-side error."""
    dtype = torch.float32
    device = torch.device("cuda")  # only a name: creating it needs no GPU

    def __init__(self, error):
        self.error = error

    def detach(self):
        return self

    def cpu(self):
        raise self.error


@pytest.mark.parametrize("error", [RuntimeError("CUDA error: an illegal memory access was encountered"),
                                   NotImplementedError("Cannot copy out of meta tensor; no data!")])
def test_a_tensor_whose_data_cannot_be_read_is_a_clear_error(error):
    with pytest.raises(InvalidImageError, match="pixel data of the image input could not be read") as caught:
        batch_to_base64(_UnreadableTensor(error))
    assert str(error) in str(caught.value) and "Nothing was sent to Segmind." in str(caught.value)


# ---- MP4 ⇄ frames ------------------------------------------------------------------------------------------

def smooth_frames(count=14, width=96, height=64, seed=2):
    """uint8 frames of a smooth picture panning by 2 px a frame: what H.264 keeps well, so decoded ≈ original."""
    phase = np.random.default_rng(seed).random((3, 2)) * 2 * np.pi
    y, x = np.mgrid[0:height, 0:width + 2 * count].astype(np.float32)
    base = np.stack([0.5 + 0.3 * np.sin(x / 11 + p[0]) * np.cos(y / 13 + p[1]) for p in phase], axis=-1)
    return np.stack([np.rint(base[:, i * 2:i * 2 + width] * 255).astype(np.uint8) for i in range(count)])


def pyav_reference(data):
    """The plainest PyAV decode (list of frames, stack, /255): what decode_video must agree with."""
    with av.open(io.BytesIO(data)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return np.stack(frames).astype(np.float32) / np.float32(255.0)


def raw_h264(frames, fps=7):
    """An H.264 elementary stream: no container, so no frame count in any header."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="h264") as container:
        stream = container.add_stream("h264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def test_decode_gives_the_frames_and_fps_of_a_real_mp4():
    frames = smooth_frames()
    data = encode_mp4(frames, 9)
    video = decode_video(data)
    assert video.frames.dtype == np.float32 and video.frames.shape == (14, 64, 96, 3)
    assert video.fps == pytest.approx(9)
    np.testing.assert_allclose(video.frames, pyav_reference(data), atol=1e-6)
    assert np.abs(video.frames * 255 - frames).mean() < 3  # H.264 is lossy, but this is the same picture


def test_decode_into_a_slice_of_a_larger_buffer_writes_only_that_slice():
    clip = encode_mp4(smooth_frames(), 7)
    batch = np.full((30, 64, 96, 3), -1.0, np.float32)
    video = decode_video(clip, out=batch[5:19])
    assert video.frames.shape == (14, 64, 96, 3) and np.shares_memory(video.frames, batch)
    np.testing.assert_array_equal(batch[5:19], decode_video(clip).frames)
    assert (batch[:5] == -1).all() and (batch[19:] == -1).all()


def test_decode_into_a_buffer_that_does_not_fit_is_an_error():
    clip = encode_mp4(smooth_frames(), 7)
    with pytest.raises(VideoDecodeError, match="more frames than the 10 its buffer was sized for"):
        decode_video(clip, out=np.empty((10, 64, 96, 3), np.float32))
    with pytest.raises(VideoDecodeError, match="holds 64x64 frames"):
        decode_video(clip, out=np.empty((14, 64, 64, 3), np.float32))
    with pytest.raises(ValueError, match="float32"):
        decode_video(clip, out=np.empty((14, 64, 96, 3), np.float64))


def test_video_info_is_exact_and_matches_what_decode_gives():
    clip = encode_mp4(smooth_frames(count=5), 12)
    assert video_info(clip) == VideoInfo(frames=5, height=64, width=96, fps=12.0)
    # No container, so no header frame count: the count still comes from decoding every frame. 20 frames
    # also take decode_video past its first guess of a buffer (16 frames) when nothing says how many.
    stream = raw_h264(smooth_frames(count=20))
    info = video_info(stream)
    assert (info.frames, info.height, info.width) == (20, 64, 96)
    frames = decode_video(stream).frames
    assert frames.shape == (20, 64, 96, 3)
    np.testing.assert_allclose(frames, pyav_reference(stream), atol=1e-6)


@pytest.mark.parametrize("keep", [0.02, 0.5, 0.9, 0.95])
def test_video_info_refuses_a_cut_off_mp4(keep):
    # Cut anywhere in the frames or their index (moov, at the end). Only a cut inside the trailing metadata
    # (the last ~100 bytes here) leaves every frame decodable, and then they are all counted.
    clip = encode_mp4(smooth_frames(), 7)
    with pytest.raises(VideoDecodeError, match="could not be decoded"):
        video_info(clip[:int(len(clip) * keep)])


def audio_only_mp4():
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 44100
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


@pytest.mark.parametrize("data,words", [
    (b"<html><body>502 Bad Gateway</body></html>", "could not be decoded"),
    (b"\0\0\0\x18ftypisom" + b"\0" * 100, "could not be decoded"),
    (b"", "could not be decoded"),
    (audio_only_mp4(), "holds no video stream"),
], ids=["web page", "mp4 header only", "empty", "audio only"])
@pytest.mark.parametrize("read", [video_info, decode_video], ids=["video_info", "decode_video"])
def test_what_is_not_a_video_is_a_clear_error(read, data, words):
    with pytest.raises(VideoDecodeError, match=words):
        read(data)


@pytest.mark.parametrize("read", [video_info, decode_video], ids=["video_info", "decode_video"])
def test_clips_beyond_the_motionctrl_limits_are_refused(read):
    assert (MAX_FRAMES, MAX_SIDE) == (64, 2048)
    black = np.zeros((MAX_FRAMES + 1, 64, 64, 3), np.uint8)
    with pytest.raises(VideoDecodeError, match="says it has 65 frames, above the limit of 64") as caught:
        read(encode_mp4(black, 7))
    assert "not a normal MotionCtrl clip" in str(caught.value)
    # Without a header count, decoding stops at the limit rather than running on.
    with pytest.raises(VideoDecodeError, match="has more than 64 frames"):
        read(raw_h264(black))
    with pytest.raises(VideoDecodeError, match="2112x64, above the limit of 2048 px per side"):
        read(encode_mp4(np.zeros((1, 64, 2112, 3), np.uint8), 7))
    with pytest.raises(VideoDecodeError, match=r"would need 0\.7 MiB as float32 frames, above the limit of 0\.1 MiB"):
        read(encode_mp4(np.zeros((14, 64, 64, 3), np.uint8), 7), max_output_bytes=100_000)


@pytest.mark.parametrize("read", [video_info, decode_video], ids=["video_info", "decode_video"])
def test_a_video_that_changes_size_mid_stream_is_refused(read):
    stream = raw_h264(smooth_frames(count=3)) + raw_h264(smooth_frames(count=3, width=128))
    with pytest.raises(VideoDecodeError, match=r"changes size mid-stream \(frame 1 is 96x64, frame 4 is 128x64\)"):
        read(stream)


def test_decoding_runs_no_full_garbage_collection_even_in_a_crowded_process():
    # imageio's plugin ran two gc.collect() per clip: a pause of the whole ComfyUI server that grows with
    # its number of live objects. Here a full (generation 2) collection during the decode fails the test.
    clip = encode_mp4(smooth_frames(), 7)
    full = []

    def watch(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    crowd = [[i] for i in range(300_000)]  # GC-tracked objects, as a big host holds
    gc.collect()
    gc.callbacks.append(watch)
    try:
        gc.collect()
        assert full, "the watch must see a full collection"  # else this test could never fail
        full.clear()
        frames = decode_video(clip).frames
        video_info(clip)
        frames_of([clip, clip])
    finally:
        gc.callbacks.remove(watch)
    del crowd
    assert frames.shape[0] == 14 and full == []


def test_decode_memory_is_the_output_and_no_copy_of_it():
    # Python-side allocations only (FFmpeg's own are not traced): a list of float frames, a stacked copy
    # or a float temporary of the clip would each add a whole output's worth here.
    clip = encode_mp4(smooth_frames(count=14, width=256, height=192), 7)
    decode_video(clip)  # warm-up: PyAV's and numpy's one-time allocations are not the decode's
    tracemalloc.start()
    try:
        frames = decode_video(clip).frames
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < frames.nbytes * 1.1


def frames_of(videos):
    """The node's decode step: each clip into its slice of one batch buffer, as the clips arrive."""
    assembler = FrameAssembler(len(videos))
    for index, video in enumerate(videos):
        assembler.add([index], Clip(video, {}, "segmind"))
    return assembler.frames()


def test_a_batch_is_decoded_into_one_buffer_in_order():
    first, second = smooth_frames(count=14, seed=3), smooth_frames(count=3, seed=4)
    clips = [encode_mp4(first, 7), encode_mp4(second, 7)]
    frames = frames_of(clips)
    assert frames.shape == (17, 64, 96, 3)
    np.testing.assert_array_equal(frames[:14], decode_video(clips[0]).frames)
    np.testing.assert_array_equal(frames[14:], decode_video(clips[1]).frames)
    with pytest.raises(MixedClipSizesError, match="image 1: 96x64, image 2: 128x64"):
        frames_of([clips[0], encode_mp4(smooth_frames(width=128), 7)])


def test_clips_decoded_by_their_calls_fill_the_batch_as_decoding_afterwards_would():
    clips = [encode_mp4(smooth_frames(seed=s), 7) for s in (5, 6, 7)]
    assembler = FrameAssembler(4)  # images 2 and 4 were the same picture: one clip for both
    infos = [assembler.fill_from_call([0], clips[0]), assembler.fill_from_call([1, 3], clips[1]),
             assembler.fill_from_call([2], clips[2])]
    assert infos == [VideoInfo(frames=14, height=64, width=96, fps=7.0)] * 3
    assert assembler.filled([0]) and assembler.filled([1, 3]) and assembler.filled([2])
    np.testing.assert_array_equal(assembler.frames(), frames_of([clips[0], clips[1], clips[2], clips[1]]))


def test_a_clip_that_is_not_the_plain_case_is_left_to_the_careful_path():
    from fake_segmind import fragmented, undecodable

    plain, shorter = encode_mp4(smooth_frames(), 7), encode_mp4(smooth_frames(count=9, seed=8), 7)
    wider = encode_mp4(smooth_frames(width=128), 7)
    # No frame count before decoding (a fragmented MP4, a bare H.264 stream): nothing to size the buffer from.
    for headless in (fragmented(plain), raw_h264(smooth_frames())):
        assembler = FrameAssembler(2)
        assert assembler.fill_from_call([0], headless) is None and not assembler.filled([0])
        assembler.add([0], Clip(headless, {}, "segmind"))
        assert assembler.fill_from_call([1], plain) is not None  # the buffer exists now: sized by video_info
        np.testing.assert_array_equal(assembler.frames(), frames_of([headless, plain]))
    # Fewer frames than the first clip, or a clip that does not decode: declined, never raised.
    assembler = FrameAssembler(3)
    assert assembler.fill_from_call([0], plain) is not None
    assert assembler.fill_from_call([1], shorter) is None and not assembler.filled([1])
    assert assembler.fill_from_call([2], undecodable(plain)) is None and not assembler.filled([2])
    assembler.add([1], Clip(shorter, {}, "segmind"))
    assembler.add([2], Clip(plain, {}, "segmind"))
    np.testing.assert_array_equal(assembler.frames(), frames_of([plain, shorter, plain]))
    # Another size: declined, and the batch still says which images differ once every clip is in.
    assembler = FrameAssembler(2)
    assert assembler.fill_from_call([0], plain) is not None
    assert assembler.fill_from_call([1], wider) is None
    assembler.add([1], Clip(wider, {}, "segmind"))
    with pytest.raises(MixedClipSizesError, match="image 1: 96x64, image 2: 128x64"):
        assembler.frames()


def test_clips_arriving_at_once_are_never_overwritten_by_the_warm_up_of_the_buffer():
    # The warm-up thread writes into the slots no clip has reached yet, while calls decode into theirs.
    import threading

    clips = [encode_mp4(smooth_frames(seed=s), 7) for s in range(12)]
    expected = frames_of(clips)
    for _ in range(3):
        assembler = FrameAssembler(len(clips))
        threads = [threading.Thread(target=lambda i=i: assembler.fill_from_call([i], clips[i]))
                   for i in range(len(clips))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        np.testing.assert_array_equal(assembler.frames(), expected)


def test_a_stopped_batch_does_not_allocate_for_a_clip_arriving_late():
    assembler = FrameAssembler(8)
    assembler.close()
    assert assembler.fill_from_call([0], encode_mp4(smooth_frames(), 7)) is None
    assert assembler._buffer is None


def test_encode_pads_odd_sizes_instead_of_failing():
    frames = smooth_frames(count=4, width=97, height=65)
    decoded = decode_video(encode_mp4(frames, 7)).frames
    assert decoded.shape == (4, 66, 98, 3)
    assert np.abs(decoded[:, :65, :97] * 255 - frames).mean() < 3
    # The added row and column repeat the edge, so nothing new (no black line) appears at the border.
    assert np.abs(decoded[:, 65] - decoded[:, 64]).mean() * 255 < 3


@pytest.mark.parametrize("frames,fps,words", [
    (np.zeros((2, 64, 64, 3), np.float32), 7, "uint8 frames"),
    (np.zeros((0, 64, 64, 3), np.uint8), 7, "N >= 1"),
    (np.zeros((64, 64, 3), np.uint8), 7, "uint8 frames"),
    (np.zeros((2, 64, 64, 3), np.uint8), 0, "positive fps"),
])
def test_encode_refuses_what_it_cannot_encode(frames, fps, words):
    with pytest.raises(ValueError, match=words):
        encode_mp4(frames, fps)


def test_a_batch_buffer_has_a_limit_too():
    assert allocate_frames(28, 576, 1024).shape == (28, 576, 1024, 3)
    with pytest.raises(VideoDecodeError, match="run fewer images at once"):
        allocate_frames(10_000, 1024, 1024)


# ---- colour matching for chained clips ---------------------------------------------------------------------

def lab_to_srgb_reference(lab):
    """CIE Lab (D65) → sRGB in float64, written from the definitions, independent of color_match."""
    delta = 6 / 29
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > delta, f ** 3, 3 * delta ** 2 * (f - 4 / 29)) * np.array([0.95047, 1.0, 1.08883])
    to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
    linear = np.clip(xyz @ np.linalg.inv(to_xyz).T, 0, 1)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def chained_clip(count=6, width=96, height=64, seed=5):
    """float32 frames of a moving picture in mid-range colours (nothing near the gamut's edges)."""
    return (0.2 + 0.6 * smooth_frames(count, width, height, seed) / 255.0).astype(np.float32)


def test_lab_conversion_gives_the_published_values():
    rgb = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]], np.float32)
    published = [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20], [87.73, -86.18, 83.18], [32.30, 79.19, -107.86],
                 [53.39, 0, 0]]
    np.testing.assert_allclose(srgb_to_lab(rgb), published, atol=0.01)
    lab = srgb_to_lab(chained_clip(count=1))
    np.testing.assert_allclose(lab_to_srgb_reference(lab), chained_clip(count=1), atol=2e-5)


def test_matching_a_clip_to_its_own_reference_changes_nothing():
    frames = chained_clip()
    original = frames.copy()
    result = match_colors(frames, frames[0], frames[0].copy())
    assert result is frames  # corrected in place, as documented
    np.testing.assert_allclose(result, original, atol=1e-4)


def test_a_lab_offset_between_clips_is_undone():
    previous_last = chained_clip(count=1, seed=6)[0]
    truth = chained_clip(seed=6)  # what this clip should look like: it starts where the previous one ended
    truth[0] = previous_last
    shifted = lab_to_srgb_reference(srgb_to_lab(truth) + [3.0, -4.0, 5.0]).astype(np.float32)
    assert np.abs(shifted - truth).mean() * 255 > 3  # a visible jump at the join
    corrected = match_colors(shifted, shifted[0], previous_last)
    assert np.abs(corrected - truth).mean() * 255 < 0.2
    assert np.abs(corrected - truth).max() * 255 < 1.5


def test_a_per_channel_gain_is_mostly_undone():
    # A gain on R, G, B is not an offset in Lab, so only its average can be taken out exactly.
    truth = chained_clip(seed=7)
    shifted = np.clip(truth * np.array([0.93, 1.0, 1.08], np.float32), 0, 1)
    corrected = match_colors(shifted.copy(), shifted[0], truth[0])
    lab_error = np.abs(srgb_to_lab(corrected[0]).mean(axis=(0, 1)) - srgb_to_lab(truth[0]).mean(axis=(0, 1)))
    assert lab_error.max() < 0.05
    assert np.abs(corrected - truth).mean() < np.abs(shifted - truth).mean() / 3


@pytest.mark.parametrize("target", [np.zeros((8, 8, 3), np.float32), np.ones((8, 8, 3), np.float32)],
                         ids=["black", "white"])
def test_extreme_references_keep_the_frames_in_range(target):
    frames = match_colors(chained_clip(), chained_clip(count=1)[0], target)
    assert np.isfinite(frames).all() and frames.min() >= 0.0 and frames.max() <= 1.0


def test_a_flat_reference_moves_colours_without_amplifying_noise():
    flat = np.full((1, 32, 32, 3), [0.4, 0.5, 0.6], np.float32)
    noisy = flat + np.random.default_rng(8).normal(0, 0.5 / 255, flat.shape).astype(np.float32)
    target = np.full((32, 32, 3), [0.5, 0.5, 0.5], np.float32)
    corrected = match_colors(noisy.copy(), noisy[0], target)  # a ratio of noise stds would blow the noise up
    assert np.isfinite(corrected).all()
    assert np.abs(corrected - 0.5).max() * 255 < 2.5
    assert corrected.std() <= noisy.std() * 1.5


def test_chunks_and_threads_do_not_change_the_result():
    frames = chained_clip(count=3, width=160, height=96)
    source, target = frames[0].copy(), chained_clip(count=1, width=160, height=96, seed=9)[0]
    whole = match_colors(frames.copy(), source, target, workers=1)
    pieces = match_colors(frames.copy(), source, target, chunk_pixels=1000, workers=3)
    np.testing.assert_array_equal(whole, pieces)


def test_colour_matching_memory_is_bounded_by_its_chunks():
    # Scratch is ~1.7 MiB per thread (three planes of CHUNK_PIXELS) plus one set for the statistics,
    # whatever the clip's length; converting the clip whole would need several times its 44 MiB.
    frames = chained_clip(count=14, width=512, height=512)
    tracemalloc.start()
    try:
        match_colors(frames, frames[0], frames[-1].copy(), workers=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2 ** 20


def test_colour_matching_refuses_what_is_not_a_clip():
    with pytest.raises(ValueError, match=r"frames \[N,H,W,3\]"):
        match_colors(np.zeros((64, 64, 3), np.float32), np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="NaN"):
        match_colors(chained_clip(count=1), np.full((8, 8, 3), np.nan), np.zeros((8, 8, 3)))
