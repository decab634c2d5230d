"""How a finished process ended: the part every result of a run shares.

A container run (``containers.ExecResult``) and a binary run (``execution.RunResult``) both
end with an exit code and may be killed for taking too long; whether that counts as success is
decided here, once.
"""

from __future__ import annotations


class ProcessOutcome:
    """Mixed into a frozen result dataclass that has the fields ``rc`` and ``timed_out``."""

    rc: int
    timed_out: bool

    @property
    def succeeded(self) -> bool:
        """Exit code 0 within the time limit."""
        return self.rc == 0 and not self.timed_out

    @property
    def failed(self) -> bool:
        """A non-zero exit code, or killed at the time limit."""
        return not self.succeeded
