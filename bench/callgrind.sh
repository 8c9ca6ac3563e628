#!/usr/bin/env bash
# bench/callgrind.sh — instructions per operation for tern and Debian's redis-server, counted by
# valgrind's callgrind (deterministic, unlike wall-clock figures on a shared VM).
#
# For each server, two runs under `valgrind --tool=callgrind`:
#   idle: start, PING, SHUTDOWN                 -> startup + shutdown instructions
#   load: start, PING, redis-benchmark, SHUTDOWN
# instructions/op = (Ir(load) - Ir(idle)) / operations, where operations = CG_N * number of
# tests in CG_TESTS. Startup instructions are shown separately.
#
# Tests that need data first (lpop, rpop pop what lpush/rpush pushed; zpopmin pops what zadd
# added) take CG_PREFILL, redis-benchmark arguments run before the measured load in both runs:
# then the idle run is start, PING, prefill, SHUTDOWN and the load run start, PING, prefill,
# load, SHUTDOWN, so the difference is the load alone. E.g.
#   CG_TESTS=zpopmin CG_PREFILL='-t zadd -n 20000' CG_P=1 CG_C=50 CG_R=1000000 bench/callgrind.sh
#
# A command redis-benchmark has no test for is given whole in CG_CMD (it replaces CG_TESTS),
# with CG_SETUP, a redis-cli command run in both runs before the load, e.g. for EVALSHA:
#   CG_SETUP="SCRIPT LOAD \"return redis.call('incr',KEYS[1])\"" \
#   CG_CMD="EVALSHA $(printf '%s' "return redis.call('incr',KEYS[1])" | sha1sum | cut -c1-40) 1 key:__rand_int__" \
#   bench/callgrind.sh
#
# With CG_TLS=1 both servers serve only a TLS port (the same test certificates from
# scripts/gen-test-certs.sh, tls-auth-clients yes) and redis-cli and redis-benchmark connect
# with --tls --cacert --cert --key. The load run's figure then includes the TLS handshakes of
# redis-benchmark's connections (CG_C per test).
#
# Environment:
#   CG_N=20000 CG_TESTS=set,get CG_P=16 CG_C=10 CG_R=1000   the fixed load
#   CG_TLS=0               1: over TLS (see above)
#   CG_CMD='' CG_SETUP=''                                    a custom command (see above)
#   CG_PREFILL=''          redis-benchmark arguments for the untimed fill (-P 16, -c CG_C and
#                          -r CG_R are added), run in both the idle and the load run
#   TERN_BIN=...           use this binary instead of building one (it needs symbols: the
#                          workspace release profile has debug=1)
#   CARGO_TARGET_DIR       honoured by the build (default: target)
#   RESULTS_DIR            default bench/results; callgrind outputs go to $RESULTS_DIR/callgrind/
#   SERVER_CPU=0 CLIENT_CPU=1
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


CG_N=${CG_N:-20000}
CG_TESTS=${CG_TESTS:-set,get}
CG_P=${CG_P:-16}
CG_C=${CG_C:-10}
CG_R=${CG_R:-1000}
CG_PREFILL=${CG_PREFILL:-}
CG_CMD=${CG_CMD:-}
CG_SETUP=${CG_SETUP:-}
CG_TLS=${CG_TLS:-0}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RESULTS=${RESULTS_DIR:-$ROOT/bench/results}
OUT=$RESULTS/callgrind
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

TOOLS=(valgrind callgrind_annotate redis-server redis-benchmark redis-cli taskset timeout awk)
[[ $CG_TLS != 1 ]] || TOOLS+=(openssl)
for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found in PATH (Debian: apt-get install valgrind redis-server redis-tools)"
done
REDIS_SERVER=$(command -v redis-server)
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU"

tern_bin

NTESTS=$(awk -F, '{ print NF }' <<<"$CG_TESTS")
[[ -z $CG_CMD ]] || NTESTS=1
OPS=$((CG_N * NTESTS))
WORK=$(mktemp -d /tmp/tern-callgrind.XXXXXX)
mkdir -p "$OUT"
SPID=""

cleanup() {
    if [[ -n $SPID ]] && kill -0 "$SPID" 2>/dev/null; then
        kill -KILL "$SPID" 2>/dev/null || true
        wait "$SPID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Server and client arguments for TLS (empty without CG_TLS=1).
SRV_TLS=()
CLI=()
if [[ $CG_TLS == 1 ]]; then
    bash "$ROOT/scripts/gen-test-certs.sh" "$WORK/certs" >/dev/null || die "could not make test certificates"
    SRV_TLS=(--tls-cert-file "$WORK/certs/server.crt" --tls-key-file "$WORK/certs/server.key"
        --tls-ca-cert-file "$WORK/certs/ca.crt")
    CLI=(--tls --cacert "$WORK/certs/ca.crt" --cert "$WORK/certs/client.crt" --key "$WORK/certs/client.key")
fi


# start_vg SERVER OUTFILE: starts SERVER under callgrind; sets SPID and SPORT.
start_vg() {
    local s=$1 cgout=$2 i errf=$WORK/$s.stderr
    local vg=(valgrind --tool=callgrind --callgrind-out-file="$cgout" --log-file="$WORK/$s.valgrind.log")
    mkdir -p "$WORK/dir"
    SPORT=""
    if [[ $s == tern && $CG_TLS != 1 ]]; then
        (cd "$WORK/dir" && exec taskset -c "$SERVER_CPU" "${vg[@]}" "$TERN_BIN" server --port 0 --bind 127.0.0.1 \
            --save "" --appendonly no) >/dev/null 2>"$errf" &
        SPID=$!
        for i in $(seq 1 1200); do
            SPORT=$(grep -ao 'Ready to accept connections tcp port=[0-9]*' "$errf" 2>/dev/null | head -n1 | sed 's/.*port=//') || true
            [[ -n $SPORT ]] && break
            kill -0 "$SPID" 2>/dev/null || break
            sleep 0.1
        done
    else
        # A port picked free can be taken before the server binds it: then it exits; try another.
        local attempt ports
        for attempt in 1 2 3 4 5; do
            SPORT=$(pick_port)
            ports=(--port "$SPORT")
            [[ $CG_TLS != 1 ]] || ports=(--port 0 --tls-port "$SPORT" "${SRV_TLS[@]}")
            if [[ $s == tern ]]; then
                (cd "$WORK/dir" && exec taskset -c "$SERVER_CPU" "${vg[@]}" "$TERN_BIN" server "${ports[@]}" \
                    --bind 127.0.0.1 --save "" --appendonly no --logfile "$WORK/redis.log") >/dev/null 2>"$errf" &
            else
                (cd "$WORK/dir" && exec taskset -c "$SERVER_CPU" "${vg[@]}" "$REDIS_SERVER" "${ports[@]}" \
                    --bind 127.0.0.1 --save '' --appendonly no --daemonize no --logfile "$WORK/redis.log") \
                    >/dev/null 2>"$errf" &
            fi
            SPID=$!
            for i in $(seq 1 1200); do
                [[ $(redis-cli -h 127.0.0.1 -p "$SPORT" "${CLI[@]}" PING 2>/dev/null) == PONG ]] && return 0
                kill -0 "$SPID" 2>/dev/null || break
                sleep 0.1
            done
            wait "$SPID" 2>/dev/null || true
            echo "   ($s exited at startup on port $SPORT: $(tail -n 1 "$WORK/redis.log" 2>/dev/null))" >&2
        done
        SPID=""
        cat "$WORK/redis.log" >&2 || true
        die "$s did not start under valgrind"
    fi
    [[ -n $SPORT ]] || { cat "$errf" "$WORK/$s.valgrind.log" >&2; die "$s did not start under valgrind"; }
    for i in $(seq 1 1200); do
        [[ $(redis-cli -h 127.0.0.1 -p "$SPORT" PING 2>/dev/null) == PONG ]] && return 0
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$errf" "$WORK/$s.valgrind.log" >&2
    die "$s did not answer PING under valgrind"
}

stop_vg() { # server: SHUTDOWN NOSAVE, then SIGTERM, then wait for callgrind to write its file
    local s=$1 i
    timeout 30 redis-cli -h 127.0.0.1 -p "$SPORT" "${CLI[@]}" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    for i in $(seq 1 300); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SPID" 2>/dev/null; then
        echo "   ($s did not exit on SHUTDOWN NOSAVE; sending SIGTERM)" >&2
        kill -TERM "$SPID" 2>/dev/null || true
        for i in $(seq 1 600); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    fi
    if kill -0 "$SPID" 2>/dev/null; then
        kill -KILL "$SPID" 2>/dev/null || true
        wait "$SPID" 2>/dev/null || true
        SPID=""
        die "$s did not exit on SHUTDOWN nor SIGTERM; no callgrind totals"
    fi
    wait "$SPID" 2>/dev/null || true
    SPID=""
}

total_ir() { # callgrind.out -> total Ir (the summary: line; totals: if there is no summary)
    local v
    v=$(awk '/^summary:/ { print $2; exit }' "$1")
    [[ -n $v ]] || v=$(awk '/^totals:/ { print $2; exit }' "$1")
    [[ -n $v ]] || die "no summary:/totals: line in $1"
    echo "$v"
}

setup() { # server: CG_SETUP, if any
    [[ -n $CG_SETUP ]] || return 0
    # CG_SETUP is shell words (quotes allowed), so a script can be one argument.
    eval "redis-cli -h 127.0.0.1 -p $SPORT ${CLI[*]} $CG_SETUP" >/dev/null || die "CG_SETUP ($CG_SETUP) failed"
}

prefill() { # server: the untimed fill, if any
    local s=$1 rc=0
    [[ -n $CG_PREFILL ]] || return 0
    # shellcheck disable=SC2086
    timeout 900 taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$SPORT" "${CLI[@]}" -P 16 -c "$CG_C" \
        -r "$CG_R" --csv $CG_PREFILL >/dev/null 2>"$WORK/$s.prefill.err" || rc=$?
    if ((rc != 0)) || grep -q 'Error from server' "$WORK/$s.prefill.err"; then
        tr '\r' '\n' <"$WORK/$s.prefill.err" | tail -n 5 >&2
        die "prefill ($CG_PREFILL) against $s failed (exit $rc)"
    fi
}

declare -A IR_IDLE IR_LOAD
for s in tern redis; do
    log "$s: idle run under callgrind (start, PING, ${CG_PREFILL:+prefill $CG_PREFILL, }shutdown)"
    start_vg "$s" "$OUT/$s.idle.callgrind.out"
    redis-cli -h 127.0.0.1 -p "$SPORT" "${CLI[@]}" PING >/dev/null
    setup
    prefill "$s"
    stop_vg "$s"
    IR_IDLE[$s]=$(total_ir "$OUT/$s.idle.callgrind.out")

    log "$s: load run under callgrind: redis-benchmark ${CG_CMD:--t $CG_TESTS} -n $CG_N -P $CG_P -c $CG_C -r $CG_R"
    start_vg "$s" "$OUT/$s.load.callgrind.out"
    setup
    prefill "$s"
    rc=0
    if [[ -n $CG_CMD ]]; then what=(); read -r -a what <<<"$CG_CMD"; else what=(-t "$CG_TESTS"); fi
    timeout 900 taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$SPORT" "${CLI[@]}" -n "$CG_N" \
        -P "$CG_P" -c "$CG_C" -r "$CG_R" --csv "${what[@]}" >"$OUT/$s.load.benchmark.csv" 2>"$WORK/$s.bench.err" || rc=$?
    if ((rc != 0)) || grep -q 'Error from server' "$WORK/$s.bench.err"; then
        tr '\r' '\n' <"$WORK/$s.bench.err" | tail -n 5 >&2
        kill -0 "$SPID" 2>/dev/null || die "$s died under load (redis-benchmark exit $rc)"
        die "redis-benchmark against $s failed (exit $rc)"
    fi
    [[ $(awk 'END { print NR }' "$OUT/$s.load.benchmark.csv") -eq $((NTESTS + 1)) ]] ||
        die "redis-benchmark against $s did not report all of $CG_TESTS"
    stop_vg "$s"
    IR_LOAD[$s]=$(total_ir "$OUT/$s.load.callgrind.out")
done

# Top functions (self cost) of tern's load run, and of redis's for comparison.
for s in tern redis; do
    callgrind_annotate --inclusive=no --auto=no "$OUT/$s.load.callgrind.out" >"$OUT/$s.load.annotate.txt" 2>/dev/null || true
    # Function lines look like "12,345,678 (12.34%)  file:function [object]".
    awk '/^ *[0-9,]+ \( *[0-9.]+%\) +[^ ]/ && !/PROGRAM TOTALS/ { print; if (++n == 15) exit }' \
        "$OUT/$s.load.annotate.txt" >"$RESULTS/callgrind-$s-top15.txt"
done

per_op() { awk -v l="$1" -v i="$2" -v n="$OPS" 'BEGIN { printf "%.0f", (l - i) / n }'; }
TPO=$(per_op "${IR_LOAD[tern]}" "${IR_IDLE[tern]}")
RPO=$(per_op "${IR_LOAD[redis]}" "${IR_IDLE[redis]}")
RATIO=$(awk -v a="$TPO" -v b="$RPO" 'BEGIN { printf "%.2f", a / b }')
commas() { printf "%'d" "$1" 2>/dev/null || echo "$1"; }

REPORT=$(
    echo "Callgrind${CLI[*]:+ over TLS}: redis-benchmark ${CG_CMD:--t $CG_TESTS} -n $CG_N -P $CG_P -c $CG_C -r $CG_R ($OPS operations)${CG_PREFILL:+, after an untimed prefill: $CG_PREFILL}"
    {
        echo "server|Ir idle (start+PING+${CG_PREFILL:+prefill+}shutdown)|Ir load run|Ir per operation"
        echo "tern|${IR_IDLE[tern]}|${IR_LOAD[tern]}|$TPO"
        echo "redis|${IR_IDLE[redis]}|${IR_LOAD[redis]}|$RPO"
    } | column -t -s '|'
    echo "ratio tern/redis instructions per operation: $RATIO"
    echo
    echo "tern top 15 functions by self Ir (load run):"
    cat "$RESULTS/callgrind-tern-top15.txt"
)
echo "$REPORT"
echo "$REPORT" >"$RESULTS/callgrind-latest.txt"
echo
echo "(callgrind outputs and full annotations: $OUT/; summary: $RESULTS/callgrind-latest.txt)"
