"""The usage ledger: one JSON line for every call that was or may have been billed, the moment it is known.

Written to <ComfyUI>/user/segmind_motionctrl/usage.jsonl (owner-only), so the user can see where credits went
and the daily budget can be counted from real figures. A line holds: time, request id, cost and whether
Segmind reported it or it is the $0.089 estimate, API version, node id, prompt id, outcome, and a prefix of
the cache key. Never the key, never the image.

A v2 call is written when Segmind accepts it ("submitted", estimated) and again when it ends ("completed"
with the reported cost, or "failed", which is not billed); the latest line of a call (same request id, or the
same local call id) is the one that counts. A call whose outcome is unknown is counted: it may have been
billed. Each append is one write of one line to a file opened for appending, so lines never interleave; a
damaged line (a crash mid-write, a hand edit) is skipped, never fatal.
"""

import datetime
import json
import os
import threading
import time
from pathlib import Path

from ..common.log import logger
from ..segmind.contract import PRICE_PER_CALL

# Outcomes that cost money (or may have): the others are recorded for the user's information.
BILLED = ("submitted", "completed", "expired", "unknown")


class Ledger:
    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, **entry):
        now = time.time()
        line = {"time": datetime.datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"),
                "ts": round(now, 3), **entry}
        data = (json.dumps(line, sort_keys=True) + "\n").encode("utf-8")
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
                try:
                    os.write(fd, data)  # one write of one line: appends never interleave
                finally:
                    os.close(fd)
        except OSError as exc:
            logger.warning("Could not write to the usage ledger %s (%s); the call itself is unaffected.",
                           self.path, exc)

    def entries(self):
        """Every readable line, oldest first; damaged lines are skipped."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            logger.warning("Could not read the usage ledger %s (%s).", self.path, exc)
            return []
        found = []
        for line in raw.splitlines():
            try:
                entry = json.loads(line.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(entry, dict) and isinstance(entry.get("ts"), (int, float)):
                found.append(entry)
        return found

    def calls(self):
        """The latest line of each call, keyed by request id (or the local call id before there is one)."""
        latest = {}
        for entry in self.entries():
            latest[entry.get("request_id") or entry.get("call")] = entry
        return list(latest.values())

    def totals(self, now=None):
        """Spend and call counts for today and this month (local calendar), from the billed calls."""
        now = time.time() if now is None else now
        today = time.localtime(now)
        result = {"today": {"spent": 0.0, "calls": 0}, "month": {"spent": 0.0, "calls": 0}}
        for entry in self.calls():
            if entry.get("outcome") not in BILLED:
                continue
            when = time.localtime(entry["ts"])
            cost = entry.get("cost")
            cost = float(cost) if isinstance(cost, (int, float)) else PRICE_PER_CALL
            if (when.tm_year, when.tm_mon) == (today.tm_year, today.tm_mon):
                result["month"]["spent"] += cost
                result["month"]["calls"] += 1
                if when.tm_mday == today.tm_mday:
                    result["today"]["spent"] += cost
                    result["today"]["calls"] += 1
        for period in result.values():
            period["spent"] = round(period["spent"], 4)
        return result

    # ---- the job engine's events -------------------------------------------------------------------------

    def listener(self, event, flight, job=None, result=None, error=None, source=None):
        work = flight.work
        base = {"call": flight.call_id, "node_id": work.node_id, "prompt_id": work.prompt_id,
                "key": work.key[:12]}
        if event == "submitted":
            self.append(**base, request_id=job.request_id, api_version="v2", outcome="submitted",
                        cost=PRICE_PER_CALL, cost_source="estimated")
        elif event == "completed":
            if source == "cache":
                return
            reported = result.accounting.cost
            self.append(**base, request_id=result.request_id, api_version=result.api_version, outcome="completed",
                        cost=reported if reported is not None else PRICE_PER_CALL,
                        cost_source="reported" if reported is not None else "estimated")
        elif event in ("failed", "expired", "unknown"):
            self.append(**base, request_id=getattr(error, "request_id", None), api_version=None, outcome=event,
                        cost=0.0 if event == "failed" else PRICE_PER_CALL,
                        cost_source="none" if event == "failed" else "estimated")


_ledgers = {}
_lock = threading.Lock()


def ledger_for(path):
    with _lock:
        return _ledgers.setdefault(str(path), Ledger(path))
