#!/usr/bin/env bash
# conn-many.sh PORT TOTAL [PROCS]
#
# Holds TOTAL idle MQTT connections to a broker already listening on 127.0.0.1:PORT, opened by
# PROCS junction-bench processes (`conn` scenario), and prints the broker's memory per connection
# as one JSON line. For more connections than one process may open: each bench process has its
# own open-file limit and its own source address (127.0.0.1, .2, ...: each address has its own
# ~28k ephemeral ports). The broker's RSS is that of the process listening on PORT plus its
# children (node.workers), read before the first connection and once all TOTAL are open.
#
#   ulimit -n 20000; node apps/gateway/dist/main.js start --config broker.yaml &   # node.workers: 3 for 50k here
#   tools/bench/conn-many.sh 18834 50000 3
#
# Environment: CONC (handshakes in parallel per process, 100), MQTT (4 or 5), OPEN_TIMEOUT (s, 900).
set -euo pipefail

PORT=${1:?usage: conn-many.sh PORT TOTAL [PROCS]}
TOTAL=${2:?usage: conn-many.sh PORT TOTAL [PROCS]}
PROCS=${3:-3}
CONC=${CONC:-100}
MQTT=${MQTT:-4}
OPEN_TIMEOUT=${OPEN_TIMEOUT:-900}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

broker=$(ss -ltnpH "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
[[ -n "$broker" ]] || { echo "conn-many: no visible process listens on port $PORT" >&2; exit 2; }

tree_rss_kb() {
  local total=0 p r
  for p in "$broker" $(pgrep -P "$broker" || true); do
    r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${r:-0}))
  done
  echo "$total"
}
open_now() { ss -tnH state established "( dport = :$PORT )" | wc -l; }

before=$(tree_rss_kb)
per=$(((TOTAL + PROCS - 1) / PROCS))
pids=()
for k in $(seq 1 "$PROCS"); do
  n=$((k < PROCS ? per : TOTAL - per * (PROCS - 1)))
  (cd "$root" && exec node --import tsx tools/bench/src/cli.ts run conn --port "$PORT" --mqtt "$MQTT" --conns "$n" --conc "$CONC" \
    --hold 86400 --settle 0 --workers 1 --setup-timeout "$OPEN_TIMEOUT" --local-address "127.0.0.$k" >"$work/$k.json" 2>"$work/$k.err") &
  pids+=($!)
done

deadline=$((SECONDS + OPEN_TIMEOUT))
while (($(open_now) < TOTAL)); do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
  if ((alive < PROCS || SECONDS > deadline)); then
    echo "conn-many: only $(open_now) of $TOTAL connections open; see $work/*.err" >&2
    cat "$work"/*.err >&2 || true
    kill -INT "${pids[@]}" 2>/dev/null || true
    exit 1
  fi
  sleep 1
done
sleep 2 # let the broker settle the last handshakes
opened=$(open_now)
with=$(tree_rss_kb)
kill -INT "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true

python3 - "$work" "$PROCS" "$opened" "$before" "$with" <<'PY'
import json, sys
work, procs, opened, before, with_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
runs = [json.loads(open(f"{work}/{k}.json").readline()) for k in range(1, procs + 1)]
print(json.dumps({
    "scenario": "conn_many", "connections": opened, "procs": procs,
    "connected_per_proc": [r.get("connected") for r in runs],
    "connect_rate_per_proc": [r.get("connect_rate") for r in runs],
    "broker_rss_before_kb": before, "broker_rss_with_kb": with_,
    "bytes_per_conn": round((with_ - before) * 1024 / opened) if opened else -1,
}))
PY
