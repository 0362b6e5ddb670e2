# Shared by deploy/bench-nodes.sh and deploy/bench-overload.sh (sourced, not
# run): the process bookkeeping, the private Redis, the builds, and starting a
# floor or Cohub node. The sourcing script sets co, out, bench, SECRET, EMAIL
# and PASSWORD first.

# Each WebSocket is a descriptor in the client and one in a node (two more in
# nginx when there is one).
ulimit -n "$(ulimit -Hn)"

PIDS=()     # everything started, so the trap can stop exactly these
counter=""  # a background helper of the current run, if any
cleanup() {
  [ -n "$counter" ] && kill "$counter" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# checkPorts PORT...: a port someone else listens on would mix their process
# into the numbers.
checkPorts() {
  local port
  for port in "$@"; do
    if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is in use" >&2; exit 1; fi
  done
}

# buildBench: wsbench and floor from BENCH_DIR, cohub from the checkout.
buildBench() {
  (cd "$bench/wsbench" && go build -o "$out/wsbench" .) || exit 1
  (cd "$bench/floor" && go build -o "$out/floor" .) || exit 1
  (cd "$co" && go build -o "$out/cohub" ./cmd/cohub) || exit 1
  git -C "$co" rev-parse --short HEAD > "$out/commit" 2>/dev/null
}

# awaitHTTP URL: until the URL answers at all (any status), at most 30 s.
awaitHTTP() {
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ] && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2; return 1
}

# awaitRedis PORT: until it answers PING.
awaitRedis() {
  for _ in $(seq 300); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  echo "redis on $1 never answered" >&2; return 1
}

# redis NAME PORT [ARGS...]: a private redis-server, no persistence.
redis() {
  local name=$1 port=$2; shift 2
  mkdir -p "$out/$name"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$out/$name" --save '' --appendonly no \
    --logfile "$out/$name.log" "$@" &
  PIDS+=($!)
  awaitRedis "$port"
}

# startNode TARGET PORT LOG ARGS...: one node, its pid NODE_PID (also in PIDS).
# The floor (TARGET floor) takes the Redis port as ARGS; Cohub (TARGET cohub*)
# takes its backend and any other flags.
startNode() {
  local target=$1 port=$2 log=$3; shift 3
  case $target in
    floor) "$out/floor" -addr "127.0.0.1:$port" -redis "127.0.0.1:$1" > "$log" 2>&1 & ;;
    # wsbench opens Cohub's sockets with ?access_token= and ?link=, which a
    # node takes only with --ws-url-credentials.
    *) COHUB_WS_URL_CREDENTIALS=true COHUB_LOG_FORMAT=json COHUB_LOG_LEVEL=warn "$out/cohub" --addr "127.0.0.1:$port" --secret "$SECRET" \
         --admin-email "$EMAIL" --admin-password "$PASSWORD" --demo=false "$@" > "$log" 2>&1 & ;;
  esac
  NODE_PID=$!
  PIDS+=($NODE_PID)
}

# awaitNode TARGET PORT: until the node serves (Cohub: /readyz answers 200).
awaitNode() {
  case $1 in
    floor) awaitHTTP "http://127.0.0.1:$2/connection/websocket" || exit 1 ;;
    *) for _ in $(seq 301); do
         curl -sf -o /dev/null "http://127.0.0.1:$2/readyz" && return 0; sleep 0.1
       done
       echo "node on $2 not ready" >&2; exit 1 ;;
  esac
}

# wsbenchFailed LOG: a run whose client failed (every connect refused, say)
# makes the script exit non-zero at its end, after the other runs.
FAILED=0
wsbenchFailed() { echo "wsbench failed: $1" >&2; FAILED=1; }

# wsPath TARGET and wsArgs TARGET: the WebSocket path and the wsbench
# protocol flags of a target.
wsPath() { case $1 in floor) echo /connection/websocket;; *) echo /ws;; esac; }
wsArgs() {
  case $1 in
    floor) echo "-proto centrifugo -prefix room-";;
    *) echo "-proto cohub -cohub-email $EMAIL -cohub-password $PASSWORD -cohub-external";;
  esac
}
