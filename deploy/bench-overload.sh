#!/usr/bin/env bash
# Overload, side by side: the floor, then Cohub, two nodes each on one private
# redis-server, driven by the same wsbench latency workload as
# ../shared/bench/sidebyside.sh, but over more rooms, so that the offered rate
# passes what the machine carries while each sender stays within Cohub's
# per-sender rate (10 messages a second: with 1,000 rooms, offers above
# 10,000 msg/s are refused as rate_limited, which is not overload).
#
# Needs: go, redis-server, redis-cli, ss. Loopback ports 18520-18530 only;
# every process it starts is stopped on exit.
# Usage: deploy/bench-overload.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]
#   BENCH_DIR (or env BENCH): wsbench/ and floor/ sources, default
#   ../shared/bench beside the checkout.
#   env: RATE=20000 ROOMS=3000 DUR=25s ONLY="floor cohub"
set -u

co=$(readlink -f "${1:?usage: bench-overload.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]}")
out=$(readlink -f "${2:?usage: bench-overload.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]}")
bench=$(readlink -f "${3:-${BENCH:-$co/../shared/bench}}")
RATE=${RATE:-20000}; ROOMS=${ROOMS:-3000}; DUR=${DUR:-25s}; ONLY=${ONLY:-"floor cohub"}
mkdir -p "$out"
NODES=(18521 18522) RP=18530
ulimit -n "$(ulimit -Hn)"

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  redis-cli -p $RP shutdown nosave >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "${NODES[@]}" $RP; do
  if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is in use" >&2; exit 1; fi
done

(cd "$bench/wsbench" && go build -o "$out/wsbench" .) || exit 1
(cd "$bench/floor" && go build -o "$out/floor" .) || exit 1
(cd "$co" && go build -o "$out/cohub" ./cmd/cohub) || exit 1

redis-server --port $RP --save '' --appendonly no --daemonize yes \
  --logfile "$out/redis.log" --pidfile "$out/redis.pid" || exit 1
until redis-cli -p $RP ping >/dev/null 2>&1; do sleep 0.1; done

start() { # target: starts its two nodes, NODE_PIDS their pids
  NODE_PIDS=()
  for port in "${NODES[@]}"; do
    case $1 in
      floor) "$out/floor" -addr 127.0.0.1:$port -redis 127.0.0.1:$RP > "$out/floor-$port.log" 2>&1 & ;;
      cohub) COHUB_LOG_FORMAT=json COHUB_LOG_LEVEL=warn "$out/cohub" --addr 127.0.0.1:$port \
               --redis redis://127.0.0.1:$RP --secret bench-overload-secret-0123456789 \
               --public-url http://127.0.0.1:$port --admin-email bench@example.org \
               --admin-password bench-pass-2026 --demo=false > "$out/cohub-$port.log" 2>&1 & ;;
    esac
    PIDS+=($!); NODE_PIDS+=($!)
  done
  for port in "${NODES[@]}"; do
    until ss -Hltn "sport = :$port" | grep -q .; do sleep 0.1; done
  done
}

for t in $ONLY; do
  start "$t"
  if [ "$t" = cohub ]; then
    proto="-proto cohub -cohub-email bench@example.org -cohub-password bench-pass-2026 -cohub-external"; path=/ws
  else
    proto="-proto centrifugo -prefix room-"; path=/connection/websocket
  fi
  # shellcheck disable=SC2086
  "$out/wsbench" latency $proto -a "ws://127.0.0.1:${NODES[0]}$path" -b "ws://127.0.0.1:${NODES[1]}$path" \
    -rooms "$ROOMS" -rate "$RATE" -dur "$DUR" \
    -pids "A=${NODE_PIDS[0]},B=${NODE_PIDS[1]},redis=$(cat "$out/redis.pid")" \
    -json "$out/latency.jsonl" > "$out/latency-$t.txt" 2>&1
  echo "== $t: $RATE msg/s offered over $ROOMS rooms"; grep -v '^$' "$out/latency-$t.txt" | tail -8
  kill "${NODE_PIDS[@]}" 2>/dev/null; wait "${NODE_PIDS[@]}" 2>/dev/null
  redis-cli -p $RP flushall >/dev/null
done
