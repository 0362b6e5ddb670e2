#!/usr/bin/env bash
# Overload, side by side: the floor, then Cohub, two nodes each on one private
# redis-server, driven by the same wsbench latency workload as
# ../shared/bench/sidebyside.sh, but over more rooms, so that the offered rate
# passes what the machine carries while each sender stays within Cohub's
# per-sender rate (10 messages a second: with 1,000 rooms, offers above
# 10,000 msg/s are refused as rate_limited, which is not overload).
#
# Needs: go, redis-server, redis-cli, curl, ss. Loopback ports 18520-18530 only;
# every process it starts is stopped on exit. Exits non-zero when a run's
# client failed (its log says why).
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
SECRET=bench-overload-secret-0123456789
EMAIL=bench@example.org PASSWORD=bench-pass-2026

# shellcheck source=deploy/benchlib.sh
. "$(dirname "$(readlink -f "$0")")/benchlib.sh"
checkPorts "${NODES[@]}" $RP
buildBench
redis redis $RP || exit 1
REDIS_PID=${PIDS[-1]}

for t in $ONLY; do
  NODE_PIDS=()
  for port in "${NODES[@]}"; do
    case $t in
      floor) startNode floor "$port" "$out/floor-$port.log" $RP ;;
      *) startNode "$t" "$port" "$out/$t-$port.log" --redis "redis://127.0.0.1:$RP" --public-url "http://127.0.0.1:$port" ;;
    esac
    NODE_PIDS+=($NODE_PID)
  done
  for port in "${NODES[@]}"; do awaitNode "$t" "$port"; done
  # shellcheck disable=SC2046
  "$out/wsbench" latency $(wsArgs "$t") -a "ws://127.0.0.1:${NODES[0]}$(wsPath "$t")" \
    -b "ws://127.0.0.1:${NODES[1]}$(wsPath "$t")" -rooms "$ROOMS" -rate "$RATE" -dur "$DUR" \
    -pids "A=${NODE_PIDS[0]},B=${NODE_PIDS[1]},redis=$REDIS_PID" \
    -json "$out/latency.jsonl" > "$out/latency-$t.txt" 2>&1 || wsbenchFailed "$out/latency-$t.txt"
  echo "== $t: $RATE msg/s offered over $ROOMS rooms"; grep -v '^$' "$out/latency-$t.txt" | tail -8
  kill "${NODE_PIDS[@]}" 2>/dev/null; wait "${NODE_PIDS[@]}" 2>/dev/null
  redis-cli -p $RP flushall >/dev/null
done
exit "$FAILED"
