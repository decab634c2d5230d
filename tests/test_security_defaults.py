"""Security defaults (docs/security.md): no network, never privileged, the caller's uid:gid and file
ownership, and parameters that can inject neither Starlark nor shell.

Containers run the few-MB busybox test image through the harness's own runner
(:func:`pytest_rules_rust.containers.run` / ``running``), so these checks cost seconds.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import starlark
from reliability_helpers import PYTHON, REPO, busybox_or_skip

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import Mount, RunSpec, run, running
from pytest_rules_rust.containers.ownership import LABEL_PID, LABEL_SESSION
from pytest_rules_rust.errors import WorkspaceError
from pytest_rules_rust.platforms import AMD64
from pytest_rules_rust.workspace_params import CATALOGUE, coerce, starlark_literal, toml_literal
from pytest_rules_rust.workspaces import is_starlark, materialise

PACKAGE = REPO / "pytest_rules_rust"
EVIL = ')\nload("//evil.bzl", "x")\n#'
HOSTILE = [
    '")\nload("//evil.bzl", "x")\n#',
    'a\\"b',
    "line\nbreak\r\n\ttab",
    "nul\x00bell\x07del\x7f",
    "$(touch /tmp/pwned) `id` ; rm -rf /",
    "'single' \"double\" \\\\ trailing\\",
    "unicode é ✓ \u2028 \u0085",
]
CAP_SYS_ADMIN = 21


@pytest.fixture(scope="module")
def busybox() -> str:
    return busybox_or_skip(Cache())


def _run(image: str, tmp_path: Path, *command: str, **spec: object) -> str:
    log = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}.log"
    result = run(RunSpec(image, command, AMD64, **spec), log)  # type: ignore[arg-type]
    assert result.succeeded, result.tail()
    return log.read_text().split("\n", 1)[1]  # the first line is the harness's "$ command" header


# ---------------------------------------------------------------- containers


@pytest.mark.container
def test_no_network_by_default(busybox: str, tmp_path: Path) -> None:
    assert RunSpec(busybox, ("true",), AMD64).network is False
    devices = _run(busybox, tmp_path, "cat", "/proc/net/dev")
    interfaces = {line.split(":")[0].strip() for line in devices.splitlines() if ":" in line}
    assert interfaces == {"lo"}, f"a default container sees interfaces {interfaces}"


@pytest.mark.container
def test_not_privileged_and_no_added_capabilities(busybox: str) -> None:
    with running(RunSpec(busybox, ("sleep", "60"), AMD64, timeout_s=60)) as container:
        host = container.attrs["HostConfig"]
        config = container.attrs["Config"]
        output = container.exec_run(["cat", "/proc/self/status"]).output
    status = output.decode() if isinstance(output, bytes) else ""
    assert host["Privileged"] is False
    assert not host.get("CapAdd"), f"capabilities added: {host.get('CapAdd')}"
    assert host["NetworkMode"] == "none"
    assert not host.get("Devices") and not host.get("SecurityOpt"), (
        host.get("Devices"),
        host.get("SecurityOpt"),
    )
    assert config["User"] == f"{os.getuid()}:{os.getgid()}"
    assert {LABEL_SESSION, LABEL_PID} <= set(config["Labels"])
    cap_eff = int(re.search(r"^CapEff:\s*([0-9a-f]+)", status, re.MULTILINE).group(1), 16)  # type: ignore[union-attr]
    assert not cap_eff & (1 << CAP_SYS_ADMIN), f"CAP_SYS_ADMIN is effective (CapEff {cap_eff:x})"


def test_no_privileged_anywhere_in_the_code() -> None:
    """No module asks Docker for privileges or capabilities (``privileged=False`` is the only mention)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(
                r"privileged\"?\s*[:=]\s*True|--privileged|cap_add|CapAdd|security_opt|devices\s*=", code
            ):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.container
def test_runs_as_the_caller_and_files_belong_to_the_caller(busybox: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ids = _run(busybox, tmp_path, "id", mounts=(Mount(out, "/out"),))
    assert f"uid={os.getuid()}" in ids and f"gid={os.getgid()}" in ids, ids
    _run(busybox, tmp_path, "touch", "/out/made-in-container", mounts=(Mount(out, "/out"),))
    made = (out / "made-in-container").stat()
    assert (made.st_uid, made.st_gid) == (os.getuid(), os.getgid())


@pytest.mark.container
def test_non_root_user_owns_what_it_writes(busybox: str, tmp_path: Path) -> None:
    """The suite runs as root here, so also run as 1000:1000 and check the mechanism, not a coincidence."""
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    ids = _run(busybox, tmp_path, "id", user="1000:1000")
    assert "uid=1000" in ids and "gid=1000" in ids, ids
    _run(busybox, tmp_path, "touch", "/out/by-1000", mounts=(Mount(out, "/out"),), user="1000:1000")
    made = (out / "by-1000").stat()
    assert (made.st_uid, made.st_gid) == (1000, 1000)
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o777)
    log = tmp_path / "ro.log"
    result = run(RunSpec(busybox, ("touch", "/ro/x"), AMD64, mounts=(Mount(readonly, "/ro", True),)), log)
    assert result.failed and "Read-only file system" in log.read_text()
    assert list(readonly.iterdir()) == []


# ---------------------------------------------------------------- Starlark / TOML injection


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_parameter_rejects_starlark_injection(name: str) -> None:
    param = CATALOGUE[name]
    value: object = [EVIL] if param.kind == "list" else EVIL
    with pytest.raises(WorkspaceError) as info:
        coerce(name, value)
    assert name in info.value.message and info.value.hint


def test_materialise_rejects_injection_and_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "ws"
    with pytest.raises(WorkspaceError, match="rules_rust_version"):
        materialise("from_cargo", dest, {"rules_rust_version": '0.46.0")\nload("//evil.bzl", "x")\n#'})
    assert not dest.exists() or not any(dest.iterdir())


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_literals_round_trip_as_one_value(text: str) -> None:
    """Whatever gets past validation reaches a file only as a literal that parses back to itself."""
    module = starlark.Module()
    source = f"x = {starlark_literal(text)}\ny = {starlark_literal([text, text])}\n"
    starlark.eval(module, starlark.parse("t.bzl", source), starlark.Globals.standard())
    assert module["x"] == text and module["y"] == [text, text]
    parsed = tomllib.loads(f"x = {toml_literal(text)}\ny = {toml_literal([text])}\n")
    assert parsed == {"x": text, "y": [text]}


def _statements(root: Path) -> dict[str, list[str]]:
    """Each Starlark/TOML file's lines (rendering may only change the anchored ones)."""
    return {
        str(p.relative_to(root)): p.read_text().split("\n")
        for p in sorted(root.rglob("*"))
        if p.is_file() and (is_starlark(p) or p.suffix == ".toml")
    }


def test_weird_but_valid_values_add_no_statement(tmp_path: Path) -> None:
    """Unusual values that pass validation are rendered as literals: every file still parses, line for
    line, and only anchored lines differ."""
    weird = {"rules_rust_version": "0.46.0-rc.99-x.y", "rust_versions": ["nightly/2024-06-01"]}
    accepted = {name: coerce(name, value) for name, value in weird.items()}
    plain = _statements(materialise("from_cargo", tmp_path / "plain").root)
    odd = _statements(materialise("from_cargo", tmp_path / "odd", accepted).root)
    assert plain.keys() == odd.keys()
    changed = 0
    for rel, lines in plain.items():
        assert len(lines) == len(odd[rel]), f"{rel}: rendering changed the number of lines"
        for before, after in zip(lines, odd[rel], strict=True):
            if before != after:
                changed += 1
                assert "# rr:param" in after, f"{rel}: an unanchored line changed: {after!r}"
        if rel.endswith(".toml"):
            tomllib.loads("\n".join(odd[rel]))
        else:
            starlark.parse(rel, "\n".join(odd[rel]))
    assert changed >= 2, "the weird values were rendered somewhere"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rules_rust_version", "0.46.0\n"),
        ("registry", "localhost:5000/musl\n"),
        ("rust_versions", ["1.79.0\n"]),
        ("target_triples", ["x86_64-unknown-linux-gnu\n"]),
        ("rust_versions", "1.79.0\n"),  # a comma-separated string: items are stripped of spaces only
        ("platforms", "linux/amd64,\tlinux/arm64"),
        ("sysroot", "false\n"),
    ],
)
def test_trailing_newline_is_rejected(name: str, value: object) -> None:
    """A regex ``$`` matches before a trailing newline, and ``strip()`` would hide one: a newline or
    other control character anywhere in a value is refused, never stripped."""
    with pytest.raises(WorkspaceError, match="newline or another control character"):
        coerce(name, value)


def test_errors_quote_at_most_about_200_characters_of_a_bad_value(tmp_path: Path) -> None:
    huge = "2024" + "x" * 120_000
    with pytest.raises(WorkspaceError) as caught:
        coerce("rust_edition", huge)
    assert "(120006 chars)" in str(caught.value) and len(str(caught.value)) < 600
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "pytest_rules_rust",
            "materialise",
            "cross",
            str(tmp_path / "ws"),
            "--set",
            f"rust_edition={huge}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ) | {"PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 2 and "(120006 chars)" in done.stderr
    assert len(done.stderr) < 1000, done.stderr[:2000]


# ---------------------------------------------------------------- shell


def _shell_calls() -> list[tuple[str, int, ast.AST]]:
    """Every ``shell=True`` keyword and every argv literal that starts a shell with ``-c``."""
    found: list[tuple[str, int, ast.AST]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(REPO))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "shell":
                found.append((rel, node.value.lineno, node))
            if isinstance(node, ast.List | ast.Tuple) and len(node.elts) >= 2:
                head = [e.value if isinstance(e, ast.Constant) else None for e in node.elts[:2]]
                if head[1] == "-c" and str(head[0]).rsplit("/", 1)[-1] in ("sh", "bash", "dash"):
                    found.append((rel, node.lineno, node))
    return found


def test_no_shell_string_is_built_from_values() -> None:
    """No ``shell=True``; every ``sh -c`` script is a constant, values travel as separate argv items."""
    calls = _shell_calls()
    assert calls, "the scan finds the known sh -c uses (else it is broken)"
    problems = []
    for rel, line, node in calls:
        if isinstance(node, ast.keyword):
            problems.append(f"{rel}:{line}: shell= keyword")
            continue
        script = node.elts[2] if len(node.elts) > 2 else None  # type: ignore[attr-defined]
        if not (isinstance(script, ast.Constant) and isinstance(script.value, str)):
            problems.append(f"{rel}:{line}: the -c script is not a constant string")
    assert problems == []


def test_bench_shell_passes_arguments_verbatim(tmp_path: Path) -> None:
    from pytest_rules_rust.bench.accounting import spawn_command

    marker = tmp_path / "pwned"
    args = [f"$(touch {marker})", f"; touch {marker}", f"`touch {marker}`", "a b", "*"]
    proc = subprocess.run(
        spawn_command(["printf", "%s\\n", *args]), capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.stdout.splitlines() == args
    assert not marker.exists()


def test_cargo_container_script_passes_arguments_verbatim(tmp_path: Path) -> None:
    """The script the cargo builder runs in the container ``exec``s its argv as given (run here in bash)."""
    from pytest_rules_rust.builders.cargo_script import SCRIPT

    script = tmp_path / "rr-cargo.sh"
    script.write_text(SCRIPT)
    marker = tmp_path / "pwned"
    args = [f"$(touch {marker})", f"--bin=x; touch {marker}", f"`touch {marker}`", "*"]
    proc = subprocess.run(
        ["bash", str(script), "printf", "%s\\n", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-len(args) :] == args
    assert not marker.exists()


def test_image_recipe_hooks_use_only_fixed_package_names() -> None:
    """mmdebstrap's customize hooks are shell text: they are built from the recipe's constant package
    list (never from user parameters), and every name in it is a plain Debian package token."""
    from pytest_rules_rust.containers.images import builder_recipe
    from pytest_rules_rust.platforms import ARM64

    for platform in (AMD64, ARM64):
        recipe = builder_recipe(platform)
        for package, dest in recipe.unpacked:
            assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]*(:[a-z0-9]+)?", package), package
            assert re.fullmatch(r"/[A-Za-z0-9._/-]+", dest), dest
        for package in recipe.packages:
            assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]*(:[a-z0-9]+)?", package), package
