"""Inspect build outputs: ELF binaries, OCI layouts and images, and run binaries natively or through qemu.

Append-only export list: one ``from .x import name as name`` line per module (explicit re-exports).
"""

from .assertions import assert_binary as assert_binary
from .assertions import assert_runs as assert_runs
from .elf import BinaryInfo as BinaryInfo
from .elf import inspect_binary as inspect_binary
from .oci import FileEntry as FileEntry
from .oci import ImageInfo as ImageInfo
from .oci import PlatformImage as PlatformImage
from .oci import inspect_image as inspect_image
from .oci_write import Layout as Layout
from .oci_write import assemble_service_image as assemble_service_image
from .oci_write import push_index as push_index
from .oci_write import short_tag as short_tag
from .oci_write import write_image as write_image
from .oci_write import write_index as write_index
from .run import RunResult as RunResult
from .run import run_binary as run_binary
from .structure import StructureReport as StructureReport
from .structure import StructureSpec as StructureSpec
