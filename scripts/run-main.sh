#!/usr/bin/env bash
# Provision (idempotent) and run the main job: every fixture workspace built for linux/amd64 and
# linux/arm64 in containers, binaries inspected and run (arm64 through qemu), the musl service
# image served by Docker on both platforms. Report: out/report/matrix.md. Extra arguments go to
# `python -m pytest_rules_rust matrix` (e.g. --workspace cross --profile release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/provision.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest_rules_rust matrix --out "$ROOT/out" "$@"
