#!/usr/bin/env bash
# Three nodes behind nginx, one run: the same wsbench latency workload against
#   floor        the bare relay floor, 3 nodes on one private redis-server;
#   cohub-redis  Cohub, 3 nodes on one private redis-server (--redis);
#   cohub-cluster Cohub, 3 nodes on a private Redis Cluster, 3 masters and
#                3 replicas (--redis-cluster).
# Every target stands behind Debian's nginx configured from deploy/nginx.conf
# itself: only its upstream servers and listen address are rewritten, with the
# substitutions internal/lbconf.Nginx makes for deploy/'s tests and
# cohub-soak --nginx (here with sed, the script being shell). The client dials
# nginx for both sides of every room (-a and -b are the same URL), so nginx,
# not the client, picks each connection's node: deploy/nginx.conf names no
# balancing method, so that is nginx's default round robin, kept per worker
# process. A room's two clients therefore land on one node or on two, as the
# order of arrival falls (were it random, about two rooms in three would cross
# nodes; which ones did is not recorded), and the client's "cross-node"
# latency here is "from the other client of the room", through nginx,
# whichever node(s) carried it. conns.txt says how many WebSockets each node got.
#
# Needs: go, nginx, redis-server, redis-cli, jq, ss. Loopback and private ports
# only (18480-18496); every process it starts is stopped on exit. Exits
# non-zero when a run's client failed (its log says why).
# Usage: deploy/bench-nodes.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]
#   BENCH_DIR (or env BENCH): wsbench/ and floor/ sources, default ../shared/bench
#   beside the checkout; they are built from there, this repository does not
#   carry them.
#   env: RATES="1000 3000" DUR=25s ONLY="floor cohub-redis cohub-cluster"
set -u

co=$(readlink -f "${1:?usage: bench-nodes.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]}")
out=$(readlink -f "${2:?usage: bench-nodes.sh COHUB_CHECKOUT OUTDIR [BENCH_DIR]}")
bench=$(readlink -f "${3:-${BENCH:-$co/../shared/bench}}")
RATES=${RATES:-"1000 3000"}; DUR=${DUR:-25s}; ONLY=${ONLY:-"floor cohub-redis cohub-cluster"}
mkdir -p "$out"

FRONT=18480                       # nginx
NODES=(18481 18482 18483)         # the three nodes
RP=18490                          # the one redis-server
CLUSTER=(18491 18492 18493 18494 18495 18496)
SECRET=bench-nodes-secret-0123456789
EMAIL=bench@example.org PASSWORD=bench-pass-2026

# shellcheck source=deploy/benchlib.sh
. "$(dirname "$(readlink -f "$0")")/benchlib.sh"
checkPorts $FRONT "${NODES[@]}" $RP "${CLUSTER[@]}"
buildBench

# ---------------------------------------------------------------- redis

REDIS_PIDS=""  # -pids entries for the Redis processes of the current target
FLUSH=()       # the ports to empty between rates (the masters, for the cluster)

startRedis() {
  redis redis $RP
  REDIS_PIDS="redis=${PIDS[-1]}"; FLUSH=($RP)
}

# startCluster: six cluster-enabled servers made into 3 masters with one
# replica each by redis-cli, then the masters' and replicas' pids by role.
startCluster() {
  local port addrs=()
  for port in "${CLUSTER[@]}"; do
    redis "cluster-$port" "$port" --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
      --cluster-node-timeout 5000
    addrs+=("127.0.0.1:$port")
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes > "$out/cluster-create.log" 2>&1 || {
    cat "$out/cluster-create.log" >&2; exit 1; }
  for port in "${CLUSTER[@]}"; do
    for _ in $(seq 300); do
      redis-cli -p "$port" cluster info | grep -q '^cluster_state:ok' && break
      sleep 0.1
    done
  done
  local m=0 r=0 pid
  REDIS_PIDS=""; FLUSH=()
  for port in "${CLUSTER[@]}"; do
    pid=$(redis-cli -p "$port" info server | tr -d '\r' | sed -n 's/^process_id://p')
    if redis-cli -p "$port" role | head -1 | grep -q master; then
      m=$((m + 1)); REDIS_PIDS+="${REDIS_PIDS:+,}redis-m$m=$pid"; FLUSH+=($port)
    else
      r=$((r + 1)); REDIS_PIDS+="${REDIS_PIDS:+,}redis-r$r=$pid"
    fi
  done
}

# ---------------------------------------------------------------- nginx

# nginxConf: deploy/nginx.conf with the three node ports and the front port,
# as internal/lbconf.Nginx does: `server cohubN:8080` -> the Nth node, `listen 80;` ->
# loopback, error logs under the folder $1. It stops if the file no longer has exactly what is rewritten.
nginxConf() {
  local src="$co/deploy/nginx.conf" conf i
  [ "$(grep -cE '^\s*server\s+cohub[0-9]+:8080\b' "$src")" = ${#NODES[@]} ] || {
    echo "deploy/nginx.conf does not name ${#NODES[@]} upstream nodes" >&2; exit 1; }
  grep -qE '^\s*listen\s+80;' "$src" || { echo "deploy/nginx.conf has no 'listen 80;'" >&2; exit 1; }
  conf=$(cat "$src")
  for i in 1 2 3; do
    conf=$(sed -E "s/^(\s*server\s+)cohub$i:8080\b/\\1127.0.0.1:${NODES[$((i - 1))]}/" <<<"$conf")
  done
  conf=$(sed -E "s#^(\s*error_log\s+)/var/log/nginx/#\\1$1/#" <<<"$conf")
  sed -E "s/^(\s*listen\s+)80;/\\1127.0.0.1:$FRONT;/" <<<"$conf"
}

# startNginx: nginx in the foreground with a main configuration of ours that
# includes the rendered file, every path under OUTDIR. Workers as Debian's
# default (one per core); more connections per worker than Debian's 768,
# as the run holds 2,000 WebSockets, each two descriptors in nginx.
NGINX_PIDS=""
startNginx() {
  local dir="$out/nginx" user="" master i=0 w
  mkdir -p "$dir"
  nginxConf "$dir" > "$dir/cohub.conf"
  [ "$(id -u)" = 0 ] && user="user root;"  # its workers write under OUTDIR
  cat > "$dir/nginx.conf" <<CONF
$user
daemon off;
worker_processes auto;
worker_rlimit_nofile 16384;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/cohub.conf;
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -t > "$dir/test.log" 2>&1 || { cat "$dir/test.log" >&2; exit 1; }
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  master=$!
  PIDS+=($master); RUN+=($master)
  awaitHTTP "http://127.0.0.1:$FRONT/" || exit 1
  # wsbench samples each pid under its own name: the master and every worker.
  NGINX_PIDS="nginx=$master"
  for w in $(ps -o pid= --ppid "$master"); do
    i=$((i + 1)); NGINX_PIDS+=",nginx-w$i=$w"
  done
}

# ---------------------------------------------------------------- nodes

NODE_PIDS=""; RUN=()  # RUN: the nodes and nginx of one rate, stopped after it
startNodes() { # target
  local i port backend=(--redis "redis://127.0.0.1:$RP")
  [ "$1" = cohub-cluster ] && backend=(--redis-cluster "$(IFS=,; echo "${CLUSTER[*]/#/127.0.0.1:}")")
  NODE_PIDS=""; RUN=()
  for i in 0 1 2; do
    port=${NODES[$i]}
    # nginx is the only client the nodes see: trust its X-Forwarded-For.
    case $1 in
      floor) startNode floor "$port" "$out/$1-node$((i + 1)).log" $RP ;;
      *) startNode "$1" "$port" "$out/$1-node$((i + 1)).log" "${backend[@]}" \
           --public-url "http://127.0.0.1:$FRONT" --trusted-proxies 127.0.0.1/32 ;;
    esac
    RUN+=($NODE_PID)
    NODE_PIDS+="${NODE_PIDS:+,}node$((i + 1))=$NODE_PID"
  done
  for port in "${NODES[@]}"; do awaitNode "$1" "$port"; done
}

# stopRun: the nodes and nginx of one rate; then an empty Redis for the next.
stopRun() {
  local p
  for p in "${RUN[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${RUN[@]}"; do wait "$p" 2>/dev/null; done
  for p in "${FLUSH[@]}"; do redis-cli -p "$p" flushall > /dev/null; done
}

# countConns TARGET RATE: how many of the client's 2,000 WebSockets nginx
# gave each node (established connections to the node's port), read once
# they are all up, or after two minutes whatever there is.
countConns() {
  local port n total line
  for _ in $(seq 1200); do
    total=0 line=""
    for port in "${NODES[@]}"; do
      n=$(ss -Htn state established "sport = :$port" | wc -l)
      total=$((total + n)) line+=" $n"
    done
    [ "$total" -ge 2000 ] && break
    sleep 0.1
  done
  echo "$1 $2 connections per node:$line" >> "$out/conns.txt"
}

# ---------------------------------------------------------------- runs

: > "$out/conns.txt"
for t in $ONLY; do
  start=${#PIDS[@]}
  case $t in
    floor | cohub-redis) startRedis ;;
    cohub-cluster) startCluster ;;
    *) echo "unknown target $t" >&2; exit 1 ;;
  esac
  for r in $RATES; do
    startNodes "$t"
    startNginx
    countConns "$t" "$r" &
    counter=$!
    "$out/wsbench" latency $(wsArgs "$t") -a "ws://127.0.0.1:$FRONT$(wsPath "$t")" -b "ws://127.0.0.1:$FRONT$(wsPath "$t")" -rooms 1000 -rate "$r" -dur "$DUR" \
      -pids "$NODE_PIDS,$NGINX_PIDS,$REDIS_PIDS" -json "$out/latency-$t-$r.json" > "$out/latency-$t-$r.txt" 2>&1 || wsbenchFailed "$out/latency-$t-$r.txt"
    wait "$counter"; counter=""
    echo "== $t $r (nginx round robin picks each connection's node)"; tail -n 20 "$out/latency-$t-$r.txt"
    grep "^$t $r " "$out/conns.txt"
    stopRun
  done
  # This target's Redis servers: stop them before the next target starts.
  for p in "${PIDS[@]:$start}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]:$start}"; do wait "$p" 2>/dev/null; done
  PIDS=("${PIDS[@]:0:$start}")
done

# ---------------------------------------------------------------- summary

# One line per run: latency in ms, CPU in % of one core (100 = a core); nginx is master + workers, Redis the
# one server or the cluster's masters (its replicas apart).
{
  echo "target rate p50 p99 p99.9 sent received lost puberr gaps dups reordered node1 node2 node3 nginx redis redis-replicas wsbench"
  for t in $ONLY; do for r in $RATES; do
    f="$out/latency-$t-$r.json"; [ -s "$f" ] || continue
    jq -r --arg t "$t" '
      def cpu(p): [.Procs[] | select(.Name | test(p)) | .CPUPct] | if length == 0 then "-" else add * 10 | round / 10 end;
      [$t, .RateTarget, .P50ms, .P99ms, .P999ms, .Sent, .Received, .Lost, .PubErrors,
       (.Seq.Gaps // "-"), (.Seq.Dups // "-"), (.Seq.Reordered // "-"),
       cpu("^node1$"), cpu("^node2$"), cpu("^node3$"), cpu("^nginx"), cpu("^redis(-m[0-9]+)?$"),
       cpu("^redis-r"), cpu("^wsbench$")] | map(tostring) | join(" ")' "$f"
  done; done
} | column -t | tee "$out/summary.txt"
exit "$FAILED"
