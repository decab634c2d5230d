#!/usr/bin/env bash
# Provision (idempotent) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/provision.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
