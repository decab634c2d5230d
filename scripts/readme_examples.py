"""Write the README's Python examples into one test module, so CI runs them as a user would.

Usage: python readme_examples.py README.md OUT.py. Each ```python block becomes part of OUT.py, in
order; a block is expected to be self-contained (its own imports), as a reader would paste it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def main(readme: Path, out: Path) -> int:
    blocks = FENCE.findall(readme.read_text(encoding="utf-8"))
    tests = [b for b in blocks if re.search(r"^def test_", b, re.MULTILINE)]
    if not tests:
        print(f"{readme}: no ```python block with a test function", file=sys.stderr)
        return 1
    body = "\n\n".join(block.strip() for block in blocks)
    out.write_text(f'"""The Python examples of {readme.name}, in order."""\n\n{body}\n', encoding="utf-8")
    print(f"{out}: {len(blocks)} blocks, {len(tests)} with tests")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
