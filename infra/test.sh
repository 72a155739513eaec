#!/usr/bin/env bash
# `make test`: every test, against a fresh local AWS stack of its own.
#  1. cfn-lint on template.yaml;
#  2. moto on a free loopback port, with the resources template.yaml declares (fresh names),
#     its user pool, and IAM enforced with a role per function (infra/local_stack.py);
#  3. cargo test for the whole workspace: unit tests, and the black-box tests that drive the
#     local gateway over HTTP against that stack;
#  4. the `make dev` path: the gateway binary, seeded with the demo practice by infra/seed.py,
#     the operator command (carethread-admin),
#     the README's smoke check, the web app's browser tests (Playwright driving Debian's
#     Chromium; screenshots to docs/screenshots), the log check (SEC-3) and schemathesis
#     against the OpenAPI.
# With SECURITY_REPORT=1 (`make security-report`), step 3 runs only the security battery, with
# its printed figures, and the figures are tabulated at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
state=.local/test
# Each step says when it started (seconds into the run), so a slow CI names its slow part.
step() { echo "== $* (at ${SECONDS}s)"; }
mkdir -p "$state"

step "cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
echo "cfn-lint: clean"
step "sam validate --lint"
SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml --region us-east-1

step "the local stack's Query shortcuts answer as moto's own Query"
"$PY" infra/moto_patch_check.py
# The benchmark's report scripts (goals summary, bench-compare) and the local stack's
# evaluation of DynamoDB statements (resources, LeadingKeys conditions): plain unit tests.
(cd bench && "../$PY" -m unittest -q scripts_test)
(cd infra && "../$PY" -m unittest -q iam_conditions_test)

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
moto_port=$(free_port)
cleanup() {
  [ -n "${gateway_pid:-}" ] && kill "$gateway_pid" 2>/dev/null || true
  "$PY" infra/local_stack.py stop --state-dir "$state" >/dev/null || true
}
trap cleanup EXIT

step "local AWS stack on 127.0.0.1:$moto_port"
"$PY" infra/local_stack.py start --port "$moto_port" --state-dir "$state"
"$PY" infra/local_stack.py create --port "$moto_port" --prefix "carethread-test-$$" --env-file "$state/env" --state-dir "$state"
set -a
# shellcheck disable=SC1091
. "$state/env"
set +a
export RUST_LOG=${RUST_LOG:-warn}
# Every function's AWS operations, as the call counter saw them, for the role check at the end.
export CALLS_LOG="$PWD/$state/calls.jsonl"
rm -f "$CALLS_LOG"

if [ "${SECURITY_REPORT:-}" = 1 ]; then
  step "cargo test: the security battery"
  cargo test --locked -p carethread-tests --test api -- authz:: security:: findings:: faults:: logs:: notifications:: fuzz:: \
    --nocapture 2>&1 | tee "$state/cargo-test.log"
else
  step "cargo test"
  cargo test --workspace --locked 2>&1 | tee "$state/cargo-test.log"
fi

step "make dev path: web app, local gateway binary, demo seed"
"$PY" infra/web.py
# The gateway and the operator command in one build: built alone, the operator command's
# smaller dependency graph would select other features and rebuild half the dependencies.
cargo build -p local-gateway -p carethread-admin --locked
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
"$PY" infra/events.py --seed "$state/seed.json" --out "$state/events"

if [ "${SECURITY_REPORT:-}" != 1 ]; then
  step "web app in a real browser (Playwright + Chromium)"
  bash infra/browser_deps.sh
  BASE_URL="http://127.0.0.1:$gateway_port" npm --prefix web run --silent e2e
fi

# The sample events before schemathesis: the fuzzer, signed in as the seeded physician, learns
# conversation ids from the API's answers and may delete the one the DELETE sample names (a
# CI run saw it post to that conversation and delete it two seconds later).
step "one function at a time: cargo lambda invoke of every sample event (README)"
"$PY" infra/invoke_events.py --events "$state/events"

step "schemathesis against docs/openapi.yaml"
bash infra/schemathesis_run.sh "http://127.0.0.1:$gateway_port" "$state/seed.json" "$state/schemathesis.log"

step "the operator command creates a practice and its first administrator (ACCT-1)"
cargo build -p local-gateway -p carethread-admin --locked
admin_out=$("${CARGO_TARGET_DIR:-target}/debug/carethread-admin" practice create --name "Operator Check Clinic" --admin-email first.admin@example.test)
echo "$admin_out"
username=$(echo "$admin_out" | sed -n 's/^administrator username: //p')
"$PY" - "$username" <<'PYCHECK'
import os, sys, boto3
user = boto3.client("cognito-idp", region_name=os.environ["AWS_REGION"]).admin_get_user(UserPoolId=os.environ["USER_POOL_ID"], Username=sys.argv[1])
attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
assert user["Enabled"] and user["UserStatus"] == "FORCE_CHANGE_PASSWORD", user
assert attrs["custom:role"] == "admin" and attrs["custom:practice_id"].startswith("prc_"), attrs
print(f"operator command: {sys.argv[1]} is an enabled, invited administrator of {attrs['custom:practice_id']}")
PYCHECK
practice=$(echo "$admin_out" | sed -n 's/^practice \(prc_[^ ]*\) created$/\1/p')
step "the operator command assigns the practice its SMS number, which nobody else can have (ACCT-4)"
"${CARGO_TARGET_DIR:-target}/debug/carethread-admin" practice sms-number --practice "$practice" --number +15550177000
if "${CARGO_TARGET_DIR:-target}/debug/carethread-admin" practice sms-number --practice "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["practices"]["maple"]["id"])' "$state/seed.json")" --number +15550177000; then
  echo "a second practice was given a number another practice has" >&2
  exit 1
fi

# The gateway writes its functions' operations to CALLS_LOG as it stops.
kill -TERM "$gateway_pid" && wait "$gateway_pid" || true
gateway_pid=

step "SEC-3: no seeded PHI in the gateway's log (every function ran in it)"
"$PY" infra/log_check.py "$state/gateway.log" | tee "$state/log-check.log"

step "IAM: every operation each function performed is in its role"
"$PY" infra/iam_check.py "$CALLS_LOG" "$state/moto.log"

echo "== make test: every step passed in ${SECONDS}s"
if [ "${SECURITY_REPORT:-}" = 1 ]; then
  "$PY" infra/security_report.py "$state/cargo-test.log" "$state/schemathesis.log" "$state/log-check.log"
fi
