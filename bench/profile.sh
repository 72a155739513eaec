#!/usr/bin/env bash
# `make bench-profile OPS="compose,list-inbox: all"`: where an operation's CPU goes. Builds the
# benchmark with symbols and frame pointers (target/profiling, a release build of its own: about
# 7 minutes the first time), starts a local stack of its own, and records the chosen operations
# alone (BENCH_PROFILE_OPS, names as in the benchmark's report, matched by prefix) under
# `perf record -g` into .local/profile.data; then prints the hottest call paths. Needs perf
# (Debian's linux-perf, installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
state=.local/profile
mkdir -p "$state"
command -v perf >/dev/null || apt-get install -y -qq linux-perf
CARGO_TARGET_DIR=target/profiling CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  RUSTFLAGS="-C force-frame-pointers=yes" cargo build --release --locked -p carethread-bench
. bench/stack.sh
start_bench_stack
export RUST_LOG=error BENCH_REQUESTS=${BENCH_REQUESTS:-300} BENCH_PROFILE_OPS="${OPS:?OPS=\"compose,list-inbox: all\"}"
perf record -F 2000 -g -o .local/profile.data target/profiling/release/carethread-bench
# The hottest of our functions and the SDK's call machinery, share of all samples (with
# children). `perf report -i .local/profile.data` browses the rest.
perf report -i .local/profile.data --children --sort symbol -g none --stdio 2>/dev/null |
  grep -E 'carethread_core|orchestrator::try_op|sign_request' | sed -E 's/ +/ /g' | cut -c1-160 |
  head -40 || true
