"""A persistent disk cache of returned videos, and the record of v2 jobs still running: never pay twice.

Entries are keyed by (base URL, image pixels, every parameter). A finished video is stored as `<key>.mp4`
with a small `<key>.json` beside it; a submitted v2 job is recorded as `pending/<key>.json` *before* the
pack waits for it, so a cancel or a ComfyUI restart mid-wait resumes the job instead of paying for a new one.
The cache never breaks a run: a read-only or full disk, or a damaged entry, is logged and treated as a miss.
No API key is ever written here.
"""

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import SegmindError
from ..common.log import logger
from ..segmind.results import SubmittedJob
from ..media.video_sniff import check_video

# Segmind keeps a v2 job's result for 1 hour; a little less leaves time to fetch it.
PENDING_LIFETIME_S = 55 * 60
# A temporary file this old is left from a write that was killed (a crash, a full disk): removed on start.
STALE_TEMP_S = 60 * 60
_swept = set()
KEY_VERSION = "motionctrl-svd/1"


def cache_key(base_url, pixels, params):
    """sha256 over what decides the video: where it is made, the exact image pixels, every parameter."""
    digest = hashlib.sha256()
    header = {"v": KEY_VERSION, "base_url": base_url.rstrip("/"), "params": params,
              "shape": list(pixels.shape), "dtype": str(pixels.dtype)}
    digest.update(json.dumps(header, sort_keys=True).encode("utf-8"))
    digest.update(memoryview(pixels).cast("B") if pixels.flags.c_contiguous else pixels.tobytes())
    return digest.hexdigest()


@dataclass
class CachedVideo:
    video: bytes
    meta: dict


class ResultCache:
    def __init__(self, directory):
        self.directory = Path(directory)
        if str(self.directory) not in _swept:
            _swept.add(str(self.directory))
            self._sweep_stale_temps()

    def _sweep_stale_temps(self):
        try:
            temps = list(self.directory.glob("*/.tmp-*")) + list(self.directory.glob(".tmp-*"))
        except OSError:
            return
        cutoff = time.time() - STALE_TEMP_S
        for path in temps:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    def _paths(self, key):
        folder = self.directory / key[:2]
        return folder / f"{key}.mp4", folder / f"{key}.json"

    def _pending_path(self, key):
        return self.directory / "pending" / f"{key}.json"

    # ---- finished videos ---------------------------------------------------------------------------------

    def get(self, key):
        video_path, meta_path = self._paths(key)
        try:
            video = video_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("Result cache unreadable (%s); calling Segmind instead.", exc)
            return None
        try:
            check_video(video, what="A cached video")
            meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        except (SegmindError, ValueError, OSError) as exc:
            logger.warning("Damaged cache entry %s removed (%s).", video_path.name, exc)
            self._remove(video_path, meta_path)
            return None
        return CachedVideo(video, meta if isinstance(meta, dict) else {})

    def put(self, key, video, meta):
        video_path, meta_path = self._paths(key)
        ok = _write_atomic(video_path, video) and _write_atomic(meta_path, _json_bytes(meta))
        if not ok:
            self._remove(video_path, meta_path)
        return ok

    def discard(self, key):
        """Remove an entry found damaged (it no longer decodes): the next run fetches it anew."""
        logger.warning("Cache entry %s no longer decodes; removed.", key[:12])
        self._remove(*self._paths(key))

    # ---- v2 jobs still running ---------------------------------------------------------------------------

    def pending(self, key):
        path = self._pending_path(key)
        try:
            job = SubmittedJob.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Unreadable pending-job record %s removed (%s).", path.name, exc)
            self._remove(path)
            return None
        if time.time() - job.submitted_at > PENDING_LIFETIME_S:
            self._remove(path)
            return None
        return job

    def record_pending(self, key, job):
        if not _write_atomic(self._pending_path(key), _json_bytes(job.to_dict())):
            logger.warning("Could not record Segmind job %s on disk: if this run is cancelled it cannot be "
                           "resumed.", job.request_id)

    def clear_pending(self, key):
        self._remove(self._pending_path(key))

    @staticmethod
    def _remove(*paths):
        for path in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                logger.warning("Could not remove %s (%s).", path, exc)


def _json_bytes(data):
    return json.dumps(data, indent=1, sort_keys=True).encode("utf-8")


def _write_atomic(path, data):
    """Write via a temp file and rename, so a crash never leaves half an entry; False if the disk refuses."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        logger.warning("Could not write %s to the result cache (%s); the result is still used, just not kept.",
                       path.name, exc)
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False
