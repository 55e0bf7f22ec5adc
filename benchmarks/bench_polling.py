"""Poll lag: how long after a v2 job is done the client notices, and how many status polls that costs.

Two measurements, side by side:
- the schedules themselves, over job durations spread around Segmind's quoted ~60 s (uniform 55-65 s, and
  a wider 50-70 s), computed from each schedule's poll times: the pack's PollSchedule, the 1 s-then-2 s
  grid it replaced, Segmind's SDK (every 1 s) and Segmind's model page (every 2 s);
- the real client against the fake server over HTTP, with the pack's schedule scaled to 1/10 (a 6 s
  stand-in job for a 60 s one), to show the client keeps to its schedule: the measured lag, scaled back x10,
  must match the computed one for that duration within a poll's latency.
"""

import statistics
import time
from dataclasses import dataclass

import numpy as np

from nodes.segmind.polling import PollSchedule

LAG_TARGET_S = 0.25
POLLS_TARGET = 40
SCALE = 0.1


@dataclass(frozen=True)
class Grid:
    """A fixed grid: first poll at `first`, then every `every` seconds."""
    first: float
    every: float

    def times(self, until):
        moments = [self.first]
        while moments[-1] < until:
            moments.append(moments[-1] + self.every)
        return moments


SCHEDULES = {
    "pack: PollSchedule()": PollSchedule(),
    "before: 1 s, then every 2 s": Grid(1.0, 2.0),
    "Segmind SDK: every 1 s": Grid(1.0, 1.0),
    "Segmind model page: every 2 s": Grid(2.0, 2.0),
}


def lag_and_polls(times, duration):
    """(seconds from the job's end to the poll that sees it, polls made until then)."""
    for index, moment in enumerate(times):
        if moment >= duration:
            return moment - duration, index + 1
    raise ValueError("schedule too short")


def spread(schedule, low, high, samples=2001):
    times = schedule.times(high + 60)
    results = [lag_and_polls(times, d) for d in np.linspace(low, high, samples)]
    lags = [r[0] for r in results]
    polls = [r[1] for r in results]
    return statistics.fmean(lags), max(lags), statistics.fmean(polls), max(polls)


def schedule_rows():
    rows = []
    for name, schedule in SCHEDULES.items():
        mean55, worst55, polls55, max55 = spread(schedule, 55, 65)
        mean50, _, _, max50 = spread(schedule, 50, 70)
        rows.append([name, f"{mean55:.3f}", f"{worst55:.2f}", f"{polls55:.0f}", str(max55), f"{mean50:.3f}",
                     str(max50)])
    return rows


def pack_spread():
    mean, _, _, max_polls = spread(PollSchedule(), 55, 65)
    return mean, max_polls


def measured_rows(fake_factory, client_factory, image_b64, params, durations=(5.6, 6.0, 6.3)):
    """The real client on the scaled schedule: (duration, computed lag, measured lag, polls), seconds x10."""
    schedule = PollSchedule().scaled(SCALE)
    rows = []
    for duration in durations:
        with fake_factory(duration) as fake:
            client = client_factory(fake, schedule)
            done_at = []

            def on_state(state, fake=fake):
                if state == "DOWNLOADING" and not done_at:
                    done_at.append(time.time())
            submitted = []
            client.generate(image_b64, dict(params, seed=int(duration * 100)), on_state=on_state,
                            on_submitted=submitted.append)
            job = fake.jobs[submitted[0].request_id]
            ready = job.ready_at - job.created + submitted[0].submitted_at  # wall time the job was done
            status_polls = len(fake.recorded("status"))
            measured = done_at[0] - ready
            computed, polls = lag_and_polls(schedule.times(duration + 10), duration)
            rows.append((duration / SCALE, computed / SCALE, measured / SCALE, status_polls, polls))
    return rows
