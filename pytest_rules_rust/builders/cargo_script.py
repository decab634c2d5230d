"""The shell script that runs inside the builder container before cargo (kept as package data here).

For static musl builds it prepares what ``-Zbuild-std`` needs offline, then ``exec``s the cargo
command it was given. Inputs come from the environment (set by :mod:`.cargo`):

* ``RR_MUSL=1``: do the musl preparation (otherwise the script only runs the command);
* ``RR_STATE``: a writable directory in the target cache (merged vendor dir, patched libunwind);
* ``RR_VENDOR``: the workspace's vendored crates (read-only mount, ``name-version`` directories);
* ``RR_UNWIND_CANDIDATES``: LLVM ``libunwind.a`` paths to try, in order;
* ``RR_MUSL_CC`` / ``RR_AR``: the C compiler and archiver for the target.

The merged vendor directory is a directory source of symlinks: the workspace's crates.io copies
first, then the crates of rust-src's ``library/vendor`` that the workspace does not have (same
``name-version`` directory = same crate). Debian's LLVM ``libunwind.a`` calls glibc's
``__fprintf_chk``; a four-line shim compiled for musl is added to a copy of the archive.
"""

from __future__ import annotations

#: Exit status the script uses when the image lacks a part of the recipe.
MISSING_PART_RC = 97

SCRIPT = r"""#!/bin/bash
set -euo pipefail
say() { printf '[rr-cargo] %s\n' "$*"; }
if [ "${RR_MUSL:-0}" = 1 ]; then
  sysroot=$("${RUSTC:-rustc}" --print sysroot)
  libsrc="$sysroot/lib/rustlib/src/rust/library"
  if [ ! -f "$libsrc/Cargo.lock" ]; then
    echo "error: $libsrc/Cargo.lock is missing: -Zbuild-std needs Debian's rust-web-src in the image" >&2
    exit 97
  fi
  mkdir -p "$RR_STATE"
  merged="$RR_STATE/vendor-merged"
  rm -rf "$merged"
  mkdir -p "$merged"
  n_ws=0
  n_std=0
  for d in "$RR_VENDOR"/*/; do
    [ -d "$d" ] || continue
    ln -s "${d%/}" "$merged/$(basename "$d")"
    n_ws=$((n_ws + 1))
  done
  for d in "$libsrc"/vendor/*/; do
    name=$(basename "$d")
    if [ ! -e "$merged/$name" ]; then
      ln -s "${d%/}" "$merged/$name"
      n_std=$((n_std + 1))
    fi
  done
  say "merged vendor directory: $n_ws workspace crates + $n_std from $libsrc/vendor"
  unwind="$RR_STATE/unwind"
  if [ ! -f "$unwind/libunwind.a" ]; then
    src=""
    for c in $RR_UNWIND_CANDIDATES; do
      if [ -f "$c" ]; then src=$c; break; fi
    done
    if [ -z "$src" ]; then
      echo "error: no LLVM libunwind.a in the image (looked at: $RR_UNWIND_CANDIDATES)" >&2
      echo "the musl recipe needs libunwind-14-dev in the builder image" >&2
      exit 97
    fi
    tmp=$(mktemp -d "$RR_STATE/unwind.XXXXXX")
    cp "$src" "$tmp/libunwind.a"
    cat > "$tmp/shim.c" <<'EOF'
#include <stdarg.h>
#include <stdio.h>
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...) {
  (void)flag;
  va_list ap;
  va_start(ap, fmt);
  int r = vfprintf(f, fmt, ap);
  va_end(ap);
  return r;
}
EOF
    "$RR_MUSL_CC" -O2 -c "$tmp/shim.c" -o "$tmp/shim.o"
    "$RR_AR" rs "$tmp/libunwind.a" "$tmp/shim.o" 2>/dev/null
    mkdir -p "$unwind"
    mv "$tmp/libunwind.a" "$unwind/libunwind.a"
    rm -rf "$tmp"
    say "libunwind: $src + __fprintf_chk shim -> $unwind/libunwind.a"
  fi
fi
say "$*"
exec "$@"
"""
