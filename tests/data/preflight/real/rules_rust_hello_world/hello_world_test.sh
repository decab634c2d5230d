#!/bin/sh
# Placeholder (not upstream).
"$1"
