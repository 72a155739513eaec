# The benchmark's own local AWS stack (sourced by bench/run.sh and bench/scale.sh): moto as
# `make test` runs it, the template's resources, the environment exported; stopped on exit.
# Expects PY and state to be set.
start_bench_stack() {
  port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  trap '"$PY" infra/local_stack.py stop --state-dir "$state" >/dev/null || true' EXIT
  # moto as `make test` runs it (infra/moto_server.py); local_stack finds it answering, makes its
  # operator (a new moto knows none: the old keys go) and stops it by its pid file like its own.
  rm -f "$state/operator.json"
  # Connections kept alive as AWS endpoints keep them (infra/moto_speed.py, patch 9), so the
  # SDK's pool reuses them and CPU per request is not a TCP handshake per call.
  MOTO_KEEP_ALIVE=1 setsid "$PY" infra/moto_server.py -H 127.0.0.1 -p "$port" </dev/null >>"$state/moto.log" 2>&1 &
  echo $! >"$state/moto.pid"
  "$PY" -c '
import sys, time, urllib.request
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=2)
        break
    except OSError:
        time.sleep(0.25)
else:
    sys.exit("bench: moto did not answer within 60 s; see its moto.log")
' "$port"
  "$PY" infra/local_stack.py start --port "$port" --state-dir "$state"
  "$PY" infra/local_stack.py create --port "$port" --prefix "carethread-bench-$$" --env-file "$state/env" --state-dir "$state"
  set -a
  # shellcheck disable=SC1091
  . "$state/env"
  set +a
}
