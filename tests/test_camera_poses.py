"""MotionCtrl-SVD basic camera poses, checked against the numbers in shared/reference/motionctrl-camera.md."""

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nodes.camera.poses import FRAME_COUNT, MOTIONS, camera_poses, rotation_matrix  # noqa: E402

IDENTITY_POSE = np.hstack([np.eye(3), np.zeros((3, 1))])

# motion -> (translation index, value) of the last frame at speed 1, from the reference notes.
LAST_FRAME_TRANSLATION = {
    "Pan Up": (1, 1.3929),
    "Pan Down": (1, -1.3929),
    "Pan Left": (0, 4.1786),
    "Pan Right": (0, -4.1786),
    "Zoom In": (2, -5.5714),
    "Zoom Out": (2, 5.5714),
}
ACW_LAST_R = np.array([[0.5633, -0.8262, 0.0], [0.8262, 0.5633, 0.0], [0.0, 0.0, 1.0]])


def roll_degrees(pose):
    return math.degrees(math.atan2(pose[1, 0], pose[0, 0]))


def test_constants():
    assert MOTIONS == ("Pan Up", "Pan Down", "Pan Right", "Pan Left", "Zoom In", "Zoom Out", "CW", "ACW")
    assert FRAME_COUNT == 14


@pytest.mark.parametrize("motion", MOTIONS)
def test_shape_dtype_and_frame_zero_is_identity(motion):
    poses = camera_poses(motion, 2.5)
    assert poses.shape == (14, 3, 4)
    assert poses.dtype == np.float64
    np.testing.assert_array_equal(poses[0], IDENTITY_POSE)


@pytest.mark.parametrize("motion", sorted(LAST_FRAME_TRANSLATION))
def test_translation_motions_last_frame(motion):
    axis, expected = LAST_FRAME_TRANSLATION[motion]
    last = camera_poses(motion, 1.0)[-1]
    np.testing.assert_allclose(last[:, :3], np.eye(3), atol=1e-12)
    assert last[axis, 3] == pytest.approx(expected, abs=1e-4)
    others = [i for i in range(3) if i != axis]
    np.testing.assert_allclose(last[others, 3], 0.0, atol=1e-12)


def test_acw_last_frame_matches_reference_rotation():
    last = camera_poses("ACW", 1.0)[-1]
    np.testing.assert_allclose(last[:, :3], ACW_LAST_R, atol=1e-4)
    assert roll_degrees(last) == pytest.approx(55.71, abs=0.01)
    np.testing.assert_allclose(last[:, 3], 0.0, atol=1e-12)


def test_cw_is_the_opposite_roll():
    last = camera_poses("CW", 1.0)[-1]
    assert roll_degrees(last) == pytest.approx(-55.71, abs=0.01)
    np.testing.assert_allclose(last[:, :3], ACW_LAST_R.T, atol=1e-4)
    # A point right of centre moves up on a y-down screen: content turns anticlockwise.
    assert (last[:, :3] @ [1.0, 0.0, 0.0])[1] < 0


def test_rotation_order_is_z_y_x():
    # Rz(0) Ry(90) Rx(90), worked by hand; the other order, Rx Ry, gives [[0, 0, 1], ...].
    expected = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
    np.testing.assert_allclose(rotation_matrix(math.pi / 2, math.pi / 2, 0.0), expected, atol=1e-12)


@pytest.mark.parametrize("motion", MOTIONS)
def test_rotations_are_proper(motion):
    for pose in camera_poses(motion, 3.7):
        rotation = pose[:, :3]
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(rotation) == pytest.approx(1.0)


@pytest.mark.parametrize("motion", MOTIONS)
def test_speed_zero_is_identity_on_every_frame(motion):
    poses = camera_poses(motion, 0)
    np.testing.assert_array_equal(poses, np.broadcast_to(IDENTITY_POSE, (14, 3, 4)))


@pytest.mark.parametrize("motion", sorted(LAST_FRAME_TRANSLATION))
def test_translation_scales_linearly_with_speed(motion):
    base = camera_poses(motion, 1.0)[:, :, 3]
    np.testing.assert_allclose(camera_poses(motion, 2.0)[:, :, 3], 2.0 * base, atol=1e-12)
    np.testing.assert_allclose(camera_poses(motion, 0.5)[:, :, 3], 0.5 * base, atol=1e-12)


@pytest.mark.parametrize("motion, sign", [("ACW", 1.0), ("CW", -1.0)])
def test_roll_angle_scales_linearly_with_speed_and_frame(motion, sign):
    for speed in (0.5, 1.0, 2.0):
        for i, pose in enumerate(camera_poses(motion, speed)):
            expected = sign * (i / 14) * speed * 60.0
            assert roll_degrees(pose) == pytest.approx(expected, abs=1e-9)


def test_progress_uses_i_over_frame_count():
    poses = camera_poses("Pan Left", 1.0, frames=7)
    assert poses.shape == (7, 3, 4)
    np.testing.assert_allclose(poses[:, 0, 3], [4.5 * i / 7 for i in range(7)], atol=1e-12)
    assert camera_poses("Pan Left", 1.0)[7, 0, 3] == pytest.approx(4.5 / 2)


@pytest.mark.parametrize("motion", ["pan up", "Tilt Up", "", None, "Zoom", ["CW"]])
def test_unknown_motion_names_value_and_lists_valid_ones(motion):
    with pytest.raises(ValueError) as info:
        camera_poses(motion, 1.0)
    message = str(info.value)
    assert repr(motion) in message
    assert all(name in message for name in MOTIONS)


@pytest.mark.parametrize("speed", [-0.1, -5, float("nan"), float("inf"), float("-inf"), "fast", None])
def test_bad_speed_raises(speed):
    with pytest.raises(ValueError):
        camera_poses("Pan Up", speed)


@pytest.mark.parametrize("frames", [0, -1, 2.5, True])
def test_bad_frame_count_raises(frames):
    with pytest.raises(ValueError):
        camera_poses("Pan Up", 1.0, frames=frames)
