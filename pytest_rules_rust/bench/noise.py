"""How steady is this machine? A fixed CPU-bound loop, timed in short chunks between benchmark rounds.

On a shared VM a core's speed can change by 2x for seconds at a time (a neighbour on the same
physical core, host power management) without the guest seeing it: no steal time, no PMU. A
benchmark on such a machine cannot be expected to be steadier than a loop that does nothing but
count, so the runner times one between rounds and reports the chunks' coefficient of variation
as the machine's noise floor, next to each point's CV. A floor above the 3 % goal says the goal
is out of reach on this machine, whatever the settings.

>>> ticks = iter([0.0, 0.02, 0.02, 0.05, 0.05, 0.07])
>>> probe = NoiseProbe(iterations=1000, clock=lambda: next(ticks), work=lambda n: None)
>>> probe.sample(3)
>>> floor = probe.floor()
>>> (floor.chunks, round(floor.chunk_s, 3), round(floor.cv, 3))
(3, 0.02, 0.247)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .stats import summarize

Clock = Callable[[], float]
Work = Callable[[int], object]


def count(iterations: int) -> int:
    """The probe's work: integer arithmetic in the interpreter, no allocation, no I/O."""
    total = 0
    for i in range(iterations):
        total += i & 7
    return total


@dataclass(frozen=True)
class NoiseFloor:
    """The spread of identical chunks of CPU work timed during a session."""

    chunks: int
    chunk_s: float  # median seconds per chunk
    cv: float

    def to_json(self) -> dict[str, Any]:
        return {"chunks": self.chunks, "chunk_s": self.chunk_s, "cv": self.cv}

    @classmethod
    def from_json(cls, data: object) -> NoiseFloor | None:
        """Read what ``to_json`` wrote; anything else (older files) is ``None``."""
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(int(data["chunks"]), float(data["chunk_s"]), float(data["cv"]))
        except (KeyError, TypeError, ValueError):
            return None


class NoiseProbe:
    """Times ``work(iterations)`` chunk by chunk; ``iterations`` is fixed at the first call."""

    def __init__(
        self,
        chunk_s: float = 0.02,
        *,
        iterations: int | None = None,
        clock: Clock = time.perf_counter,
        work: Work = count,
    ) -> None:
        self.chunk_s = chunk_s
        self.iterations = iterations
        self._clock = clock
        self._work = work
        self.times: list[float] = []

    def _timed(self, iterations: int) -> float:
        start = self._clock()
        self._work(iterations)
        return self._clock() - start

    def calibrate(self) -> int:
        """Pick the iteration count that takes about ``chunk_s`` here (once; later chunks reuse it)."""
        if self.iterations is None:
            n = 1000
            elapsed = self._timed(n)
            while elapsed < self.chunk_s / 8 and n < 1 << 40:
                n *= 4
                elapsed = self._timed(n)
            self.iterations = max(1, int(n * self.chunk_s / max(elapsed, 1e-9)))
        return self.iterations

    def sample(self, chunks: int) -> None:
        """Time ``chunks`` more chunks of the same work."""
        iterations = self.calibrate()
        self.times += [self._timed(iterations) for _ in range(chunks)]

    def floor(self) -> NoiseFloor | None:
        """The CV of every chunk timed so far; ``None`` before two chunks."""
        if len(self.times) < 2:
            return None
        s = summarize(self.times)
        return NoiseFloor(chunks=s.rounds, chunk_s=s.median, cv=s.cv)
