"""Turns on the CPU for the job engine's local work: at most one per core, and the work that can wait lets the
calls starting now go first.

The engine's call threads do two kinds of CPU work: encoding an image's upload and checking (decoding) a video
that arrived. Some of it is on the way to a paid job starting, some has seconds to spare:

- **urgent**: the encode of an image whose call gets a slot as soon as it is encoded;
- **can wait**: the encode of an image whose call must wait for a slot anyway (it only has to be ready when a
  running job ends), and the check of a video that arrived (its batch still waits for other calls' jobs).

A turn that can wait does not start while an urgent turn is waiting, nor while a call is being submitted (the
engine says when: `submit_under_way`). On a machine with few cores, the check of a video that just arrived
otherwise takes the CPU from the call that got its slot, whose upload then takes twice as long, and the next
paid job starts that much later. Turns of one kind are given in the order they were asked for.
"""

import threading
from contextlib import contextmanager
from itertools import count

NOT_TOLD_S = 0.05  # how often a turn that can wait looks again when nobody tells it a submit ended


class CpuTurns:
    def __init__(self, cores, submit_under_way=lambda: 0.0):
        """`submit_under_way()`: 0 when no call is being submitted, else for how many seconds more (at most) the
        work that can wait should let it go first. Call `poke()` when that may have changed."""
        self.cores = cores
        self._submit_under_way = submit_under_way
        self._cond = threading.Condition()
        self._running = 0
        self._queues = {True: [], False: []}  # urgent -> the tickets waiting, in order
        self._tickets = count()

    @contextmanager
    def turn(self, urgent):
        """Hold one core's turn for the `with` block."""
        with self._cond:
            ticket = next(self._tickets)
            queue = self._queues[urgent]
            queue.append(ticket)
            try:
                while True:
                    wait_s = self._wait_s(ticket, urgent)
                    if wait_s == 0.0:
                        break
                    self._cond.wait(wait_s)
            finally:
                queue.remove(ticket)
                self._cond.notify_all()  # the next in line may start too, if a core is still free
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def poke(self):
        """Look again: a submit began or ended."""
        with self._cond:
            self._cond.notify_all()

    def _wait_s(self, ticket, urgent):
        """0.0 when this ticket may start now, else how long to wait before looking again untold (None: until
        told)."""
        if self._running >= self.cores or self._queues[urgent][0] != ticket:
            return None
        if urgent:
            return 0.0
        if self._queues[True]:
            return None
        under_way = self._submit_under_way()
        return min(under_way, NOT_TOLD_S) if under_way > 0 else 0.0
