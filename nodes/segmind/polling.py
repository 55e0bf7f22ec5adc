"""When to ask Segmind whether a v2 job is done.

A fixed grid wastes time: a 2 s grid adds ~1 s per job on average (half an interval), and a 1 s grid doubles
the requests. Jobs take about a minute, so the schedule is dense only where the answer is likely to change:
- early, polls grow geometrically from `first_s` (catches failed or instant jobs quickly);
- approaching the window around the expected end, the interval shrinks in proportion to the time left;
- inside `expected_s ± window_s` it is `min_s` (so a job ending there waits min_s / 2 on average);
- after the window it grows again slowly, capped at `late_max_s` (a cold start can take minutes).
For jobs of 55-65 s that is 26-37 polls and about 0.23 s of lag on average (benchmarks/bench_polling.py).
"""

from dataclasses import dataclass

from .contract import EXPECTED_JOB_S


@dataclass(frozen=True)
class PollSchedule:
    expected_s: float = EXPECTED_JOB_S
    window_s: float = 5.0
    first_s: float = 1.0
    min_s: float = 0.45
    max_s: float = 8.0
    late_max_s: float = 5.0
    growth: float = 0.6  # early: the next poll comes after 0.6 x the time waited so far
    approach: float = 0.3  # nearing the window: after 0.3 x the time left until it opens
    late_growth: float = 0.1  # after the window: 0.1 s more per second overdue

    def delay(self, elapsed):
        """Seconds from a poll at `elapsed` seconds after submitting to the next one."""
        opens, closes = self.expected_s - self.window_s, self.expected_s + self.window_s
        if elapsed < opens:
            wanted = min(self.growth * elapsed, self.min_s + self.approach * (opens - elapsed))
            return min(self.max_s, max(self.min_s, wanted))
        if elapsed <= closes:
            return self.min_s
        return min(self.late_max_s, self.min_s + self.late_growth * (elapsed - closes))

    def times(self, until):
        """The poll times (seconds after submitting) up to `until`: what the benchmark and tests reason about."""
        moments = [self.first_s]
        while moments[-1] < until:
            moments.append(moments[-1] + self.delay(moments[-1]))
        return moments

    @classmethod
    def every(cls, seconds):
        """A fixed interval (tests and benchmarks that are not about polling)."""
        return cls(expected_s=0.0, window_s=0.0, first_s=seconds, min_s=seconds, late_max_s=seconds,
                   late_growth=0.0)

    def scaled(self, factor):
        """The same shape for jobs `factor` times as long (a 6 s stand-in job for a 60 s one: 0.1)."""
        return PollSchedule(self.expected_s * factor, self.window_s * factor, self.first_s * factor,
                            self.min_s * factor, self.max_s * factor, self.late_max_s * factor, self.growth,
                            self.approach, self.late_growth)
