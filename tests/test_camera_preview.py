"""Offline camera-motion preview: output sizes, and motion measured on the rendered frames."""

import functools
import math
import os
import sys

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nodes.camera.poses import FRAME_COUNT, MOTIONS  # noqa: E402
from nodes.camera.preview import (  # noqa: E402
    MIN_DEPTH_RATIO,
    fit_image,
    intrinsics,
    output_size,
    render_preview,
    warp_frames,
)

W, H = 1024, 576
CENTRE = np.array([W / 2.0, H / 2.0])
# Pixel-centre coordinates and the phase-correlation window, built once (the tests measure a lot).
YY, XX = np.mgrid[0:H, 0:W] + 0.5
RADIUS_SQ = (XX - CENTRE[0]) ** 2 + (YY - CENTRE[1]) ** 2
HANN = np.outer(np.hanning(H), np.hanning(W)).astype(np.float32)


def smooth_texture(width=W, height=H, low=40, high=215, seed=0):
    """Blurry colour noise plus grain: a pattern phase correlation can lock onto, with no black."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(low, high, size=(height // 16, width // 16, 3)).astype(np.uint8)
    image = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC))
    image = image + rng.normal(0.0, 6.0, image.shape)
    return np.clip(image, low, high).astype(np.uint8)


def disk_image(radius, centre=CENTRE):
    """A white disk on a darker textured background (values 40..150)."""
    image = smooth_texture(low=40, high=150, seed=1)
    inside = (XX - centre[0]) ** 2 + (YY - centre[1]) ** 2 <= radius**2
    image[inside] = 255
    return image


TEXTURE = smooth_texture()
CENTRE_DISK = disk_image(60)
SIDE_DISK = disk_image(25, CENTRE + (200.0, 0.0))
TINY_DISK = disk_image(15)


@functools.lru_cache(maxsize=None)
def render(image_name, motion, speed):
    return render_preview(globals()[image_name], motion, speed)


def gray(frame):
    return frame.astype(np.float32).sum(axis=2) / 3.0


def spectrum(frame):
    g = gray(frame)
    return np.fft.rfft2((g - g.mean()) * HANN)


def displacement(before, after):
    """(dx, dy) in pixels by which the content of ``before`` moved in ``after`` (phase correlation).

    Either argument may be a frame or its precomputed ``spectrum``.
    """
    a, b = (x if np.iscomplexobj(x) else spectrum(x) for x in (before, after))
    cross = np.conj(a) * b
    height, width = a.shape[0], W  # rfft2 drops the width; every measured frame is W wide
    surface = np.fft.irfft2(cross / (np.abs(cross) + 1e-12), s=(height, width))
    dy, dx = np.unravel_index(np.argmax(surface), surface.shape)
    return (dx - width if dx > width // 2 else dx), (dy - height if dy > height // 2 else dy)


def bright_blob(frame, within=None):
    """(area, centroid) of the white pixels, optionally only those within ``within`` px of the centre."""
    mask = frame.min(axis=2) > 200  # the background never exceeds 150
    if within is not None:
        mask &= RADIUS_SQ <= within**2
    area = int(mask.sum())
    assert area > 0, "blob lost"
    return area, np.array([XX[mask].mean(), YY[mask].mean()])


def blob_angle(frame):
    """Angle in degrees of the side blob around the centre; positive = clockwise on a y-down screen."""
    _, centroid = bright_blob(frame, within=260)
    dx, dy = centroid - CENTRE
    return math.degrees(math.atan2(dy, dx))


# --- output_size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, keep, expected",
    [
        ((1920, 1080), True, (1024, 576)),
        ((1920, 1080), False, (1024, 576)),
        ((800, 600), True, (1024, 768)),
        ((800, 600), False, (1024, 576)),
        ((3000, 500), True, (1024, 128)),  # 170.67 rounds down to 128
        ((1080, 1920), True, (320, 576)),  # portrait: height 576, width 324 -> 320
        ((1080, 1920), False, (1024, 576)),
        ((500, 3000), True, (64, 576)),  # 96 -> 64
        ((4000, 40), True, (1024, 64)),  # never below one 64-pixel block
        ((512, 512), True, (1024, 1024)),  # square is treated as landscape: width 1024
        ((512, 512), False, (1024, 576)),
        ((10, 10), True, (1024, 1024)),
    ],
)
def test_output_size(size, keep, expected):
    assert output_size(*size, keep) == expected


@pytest.mark.parametrize("size", [(1023, 577), (640, 641), (333, 1999), (7, 3)])
def test_output_size_sides_are_multiples_of_64(size):
    for keep in (True, False):
        width, height = output_size(*size, keep)
        assert width % 64 == 0 and height % 64 == 0
        assert 64 <= width <= 1024 and 64 <= height <= 1024


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (1.5, 10)])
def test_output_size_rejects_bad_dimensions(size):
    with pytest.raises(ValueError):
        output_size(*size, True)


# --- fitting, shapes, identity --------------------------------------------------------------------


def test_shape_dtype_and_frames_argument():
    frames = render("TEXTURE", "Pan Left", 1.0)
    assert frames.shape == (FRAME_COUNT, H, W, 3)
    assert frames.dtype == np.uint8
    assert render_preview(TEXTURE, "CW", 1.0, frames=5).shape == (5, H, W, 3)


def test_speed_zero_gives_identical_frames_equal_to_input():
    frames = render("TEXTURE", "Zoom In", 0.0)
    assert frames.shape[0] == 14
    for frame in frames:
        np.testing.assert_array_equal(frame, TEXTURE)


@pytest.mark.parametrize("motion", MOTIONS)
def test_frame_zero_is_the_input_and_later_frames_move(motion):
    frames = render("TEXTURE", motion, 1.0)
    np.testing.assert_array_equal(frames[0], TEXTURE)
    assert np.abs(frames[-1].astype(int) - TEXTURE).mean() > 10


def test_centre_crop_keeps_the_middle_when_not_keeping_aspect():
    image = smooth_texture(1024, 768, seed=3)
    np.testing.assert_array_equal(fit_image(image, maintain_aspect_ratio=False), image[96:672])
    frames = render_preview(image, "Pan Up", 0.0, maintain_aspect_ratio=False, frames=2)
    np.testing.assert_array_equal(frames[0], image[96:672])


def test_keep_aspect_resizes_to_output_size():
    image = smooth_texture(270, 480, seed=4)  # portrait 9:16 -> width 324 -> 320
    frames = render_preview(image, "Pan Up", 1.0, maintain_aspect_ratio=True, frames=3)
    assert frames.shape == (3, 576, 320, 3)
    # Resized, not cropped: the left and right columns still carry the input's edge colours.
    assert np.abs(frames[0, :, 0].astype(int).mean(0) - image[:, 0].astype(int).mean(0)).max() < 8


def test_float_input_matches_uint8_input():
    as_float = render_preview(TEXTURE.astype(np.float32) / 255.0, "ACW", 1.0, frames=4)
    np.testing.assert_array_equal(as_float, render_preview(TEXTURE, "ACW", 1.0, frames=4))
    assert not np.array_equal(as_float[1], as_float[0])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="Pan Up"):
        render_preview(TEXTURE, "Spin", 1.0)
    with pytest.raises(ValueError):
        render_preview(TEXTURE, "Pan Up", -1.0)
    with pytest.raises(ValueError):
        render_preview(TEXTURE, "Pan Up", float("nan"))
    with pytest.raises(ValueError):
        render_preview(np.zeros((4, 4, 2), np.uint8), "Pan Up", 1.0)


# --- pans -------------------------------------------------------------------------------------

PAN_DIRECTION = {"Pan Left": (1, 0), "Pan Right": (-1, 0), "Pan Up": (0, 1), "Pan Down": (0, -1)}


@pytest.mark.parametrize("motion", sorted(PAN_DIRECTION))
def test_pan_moves_content_the_documented_way_frame_to_frame(motion):
    sx, sy = PAN_DIRECTION[motion]
    spectra = [spectrum(frame) for frame in render("TEXTURE", motion, 1.0)]
    for before, after in zip(spectra[:-1], spectra[1:]):
        dx, dy = displacement(before, after)
        assert (dx * sx + dy * sy) > 0, f"{motion}: content moved ({dx}, {dy})"
        assert abs(dx * sy) + abs(dy * sx) <= 1, f"{motion}: sideways drift ({dx}, {dy})"


def test_pan_left_moves_a_quarter_width_by_the_last_frame():
    frames = render("TEXTURE", "Pan Left", 1.0)
    dx, dy = displacement(frames[0], frames[-1])
    assert dx == pytest.approx(W / 4, abs=2)
    assert dy == 0


def test_pan_up_magnitude_follows_the_pose_ratio():
    # Pan Up's translation is a third of Pan Left's (1 vs 3), so a third of the shift.
    dx, dy = displacement(*render("TEXTURE", "Pan Up", 1.0)[[0, -1]])
    assert dy == pytest.approx(W / 12, abs=2)
    assert dx == 0


@pytest.mark.parametrize("motion", ["Pan Left", "Pan Up"])  # one per axis keeps the file fast
def test_doubling_speed_doubles_pan_displacement(motion):
    slow = np.hypot(*displacement(*render("TEXTURE", motion, 1.0)[[0, 6]]))
    fast = np.hypot(*displacement(*render("TEXTURE", motion, 2.0)[[0, 6]]))
    assert slow > 5
    assert 1.7 <= fast / slow <= 2.3


# --- zooms ------------------------------------------------------------------------------------


@pytest.mark.parametrize("motion, last_scale", [("Zoom In", 1.5), ("Zoom Out", 0.75)])
def test_zoom_scales_about_the_centre(motion, last_scale):
    frames = render("CENTRE_DISK", motion, 1.0)
    areas = []
    for frame in frames:
        area, centroid = bright_blob(frame, within=250)
        np.testing.assert_allclose(centroid, CENTRE, atol=1.0)
        areas.append(area)
    steps = np.diff(areas)
    assert (steps > 0).all() if last_scale > 1 else (steps < 0).all()
    assert math.sqrt(areas[-1] / areas[0]) == pytest.approx(last_scale, rel=0.03)


@pytest.mark.parametrize("motion", ["Zoom In", "Zoom Out"])
def test_doubling_speed_roughly_doubles_zoom(motion):
    # On-screen scale is d / (d + t_z): not linear in speed, but the camera travel it implies,
    # |1 - 1/scale| = |t_z| / d, is. That travel is the "displacement" that should double.
    def travel(speed):
        areas = [bright_blob(f, within=250)[0] for f in render("CENTRE_DISK", motion, speed)[[0, 6]]]
        return abs(1.0 - math.sqrt(areas[0] / areas[1]))

    assert travel(1.0) > 0.05
    assert 1.7 <= travel(2.0) / travel(1.0) <= 2.3


def test_fast_zoom_in_clamps_depth_instead_of_flipping():
    # Speed 10 would put the plane behind the camera from frame 4 on; the clamp holds 10x instead.
    frames = render("TINY_DISK", "Zoom In", 10.0)
    for frame in frames[4:]:
        np.testing.assert_array_equal(frame, frames[-1])
    area, centroid = bright_blob(frames[-1])
    assert math.sqrt(area / bright_blob(frames[0])[0]) == pytest.approx(1 / MIN_DEPTH_RATIO, rel=0.03)
    np.testing.assert_allclose(centroid, CENTRE, atol=1.0)
    areas = [bright_blob(f)[0] for f in frames[:5]]
    assert (np.diff(areas) > 0).all()


# --- rolls ------------------------------------------------------------------------------------


@pytest.mark.parametrize("motion, sign", [("ACW", 1.0), ("CW", -1.0)])
def test_roll_turns_content_the_documented_way(motion, sign):
    # ACW: camera rolls anticlockwise, content turns clockwise on a y-down screen (positive angle).
    angles = [blob_angle(frame) for frame in render("SIDE_DISK", motion, 1.0)]
    assert angles[0] == pytest.approx(0.0, abs=0.5)
    assert (sign * np.diff(angles) > 0).all()
    assert angles[-1] == pytest.approx(sign * 55.71, abs=1.0)


def test_doubling_speed_doubles_roll():
    slow = blob_angle(render("SIDE_DISK", "ACW", 1.0)[6])
    fast = blob_angle(render("SIDE_DISK", "ACW", 2.0)[6])
    assert slow > 10
    assert 1.7 <= fast / slow <= 2.3


def test_roll_is_centred_on_the_image_centre():
    # CW at this speed ends exactly half a turn round: the last frame is the input upside down.
    speed = 180.0 / (60.0 * 13 / 14)
    last = render_preview(TEXTURE, "CW", speed)[-1].astype(int)
    difference = np.abs(last - TEXTURE[::-1, ::-1])
    assert difference.max() <= 1
    assert difference.mean() < 0.5


# --- borders ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "motion, speed", [("Zoom Out", 2.0), ("Zoom Out", 10.0), ("Pan Right", 10.0), ("ACW", 3.0)]
)
def test_no_black_borders(motion, speed):
    frames = render("TEXTURE", motion, speed)
    assert TEXTURE.min() >= 40
    assert frames.min() >= 40, "fill colour leaked into the frame"
    # The border really is mirrored content, not a flat smear: the corners keep texture.
    corner = gray(frames[-1][:64, :64])
    assert corner.std() > 5


def test_strong_zoom_out_averages_fine_detail_instead_of_aliasing():
    # A 1-pixel checkerboard shrunk ~4x should read as flat grey, not as moire.
    checker = np.where((XX.astype(int) + YY.astype(int)) % 2 == 0, 215, 40).astype(np.uint8)
    last = render_preview(np.dstack([checker] * 3), "Zoom Out", 10.0)[-1]
    centre = gray(last[H // 2 - 100 : H // 2 + 100, W // 2 - 100 : W // 2 + 100])
    assert abs(centre.mean() - 127.5) < 6
    assert centre.std() < 6


def bilinear(image, x, y):
    """Reference sample of ``image`` at continuous (x, y), pixel centres at +0.5."""
    x0, y0 = int(math.floor(x - 0.5)), int(math.floor(y - 0.5))
    fx, fy = x - 0.5 - x0, y - 0.5 - y0
    patch = image[y0 : y0 + 2, x0 : x0 + 2].astype(np.float64)
    top = patch[0, 0] * (1 - fx) + patch[0, 1] * fx
    bottom = patch[1, 0] * (1 - fx) + patch[1, 1] * fx
    return top * (1 - fy) + bottom * fy


def test_warp_frames_follows_a_general_perspective_homography():
    # A small camera pan-tilt (not one of the eight motions) exercises the non-affine path.
    angle = math.radians(8.0)
    c, s = math.cos(angle), math.sin(angle)
    tilt = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    k = intrinsics(W, H)
    homography = k @ tilt @ np.linalg.inv(k)
    frames = warp_frames(TEXTURE, np.stack([np.eye(3), homography]))
    np.testing.assert_array_equal(frames[0], TEXTURE)
    to_source = np.linalg.inv(homography)
    rng = np.random.default_rng(5)
    checked = 0
    for px, py in rng.uniform((0, 0), (W, H), size=(200, 2)).astype(int):
        sx, sy, sw = to_source @ (px + 0.5, py + 0.5, 1.0)
        sx, sy = sx / sw, sy / sw
        if 2 <= sx <= W - 2 and 2 <= sy <= H - 2:
            expected = bilinear(TEXTURE, sx, sy)
            assert np.abs(frames[1][py, px] - expected).max() <= 1.01, (px, py)
            checked += 1
    assert checked > 50
    assert frames[1].min() >= 40  # the part of the view beyond the picture is mirrored, not black
