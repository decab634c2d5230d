"""binfmt_misc / qemu-aarch64 detection: the real entry, a real foreign program, and broken entries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import emulation
from pytest_rules_rust.containers.emulation import (
    _minimal_aarch64_elf,
    emulation_status,
    probe_binary,
    require_emulation,
)
from pytest_rules_rust.errors import EmulationError

REAL_ENTRY = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")


@pytest.fixture(scope="module")
def real_status() -> emulation.EmulationStatus:
    status = emulation_status()
    if not status.ok:
        pytest.skip(f"needs qemu-aarch64 in binfmt_misc with the F flag; as root: {status.fix}")
    return status


def _elf_machine(path: Path) -> int:
    data = path.read_bytes()[:20]
    assert data[:4] == b"\x7fELF", f"{path} is not ELF"
    return int.from_bytes(data[18:20], "little")


def test_status_agrees_with_proc_entry(real_status: emulation.EmulationStatus) -> None:
    text = REAL_ENTRY.read_text()
    flags = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("flags:"))
    assert real_status.registered and real_status.enabled == text.startswith("enabled")
    assert real_status.fix_binary == ("F" in flags)
    assert real_status.interpreter and real_status.interpreter in text
    assert real_status.works and real_status.fix == ""
    require_emulation()  # must not raise on a working host


def test_probe_is_a_static_aarch64_program_that_runs(
    tmp_path: Path, real_status: emulation.EmulationStatus
) -> None:
    probe = probe_binary("aarch64", Cache(tmp_path))
    assert _elf_machine(probe) == 183  # EM_AARCH64
    out = subprocess.run([str(probe)], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == "pytest-rules-rust emulation ok"
    if shutil.which("file"):
        assert "statically linked" in subprocess.check_output(["file", str(probe)], text=True)


def test_hand_assembled_fallback_probe_runs_under_explicit_qemu(tmp_path: Path) -> None:
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if qemu is None:
        pytest.skip("needs qemu-aarch64-static: apt-get install qemu-user-static")
    elf = tmp_path / "mini"
    elf.write_bytes(_minimal_aarch64_elf(b"hand made\n"))
    elf.chmod(0o755)
    assert _elf_machine(elf) == 183
    proc = subprocess.run([qemu, str(elf)], capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (0, "hand made\n")


def _fake_binfmt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str | None, mounted: bool = True
) -> None:
    root = tmp_path / "binfmt_misc"
    root.mkdir()
    if mounted:
        (root / "status").write_text("enabled\n")
        (root / "register").write_text("")
    if entry is not None:
        (root / "qemu-aarch64").write_text(entry)
    monkeypatch.setattr(emulation, "BINFMT", root)


def test_entry_without_F_flag_is_reported_with_reregister_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PO\noffset 0\n"
    _fake_binfmt(tmp_path, monkeypatch, entry)
    status = emulation_status()
    assert status.registered and status.enabled and not status.fix_binary and not status.ok
    root = tmp_path / "binfmt_misc"
    assert f"echo -1 > {root}/qemu-aarch64" in status.fix
    assert f"/usr/lib/binfmt.d/qemu-aarch64.conf > {root}/register" in status.fix
    with pytest.raises(EmulationError, match="without the F flag") as info:
        require_emulation()
    assert status.fix in info.value.hint


def test_disabled_and_missing_and_unmounted_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_binfmt(tmp_path, monkeypatch, "disabled\ninterpreter /x\nflags: POF\n")
    status = emulation_status()
    assert status.registered and not status.enabled and not status.ok
    with pytest.raises(EmulationError, match="disabled"):
        require_emulation()

    other = tmp_path / "other"
    other.mkdir()
    _fake_binfmt(other, monkeypatch, None)
    status = emulation_status()
    assert not status.registered and "echo -1" not in status.fix and "register" in status.fix

    unmounted = tmp_path / "unmounted"
    unmounted.mkdir()
    _fake_binfmt(unmounted, monkeypatch, None, mounted=False)
    status = emulation_status()
    assert status.fix.startswith(("mount -t binfmt_misc", "apt-get")) and "mount -t binfmt_misc" in status.fix
    assert "not mounted" in status.detail


def test_cli_json_reports_the_real_entry(real_status: emulation.EmulationStatus) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_rules_rust.containers.emulation", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (
        data["ok"] is True and data["fix_binary"] is True and data["interpreter"] == real_status.interpreter
    )


def test_register_writes_the_packaged_entry_with_F(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """register_emulation's writes, against a stand-in binfmt_misc directory (the real one is shared)."""
    conf = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
    if not conf.exists():
        pytest.skip(
            "needs qemu-user-static's /usr/lib/binfmt.d/qemu-aarch64.conf: apt-get install qemu-user-static"
        )
    _fake_binfmt(
        tmp_path, monkeypatch, "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PO\n"
    )
    root = tmp_path / "binfmt_misc"
    emulation.register_emulation()
    assert (root / "qemu-aarch64").read_text() == "-1"  # the old entry was removed first
    written = (root / "register").read_text()
    assert written.startswith(":qemu-aarch64:M::") and "F" in written.rsplit(":", 1)[1]
    assert written.split(":")[1:7] == conf.read_text().strip().split(":")[1:7]
