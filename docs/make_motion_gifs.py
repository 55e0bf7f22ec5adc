"""Render the README's motion clips with the local camera preview: python docs/make_motion_gifs.py"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nodes.camera.motions import parse_motions  # noqa: E402
from nodes.camera.poses import MOTIONS  # noqa: E402
from nodes.camera.preview import render_preview  # noqa: E402
from nodes.demo import test_picture  # noqa: E402


SEQUENCE = "Pan Left\nZoom In\nCW 0.5"


def save_gif(frames, path, width):
    size = (width, round(frames.shape[1] * width / frames.shape[2]))
    # A small shared palette without dithering keeps each clip small enough for a README.
    images = [Image.fromarray(f).resize(size, Image.Resampling.LANCZOS) for f in frames]
    palette = images[0].quantize(colors=48, dither=Image.Dither.NONE)
    images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    images[0].save(path, save_all=True, append_images=images[1:], duration=[1000 // 7] * (len(images) - 1) + [600],
                   loop=0, optimize=True)
    print(path)


def sequence_frames(picture, text):
    """What the preview sequence node renders: each move from the last frame of the one before, joined."""
    parts, current = [], picture
    for k, segment in enumerate(parse_motions(text)):
        clip = render_preview(current, segment.motion, segment.speed, True)
        parts.append(clip if k == 0 else clip[1:])
        current = clip[-1]
    return np.concatenate(parts)


def main(out_dir=ROOT / "docs" / "motions", width=192):
    out_dir.mkdir(parents=True, exist_ok=True)
    picture = (test_picture() * 255).astype(np.uint8)
    for motion in MOTIONS:
        save_gif(render_preview(picture, motion, 1.0, True), out_dir / (motion.lower().replace(" ", "_") + ".gif"),
                 width)
    save_gif(sequence_frames(picture, SEQUENCE), out_dir / "sequence.gif", 2 * width)


if __name__ == "__main__":
    main()
