#!/usr/bin/env bash
# `make bench`: a release build of the benchmark, against a fresh local AWS stack of its own.
# It prints the report and writes bench/results.json; it asserts nothing about time.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
state=.local/bench
mkdir -p "$state"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$PY" infra/local_stack.py stop --state-dir "$state" >/dev/null || true' EXIT
"$PY" infra/local_stack.py start --port "$port" --state-dir "$state"
"$PY" infra/local_stack.py create --port "$port" --prefix "carethread-bench-$$" --env-file "$state/env"
set -a
# shellcheck disable=SC1091
. "$state/env"
set +a
export LOCAL_JWT_SECRET=bench-secret RUST_LOG=${RUST_LOG:-error}
cargo build --release --locked -p carethread-bench
"${CARGO_TARGET_DIR:-target}/release/carethread-bench"
