#!/usr/bin/env bash
# Issue 7, point 6: schemathesis generates requests from docs/openapi.yaml (examples, the
# coverage phase's boundary and negative cases, and fuzzing) against a running local gateway,
# as the seeded physician, and checks that no answer is a server error or breaks the schema.
#   schemathesis_run.sh BASE_URL SEED_JSON OUT_LOG [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
base_url=$1 seed=$2 out=$3 max_examples=${4:-3}
ST=.venv-schemathesis
if [ ! -x "$ST/bin/schemathesis" ]; then
  python3 -m venv "$ST"
  "$ST/bin/pip" install --quiet --upgrade pip
  "$ST/bin/pip" install --quiet "schemathesis==4.32.5"
fi
# A fresh ID token of the physician (the seed's may be near its hour by now), signed in at the
# stack's user pool with the seeded password; the seed's token when the pool is not in the
# environment (the stack's env file, exported by test.sh).
token=$(.venv/bin/python - "$seed" <<'PY'
import json, os, sys
sys.path.insert(0, "infra")
user = json.load(open(sys.argv[1]))["practices"]["maple"]["users"]["physician"]
if os.environ.get("USER_POOL_CLIENT_ID") and user.get("password"):
    from seed import Cognito
    print(Cognito().sign_in(user["username"], user["password"]))
else:
    print(user["token"])
PY
)
status=0
# One worker: with two threads, hypothesis parses lambda sources with `ast` concurrently, which
# on CPython 3.11 can fail at random ("AST constructor recursion depth mismatch", gh-106905;
# it failed a CI run's coverage phase).
"$ST/bin/schemathesis" run docs/openapi.yaml --url "$base_url" -H "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance --phases examples,coverage,fuzzing \
  --max-examples "$max_examples" --workers 1 --seed 1 --no-shrink --warnings off --request-timeout 60 >"$out" 2>&1 || status=$?
tail -25 "$out"
.venv/bin/python - "$out" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
num = lambda p: int(m[1]) if (m := re.search(p, text)) else 0
generated, errors = num(r"(\d+) generated"), num(r"Server error: (\d+)")
violations = num(r"Response violates schema: (\d+)")
print(f"SCHEMATHESIS: {generated} generated requests, {errors} server errors, {violations} schema violations")
PY
exit "$status"
