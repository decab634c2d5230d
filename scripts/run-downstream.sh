#!/usr/bin/env bash
# Use the plugin as a user does: build the wheel from this checkout, install it into a fresh
# virtualenv outside the checkout, then run examples/downstream (its own workspace, conftest
# overrides, every documented fixture) and the README's Python examples there. Any skip fails the
# run: on a provisioned machine nothing may be missing. Extra arguments go to both pytest runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rr-downstream.XXXXXX")"
say() { printf '[downstream] %s\n' "$*"; }

say "building the wheel into $WORK/dist"
"$ROOT/.venv/bin/python" -m pip wheel -q --no-deps -w "$WORK/dist" "$ROOT"
WHEEL="$(ls "$WORK"/dist/pytest_rules_rust-*.whl)"
say "installing $(basename "$WHEEL")[registry] into a fresh virtualenv $WORK/venv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "$WHEEL[registry]" mypy

cp -r "$ROOT/examples/downstream" "$WORK/project"
mkdir "$WORK/readme"
"$WORK/venv/bin/python" "$ROOT/scripts/readme_examples.py" "$ROOT/README.md" "$WORK/readme/test_readme_examples.py"

run_pytest() {  # DIR ARGS...: pytest in DIR, failing when anything was skipped
  local dir="$1" log
  shift
  log="$WORK/$(basename "$dir").log"
  say "pytest in $dir (log: $log)"
  (cd "$dir" && "$WORK/venv/bin/python" -m pytest -p no:cacheprovider -rs "$@") 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" = 0 ] || { say "FAILED in $dir; kept: $WORK"; exit 1; }
  if tail -n 1 "$log" | grep -q "skipped"; then
    say "tests were skipped in $dir (see the SKIPPED lines above); kept: $WORK"
    exit 1
  fi
}

say "the installed command line finds the shipped workspaces"
"$WORK/venv/bin/pytest-rules-rust" list --json | "$WORK/venv/bin/python" -c \
  'import json, sys; names = {t["name"] for t in json.load(sys.stdin)}; missing = {"cross", "from_cargo", "musl_jemalloc_oci"} - names; sys.exit(f"not shipped: {missing}" if missing else 0)'
"$WORK/venv/bin/pytest-rules-rust" materialise cross "$WORK/cross" >/dev/null
"$WORK/venv/bin/pytest-rules-rust" preflight "$WORK/cross" --no-buildifier

say "mypy --strict over the downstream project's annotated tests"
(cd "$WORK/project" && "$WORK/venv/bin/mypy" --strict --no-incremental conftest.py tests)
run_pytest "$WORK/project" "$@"
run_pytest "$WORK/readme" "$@"
say "downstream project and README examples green with the installed wheel"
# The wheel declares pytest>=8.0: hold it to that with the oldest pytest it admits.
OLDEST_PYTEST="$(sed -n 's/^ *"pytest>=\([0-9.]*\)",$/\1/p' "$ROOT/pyproject.toml")"
say "again with the oldest pytest the wheel admits ($OLDEST_PYTEST)"
"$WORK/venv/bin/pip" install -q "pytest==$OLDEST_PYTEST"
run_pytest "$WORK/project" "$@"
say "green with pytest $OLDEST_PYTEST too"
rm -rf "$WORK"
