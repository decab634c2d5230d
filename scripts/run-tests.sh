#!/usr/bin/env bash
# Provision (idempotent), run the whole test suite, then the downstream check: the wheel installed
# into a fresh virtualenv outside the checkout runs examples/downstream and the README's examples.
# Extra arguments go to pytest (both runs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/provision.sh"
cd "$ROOT"
"$ROOT/.venv/bin/python" -m pytest "$@"
bash "$ROOT/scripts/run-downstream.sh" "$@"
