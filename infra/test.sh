#!/usr/bin/env bash
# `make test`: every test, against a fresh local AWS stack of its own.
#  1. cfn-lint on template.yaml;
#  2. moto on a free loopback port, with the resources template.yaml declares (fresh names),
#     its user pool, and IAM enforced with a role per function (infra/local_stack.py);
#  3. cargo test for the whole workspace: unit tests, and the black-box tests that drive the
#     local gateway over HTTP against that stack;
#  4. the `make dev` path: the gateway binary, seeded with the demo practice by infra/seed.py,
#     the README's smoke check, the web app's browser tests (Playwright driving Debian's
#     Chromium; screenshots to docs/screenshots), the log check (SEC-3) and schemathesis
#     against the OpenAPI.
# With SECURITY_REPORT=1 (`make security-report`), step 3 runs only the security battery, with
# its printed figures, and the figures are tabulated at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
state=.local/test
mkdir -p "$state"

echo "== cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
echo "cfn-lint: clean"
echo "== sam validate --lint"
SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml --region us-east-1

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
moto_port=$(free_port)
cleanup() {
  [ -n "${gateway_pid:-}" ] && kill "$gateway_pid" 2>/dev/null || true
  "$PY" infra/local_stack.py stop --state-dir "$state" >/dev/null || true
}
trap cleanup EXIT

echo "== local AWS stack on 127.0.0.1:$moto_port"
"$PY" infra/local_stack.py start --port "$moto_port" --state-dir "$state"
"$PY" infra/local_stack.py create --port "$moto_port" --prefix "carethread-test-$$" --env-file "$state/env" --state-dir "$state"
set -a
# shellcheck disable=SC1091
. "$state/env"
set +a
export RUST_LOG=${RUST_LOG:-warn}

if [ "${SECURITY_REPORT:-}" = 1 ]; then
  echo "== cargo test: the security battery"
  cargo test --locked -p carethread-tests --test authz --test security --test faults --test logs \
    --test notifications --test fuzz -- --nocapture 2>&1 | tee "$state/cargo-test.log"
else
  echo "== cargo test"
  cargo test --workspace --locked 2>&1 | tee "$state/cargo-test.log"
fi

echo "== make dev path: web app, local gateway binary, demo seed"
"$PY" infra/web.py
cargo build -p local-gateway --locked
# Fresh resources of its own, as `make dev` has: moto copies a table on every transaction, so
# the tables the cargo tests filled would make every write of this part slow.
"$PY" infra/local_stack.py create --port "$moto_port" --prefix "carethread-dev-$$" --env-file "$state/env-dev" --state-dir "$state"
set -a
# shellcheck disable=SC1091
. "$state/env-dev"
set +a
gateway_port=$(free_port)
RUST_LOG=info GATEWAY_ADDR="127.0.0.1:$gateway_port" LOCAL_SEED_FILE="$state/seed.json" WEB_ROOT=web/dist \
  "${CARGO_TARGET_DIR:-target}/debug/local-gateway" >"$state/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$gateway_port/_local/health" >/dev/null && break
  sleep 0.2
done
"$PY" infra/seed.py --base-url "http://127.0.0.1:$gateway_port" --out "$state/seed.json"
"$PY" infra/smoke.py --base-url "http://127.0.0.1:$gateway_port" --seed "$state/seed.json"

if [ "${SECURITY_REPORT:-}" != 1 ]; then
  echo "== web app in a real browser (Playwright + Chromium)"
  bash infra/browser_deps.sh
  BASE_URL="http://127.0.0.1:$gateway_port" npm --prefix web run --silent e2e
fi

echo "== schemathesis against docs/openapi.yaml"
bash infra/schemathesis_run.sh "http://127.0.0.1:$gateway_port" "$state/seed.json" "$state/schemathesis.log"

echo "== SEC-3: no seeded PHI in the gateway's log (every function ran in it)"
"$PY" infra/log_check.py "$state/gateway.log" | tee "$state/log-check.log"

if [ "${SECURITY_REPORT:-}" = 1 ]; then
  "$PY" infra/security_report.py "$state/cargo-test.log" "$state/schemathesis.log" "$state/log-check.log"
fi
