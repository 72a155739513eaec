#!/usr/bin/env bash
# `make bench` (issue 8): builds what it measures, then runs the benchmark against a fresh
# local AWS stack of its own. It prints the report and writes bench/results.json; it asserts
# nothing about time. Everything it needs it installs itself (a fresh machine has only Rust,
# Python and what `make` put in .venv):
#   - cargo-lambda and zig (PyPI wheels, bench/requirements.txt) into .venv;
#   - the aarch64 standard library (rustup target add).
# Knobs (environment): BENCH_REQUESTS (per operation, default 100), BENCH_PROFILE_OPS (only these
# operations, nothing written: for `make bench-profile`), BENCH_COLD_STARTS (20),
# BENCH_RSS_INVOCATIONS (20), BENCH_LOAD_CLIENTS (50), BENCH_LOAD_SECONDS (60, 0 skips),
# BENCH_COLDSTART=0 (skip cold starts), BENCH_DEV_MESSAGES (make dev's stack filled, 10000), BENCH_DEV_SETTLE_SECONDS (its wait for the stream consumers, 3600), BENCH_SKIP_PACKAGES=1 (reuse target/lambda),
# BENCH_JITTER_COMPARE=1 (also build compose, list-inbox and hello world with
# AWS_LC_SYS_NO_JITTER_ENTROPY=1 in target/bench-nojitter and compare their cold starts).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
state=.local/bench
mkdir -p "$state"
export PATH="$PWD/.venv/bin:$PATH"

"$PY" -m pip install --quiet -r bench/requirements.txt
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi

functions=()
for d in functions/*/; do
  functions+=(-p "$(basename "$d")")
done

# The packages as they are deployed: arm64, zipped (target/lambda/<function>/bootstrap.zip).
start=$(date +%s)
if [ "${BENCH_SKIP_PACKAGES:-0}" != 1 ]; then
  cargo lambda build --release --arm64 --output-format zip --locked "${functions[@]}"
fi
arm_seconds=$(($(date +%s) - start))

# The x86_64 binaries of the cold-start runs, the hello world and the benchmark itself, in one
# cargo invocation (one dependency build; features unified with the benchmark's, which only
# adds hyper's unused server side to the functions).
start=$(date +%s)
cargo build --release --locked "${functions[@]}" -p carethread-bench
x86_seconds=$(($(date +%s) - start))

if [ "${BENCH_JITTER_COMPARE:-0}" = 1 ]; then
  AWS_LC_SYS_NO_JITTER_ENTROPY=1 CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/bench-nojitter" \
    cargo build --release --locked -p compose -p list-inbox -p carethread-bench --bin compose --bin list-inbox --bin bench-hello
  export BENCH_NOJITTER_BIN_DIR="${CARGO_TARGET_DIR:-target}/bench-nojitter/release"
fi

. bench/stack.sh
start_bench_stack
export RUST_LOG=${RUST_LOG:-error}
target=${CARGO_TARGET_DIR:-target}
export BENCH_ARM_BUILD_SECONDS=$arm_seconds BENCH_X86_BUILD_SECONDS=$x86_seconds
export BENCH_LAMBDA_DIR=$target/lambda BENCH_BIN_DIR=$target/release
"$target/release/carethread-bench"
"$PY" bench/scale_model.py
# One line per goal, met or missed (bench/goals.py holds the goals).
"$PY" bench/goals.py bench/results.json

# make dev's stack after use (BENCH_DEV_MESSAGES messages, default 10,000; 0 skips it).
if [ "${BENCH_DEV_MESSAGES:-10000}" != 0 ]; then
  cargo build -p local-gateway --locked
  "$PY" bench/dev_stack.py
fi
