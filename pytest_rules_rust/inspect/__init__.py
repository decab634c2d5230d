"""Inspect build outputs: ELF binaries (helper C1) and OCI layouts/images (helper C2).

Append-only export list: one ``from .x import name as name`` line per module (explicit re-exports).
"""

from .assertions import assert_binary as assert_binary
from .assertions import assert_runs as assert_runs
from .elf import BinaryInfo as BinaryInfo
from .elf import inspect_binary as inspect_binary
from .run import RunResult as RunResult
from .run import run_binary as run_binary
