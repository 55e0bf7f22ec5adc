"""Render the README's motion clips with the local camera preview: python docs/make_motion_gifs.py"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nodes.camera.poses import MOTIONS  # noqa: E402
from nodes.camera.preview import render_preview  # noqa: E402
from nodes.demo import test_picture  # noqa: E402


def main(out_dir=ROOT / "docs" / "motions", width=192):
    out_dir.mkdir(parents=True, exist_ok=True)
    picture = (test_picture() * 255).astype(np.uint8)
    for motion in MOTIONS:
        frames = render_preview(picture, motion, 1.0, True)
        size = (width, round(frames.shape[1] * width / frames.shape[2]))
        # A small shared palette without dithering keeps each clip small enough for a README.
        images = [Image.fromarray(f).resize(size, Image.Resampling.LANCZOS) for f in frames]
        palette = images[0].quantize(colors=48, dither=Image.Dither.NONE)
        images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
        name = motion.lower().replace(" ", "_") + ".gif"
        images[0].save(out_dir / name, save_all=True, append_images=images[1:], duration=[1000 // 7] * 13 + [600], loop=0,
                       optimize=True)
        print(out_dir / name)


if __name__ == "__main__":
    main()
