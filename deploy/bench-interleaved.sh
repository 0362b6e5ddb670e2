#!/usr/bin/env bash
# The side-by-side run, interleaved: ../shared/bench/sidebyside.sh runs the
# floor at every rate and then Cohub, minutes apart, so on a shared machine
# a slow spell can land on one server only. This runs the floor and Cohub
# back to back at each rate, in turn first, for several rounds, and prints
# each round's Cohub ÷ floor ratios, so that a goal is read from rounds,
# not from one run.
#
# Needs what sidebyside.sh needs (go, redis-server). Loopback ports as
# sidebyside.sh's; every process it starts is stopped.
# Usage: deploy/bench-interleaved.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]
#   BENCH_DIR (or env BENCH): the bench, default ../shared/bench beside the checkout.
#   env: ROUNDS=3 RATES="1000 5000" IDLE=0 (idle connections, one more run
#   of each server a round) DUR=25s
set -u
co=$(readlink -f "${1:?usage: bench-interleaved.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]}")
out=$(readlink -f "${2:?usage: bench-interleaved.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]}")
bench=$(readlink -f "${3:-${BENCH:-$co/../shared/bench}}")
ROUNDS=${ROUNDS:-3}; RATES=${RATES:-"1000 5000"}; IDLE=${IDLE:-0}
mkdir -p "$out"
# wsbench opens Cohub's sockets with ?access_token= and ?link=.
export COHUB_WS_URL_CREDENTIALS=true

# one NAME RATE IDLE DIR: one server, one rate (or idle only), into DIR.
one() {
  RATES=$2 IDLE=$3 ONLY=$1 "$bench/sidebyside.sh" "$co" "$4" > "$4.log" 2>&1 ||
    { echo "sidebyside.sh failed: $4.log" >&2; exit 1; }
}

# field FILE KEY: a key=value figure of wsbench's report ("p99", "puberr":
# sends the server refused).
field() { grep -o " $2=[0-9.]*" "$1" | head -1 | cut -d= -f2; }
# cpu FILE WHO: a process's CPU% (redis), or the nodes' mean (node).
cpu() {
  awk -v w="$2" '{ sub("%", "", $3) } w == "node" && ($1 == "A" || $1 == "B") { s += $3; n++ }
    $1 == w { print $3 } END { if (w == "node") print s / n }' "$1"
}
# turns ROUND: the servers in the order they run this round.
turns() { if [ $(($1 % 2)) = 0 ]; then echo cohub floor; else echo floor cohub; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

latency() { # round rate
  local f c
  for n in $(turns "$1"); do one "$n" "$2" 0 "$out/$1-$2-$n"; done
  f=$out/$1-$2-floor/latency-floor-$2.txt c=$out/$1-$2-cohub/latency-cohub-$2.txt
  printf '%s\t%s\tp99 %s/%s ms (%s×)\tp99.9 %s×\tnode CPU %s×\tRedis %s×\tCohub refused %s\n' "$1" "$2" \
    "$(field "$c" p99)" "$(field "$f" p99)" "$(ratio "$(field "$c" p99)" "$(field "$f" p99)")" \
    "$(ratio "$(field "$c" p99.9)" "$(field "$f" p99.9)")" \
    "$(ratio "$(cpu "$c" node)" "$(cpu "$f" node)")" "$(ratio "$(cpu "$c" redis)" "$(cpu "$f" redis)")" "$(field "$c" puberr)"
}

idle() { # round
  local kb=() pc=()
  for n in $(turns "$1"); do one "$n" "" "$IDLE" "$out/$1-idle-$n"; done
  for n in floor cohub; do
    kb+=("$(grep -o '=> [0-9.]* KB/conn' "$out/$1-idle-$n/idle-$n.txt" | cut -d' ' -f2)")
    pc+=("$(grep -o 'server idle cpu=[0-9.]*' "$out/$1-idle-$n/idle-$n.txt" | cut -d= -f2)")
  done
  printf '%s\tidle %s\tRSS %s/%s KB a connection (%s×)\tCPU %s/%s%% (%s×)\n' "$1" "$IDLE" \
    "${kb[1]}" "${kb[0]}" "$(ratio "${kb[1]}" "${kb[0]}")" "${pc[1]}" "${pc[0]}" "$(ratio "${pc[1]}" "${pc[0]}")"
}

for round in $(seq "$ROUNDS"); do
  for r in $RATES; do latency "$round" "$r"; done
  [ "$IDLE" -gt 0 ] && idle "$round"
done | tee "$out/summary.tsv"
