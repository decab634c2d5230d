"""Extract API models from the command line.

    python -m pytest_rules_rust.preflight.api extract SRC [--module M] [--version V] [--origin O] [--out F]
    python -m pytest_rules_rust.preflight.api ship CORPUS    # regenerate the shipped models

``ship`` reads the corpus layout (``rules_rust_versions/<v>``, ``bazel_modules/<m>/<v>``) and
writes ``data/api_models/<module>/<version>.json.gz`` for each tree it finds there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .extract import extract
from .store import SHIPPED, write_model

# Where each shipped model's tree came from (the corpus README records the same commits).
ORIGINS = {
    "rules_rust": "bazelbuild/rules_rust tag {version}",
    "rules_rust_prost": "bazelbuild/rules_rust tag {version}, extensions/prost",
    "rules_oci": "bazel-contrib/rules_oci v1.7.6 (commit 91ac23b)",
    "toolchains_llvm": "bazel-contrib/toolchains_llvm v1.0.0 (commit 3299108)",
    "platforms": "bazelbuild/platforms 0.0.10 (commit 05ec3a3)",
}


def ship(corpus: Path) -> int:
    """Extract every tree of the corpus into the package's data directory; print a line per model."""
    jobs: list[tuple[str, str, Path]] = []
    for tree in sorted((corpus / "rules_rust_versions").glob("*")):
        jobs.append(("rules_rust", tree.name, tree))
        if (tree / "extensions" / "prost" / "MODULE.bazel").is_file():
            # Published to the registry with the version of the rules_rust release it is part of.
            jobs.append(("rules_rust_prost", tree.name, tree / "extensions" / "prost"))
    for folder in sorted((corpus / "bazel_modules").glob("*/*")):
        if any(folder.rglob("*.bzl")):
            jobs.append((folder.parent.name, folder.name, folder))
    for module, version, tree in jobs:
        start = time.perf_counter()
        origin = ORIGINS.get(module, "{module} {version}").format(module=module, version=version)
        model = extract(tree, module=module, version=version, origin=origin)
        out = write_model(model, SHIPPED / module / f"{version}.json.gz")
        incomplete = sorted(k for k, f in model.bzl.items() if not f.complete)
        print(
            f"{module} {version}: {len(model.bzl)} .bzl, {len(model.rules)} rules, "
            f"{len(model.macros)} macros, "
            f"{len(model.extensions)} extensions, {out.stat().st_size} bytes, "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
            + (f"; stopped early: {', '.join(incomplete)}" if incomplete else "")
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_rules_rust.preflight.api")
    sub = parser.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="extract one source tree")
    ex.add_argument("src", type=Path)
    ex.add_argument("--module", default="")
    ex.add_argument("--version", default="")
    ex.add_argument("--origin", default="")
    ex.add_argument("--out", type=Path, help="write .json.gz here (default: JSON on stdout)")
    sh = sub.add_parser("ship", help="regenerate the shipped models from a corpus directory")
    sh.add_argument("corpus", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "ship":
        return ship(args.corpus)
    if not args.src.is_dir():
        print(f"error: {args.src} is not a directory; pass a module's source tree", file=sys.stderr)
        return 2
    model = extract(args.src, module=args.module, version=args.version, origin=args.origin)
    if args.out:
        write_model(model, args.out)
    else:
        json.dump(model.to_json(), sys.stdout, indent=1, sort_keys=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
