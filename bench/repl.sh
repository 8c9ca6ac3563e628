#!/usr/bin/env bash
# bench/repl.sh — replication benchmarks (issue 6): tern against Debian's redis-server on this
# machine, alternating servers each round. The primary runs on SERVER_CPU, replicas and
# clients on CLIENT_CPU. Rows:
#   set-R<n>     primary SET throughput (redis-benchmark -P 16) with n replicas attached (0, 1, 10)
#   lag          replication lag: a write acknowledged on the primary until a replica shows it,
#                p50 / p99 over PROBES probes, under a background SET load at -P 1. This is
#                bounded below by one read's round trip to the replica; the row also counts
#                the probes whose first read missed the write, and measures propagation
#                alone: PUBLISH sent to the primary until a subscriber of the replica has it
#   fullsync     time for a new replica to load a dataset of FULLSYNC_KEYS keys of 100 bytes
#                (about 1 GB of used_memory at the default 8M keys) and report the link up
#
# Environment: ROUNDS=3, PROBES=2000, FULLSYNC_KEYS=8000000, SERVER_CPU=0, CLIENT_CPU=1,
# TERN_BIN=..., CARGO_TARGET_DIR, RESULTS_DIR (default bench/results), ONLY='regex'.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-3}
PROBES=${PROBES:-2000}
FULLSYNC_KEYS=${FULLSYNC_KEYS:-8000000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ONLY=${ONLY:-.}
RESULTS=${RESULTS_DIR:-$ROOT/bench/results}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
for tool in redis-server redis-benchmark redis-cli taskset timeout awk python3; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found"
done
python3 -c 'import redis' 2>/dev/null || die "python3 redis module missing (pip install redis)"
tern_bin

WORK=$(mktemp -d /tmp/tern-repl-bench.XXXXXX)
BASE=$((20000 + RANDOM % 20000))
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start KIND PORT CPU [directives...]
start() {
    local which=$1 port=$2 cpu=$3
    shift 3
    local d=$WORK/$which-$port
    mkdir -p "$d"
    local common=(--port "$port" --bind 127.0.0.1 --save "" --dir "$d" --enable-debug-command yes "$@")
    if [[ $which == tern ]]; then
        taskset -c "$cpu" "$TERN_BIN" server "${common[@]}" --server-threads 1 --repl-diskless-sync-delay 0 >"$d/log" 2>&1 &
    else
        taskset -c "$cpu" redis-server "${common[@]}" --repl-diskless-sync-delay 0 --daemonize no >"$d/log" 2>&1 &
    fi
    PIDS+=($!)
    for _ in $(seq 1 3000); do
        [[ $(redis-cli -p "$port" PING 2>/dev/null) == PONG ]] && return 0
        sleep 0.01
    done
    die "$which on $port did not start: $(tail -3 "$d/log")"
}

stop_all() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    rm -rf "${WORK:?}"/*
}

field() { redis-cli -p "$1" INFO "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'; }

wait_synced() { # primary replica
    for _ in $(seq 1 60000); do
        if [[ $(field "$2" replication master_link_status) == up &&
            $(field "$1" replication master_repl_offset) == $(field "$2" replication master_repl_offset) ]]; then
            return 0
        fi
        sleep 0.01
    done
    die "replica $2 did not sync with $1"
}

declare -A SUM
record() { SUM["$1|$2"]="${SUM["$1|$2"]:-} $3"; }
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
order() { if (($1 % 2)); then echo "redis tern"; else echo "tern redis"; fi; }

for round in $(seq 1 "$ROUNDS"); do
    for n in 0 1 10; do
        [[ "set-R$n" =~ $ONLY ]] || continue
        for s in $(order "$round"); do
            start "$s" "$BASE" "$SERVER_CPU"
            for i in $(seq 1 "$n"); do
                start "$s" $((BASE + i)) "$CLIENT_CPU"
                redis-cli -p $((BASE + i)) REPLICAOF 127.0.0.1 "$BASE" >/dev/null
            done
            for i in $(seq 1 "$n"); do wait_synced "$BASE" $((BASE + i)); done
            rps=$(taskset -c "$CLIENT_CPU" timeout 600 redis-benchmark -p "$BASE" -t set -r 1000000 -P 16 -c 50 -n 2000000 --csv 2>/dev/null |
                awk -F, '/"SET"/ { gsub(/"/, "", $2); print $2 }')
            for i in $(seq 1 "$n"); do wait_synced "$BASE" $((BASE + i)); done
            stop_all
            record "set-R$n" "$s" "$rps"
            log "round $round $s SET -P16 with $n replicas: $rps ops/s"
        done
    done
    if [[ lag =~ $ONLY ]]; then
        for s in $(order "$round"); do
            start "$s" "$BASE" "$SERVER_CPU"
            start "$s" $((BASE + 1)) "$CLIENT_CPU"
            redis-cli -p $((BASE + 1)) REPLICAOF 127.0.0.1 "$BASE" >/dev/null
            wait_synced "$BASE" $((BASE + 1))
            taskset -c "$CLIENT_CPU" timeout 300 redis-benchmark -p "$BASE" -t set -r 100000 -P 1 -c 4 -n 100000000 -q >/dev/null 2>&1 &
            load=$!
            out=$(taskset -c "$CLIENT_CPU" python3 - "$BASE" $((BASE + 1)) "$PROBES" <<'PY'
import sys, time, redis
p = redis.Redis(port=int(sys.argv[1])); r = redis.Redis(port=int(sys.argv[2]))
sub = r.pubsub(); sub.subscribe("lag")
while sub.get_message(timeout=1) is None:
    pass  # the subscribe confirmation
lags, prop, reread = [], [], 0
deadline = time.time() + 120
for i in range(int(sys.argv[3])):
    if time.time() > deadline:
        break
    key = f"lag:{i}"
    p.set(key, i)
    t0 = time.perf_counter()
    reads = 0
    while r.get(key) is None:
        reads += 1
        if time.perf_counter() - t0 > 10:
            raise SystemExit("a write never reached the replica")
    reread += reads > 0
    lags.append((time.perf_counter() - t0) * 1e6)
    # Propagation alone, not bounded below by a read's round trip: PUBLISH sent to the
    # primary until a subscriber of the replica has the message.
    t0 = time.perf_counter()
    p.publish("lag", i)
    while True:
        m = sub.get_message(timeout=10)
        if m is None:
            raise SystemExit("a message never reached the replica's subscriber")
        if m["type"] == "message":
            break
    prop.append((time.perf_counter() - t0) * 1e6)
lags.sort(); prop.sort()
q = lambda v, f: f"{v[min(len(v) - 1, int(len(v) * f))]:.0f}"
print(q(lags, .5), q(lags, .99), q(prop, .5), q(prop, .99), reread)
PY
)
            kill "$load" 2>/dev/null || true
            wait "$load" 2>/dev/null || true
            stop_all
            read -r l50 l99 p50 p99 reread <<<"$out"
            record lag50 "$s" "$l50"
            record lag99 "$s" "$l99"
            record prop50 "$s" "$p50"
            record prop99 "$s" "$p99"
            record reread "$s" "$reread"
            log "round $round $s replication lag p50/p99 (us): $l50 $l99; PUBLISH propagation p50/p99: $p50 $p99; probes needing a second read: $reread"
        done
    fi
    if [[ fullsync =~ $ONLY ]]; then
        for s in $(order "$round"); do
            start "$s" "$BASE" "$SERVER_CPU"
            redis-cli -p "$BASE" DEBUG POPULATE "$FULLSYNC_KEYS" key 100 >/dev/null
            used=$(field "$BASE" memory used_memory)
            start "$s" $((BASE + 1)) "$CLIENT_CPU"
            t0=$(date +%s.%N)
            redis-cli -p $((BASE + 1)) REPLICAOF 127.0.0.1 "$BASE" >/dev/null
            wait_synced "$BASE" $((BASE + 1))
            t1=$(date +%s.%N)
            [[ $(redis-cli -p $((BASE + 1)) DBSIZE) == "$FULLSYNC_KEYS" ]] || die "$s replica has the wrong key count"
            stop_all
            secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
            record fullsync "$s" "$secs"
            record used "$s" "$used"
            log "round $round $s full sync of $FULLSYNC_KEYS keys (used_memory $used): ${secs}s"
        done
    fi
done

mkdir -p "$RESULTS"
out=$RESULTS/latest-repl.md
{
    echo "# Replication benchmarks ($(date -u +%Y-%m-%d), $(git rev-parse --short HEAD), $ROUNDS rounds, medians)"
    echo
    echo "| row | tern | redis | tern/redis (higher is better for tern) |"
    echo "| --- | ---: | ---: | ---: |"
    for n in 0 1 10; do
        t=$(echo "${SUM["set-R$n|tern"]:-}" | median); r=$(echo "${SUM["set-R$n|redis"]:-}" | median)
        [[ $t == - ]] || echo "| SET -P16 ops/s, $n replicas | $t | $r | $(awk -v t="$t" -v r="$r" 'BEGIN { printf "%.2f", t / r }') |"
    done
    for q in 50 99; do
        t=$(echo "${SUM["lag$q|tern"]:-}" | median); r=$(echo "${SUM["lag$q|redis"]:-}" | median)
        [[ $t == - ]] || echo "| replication lag p$q (us) | $t | $r | $(awk -v t="$t" -v r="$r" 'BEGIN { printf "%.2f", r / t }') |"
    done
    for q in 50 99; do
        t=$(echo "${SUM["prop$q|tern"]:-}" | median); r=$(echo "${SUM["prop$q|redis"]:-}" | median)
        [[ $t == - ]] || echo "| PUBLISH to the primary until a replica's subscriber has it, p$q (us) | $t | $r | $(awk -v t="$t" -v r="$r" 'BEGIN { printf "%.2f", r / t }') |"
    done
    t=$(echo "${SUM["reread|tern"]:-}" | median); r=$(echo "${SUM["reread|redis"]:-}" | median)
    [[ $t == - ]] || echo "| lag probes whose first replica read missed the write (of $PROBES) | $t | $r | |"
    t=$(echo "${SUM["fullsync|tern"]:-}" | median); r=$(echo "${SUM["fullsync|redis"]:-}" | median)
    if [[ $t != - ]]; then
        echo "| full sync of $FULLSYNC_KEYS keys (s) | $t | $r | $(awk -v t="$t" -v r="$r" 'BEGIN { printf "%.2f", r / t }') |"
        echo "| primary used_memory for that dataset (bytes) | $(echo "${SUM["used|tern"]}" | median) | $(echo "${SUM["used|redis"]}" | median) | |"
    fi
} >"$out"
cat "$out"
