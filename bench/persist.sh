#!/usr/bin/env bash
# bench/persist.sh — persistence benchmarks (issue 5): tern against Debian's redis-server on
# this machine, each server pinned to SERVER_CPU, clients on CLIENT_CPU, alternating servers
# every round. Rows:
#   save-<N>    SAVE of N keys (DEBUG POPULATE N), seconds, MB/s and keys/s of the file written
#   load-<N>    start-up on that file until PING answers, seconds, keys/s
#   bgsave-cow  BGSAVE of 1M keys of 100 bytes while redis-benchmark SETs random keys of the same
#               keyspace at -P 16: the memory the snapshot costs (INFO rdb_last_cow_size: Redis's
#               fork copy-on-write, tern's records serialized ahead of its walker), and the SETs
#               served during the save
#   aof-set-P16 / aof-set-P1   SET throughput with appendonly yes, appendfsync everysec
#
# Environment: ROUNDS=3, KEYS="1000000 10000000", SERVER_CPU=0, CLIENT_CPU=1, TERN_BIN=...,
# CARGO_TARGET_DIR, RESULTS_DIR (default bench/results), ONLY='regex' (rows to run).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-3}
KEYS=${KEYS:-"1000000 10000000"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ONLY=${ONLY:-.}
RESULTS=${RESULTS_DIR:-$ROOT/bench/results}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

for tool in redis-server redis-benchmark redis-cli taskset timeout awk; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (apt-get install redis-server redis-tools)"
done
tern_bin

WORK=$(mktemp -d /tmp/tern-persist-bench.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
PID=
cleanup() {
    [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
cli() { timeout 600 redis-cli -p "$PORT" "$@"; }
info_field() { cli INFO persistence | tr -d '\r' | awk -F: -v f="$1" '$1 == f { print $2 }'; }

# start SERVER DIR [directives...]: starts tern or redis on PORT with its files in DIR.
start() {
    local which=$1 dir=$2
    shift 2
    mkdir -p "$dir"
    local common=(--port "$PORT" --bind 127.0.0.1 --save "" --dir "$dir" --enable-debug-command yes "$@")
    if [[ $which == tern ]]; then
        taskset -c "$SERVER_CPU" "$TERN_BIN" server "${common[@]}" >"$dir/log" 2>&1 &
    else
        taskset -c "$SERVER_CPU" redis-server "${common[@]}" --appendfsync everysec --daemonize no >"$dir/log" 2>&1 &
    fi
    PID=$!
    for _ in $(seq 1 6000); do
        if [[ $(redis-cli -p "$PORT" PING 2>/dev/null) == PONG ]]; then return 0; fi
        kill -0 "$PID" 2>/dev/null || die "$which exited at start: $(tail -5 "$dir/log")"
        sleep 0.01
    done
    die "$which did not answer PING"
}

stop() {
    redis-cli -p "$PORT" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    for _ in $(seq 1 500); do kill -0 "$PID" 2>/dev/null || break; sleep 0.01; done
    kill -9 "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
}

declare -A SUM
record() { # row server value
    SUM["$1|$2"]="${SUM["$1|$2"]:-} $3"
}
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

order() { # round -> the two servers, alternating who goes first
    if (($1 % 2)); then echo "redis tern"; else echo "tern redis"; fi
}

for round in $(seq 1 "$ROUNDS"); do
    for n in $KEYS; do
        [[ "save-$n load-$n" =~ $ONLY ]] || continue
        for s in $(order "$round"); do
            d=$WORK/$s-$n
            rm -rf "$d"
            start "$s" "$d"
            cli DEBUG POPULATE "$n" >/dev/null
            t0=$(now)
            cli SAVE >/dev/null
            t1=$(now)
            bytes=$(stat -c %s "$d/dump.rdb")
            stop
            t2=$(now)
            start "$s" "$d"
            t3=$(now)
            [[ $(cli DBSIZE) == "$n" ]] || die "$s loaded $(cli DBSIZE) keys, expected $n"
            stop
            save=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
            load=$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')
            record "save-$n" "$s" "$save"
            record "load-$n" "$s" "$load"
            record "bytes-$n" "$s" "$bytes"
            log "round $round $s $n keys: SAVE ${save}s ($bytes bytes), load ${load}s"
        done
    done
    if [[ bgsave-cow =~ $ONLY ]]; then
        for s in $(order "$round"); do
            d=$WORK/$s-cow
            rm -rf "$d"
            start "$s" "$d"
            cli DEBUG POPULATE 1000000 key 100 >/dev/null
            before=$(cli INFO stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print $2 }')
            taskset -c "$CLIENT_CPU" timeout 120 redis-benchmark -p "$PORT" -t set -r 1000000 -d 100 -P 16 -c 8 -n 100000000 -q >/dev/null 2>&1 &
            bench=$!
            sleep 1
            t0=$(now)
            cli BGSAVE >/dev/null
            while [[ $(info_field rdb_bgsave_in_progress) != 0 ]]; do sleep 0.02; done
            t1=$(now)
            kill "$bench" 2>/dev/null || true
            wait "$bench" 2>/dev/null || true
            after=$(cli INFO stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print $2 }')
            cow=$(info_field rdb_last_cow_size)
            [[ $(info_field rdb_last_bgsave_status) == ok ]] || die "$s: BGSAVE failed"
            stop
            secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
            record cow "$s" "$cow"
            record cow-secs "$s" "$secs"
            log "round $round $s BGSAVE under SET load: ${secs}s, rdb_last_cow_size $cow, commands during run $((after - before))"
        done
    fi
    for p in 16 1; do
        [[ "aof-set-P$p" =~ $ONLY ]] || continue
        for s in $(order "$round"); do
            d=$WORK/$s-aof
            rm -rf "$d"
            start "$s" "$d" --appendonly yes --appendfsync everysec
            n=$((p == 16 ? 2000000 : 300000))
            rps=$(taskset -c "$CLIENT_CPU" timeout 600 redis-benchmark -p "$PORT" -t set -r 1000000 -P "$p" -c 50 -n "$n" --csv 2>/dev/null |
                awk -F, '/"SET"/ { gsub(/"/, "", $2); print $2 }')
            stop
            record "aof-set-P$p" "$s" "$rps"
            log "round $round $s SET -P$p appendonly everysec: $rps ops/s"
        done
    done
done

mkdir -p "$RESULTS"
out=$RESULTS/latest-persist.md
{
    echo "# Persistence benchmarks ($(date -u +%Y-%m-%d), $(git rev-parse --short HEAD), $ROUNDS rounds, medians)"
    echo
    echo "| row | tern | redis | tern/redis (speed) |"
    echo "| --- | ---: | ---: | ---: |"
    for n in $KEYS; do
        for kind in save load; do
            t=$(echo "${SUM["$kind-$n|tern"]:-}" | median)
            r=$(echo "${SUM["$kind-$n|redis"]:-}" | median)
            [[ $t == - ]] && continue
            tb=$(echo "${SUM["bytes-$n|tern"]}" | median)
            rb=$(echo "${SUM["bytes-$n|redis"]}" | median)
            echo "| $kind $n keys (s; MB/s; keys/s) | $t; $(awk -v b="$tb" -v s="$t" 'BEGIN { printf "%.0f", b / s / 1e6 }'); $(awk -v n="$n" -v s="$t" 'BEGIN { printf "%.0f", n / s }') | $r; $(awk -v b="$rb" -v s="$r" 'BEGIN { printf "%.0f", b / s / 1e6 }'); $(awk -v n="$n" -v s="$r" 'BEGIN { printf "%.0f", n / s }') | $(awk -v t="$t" -v r="$r" 'BEGIN { printf "%.2f", r / t }') |"
        done
        t=$(echo "${SUM["bytes-$n|tern"]:-}" | median)
        r=$(echo "${SUM["bytes-$n|redis"]:-}" | median)
        [[ $t != - ]] && echo "| file size $n keys (bytes) | $t | $r | |"
    done
    t=$(echo "${SUM["cow|tern"]:-}" | median)
    r=$(echo "${SUM["cow|redis"]:-}" | median)
    if [[ $t != - ]]; then
        echo "| BGSAVE 1M keys under SET -P16: snapshot memory (rdb_last_cow_size, bytes) | $t | $r | $(awk -v t="$t" -v r="$r" 'BEGIN { if (t > 0) printf "%.2f (redis/tern)", r / t; else print "tern 0" }') |"
        echo "| BGSAVE 1M keys under SET -P16: duration (s) | $(echo "${SUM["cow-secs|tern"]}" | median) | $(echo "${SUM["cow-secs|redis"]}" | median) | |"
    fi
    for p in 16 1; do
        t=$(echo "${SUM["aof-set-P$p|tern"]:-}" | median)
        r=$(echo "${SUM["aof-set-P$p|redis"]:-}" | median)
        [[ $t == - ]] && continue
        echo "| SET -P$p, appendonly yes everysec (ops/s) | $t | $r | $(awk -v t="$t" -v r="$r" 'BEGIN { printf "%.2f", t / r }') |"
    done
} >"$out"
cat "$out"
