"""Camera poses behind MotionCtrl-SVD's eight basic ``motion`` values.

Segmind's ``motion`` / ``motion_speed`` inputs are the "basic camera poses" and the speed slider of
the MotionCtrl reference demo (TencentARC/MotionCtrl, branch ``svd``, ``gradio_utils/camera_utils.py``).
This module rebuilds, independently, the per-frame poses that demo feeds the model, so the pack can
preview and test camera motion without calling the API. See ``shared/reference/motionctrl-camera.md``.

Conventions (OpenCV / RealEstate10K): x right, y down, z forward. Each pose is a world-to-camera
``[R | t]`` (3x4). For frame ``i`` of ``n``:

* rotation angles ``(i / n) * speed * pi/3 * a`` about x, y, z, combined as ``R = Rz @ Ry @ Rx``;
* translation ``(i / n) * speed * 1.5 * T``;
* poses are re-expressed relative to frame 0, so frame 0 is always ``[I | 0]``.

Note ``i / n`` (not ``i / (n - 1)``): the last frame stops one step short of the full motion, exactly
as in the reference. Translation is unitless (RealEstate10K scenes have arbitrary scale).
"""

from __future__ import annotations

import math

import numpy as np

MOTIONS = ("Pan Up", "Pan Down", "Pan Right", "Pan Left", "Zoom In", "Zoom Out", "CW", "ACW")
FRAME_COUNT = 14

BASE_T = 1.5
BASE_ANGLE = math.pi / 3

# motion -> (rotation axis a, translation direction T); the names describe the camera, not the
# content: "Pan Left" moves the camera left, so what the viewer sees slides right.
_MOTION_TABLE = {
    "Pan Up": ((0.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "Pan Down": ((0.0, 0.0, 0.0), (0.0, -1.0, 0.0)),
    "Pan Right": ((0.0, 0.0, 0.0), (-3.0, 0.0, 0.0)),
    "Pan Left": ((0.0, 0.0, 0.0), (3.0, 0.0, 0.0)),
    "Zoom In": ((0.0, 0.0, 0.0), (0.0, 0.0, -4.0)),
    "Zoom Out": ((0.0, 0.0, 0.0), (0.0, 0.0, 4.0)),
    "CW": ((0.0, 0.0, -1.0), (0.0, 0.0, 0.0)),
    "ACW": ((0.0, 0.0, 1.0), (0.0, 0.0, 0.0)),
}


def check_motion(motion: str) -> str:
    """Return ``motion`` if it is one of :data:`MOTIONS`, else raise ``ValueError``."""
    if not isinstance(motion, str) or motion not in _MOTION_TABLE:
        raise ValueError(f"unknown motion {motion!r}; expected one of: {', '.join(MOTIONS)}")
    return motion


def check_speed(speed: float) -> float:
    """Return ``speed`` as a float; raise ``ValueError`` unless it is finite and >= 0."""
    try:
        value = float(speed)
    except (TypeError, ValueError):
        raise ValueError(f"motion speed must be a number, got {speed!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"motion speed must be a finite number >= 0, got {speed!r}")
    return value


def rotation_matrix(theta_x: float, theta_y: float, theta_z: float) -> np.ndarray:
    """Right-handed ``Rz @ Ry @ Rx`` (radians), the order the reference uses."""
    cx, sx = math.cos(theta_x), math.sin(theta_x)
    cy, sy = math.cos(theta_y), math.sin(theta_y)
    cz, sz = math.cos(theta_z), math.sin(theta_z)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry @ rx


def _absolute_poses(axis: np.ndarray, direction: np.ndarray, speed: float, frames: int) -> np.ndarray:
    poses = np.zeros((frames, 3, 4))
    for i in range(frames):
        progress = (i / frames) * speed
        poses[i, :, :3] = rotation_matrix(*(progress * BASE_ANGLE * axis))
        poses[i, :, 3] = progress * BASE_T * direction
    return poses


def _relative_to_first(poses: np.ndarray) -> np.ndarray:
    # The model was trained on poses relative to the first frame; the basic motions already start
    # at [I|0], but doing it explicitly keeps the definition honest if the table ever changes.
    r0, t0 = poses[0, :, :3], poses[0, :, 3]
    out = np.empty_like(poses)
    out[:, :, :3] = poses[:, :, :3] @ r0.T
    out[:, :, 3] = poses[:, :, 3] - np.einsum("fij,j->fi", out[:, :, :3], t0)
    return out


def camera_poses(motion: str, speed: float, frames: int = FRAME_COUNT) -> np.ndarray:
    """World-to-camera poses ``[R | t]`` of shape ``(frames, 3, 4)``, float64, relative to frame 0.

    ``motion`` is one of :data:`MOTIONS`; ``speed`` is Segmind's ``motion_speed`` (finite, >= 0).
    """
    check_motion(motion)
    speed = check_speed(speed)
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
        raise ValueError(f"frames must be a positive integer, got {frames!r}")
    axis, direction = (np.asarray(v, dtype=np.float64) for v in _MOTION_TABLE[motion])
    return _relative_to_first(_absolute_poses(axis, direction, speed, int(frames)))
