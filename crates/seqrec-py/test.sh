#!/usr/bin/env bash
# The Python package's tests: builds the wheel (maturin), installs it in a fresh virtual
# environment with pandas and pytest (from PyPI), runs the pytest suite and the notebook-style
# example (examples/python/notebook.py --quick). Run from anywhere; CI runs it after the Rust
# tests (README.md's test command). The wheel is a dev-profile build with the wgpu backend, the
# features of that test build, so that it reuses the compiled dependencies instead of building
# burn a second time (see the ciborium note in Cargo.toml); the documented wheel for users is
# `maturin build --release` (crates/seqrec-py/README.md).
set -euo pipefail
crate="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$crate/../.." && pwd)"
venv="$root/target/py-venv"
python="${PYTHON:-python3}"
started=$SECONDS
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.16,<2" "pandas>=1.5" "pytest>=7" pyarrow
rm -rf "$root/target/wheels"
(cd "$crate" && "$venv/bin/maturin" build --quiet --features wgpu --out "$root/target/wheels")
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    "$root"/target/wheels/seqrec-*.whl
echo "py: wheel built and installed in $((SECONDS - started)) s"
cd "$root"
"$venv/bin/python" -m pytest -q "$crate/tests"
"$venv/bin/python" examples/python/notebook.py --quick
echo "py: the Python package's build and tests took $((SECONDS - started)) s"
