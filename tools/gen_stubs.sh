#!/usr/bin/env bash
# Regenerate python/tunelab/_core.pyi from the built extension (needs pybind11-stubgen).
# tests/test_stubs.py checks the result against the module with mypy's stubtest.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pybind11-stubgen tunelab._core -o "$tmp" >/dev/null
# the compiled module has no __all__; stubtest would flag the generated one. numpy.bool exists
# only from NumPy 2.0: numpy.bool_ names the same type on every NumPy we support (README).
# The bound classes (options structs, enums) are made by pybind11's metaclass, a subclass of type
# that has no stub: stubtest wants a metaclass declared, and takes type.
grep -v '^__all__' "$tmp/tunelab/_core.pyi" | sed -e 's/numpy\.bool\]/numpy.bool_]/g' \
  -e 's/^class \([A-Za-z_][A-Za-z0-9_]*\):$/class \1(metaclass=type):/' > python/tunelab/_core.pyi
echo "wrote python/tunelab/_core.pyi"
