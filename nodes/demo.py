"""The main job from the command line, through the same node code ComfyUI runs: an image in, a video out.

    python -m nodes.demo [IMAGE] [OUT_DIR] [--motion "Pan Left"] [--motion-speed 1.5] ...

With SEGMIND_API_KEY set (or the key file) it calls Segmind (about $0.09 and 60 s, cached afterwards);
without a key it renders the free local camera preview instead, and says so.
"""

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from .common.api_key import find_api_key
from .common.errors import MissingApiKeyError, SegmindError
from .motionctrl_node import SegmindMotionCtrlSVD
from .common.params import PARAMS
from .common.paths import key_file
from .preview_node import MotionCtrlCameraPreview


def main(argv=None):
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        image = _load(args.image)
    except OSError as exc:
        print(f"error: cannot read the image {args.image!r}: {exc}", file=sys.stderr)
        return 2
    widgets = {p.name: getattr(args, p.name) for p in PARAMS}
    try:
        node, label = _choose_node(args.offline)
    except SegmindError as exc:  # a key that is set but unusable: say which and why, don't fall back silently
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(label, file=sys.stderr)
    try:
        out = getattr(node, node.FUNCTION)(image=image, unique_id=None, **widgets)
        if asyncio.iscoroutine(out):  # the nodes are async (ComfyUI runs them side by side); here, one at a time
            out = asyncio.run(out)
    except SegmindError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _write(out, Path(args.out_dir))


def _parser():
    parser = argparse.ArgumentParser(prog="python -m nodes.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("image", nargs="?", help="input image (default: a generated test picture)")
    parser.add_argument("out_dir", nargs="?", default="out", help="where to write video.mp4 and frames/")
    parser.add_argument("--offline", action="store_true", help="use the local preview even if a key is set")
    for p in PARAMS:
        flag = "--" + p.name.replace("_", "-")
        if p.kind == "bool":
            parser.add_argument(flag, dest=p.name, default=p.default, type=_boolean, metavar="true|false",
                                help=p.help)
        else:
            kind = {"int": int, "float": float, "choice": str}[p.kind]
            parser.add_argument(flag, dest=p.name, default=p.default, type=kind,
                                choices=list(p.choices) or None, help=p.help)
    return parser


def _boolean(text):
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError("expected true or false")


def _choose_node(offline):
    if not offline:
        try:
            find_api_key(key_files=[key_file()])
            return SegmindMotionCtrlSVD(), "Calling Segmind's MotionCtrl-SVD (about $0.09 and 60 s; repeats are free)."
        except MissingApiKeyError:
            pass
    return MotionCtrlCameraPreview(), ("No Segmind key (or --offline): rendering the free LOCAL CAMERA PREVIEW, "
                                       "not a MotionCtrl video. Set SEGMIND_API_KEY for the real thing.")


def _load(path):
    import torch

    if path:
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    else:
        pixels = test_picture()
    return torch.from_numpy(np.ascontiguousarray(pixels))[None]


def test_picture(width=1024, height=576):
    """A synthetic landscape with shapes and texture, so any camera motion is easy to see."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    sky = np.stack([0.35 + 0.3 * y / height, 0.55 + 0.25 * y / height, 0.95 - 0.2 * y / height], axis=-1)
    ground = (y > height * 0.62)[..., None]
    checker = ((x // 48 + y // 24) % 2)[..., None] * 0.15
    field = np.stack([0.25 + checker[..., 0], 0.55 + checker[..., 0], 0.2 + 0 * x], axis=-1)
    picture = np.where(ground, field, sky)
    sun = ((x - width * 0.72) ** 2 + (y - height * 0.28) ** 2) < (height * 0.1) ** 2
    picture[sun] = (1.0, 0.85, 0.3)
    house = (abs(x - width * 0.3) < width * 0.07) & (abs(y - height * 0.55) < height * 0.12)
    picture[house] = (0.7, 0.2, 0.15)
    return np.clip(picture, 0, 1).astype(np.float32)


def _write(out, out_dir):
    frames, fps, video = out["result"]
    out_dir.mkdir(parents=True, exist_ok=True)
    frame_dir = out_dir / "frames"
    frame_dir.mkdir(exist_ok=True)
    for index, frame in enumerate(frames.numpy()):
        Image.fromarray(np.rint(frame * 255).astype(np.uint8)).save(frame_dir / f"frame_{index:03d}.png")
    video_path = out_dir / "video.mp4"
    if hasattr(video, "save_to"):
        video.save_to(str(video_path))
    print(out["ui"]["segmind_status"][0])
    print(f"{frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]} at {fps:g} fps -> {video_path} and "
          f"{frame_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
