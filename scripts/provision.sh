#!/usr/bin/env bash
# Provision a Debian 12 machine for pytest-rules-rust. Idempotent: installs only what is missing,
# says what it does, leaves a running Docker daemon alone.
#
#   sudo bash scripts/provision.sh            # everything
#   PROVISION_SKIP_APT=1 bash scripts/provision.sh   # only the Python environment
#
# Where it may not act (not root, not Debian) it stops, listing what is missing and how to get it;
# the tests that need those things then skip and say why.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RR_VENV:-$ROOT/.venv}"
say() { printf '[provision] %s\n' "$*"; }

# --- what is needed --------------------------------------------------------------------------
APT_PACKAGES=(
  # containers and emulation
  docker.io qemu-user-static mmdebstrap arch-test skopeo umoci busybox-static uidmap docker-registry
  # compilers and toolchains (see ../shared/notes/toolchains.md)
  build-essential gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
  musl musl-dev musl-tools protobuf-compiler libprotobuf-dev make autoconf pkg-config file dpkg-dev
  rustc-web cargo-web libstd-rust-web-dev rust-web-src libjemalloc-dev libmimalloc-dev
  # arm64 multiarch: the musl cross linker wrapper (aarch64-linux-musl-gcc) and the aarch64 Rust std
  musl-dev:arm64 libstd-rust-web-dev:arm64
  # python and tools
  python3 python3-venv python3-pip git ca-certificates curl jq xz-utils zstd
  # futex counts of the allocator benchmark (ptrace on our own children; no root needed)
  strace
)
NPM_PACKAGES=(@bazel/buildifier @bazel/buildozer)

missing_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null | grep -qx installed || printf '%s\n' "$pkg"
  done
}

refuse() {
  say "cannot provision this machine: $1"
  say "missing Debian packages:"
  missing_packages | sed 's/^/    /' || true
  say "install them with:  sudo dpkg --add-architecture arm64 && sudo apt-get update && sudo apt-get install <packages>"
  say "then start Docker (dockerd --iptables=false &) and register qemu-aarch64 in binfmt_misc:"
  say "    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register"
  say "and the Starlark linters: npm install -g ${NPM_PACKAGES[*]}"
  exit 1
}

# --- Debian packages ---------------------------------------------------------------------------
provision_apt() {
  [ "$(id -u)" = 0 ] || refuse "not running as root"
  grep -qs '^ID=debian' /etc/os-release || refuse "not Debian (this script knows Debian 12 'bookworm' only)"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    say "adding the arm64 architecture to dpkg (for musl-dev:arm64 and libstd-rust-web-dev:arm64)"
    dpkg --add-architecture arm64
  fi
  provision_deb_src
  mapfile -t todo < <(missing_packages)
  if [ "${#todo[@]}" -gt 0 ] || [ -n "${APT_UPDATE_NEEDED:-}" ]; then
    apt-get update -qq
  fi
  if [ "${#todo[@]}" -gt 0 ]; then
    say "installing ${#todo[@]} Debian packages: ${todo[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${todo[@]}" >/dev/null
  else
    say "Debian packages: all present"
  fi
}

# The C twin of the allocator benchmark builds jemalloc and mimalloc from Debian's own sources
# (`apt-get source`), which needs deb-src entries: derived from the machine's existing deb entries.
provision_deb_src() {
  local out=/etc/apt/sources.list.d/pytest-rules-rust-deb-src.sources
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return
  fi
  say "adding deb-src entries (mirroring the existing deb entries) to $out"
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] && sed -n '/^Types:.*\bdeb\b/,/^$/p' "$f" | sed 's/^Types:.*/Types: deb-src/'
      echo
    done
  } > "$out.tmp"
  if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/pytest-rules-rust-deb-src.list
  fi
  if grep -q '^Types: deb-src' "$out.tmp"; then mv "$out.tmp" "$out"; else rm -f "$out.tmp"; fi
  APT_UPDATE_NEEDED=1
}

# --- Docker daemon -----------------------------------------------------------------------------
provision_docker() {
  if docker info >/dev/null 2>&1; then
    say "Docker daemon answers: left alone ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return
  fi
  say "starting dockerd --iptables=false (log: /var/log/pytest-rules-rust-dockerd.log)"
  nohup dockerd --iptables=false >/var/log/pytest-rules-rust-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { say "Docker daemon is up"; return; }
    sleep 1
  done
  say "dockerd did not answer within 60 s; see /var/log/pytest-rules-rust-dockerd.log"
  exit 1
}

# --- qemu-aarch64 in binfmt_misc, with the F flag so it works inside containers ------------------
provision_binfmt() {
  local dir=/proc/sys/fs/binfmt_misc entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  [ -e "$dir/register" ] || { say "mounting binfmt_misc"; mount -t binfmt_misc binfmt_misc "$dir"; }
  if [ -e "$entry" ] && grep -q '^flags:.*F' "$entry" && grep -qx enabled "$entry"; then
    say "binfmt qemu-aarch64: registered with flags $(sed -n 's/^flags: //p' "$entry")"
    return
  fi
  if [ -e "$entry" ]; then
    say "binfmt qemu-aarch64 present without the F flag or disabled: re-registering"
    echo -1 > "$entry"
  fi
  say "registering qemu-aarch64 from /usr/lib/binfmt.d/qemu-aarch64.conf"
  cat /usr/lib/binfmt.d/qemu-aarch64.conf > "$dir/register"
}

# --- buildifier and buildozer from npm -----------------------------------------------------------
provision_npm() {
  if command -v buildifier >/dev/null && command -v buildozer >/dev/null; then
    say "buildifier and buildozer: present"
    return
  fi
  if ! command -v npm >/dev/null; then
    say "installing Debian's nodejs and npm (for the buildifier/buildozer npm packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  say "installing ${NPM_PACKAGES[*]} from npm"
  npm install -g --silent "${NPM_PACKAGES[@]}" >/dev/null
}

# --- Python environment ------------------------------------------------------------------------
provision_python() {
  local stamp="$VENV/.provisioned" want
  want="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "Python environment $VENV: up to date"
    return
  fi
  say "creating the Python environment $VENV (pytest-rules-rust and its test dependencies at the versions in constraints.txt)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  local log="$VENV/provision-pip.log"
  if ! { "$VENV/bin/pip" install -q --upgrade pip && "$VENV/bin/pip" install -q -c "$ROOT/constraints.txt" -e "$ROOT[test]"; } >"$log" 2>&1; then
    cat "$log"
    say "pip install failed (log: $log)"
    exit 1
  fi
  echo "$want" > "$stamp"
}

if [ "${PROVISION_SKIP_APT:-}" != 1 ]; then
  provision_apt
  provision_docker
  provision_binfmt
  provision_npm
fi
provision_python
say "done"
