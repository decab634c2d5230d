"""Inspect build outputs: read ELF binaries, OCI layouts and images, and assert on what they are.

Running a binary (natively or through qemu) lives in :mod:`pytest_rules_rust.execution`.

Writing and pushing images lives in :mod:`pytest_rules_rust.containers.oci_write`.
"""

from .assertions import assert_binary as assert_binary
from .elf import BinaryInfo as BinaryInfo
from .elf import inspect_binary as inspect_binary
from .oci import FileEntry as FileEntry
from .oci import ImageInfo as ImageInfo
from .oci import PlatformImage as PlatformImage
from .oci import inspect_image as inspect_image
from .structure import StructureReport as StructureReport
from .structure import StructureSpec as StructureSpec
