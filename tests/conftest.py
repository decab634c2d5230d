"""Fixtures shared by several test modules (defined once here, so each exists once)."""

from oci_helpers import responders

__all__ = ["responders"]
