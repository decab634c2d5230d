"""Helpers."""

def helper():
    return 1

load(":other.bzl", "VALUE")
