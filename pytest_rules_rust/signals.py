"""SIGTERM handled like Ctrl-C, so every ``finally`` (container removal included) runs.

The CLI exits ``128 + signal``: 130 after SIGINT, 143 after SIGTERM, as shells report them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like ``KeyboardInterrupt`` so cleanup runs; ``signum`` says which signal."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """``128 + signal``: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While active (main thread only), SIGTERM raises :class:`Terminated` so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
