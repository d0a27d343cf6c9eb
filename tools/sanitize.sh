#!/usr/bin/env bash
# Build tunelab with AddressSanitizer + UndefinedBehaviorSanitizer in a throw-away virtual
# environment and run the whole test suite against it. Usage: tools/sanitize.sh [pytest args]
# Python itself is not instrumented, so libasan is preloaded and leak detection is off
# (CPython keeps allocations alive at exit by design); any ASan or UBSan report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${SANITIZE_VENV:-build/sanitize-venv}
python3 -m venv --system-site-packages "$venv"
. "$venv/bin/activate"
python -m pip install -q --no-build-isolation ".[test]" -Cbuild-dir=build/sanitize \
  -Ccmake.build-type=RelWithDebInfo -Ccmake.define.TUNELAB_SANITIZE=ON
asan=$(c++ -print-file-name=libasan.so)
ubsan=$(c++ -print-file-name=libubsan.so)
export LD_PRELOAD="$asan:$ubsan"
# allocator_may_return_null: a huge request (the abuse tests ask for 8 TiB) gives MemoryError, as
# with glibc, instead of an ASan abort.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$venv"   # import the installed (instrumented) package, not the source tree
# Tests that start worker processes (dask's LocalCluster, the forkserver pool) are left out:
# workers of the preloaded, uninstrumented interpreter stall at start-up under ASan, and they
# run no kernel code that the local runs of the same entry points do not.
python -m pytest "$OLDPWD/tests" -p no:cacheprovider -q -k "not dask and not forkserver" "$@"
