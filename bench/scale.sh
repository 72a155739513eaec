#!/usr/bin/env bash
# `make scale-model` (issue 17): records the DynamoDB partitions each operation touches on a
# local stack of its own (the reference practice and a group of 150 providers made through
# the API; bench/key-accesses.json), then prints the scale model of bench/workloads.json
# (bench/scale_model.py). A debug build: the accesses do not depend on the profile.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
state=.local/scale
mkdir -p "$state"
. bench/stack.sh
cargo build --locked -p carethread-bench --bin carethread-bench
start_bench_stack
export RUST_LOG=${RUST_LOG:-error}
BENCH_ONLY=scale "${CARGO_TARGET_DIR:-target}/debug/carethread-bench"
"$PY" bench/scale_model.py
