"""Repository-level pytest configuration.

The plugin itself is loaded through its ``pytest11`` entry point (``pip install -e .``), exactly as
it is for users; nothing here re-registers it. ``pytester`` drives the plugin in sub-runs.
"""

pytest_plugins = ["pytester"]
