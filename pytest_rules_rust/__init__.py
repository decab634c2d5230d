"""pytest-rules-rust: prove that rules_rust Bzlmod setups build for linux x86_64 and aarch64.

The data flows workspace → preflight → build → artifacts → assertions → report; each stage is
one module with plain functions, and the pytest plugin and the command line sit on top.
"""

__version__ = "0.1.0"
