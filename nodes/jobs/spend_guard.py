"""The spend guard: a mis-wired graph (60 video frames into `image`, a long sequence, several paid nodes) cannot
spend more than the user allowed.

Two limits (nodes/common/settings.py): SEGMIND_MAX_CALLS_PER_RUN, the paid calls one queued run may make across
all of the pack's nodes in it, and SEGMIND_DAILY_BUDGET, the dollars per local calendar day, counted from the
usage ledger plus the calls this process has started but not yet recorded. The check happens before a node
sends anything: if its new paid calls would pass either limit, it sends none of them and says how many calls,
what they would cost, which limit, and how to raise it. Calls served from the cache, resumed or joined
(already paid) never count. Within one run, what earlier nodes made counts against the later ones.
"""

import threading
import uuid

from ..common.errors import SegmindError
from ..segmind.contract import PRICE_PER_CALL

RUNS_KEPT = 200


class SpendLimitError(SegmindError):
    """A node's calls would pass a spend limit: nothing was sent."""


class SpendGuard:
    def __init__(self):
        self._lock = threading.Lock()
        self._runs = {}  # prompt id -> paid calls reserved in that run
        self._unrecorded = 0  # calls reserved in this process, not yet in the ledger

    def check(self, calls, *, prompt_id, settings, ledger, now=None):
        """Reserve `calls` new paid calls for the run, or raise SpendLimitError without reserving anything."""
        if calls <= 0:
            return
        run = prompt_id or uuid.uuid4().hex  # outside ComfyUI each node run is a run of its own
        with self._lock:
            made = self._runs.get(run, 0)
            limit = settings.max_calls_per_run
            if limit and made + calls > limit:
                raise SpendLimitError(_per_run_message(calls, made, limit, settings.sources["max_calls_per_run"]))
            budget = settings.daily_budget
            if budget is not None:
                spent = ledger.totals(now)["today"]["spent"] if ledger is not None else 0.0
                pending = self._unrecorded * PRICE_PER_CALL
                if spent + pending + calls * PRICE_PER_CALL > budget + 1e-9:
                    raise SpendLimitError(_budget_message(calls, spent + pending, budget,
                                                          settings.sources["daily_budget"]))
            self._runs[run] = made + calls
            self._unrecorded += calls
            while len(self._runs) > RUNS_KEPT:
                self._runs.pop(next(iter(self._runs)))

    def listener(self, event, flight, **_):
        """The engine's events: a reserved call's first line is now in the ledger (or it was never sent), so
        from here on the ledger counts it."""
        if not flight.work.reserved or getattr(flight, "counted", False):
            return
        flight.counted = True
        with self._lock:
            self._unrecorded = max(0, self._unrecorded - 1)


def usd(amount):
    """"$0.445", "$1.78": cents and a bit below a dollar, as the frontend shows them (js/lib/cost.js)."""
    return f"${amount:.3f}" if amount < 1 else f"${amount:.2f}"


def _raise_hint(setting, source):
    if source == "env":
        return (f"{setting} is set in ComfyUI's environment: change or unset it there and restart ComfyUI "
                f"({'0' if setting.endswith('RUN') else 'unset'} = no limit).")
    return (f"Raise it in Settings > Segmind MotionCtrl, or set the environment variable {setting} "
            f"({'0' if setting.endswith('RUN') else 'unset'} = no limit).")


def _per_run_message(calls, made, limit, source):
    already = f" ({made} already made in this run)" if made else ""
    return (f"Stopped before sending: this node would make {calls} paid call{'s' if calls > 1 else ''} "
            f"(about {usd(calls * PRICE_PER_CALL)}), but one queued run may make at most {limit}{already} "
            f"(SEGMIND_MAX_CALLS_PER_RUN). Is a video or a big batch wired into `image` by mistake? "
            f"{_raise_hint('SEGMIND_MAX_CALLS_PER_RUN', source)} Nothing was sent, nothing was billed.")


def _budget_message(calls, spent, budget, source):
    return (f"Stopped before sending: this node would make {calls} paid call{'s' if calls > 1 else ''} "
            f"(about {usd(calls * PRICE_PER_CALL)}), and today's spend is ${spent:.2f} of the daily budget "
            f"${budget:.2f} (SEGMIND_DAILY_BUDGET). {_raise_hint('SEGMIND_DAILY_BUDGET', source)} Nothing was sent, "
            "nothing was billed.")
