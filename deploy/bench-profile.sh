#!/usr/bin/env bash
# Where a node's time goes: two Cohub nodes on one private redis-server, the
# wsbench latency workload of ../shared/bench/sidebyside.sh at one rate, a
# 10 s CPU profile of each node and Redis's command statistics taken in its
# middle, and each node's group-commit batch sizes (cohub_commit_pipeline_scripts)
# at its end.
#
# Needs: go, redis-server, redis-cli, curl. Loopback ports 8101-8102,
# 8301-8302 and 16391; every process it starts is stopped at the end.
# Usage: deploy/bench-profile.sh COHUB_CHECKOUT OUTDIR [RATE] [BENCH_DIR]
#   BENCH_DIR (or env BENCH): wsbench/ sources, default ../shared/bench
#   beside the checkout.   env: DUR=25s
# Then: go tool pprof -top OUTDIR/cohub OUTDIR/a.pprof
set -u
co=$(readlink -f "${1:?usage: bench-profile.sh COHUB_CHECKOUT OUTDIR [RATE] [BENCH_DIR]}")
out=$(readlink -f "${2:?usage: bench-profile.sh COHUB_CHECKOUT OUTDIR [RATE] [BENCH_DIR]}")
rate=${3:-5000}; bench=$(readlink -f "${4:-${BENCH:-$co/../shared/bench}}"); dur=${DUR:-25s}
mkdir -p "$out"; ulimit -n "$(ulimit -Hn)"
(cd "$bench/wsbench" && go build -o "$out/wsbench" .) || exit 1
(cd "$co" && go build -o "$out/cohub" ./cmd/cohub) || exit 1
RP=16391
redis-server --port $RP --save '' --appendonly no --daemonize yes --logfile "$out/redis.log" --pidfile "$out/redis.pid"
sleep 0.5; RPID=$(cat "$out/redis.pid")
P=()
for i in 1 2; do
  COHUB_WS_URL_CREDENTIALS=true COHUB_LOG_FORMAT=json COHUB_LOG_LEVEL=warn "$out/cohub" --addr 127.0.0.1:810$i \
    --redis redis://127.0.0.1:$RP --secret bench-profile-secret-0123456789 --public-url http://127.0.0.1:810$i \
    --metrics-addr 127.0.0.1:830$i --admin-email bench@example.org --admin-password bench-pass-2026 --demo=false \
    > "$out/cohub-810$i.log" 2>&1 &
  P+=($!)
done
sleep 3
"$out/wsbench" latency -proto cohub -cohub-email bench@example.org -cohub-password bench-pass-2026 -cohub-external \
  -a ws://127.0.0.1:8101/ws -b ws://127.0.0.1:8102/ws -rooms 1000 -rate "$rate" -dur "$dur" \
  -pids "A=${P[0]},B=${P[1]},redis=$RPID" > "$out/latency.txt" 2>&1 &
W=$!
sleep 12
redis-cli -p $RP config resetstat > /dev/null
curl -s -o "$out/a.pprof" "http://127.0.0.1:8301/debug/pprof/profile?seconds=10" & C1=$!
curl -s -o "$out/b.pprof" "http://127.0.0.1:8302/debug/pprof/profile?seconds=10" & C2=$!
wait $C1 $C2
redis-cli -p $RP info commandstats > "$out/commandstats.txt"
wait $W
for i in 1 2; do curl -s http://127.0.0.1:830$i/metrics | grep "^cohub_commit_pipeline_scripts" > "$out/batch-$i.txt"; done
tail -8 "$out/latency.txt"
for p in "${P[@]}"; do kill "$p"; done; wait 2>/dev/null
redis-cli -p $RP shutdown nosave > /dev/null 2>&1
