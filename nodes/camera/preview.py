"""Free, instant, offline preview of a MotionCtrl-SVD camera ``motion`` at a given ``motion_speed``.

The real model (called through Segmind) generates a 14-frame video whose camera follows the poses of
:mod:`.camera_poses`. This module imitates only the camera: it warps the input picture as if it were a
flat plane in front of the camera, so users see the direction and rough magnitude of a motion before
paying for a call. It invents no new content (no parallax, no disocclusion), so it approximates the
direction and size of the motion only, not what the model will paint.

Output size (``output_size``)
    Facts from the MotionCtrl reference demo (TencentARC/MotionCtrl, branch ``svd``: ``app.py``'s
    input-image processing and the sampling helper in ``gradio_utils/motionctrl_cmcm_gradio.py``),
    paraphrased; Segmind's own server was not observed, so this is the reference behaviour:

    * "Center Crop To 576x1024" (``maintain_aspect_ratio=False``): scale the image so it covers
      1024x576, then cut the middle out: always 1024x576.
    * "Keep original spatial ratio" (``maintain_aspect_ratio=True``): a landscape or square input gets
      width 1024 and height ``floor(h * 1024 / w)``; a portrait input gets height 576 and width
      ``floor(w * 576 / h)``. (The rule is asymmetric: portraits come out smaller, and a square
      comes out 1024x1024.) The sampler then rounds each side *down* to a multiple of 64 because
      SVD's VAE needs it, resizing again. Here both steps are one resize to the final size; the
      64-pixel minimum per side is this module's own guard against extreme aspect ratios.

Geometry (``plane_homographies``)
    A plane facing the camera (normal ``n = (0, 0, 1)``) at depth ``d`` maps frame 0 to frame ``i``
    by ``H_i = K (R_i + t_i n^T / d) K^-1``. ``K`` has focal length = output width (both axes) and the
    principal point at the image centre (Pillow's continuous pixel coordinates, pixel centres at +0.5).

    * ``d = PLANE_DEPTH`` = 4 x (Pan Left's last-frame t_x at speed 1) ~ 16.71, so Pan Left at speed 1
      slides the content a quarter of the width by the last frame (shift = f t_x / d). Pan Up then
      moves ~8.3 % of the width, Zoom In scales by 1.5 and Zoom Out by 0.75 at speed 1.
    * Plane-behind-camera clamp: the plane's depth seen by camera ``i`` is ``d (R_i[2,2] + t_z / d)``.
      Zoom In at speed 3 brings it to zero on the last frame and faster speeds put it behind the
      camera (infinite, then mirrored magnification), so the ratio to ``d`` is clamped to
      ``[MIN_DEPTH_RATIO, MAX_DEPTH_RATIO]`` = [0.1, 16]: at most 10x magnification (reached from
      Zoom In speed 2.7; later frames of a faster Zoom In hold that framing) and at most 16x shrink
      (Zoom Out speed 45; the API's maximum speed 10 gives ~4.3x).

Borders
    Frames never show black wedges: the picture is continued past its edges by mirroring (like
    ``numpy.pad(mode="symmetric")``: the edge pixel repeats, then the image reflects), i.e. the plane
    is an endless mirror tiling of the picture. It keeps colours and textures continuous at the
    seams, which reads as "more scenery" better than a smeared edge or a flat fill would.

Speed
    Each frame is one Pillow ``Image.transform(..., BILINEAR)`` (C speed; AFFINE when the map is
    affine, as it is for all eight basic motions, else PERSPECTIVE) on a mirror-padded source. The
    tiling is periodic (2W x 2H), so a long pan is first moved back by whole periods and
    padding stays small whatever the speed; a strongly shrunk frame samples a 2^k-reduced copy
    (a mip level), which bounds memory and stops bilinear minification from aliasing.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .poses import FRAME_COUNT, camera_poses, check_motion, check_speed

NATIVE_WIDTH = 1024
NATIVE_HEIGHT = 576
SIZE_MULTIPLE = 64

PLANE_DEPTH = 4.0 * float(camera_poses("Pan Left", 1.0)[-1, 0, 3])
MIN_DEPTH_RATIO = 0.1
MAX_DEPTH_RATIO = 16.0

# Bilinear reads one pixel beyond the sample point; keep a spare one too for rounding.
_PAD_MARGIN = 2


def output_size(width: int, height: int, maintain_aspect_ratio: bool) -> tuple[int, int]:
    """(width, height) of the video MotionCtrl-SVD returns for a ``width`` x ``height`` input."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not maintain_aspect_ratio:
        return NATIVE_WIDTH, NATIVE_HEIGHT
    if height > width:
        w, h = int(width) * NATIVE_HEIGHT // int(height), NATIVE_HEIGHT
    else:
        w, h = NATIVE_WIDTH, int(height) * NATIVE_WIDTH // int(width)
    return _floor_to_multiple(w), _floor_to_multiple(h)


def _floor_to_multiple(value: int) -> int:
    return max(SIZE_MULTIPLE, value - value % SIZE_MULTIPLE)


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 copy of an HxW, HxWx1, HxWx3 or HxWx4 array (uint8, integer, or float 0..1)."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"expected an HxWx3 image array, got shape {arr.shape}")
    arr = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[:, :, :3]
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if np.issubdtype(arr.dtype, np.floating):
        scaled = np.clip(np.nan_to_num(arr.astype(np.float64)), 0.0, 1.0) * 255.0 + 0.5
        return scaled.astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        return np.clip(arr, 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported image dtype {arr.dtype}")


def _crop_box(width: int, height: int, target: tuple[int, int], keep: bool) -> tuple[float, ...]:
    if keep:
        return 0.0, 0.0, float(width), float(height)
    tw, th = target
    if width * th > height * tw:
        crop_w = height * tw / th
        left = (width - crop_w) / 2
        return left, 0.0, left + crop_w, float(height)
    crop_h = width * th / tw
    top = (height - crop_h) / 2
    return 0.0, top, float(width), top + crop_h


def fit_image(image: np.ndarray, maintain_aspect_ratio: bool = True) -> np.ndarray:
    """The input as the model sees it: resized (and centre-cropped unless keeping the aspect)."""
    rgb = as_rgb_uint8(image)
    height, width = rgb.shape[:2]
    size = output_size(width, height, maintain_aspect_ratio)
    x0, y0, x1, y1 = _crop_box(width, height, size, maintain_aspect_ratio)
    if (x1 - x0, y1 - y0) == size and x0.is_integer() and y0.is_integer():
        # Already the right size: a plain crop keeps frame 0 bit-identical to the input.
        return rgb[int(y0):int(y0) + size[1], int(x0):int(x0) + size[0]].copy()
    resized = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS, box=(x0, y0, x1, y1))
    return np.asarray(resized).copy()


def intrinsics(width: int, height: int) -> np.ndarray:
    """Pinhole K: focal length = width on both axes, principal point at the image centre."""
    return np.array([[width, 0.0, width / 2.0], [0.0, width, height / 2.0], [0.0, 0.0, 1.0]])


def _clamped_translation(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    depth_ratio = rotation[2, 2] + translation[2] / PLANE_DEPTH
    clamped = min(max(depth_ratio, MIN_DEPTH_RATIO), MAX_DEPTH_RATIO)
    out = translation.copy()
    if clamped != depth_ratio:
        # Solved from the clamp value alone, so every clamped frame is bit-identical (no flicker).
        out[2] = (clamped - rotation[2, 2]) * PLANE_DEPTH
    return out


def plane_homographies(
    motion: str, speed: float, width: int, height: int, frames: int = FRAME_COUNT
) -> np.ndarray:
    """``(frames, 3, 3)`` maps from frame-0 pixels to frame-i pixels for a ``width`` x ``height`` video."""
    k = intrinsics(width, height)
    k_inv = np.linalg.inv(k)
    normal = np.array([0.0, 0.0, 1.0])
    out = np.empty((frames, 3, 3))
    for i, pose in enumerate(camera_poses(motion, speed, frames)):
        rotation = pose[:, :3]
        translation = _clamped_translation(rotation, pose[:, 3])
        out[i] = k @ (rotation + np.outer(translation, normal) / PLANE_DEPTH) @ k_inv
    return out


def _translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    mapped = matrix @ np.vstack([points.T, np.ones(len(points))])
    return (mapped[:2] / mapped[2]).T


def _polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2.0


def _frame_plan(homography: np.ndarray, width: int, height: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(mip level, output->source map moved back by whole tiling periods, source quad)."""
    corners = np.array([[0.0, 0.0], [width, 0.0], [width, height], [0.0, height]])
    to_source = np.linalg.inv(homography)
    quad = _apply(to_source, corners)
    centre = quad.mean(axis=0)
    periods = np.round((centre - (width / 2.0, height / 2.0)) / (2.0 * width, 2.0 * height))
    shift = _translate(*(-periods * (2.0 * width, 2.0 * height)))
    shrink = math.sqrt(_polygon_area(quad) / (width * height))
    level = 2 ** int(math.floor(math.log2(shrink))) if shrink >= 2.0 else 1
    return level, shift @ to_source, _apply(shift, quad)


def _mip_source(fitted: np.ndarray, level: int, quads: list[np.ndarray]):
    """Mirror-padded, ``level``-times reduced copy covering ``quads``, and its source->padded map."""
    height, width = fitted.shape[:2]
    image = Image.fromarray(fitted)
    if level > 1:
        size = (max(1, round(width / level)), max(1, round(height / level)))
        image = image.resize(size, Image.Resampling.BOX)
    small_w, small_h = image.size
    scale = np.diag([small_w / width, small_h / height, 1.0])
    points = np.vstack([_apply(scale, q) for q in quads])
    low = np.maximum(0, np.ceil(-points.min(axis=0))).astype(int) + _PAD_MARGIN
    high = np.maximum(0, np.ceil(points.max(axis=0) - (small_w, small_h))).astype(int) + _PAD_MARGIN
    padded = np.pad(np.asarray(image), ((low[1], high[1]), (low[0], high[0]), (0, 0)), mode="symmetric")
    return Image.fromarray(padded), _translate(low[0], low[1]) @ scale


def warp_frames(fitted: np.ndarray, homographies: np.ndarray) -> np.ndarray:
    """Render ``fitted`` (HxWx3) through each frame-0 -> frame-i pixel homography.

    Each homography must keep the whole view on the plane in front of the camera (no horizon in
    the frame), as :func:`plane_homographies` guarantees; frames come back in the input's size.
    """
    fitted = as_rgb_uint8(fitted)
    height, width = fitted.shape[:2]
    frames = np.empty((len(homographies), height, width, 3), dtype=np.uint8)
    plans = {}
    for i, homography in enumerate(homographies):
        if np.allclose(homography, np.eye(3), rtol=0.0, atol=1e-12):
            frames[i] = fitted  # exact: no resampling blur on still frames
            continue
        level, to_source, quad = _frame_plan(homography, width, height)
        plans.setdefault(level, []).append((i, to_source, quad))
    for level, items in plans.items():
        source, to_padded = _mip_source(fitted, level, [quad for _, _, quad in items])
        for i, to_source, _ in items:
            frames[i] = np.asarray(_warp(source, to_padded @ to_source, (width, height)))
    return frames


def _warp(source: Image.Image, to_source: np.ndarray, size: tuple[int, int]) -> Image.Image:
    matrix = to_source / to_source[2, 2]
    if np.abs(matrix[2, :2]).max() < 1e-12:
        # All eight basic motions give affine maps; Pillow's affine path is ~1.5x faster.
        method, coeffs = Image.Transform.AFFINE, tuple(matrix[:2].ravel())
    else:
        method, coeffs = Image.Transform.PERSPECTIVE, tuple(matrix.ravel()[:8])
    return source.transform(size, method, coeffs, Image.Resampling.BILINEAR)


def render_preview(
    image: np.ndarray,
    motion: str,
    speed: float,
    maintain_aspect_ratio: bool = True,
    frames: int = FRAME_COUNT,
) -> np.ndarray:
    """``(frames, out_h, out_w, 3)`` uint8 preview of ``motion`` at ``speed``; frame 0 is the fitted input.

    ``image`` is HxWx3 uint8 or float in 0..1. See the module docstring for the approximation.
    """
    check_motion(motion)
    check_speed(speed)  # before the resize, so a bad request fails fast
    fitted = fit_image(image, maintain_aspect_ratio)
    height, width = fitted.shape[:2]
    return warp_frames(fitted, plane_homographies(motion, speed, width, height, frames))
