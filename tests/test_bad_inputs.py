"""Bad input, the user's way: every case runs the real CLI (or the plain function where there is no
CLI) and checks for a short ``error:`` that names the bad thing and says what to do, exit 2 for
usage errors and 1 otherwise, no traceback, and the kept workspace/log paths where there are any.

Cases that do not give a clear error yet are ``xfail(strict=True)`` with the defect in the reason,
so they turn red the day they are fixed.
"""

from __future__ import annotations

import errno
import io
import json
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    REPO,
    assert_clear_error,
    builder_image_or_skip,
    busybox_or_skip,
    engine_or_skip,
    json_error_only,
    kept_paths,
    run_cli,
)

from pytest_rules_rust.cache import Cache
from pytest_rules_rust.containers import emulation
from pytest_rules_rust.errors import CacheError, EmulationError, ImageError, WorkspaceError
from pytest_rules_rust.workspaces import materialise

TEMPLATES = REPO / "fixture_workspaces"
DEAD_DOCKER = {"DOCKER_HOST": "unix:///nonexistent.sock"}


# ---------------------------------------------------------------- parameters (materialise)

PARAM_CASES = [
    # (id, workspace, --set value, strings the error must contain)
    ("unknown-param-suggests", "cross", "rust_editon=2021", ["rust_editon", "did you mean 'rust_edition'"]),
    ("rust-version", "cross", "rust_versions=1.79", ["rust_versions", "1.79"]),
    ("bazel-version", "cross", "bazel_version=7.4", ["bazel_version", "'7.4'"]),
    ("rules-rust-version", "from_cargo", "rules_rust_version=latest", ["rules_rust_version", "latest"]),
    (
        "triple",
        "cross",
        "target_triples=x86_64-pc-windows-msvc",
        ["target_triples", "x86_64-pc-windows-msvc"],
    ),
    ("triple-typo", "cross", "target_triples=x86_64-unknown-linux-gnux", ["target_triples", "gnux"]),
    ("edition", "cross", "rust_edition=2020", ["rust_edition", "2020", "2015, 2018, 2021, 2024"]),
    ("boolean", "cross", "sysroot=maybe", ["sysroot", "maybe", "true or false"]),
    ("empty-list", "cross", "target_triples=", ["target_triples", "empty"]),
    ("duplicate-item", "cross", "rust_versions=1.79.0,1.79.0", ["rust_versions", "twice"]),
    ("edition-2024-old-rust", "from_cargo", "rust_edition=2024", ["rust_edition", "1.85", "rust_versions"]),
    ("not-taken-here", "from_cargo", "sysroot=true", ["sysroot", "from_cargo"]),
    ("inject-quote", "cross", 'rust_edition=2021"', ["rust_edition", '2021"']),
    ("inject-backslash", "cross", "bazel_version=7.4.1\\", ["bazel_version", "7.4.1\\\\"]),
    ("inject-newline", "cross", "bazel_version=7.4.1\nload('//x.bzl', 'y')", ["bazel_version", "\\n"]),
    (
        "inject-starlark",
        "from_cargo",
        'rules_rust_version=0.46.0")\nload("//evil.bzl", "x")\n#',
        ["rules_rust_version", "evil.bzl"],
    ),
]


@pytest.mark.parametrize(
    ("workspace", "assignment", "names"), [c[1:] for c in PARAM_CASES], ids=[c[0] for c in PARAM_CASES]
)
def test_bad_parameter_value(tmp_path: Path, workspace: str, assignment: str, names: list[str]) -> None:
    dest = tmp_path / "ws"
    proc = run_cli("materialise", workspace, dest, "--set", assignment)
    assert_clear_error(proc, code=2, names=names)
    assert not dest.exists() or not any(dest.iterdir()), "a rejected parameter must not leave a workspace"


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--set", "rust_edition"], ["--set 'rust_edition'", "KEY=VALUE"]),
        (["--set", "rust_edition=2021", "--set", "rust_edition=2018"], ["rust_edition", "twice"]),
    ],
    ids=["set-without-equals", "set-twice"],
)
def test_bad_set_syntax(tmp_path: Path, args: list[str], names: list[str]) -> None:
    assert_clear_error(run_cli("materialise", "cross", tmp_path / "ws", *args), code=2, names=names)


def test_unknown_workspace_lists_known_ones(tmp_path: Path) -> None:
    err = assert_clear_error(run_cli("materialise", "nosuch", tmp_path / "ws"), code=2, names=["'nosuch'"])
    assert "cross" in err and "from_cargo" in err, "the hint lists the known workspaces"


def test_unknown_workspace_with_suggestion(tmp_path: Path) -> None:
    assert_clear_error(
        run_cli("materialise", "from_carg", tmp_path / "ws"), code=2, names=["did you mean 'from_cargo'"]
    )


def test_materialise_into_non_empty_dest(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "precious.txt").write_text("mine")
    assert_clear_error(run_cli("materialise", "cross", dest), code=2, names=[dest, "not empty"])
    assert sorted(p.name for p in dest.iterdir()) == ["precious.txt"], "DEST must be left untouched"


def test_missing_template_dir(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-templates"
    assert_clear_error(run_cli("list", "--template-dir", missing), code=2, names=[missing])


def test_parameters_for_a_plain_workspace_dir(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(TEMPLATES / "cross", plain)
    (plain / "rules_rust_template.toml").unlink()
    proc = run_cli("materialise", plain, tmp_path / "ws", "--set", "rust_edition=2018")
    assert_clear_error(proc, code=2, names=[plain, "rules_rust_template.toml", "rust_edition"])


# ---------------------------------------------------------------- broken user templates


def _user_template(tmp_path: Path, name: str = "mine", source: str = "from_cargo") -> Path:
    root = tmp_path / "templates" / name
    shutil.copytree(TEMPLATES / source, root, ignore=shutil.ignore_patterns("target", "bazel-*"))
    return root


def test_broken_template_names_file_and_line_and_keeps_workspace(tmp_path: Path) -> None:
    root = _user_template(tmp_path)
    module = root / "MODULE.bazel"
    lines = module.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("module("))
    lines.insert(at + 1, '    name = ["unclosed",')  # an unclosed bracket inside module(...)
    module.write_text("\n".join(lines))
    dest = tmp_path / "ws"
    proc = run_cli("materialise", "mine", dest, "--template-dir", root.parent)
    err = assert_clear_error(proc, code=2, names=["MODULE.bazel", f"MODULE.bazel:{at + 3}"])
    assert kept_paths(err).get("workspace") == dest.resolve(), "the rendered workspace is kept and printed"
    assert (dest / "MODULE.bazel").is_file()


def test_anchor_without_literal_names_file_and_line(tmp_path: Path) -> None:
    root = _user_template(tmp_path)
    module = root / "MODULE.bazel"
    text = module.read_text().replace(
        'bazel_dep(name = "rules_rust", version = "0.46.0")  # rr:param rules_rust_version',
        'bazel_dep(name = "rules_rust", version = VERSION)  # rr:param rules_rust_version',
    )
    module.write_text(text)
    line = next(i for i, t in enumerate(text.split("\n"), 1) if "VERSION)" in t)
    proc = run_cli("materialise", "mine", tmp_path / "ws", "--template-dir", root.parent)
    assert_clear_error(proc, code=2, names=[f"MODULE.bazel:{line}", "rules_rust_version"])


def test_bad_manifest_toml_names_the_manifest_and_line(tmp_path: Path) -> None:
    root = _user_template(tmp_path)
    manifest = root / "rules_rust_template.toml"
    manifest.write_text('description = "unterminated\nparameters = []\n')
    proc = run_cli("materialise", "mine", tmp_path / "ws", "--template-dir", root.parent)
    assert_clear_error(proc, code=2, names=[manifest, "line 1"])


def test_manifest_with_unknown_parameter(tmp_path: Path) -> None:
    root = _user_template(tmp_path)
    manifest = root / "rules_rust_template.toml"
    manifest.write_text(manifest.read_text().replace('"rust_edition"', '"rust_editon"', 1))
    proc = run_cli("list", "--template-dir", root.parent)
    assert_clear_error(proc, code=2, names=["rust_editon", str(manifest)])


def test_template_dir_without_manifest(tmp_path: Path) -> None:
    root = _user_template(tmp_path)
    (root / "rules_rust_template.toml").unlink()
    proc = run_cli("materialise", "mine", tmp_path / "ws", "--template-dir", root.parent)
    assert_clear_error(proc, code=2, names=["'mine'", "rules_rust_template.toml"])


def _oci_template(tmp_path: Path) -> Path:
    """A user template that takes ``platforms`` and ``registry`` (no shipped template does yet)."""
    root = _user_template(tmp_path, "oci")
    manifest = root / "rules_rust_template.toml"
    manifest.write_text(
        manifest.read_text().replace('"rust_edition"]', '"rust_edition", "platforms", "registry"]', 1)
    )
    assert "registry" in manifest.read_text()
    (root / "oci.bzl").write_text(
        'PLATFORMS = ["linux/amd64", "linux/arm64"]  # rr:param platforms\n'
        'REGISTRY = "localhost:5000/musl"  # rr:param registry\n'
    )
    return root


@pytest.mark.parametrize(
    ("assignment", "names"),
    [
        ("platforms=linux/s390x", ["platforms", "linux/s390x", "linux/amd64, linux/arm64"]),
        ("platforms=linux/amd64,linux/amd64", ["platforms", "twice"]),
        ("registry=Localhost:5000/MUSL", ["registry", "Localhost:5000/MUSL", "lower case"]),
        ("registry=localhost:5000/musl:latest", ["registry", "without tag"]),
        ("registry=localhost:5000/musl; rm -rf /", ["registry", "rm -rf"]),
    ],
    ids=["platform", "platform-twice", "registry-case", "registry-tag", "registry-shell"],
)
def test_bad_platform_and_registry(tmp_path: Path, assignment: str, names: list[str]) -> None:
    root = _oci_template(tmp_path)
    proc = run_cli("materialise", "oci", tmp_path / "ws", "--template-dir", root.parent, "--set", assignment)
    assert_clear_error(proc, code=2, names=names)


# ---------------------------------------------------------------- preflight


def test_preflight_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert_clear_error(run_cli("preflight", missing), code=2, names=[missing])


def test_preflight_json_on_usage_error_prints_only_the_json_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    proc = run_cli("preflight", missing, "--json")
    assert_clear_error(proc, code=2, names=[missing])
    json_error_only(proc)


def test_preflight_non_workspace_dir(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("just a directory\n")
    assert_clear_error(run_cli("preflight", tmp_path), code=2, names=[tmp_path, "MODULE.bazel"])


def test_preflight_markdown_without_starlark(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("# Title\n\nSome text.\n\n```python\nprint(1)\n```\n")
    assert_clear_error(run_cli("preflight", doc), code=2, names=[doc, "starlark"])


def _workspace_with_syntax_error(tmp_path: Path, *, at_end: bool) -> tuple[Path, int]:
    ws = materialise("from_cargo", tmp_path / "ws")
    build = ws.root / "BUILD.bazel"
    lines = build.read_text().rstrip("\n").split("\n")
    if at_end:
        lines.append("x = (")
        line = len(lines)
    else:
        line = 5
        lines[line - 1] = "x = = 1"
    build.write_text("\n".join(lines) + "\n")
    return ws.root, line


def test_preflight_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    root, line = _workspace_with_syntax_error(tmp_path, at_end=False)
    proc = run_cli("preflight", root, "--no-buildifier")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"BUILD.bazel:{line}: error RR001" in proc.stdout
    assert "hint:" in proc.stdout and "Traceback" not in proc.stderr


def test_preflight_json_shape_on_errors(tmp_path: Path) -> None:
    root, line = _workspace_with_syntax_error(tmp_path, at_end=False)
    proc = run_cli("preflight", root, "--json", "--no-buildifier")
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert findings, "the syntax error is reported"
    for f in findings:
        assert set(f) == {"file", "line", "code", "severity", "message", "hint"}
        assert not Path(f["file"]).is_absolute() and isinstance(f["line"], int) and f["line"] >= 1
    assert {"file": "BUILD.bazel", "line": line, "code": "RR001", "severity": "error"}.items() <= findings[
        0
    ].items()


def test_preflight_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    root, line = _workspace_with_syntax_error(tmp_path, at_end=True)
    proc = run_cli("preflight", root, "--no-buildifier")
    assert proc.returncode == 1
    assert f"BUILD.bazel:{line}:" in proc.stdout, proc.stdout


# ---------------------------------------------------------------- inspect-binary / inspect-image


def _corrupt_binaries(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    real = Path(shutil.which("ls") or "/bin/ls").read_bytes()
    cases = {
        "not-elf": (b"#!/bin/sh\necho hi\n" * 10, "not an ELF file"),
        "truncated-headers": (real[:100], "truncated"),
        "truncated-sections": (real[:3000], "truncated"),
        "empty": (b"", "empty"),
    }
    out = {}
    for name, (data, what) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        out[name] = (path, what)
    out["directory"] = (tmp_path, "directory")
    out["missing"] = (tmp_path / "missing", "no such file")
    return out


@pytest.mark.parametrize(
    "case", ["not-elf", "truncated-headers", "truncated-sections", "empty", "directory", "missing"]
)
def test_inspect_binary_bad_file(tmp_path: Path, case: str) -> None:
    path, what = _corrupt_binaries(tmp_path)[case]
    proc = run_cli("inspect-binary", path, "--json")
    assert_clear_error(proc, code=2 if case == "missing" else 1, names=[path, what])
    json_error_only(proc)


def _layouts(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    from pytest_rules_rust.containers.oci_write import write_image
    from pytest_rules_rust.platforms import AMD64

    good = write_image(tmp_path / "good", files={"/hello": b"hi\n"}, platform=AMD64, entrypoint=["/hello"])
    out: dict[str, tuple[Path, list[str]]] = {}
    for name in ("tampered", "missing-blob", "truncated-index"):
        shutil.copytree(good.path, tmp_path / name)
    layer = max((tmp_path / "tampered" / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(layer.read_bytes())
    data[10] ^= 1
    layer.write_bytes(bytes(data))
    out["tampered"] = (tmp_path / "tampered", ["digest mismatch", layer.name])
    gone = max((tmp_path / "missing-blob" / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    gone.unlink()
    out["missing-blob"] = (tmp_path / "missing-blob", [gone.name, "missing"])
    index = tmp_path / "truncated-index" / "index.json"
    index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    out["truncated-index"] = (tmp_path / "truncated-index", ["index.json", "not valid JSON"])
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "readme.txt").write_text("not a layout")
    out["not-a-layout"] = (tmp_path / "plain", ["index.json"])
    (tmp_path / "text.tar").write_text("not a tar file\n")
    out["not-a-tar"] = (tmp_path / "text.tar", ["not a tar archive"])
    return out


@pytest.mark.parametrize("case", ["tampered", "missing-blob", "truncated-index", "not-a-layout", "not-a-tar"])
def test_inspect_image_bad_layout(tmp_path: Path, case: str) -> None:
    path, names = _layouts(tmp_path)[case]
    proc = run_cli("inspect-image", path, "--json")
    assert_clear_error(proc, code=1, names=[path, *names], hint=False)
    json_error_only(proc)


@pytest.mark.container
def test_inspect_image_docker_archive_with_bad_layer(tmp_path: Path) -> None:
    image = busybox_or_skip(Cache())
    good = tmp_path / "good.tar"
    subprocess.run(["docker", "save", image, "-o", str(good)], check=True, timeout=120)
    bad = tmp_path / "bad.tar"
    with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if data is not None and member.name.endswith("layer.tar"):
                flipped = bytearray(data)
                flipped[len(flipped) // 2] ^= 0xFF
                data = bytes(flipped)
                layer = member.name
            dst.addfile(member, None if data is None else io.BytesIO(data))
    assert run_cli("inspect-image", good).returncode == 0, "the untouched archive is fine"
    proc = run_cli("inspect-image", bad)
    assert_clear_error(proc, code=1, names=[bad, "digest mismatch", layer], hint=False)
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(good.read_bytes()[:4000])
    assert_clear_error(run_cli("inspect-image", truncated), code=1, names=[truncated], hint=False)


@pytest.mark.parametrize("command", ["inspect-binary", "inspect-image"])
def test_inspect_errors_say_what_to_do(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert_clear_error(run_cli(command, empty), code=1, names=[empty], hint=True)


# ---------------------------------------------------------------- build


@pytest.mark.parametrize(
    ("args", "code", "names"),
    [
        (["nosuch", "--platform", "linux/amd64"], 2, ["'nosuch'"]),
        (["cross", "--platform", "linux/s390x"], 2, ["linux/s390x", "linux/amd64 or linux/arm64"]),
        (["cross", "--platform", "linux/amd64", "--libc", "uclibc"], 2, ["--libc", "uclibc"]),
        (["cross", "--platform", "linux/amd64", "--builder", "make"], 2, ["--builder", "make"]),
        (["cross", "--platform", "linux/amd64", "--host", "linux/riscv64"], 2, ["linux/riscv64"]),
        (
            ["cross", "--platform", "linux/amd64", "--set", "sysrot=true"],
            2,
            ["sysrot", "did you mean 'sysroot'"],
        ),
        (["cross"], 2, ["--platform"]),
    ],
    ids=["workspace", "platform", "libc", "builder", "host", "param", "no-platform"],
)
def test_build_usage_errors(tmp_path: Path, args: list[str], code: int, names: list[str]) -> None:
    proc = run_cli("build", *args, "--out", tmp_path / "out", "--json")
    assert_clear_error(proc, code=code, names=names)
    json_error_only(proc)  # nothing but the error when the build never started


def test_build_without_docker_says_how_to_start_it(tmp_path: Path) -> None:
    proc = run_cli("build", "cross", "--platform", "linux/amd64", "--out", tmp_path / "out", env=DEAD_DOCKER)
    err = assert_clear_error(proc, code=1, names=["unix:///nonexistent.sock", "Docker daemon"])
    assert "dockerd" in err and "pytest-rules-rust doctor" in err


def test_build_with_unwritable_cache_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a regular file, so nothing can be created under it (even as root)\n")
    cache = blocker / "cache"
    for where in (cache, Path("/proc/nope")):  # under a file; where nothing can be created
        proc = run_cli(
            "build", "cross", "--platform", "linux/amd64", "--out", tmp_path / "out", "--cache-dir", where
        )
        err = assert_clear_error(proc, code=2, names=[f"--cache-dir: {where} cannot be created or written"])
        assert "hint: pass --cache-dir a directory" in err
        assert not (tmp_path / "out").exists(), "checked before any work"


def test_bazel_builder_without_bazel(tmp_path: Path) -> None:
    """Where Bazelisk cannot download Bazel (no network here), the error is what Bazelisk said."""
    engine_or_skip()
    proc = run_cli(
        "build", "cross", "--platform", "linux/amd64", "--builder", "bazel", "--out", tmp_path / "o"
    )
    assert_clear_error(proc, code=1, names=["Bazelisk could not download Bazel 7.4.1", "--rr-bazel-binary"])


def _planted(tmp_path: Path, **files: str) -> Path:
    """A materialised ``cross`` workspace with files of the hello_cross crate replaced."""
    ws = materialise("cross", tmp_path / "planted")
    for rel, text in files.items():
        (ws.root / "hello_cross" / rel).write_text(text)
    return ws.root


@pytest.mark.container
@pytest.mark.cargo
def test_failing_build_keeps_workspace_and_log(tmp_path: Path) -> None:
    builder_image_or_skip(Cache())
    source = _planted(tmp_path, **{"src/main.rs": 'fn main() {\n    let x: u32 = "not a number";\n}\n'})
    out = tmp_path / "out"
    proc = run_cli("build", source, "--platform", "linux/amd64", "--out", out, timeout=900)
    err = assert_clear_error(proc, code=1, names=["hello_cross", "failed"], max_lines=40)
    assert "src/main.rs:2" in err, "the compiler's own error (file:line) is shown"
    kept = kept_paths(err)
    assert set(kept) == {"workspace", "log"}, err
    assert (kept["workspace"] / "hello_cross" / "src" / "main.rs").read_text().count("not a number") == 1
    assert "mismatched types" in kept["log"].read_text()


@pytest.mark.container
@pytest.mark.cargo
def test_build_timeout_is_killed_and_reported(tmp_path: Path) -> None:
    builder_image_or_skip(Cache())
    slow = "fn main() { std::thread::sleep(std::time::Duration::from_secs(300)); }\n"
    source = _planted(tmp_path, **{"build.rs": slow})
    out = tmp_path / "out"
    proc = run_cli("build", source, "--platform", "linux/amd64", "--out", out, "--timeout", "20", timeout=900)
    err = assert_clear_error(proc, code=1, names=["overran its timeout of 20 s", "killed"], max_lines=30)
    kept = kept_paths(err)
    # Written by the runner after it killed the container (the build script sleeps 300 s).
    assert "timed out after 20 s; container killed" in kept["log"].read_text()
    assert (kept["workspace"] / "hello_cross" / "build.rs").is_file()


# ---------------------------------------------------------------- images, engine, emulation


@pytest.mark.container
def test_missing_image_is_never_pulled(tmp_path: Path) -> None:
    from pytest_rules_rust.containers import RunSpec, run
    from pytest_rules_rust.containers.images import require_image
    from pytest_rules_rust.platforms import AMD64

    engine = engine_or_skip()
    ref = f"pytest-rules-rust/never-built:offline-{int(time.time())}"
    since = str(int(time.time()) - 1)
    with pytest.raises(ImageError) as info:
        require_image(ref, AMD64, engine=engine)
    assert ref in info.value.message and "never pulls" in info.value.message and info.value.hint
    with pytest.raises(ImageError) as info:
        run(RunSpec(ref, ("true",), AMD64), tmp_path / "log", engine=engine)
    assert ref in info.value.message and "never pulls" in info.value.message
    events = subprocess.run(
        [
            "docker",
            "events",
            "--since",
            since,
            "--until",
            str(int(time.time()) + 1),
            "--filter",
            "type=image",
            "--filter",
            "event=pull",
            "--format",
            "{{.Actor.ID}}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "never-built" not in events, f"a pull was attempted: {events}"


def test_doctor_with_dead_docker_host() -> None:
    proc = run_cli("doctor", env=DEAD_DOCKER)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    engine_line = next(line for line in proc.stdout.splitlines() if "Docker engine" in line)
    assert engine_line.startswith("MISS") and "unix:///nonexistent.sock" in engine_line
    assert "fix: start a Docker daemon" in proc.stdout


def test_doctor_with_unwritable_cache_env(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    proc = run_cli("doctor", env={"PYTEST_RULES_RUST_CACHE": str(blocker / "cache")})
    assert_clear_error(proc, code=1, names=[blocker / "cache", "PYTEST_RULES_RUST_CACHE"])


def _fake_binfmt(tmp_path: Path, entry: str | None) -> Path:
    """A stand-in for /proc/sys/fs/binfmt_misc (the host's entries are never touched)."""
    fake = tmp_path / "binfmt_misc"
    fake.mkdir()
    (fake / "status").write_text("enabled\n")
    (fake / "register").write_text("")
    if entry is not None:
        (fake / "qemu-aarch64").write_text(entry)
    return fake


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (None, "not registered"),
        ("disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\n", "disabled"),
        (
            "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POC\n",
            "without the F flag",
        ),
    ],
    ids=["not-registered", "disabled", "no-F-flag"],
)
def test_missing_binfmt_says_how_to_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str | None, problem: str
) -> None:
    fake = _fake_binfmt(tmp_path, entry)
    monkeypatch.setattr(emulation, "BINFMT", fake)
    with pytest.raises(EmulationError) as info:
        emulation.require_emulation("aarch64")
    assert "qemu-aarch64" in info.value.message and problem in info.value.message
    assert f"> {fake}/register" in info.value.hint, info.value.hint


# ---------------------------------------------------------------- cache: full disk, no lockfile


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 64 KiB tmpfs mounted for the test (needs CAP_SYS_ADMIN), unmounted afterwards."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs to simulate a full disk (needs root/CAP_SYS_ADMIN): {proc.stderr.strip()}"
        )
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_before_start(tiny_tmpfs: Path) -> None:
    filler = tiny_tmpfs / "filler"
    with pytest.raises(OSError) as full:
        filler.write_bytes(b"\0" * 1024 * 1024)
    assert full.value.errno == errno.ENOSPC
    proc = run_cli("doctor", "--cache-dir", tiny_tmpfs / "cache")
    assert_clear_error(proc, code=1, names=[tiny_tmpfs / "cache", "the disk is full"])
    with pytest.raises(CacheError, match="the disk is full"):
        Cache(tiny_tmpfs / "cache").ensure("x/y", lambda d: None)


def _fill_one_mib(entry: Path) -> None:
    (entry / "big").write_bytes(b"\0" * 1024 * 1024)


def test_full_disk_during_fill(tiny_tmpfs: Path) -> None:
    cache = Cache(tiny_tmpfs / "cache")
    with pytest.raises(CacheError, match="the disk is full"):
        cache.ensure("x/y", _fill_one_mib)


def test_full_disk_during_fill_leaves_no_partial_entry(tiny_tmpfs: Path) -> None:
    cache = Cache(tiny_tmpfs / "cache")
    with pytest.raises(CacheError):
        cache.ensure("x/y", _fill_one_mib)
    assert not cache.is_complete("x/y")
    assert list((tiny_tmpfs / "cache" / "x").iterdir()) == [], "the staging directory is removed"


def test_vendoring_without_cargo_lock(tmp_path: Path) -> None:
    from pytest_rules_rust.builders.crates import vendor_crates

    ws = materialise("cross", tmp_path / "ws")
    (ws.root / "Cargo.lock").unlink()
    with pytest.raises(WorkspaceError) as info:
        vendor_crates(ws.root, Cache(tmp_path / "cache"))
    assert str(ws.root / "Cargo.lock") in info.value.message and "generate-lockfile" in info.value.hint


# ---------------------------------------------------------------- bench


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--threads", "1,x"], ["--threads", "'x'"]),
        (["--threads", ","], ["--threads", "empty"]),
        (["--target", "sparc-unknown-linux-gnu"], ["sparc-unknown-linux-gnu"]),
        (["--repeats", "0"], ["--repeats"]),
    ],
    ids=["threads-not-int", "threads-empty", "target", "repeats"],
)
def test_bench_usage_errors(tmp_path: Path, args: list[str], names: list[str]) -> None:
    base = ["bench", "--quick", "--allocators", "system", "--threads", "1", "--out", str(tmp_path / "o")]
    proc = run_cli(*base, *args, timeout=120)
    assert_clear_error(proc, code=2, names=names, hint="--repeats" not in args)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--allocators", "system,tcmalloc"], ["tcmalloc", "jemalloc"]),
        (["--threads", "0"], ["--threads", "0"]),
    ],
    ids=["allocator", "threads-zero"],
)
def test_bench_bad_values_are_usage_errors(tmp_path: Path, args: list[str], names: list[str]) -> None:
    base = ["bench", "--quick", "--allocators", "system", "--threads", "1", "--out", str(tmp_path / "o")]
    assert_clear_error(run_cli(*base, *args, timeout=120), code=2, names=names)


@pytest.mark.parametrize(
    "command",
    [
        ("materialise", "cross", "{file}"),
        ("materialise", "cross", "/proc/no-such-dir/ws"),
        ("build", "cross", "--platform", "linux/amd64", "--out", "{file}", "--json"),
        ("matrix", "--workspace", "cross", "--platform", "linux/amd64", "--out", "{file}"),
    ],
    ids=["materialise-onto-a-file", "materialise-under-proc", "build-out-is-a-file", "matrix-out-is-a-file"],
)
def test_a_path_the_file_system_refuses_is_a_clear_error(tmp_path: Path, command: tuple[str, ...]) -> None:
    file = tmp_path / "afile"
    file.write_text("")
    args = [part.format(file=file) for part in command]
    proc = run_cli(*args, cwd=tmp_path)
    names = [file] if "{file}" in command else ["/proc/no-such-dir"]
    assert_clear_error(proc, code=2, names=names)
    if "--json" in args:
        json_error_only(proc)


@pytest.mark.parametrize(
    ("args", "flag", "value"),
    [
        (("build", "cross", "--platform", "linux/arm64", "--timeout", "abc"), "--timeout", "abc"),
        (
            ("build", "cross", "--platform", "linux/arm64", "--set", "rust_edition=2019", "--json"),
            "--set",
            "2019",
        ),
        (
            ("matrix", "--template-dir", "/nonexistent-dir", "--out", "{tmp}"),
            "--template-dir",
            "/nonexistent-dir",
        ),
    ],
)
def test_cli_errors_name_the_flag_the_user_typed(
    tmp_path: Path, args: tuple[str, ...], flag: str, value: str
) -> None:
    proc = run_cli(*(a.format(tmp=tmp_path) for a in args), cwd=tmp_path)
    text = assert_clear_error(proc, code=2, names=[flag, value], hint=flag == "--set")
    assert "--rr-" not in text and "rr_" not in text, text
