"""``python -m pytest_rules_rust``; a Ctrl-C while the modules still load exits 130 without a traceback."""

try:
    from .cli import entry
except KeyboardInterrupt:
    raise SystemExit(130) from None

entry()
