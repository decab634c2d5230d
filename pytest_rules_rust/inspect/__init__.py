"""Inspect build outputs: read ELF binaries, OCI layouts and images; run binaries natively or through qemu.

Writing and pushing images lives in :mod:`pytest_rules_rust.containers.oci_write`.
"""

from .assertions import assert_binary as assert_binary
from .assertions import assert_runs as assert_runs
from .elf import BinaryInfo as BinaryInfo
from .elf import inspect_binary as inspect_binary
from .oci import FileEntry as FileEntry
from .oci import ImageInfo as ImageInfo
from .oci import PlatformImage as PlatformImage
from .oci import inspect_image as inspect_image
from .run import RunResult as RunResult
from .run import run_binary as run_binary
from .structure import StructureReport as StructureReport
from .structure import StructureSpec as StructureSpec
