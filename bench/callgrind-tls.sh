#!/usr/bin/env bash
# bench/callgrind-tls.sh — instructions per operation over TLS, tern vs Debian's redis-server,
# counted by valgrind's callgrind (deterministic, unlike wall-clock figures on a shared VM).
#
# The method of bench/callgrind.sh, with both servers serving only a tls-port (the same test
# certificates from scripts/gen-test-certs.sh, tls-auth-clients yes) and redis-benchmark
# connecting with --tls --cacert --cert --key. For each server, two runs under callgrind:
#   idle: start, PING, SHUTDOWN            load: start, PING, redis-benchmark, SHUTDOWN
# instructions/op = (Ir(load) - Ir(idle)) / operations (CG_N per test, 2 tests: set,get).
# The load run's figure includes the TLS handshakes of redis-benchmark's connections (CG_C per
# test): about 2*CG_C handshakes for 2*CG_N operations.
#
# Environment: CG_N=20000 CG_P=16 CG_C=10 CG_R=1000; TERN_BIN=... (else a release build);
# CARGO_TARGET_DIR; SERVER_CPU=0 CLIENT_CPU=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
die() { echo "bench/callgrind-tls.sh: error: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

CG_N=${CG_N:-20000}
CG_P=${CG_P:-16}
CG_C=${CG_C:-10}
CG_R=${CG_R:-1000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
for tool in valgrind redis-server redis-benchmark redis-cli taskset timeout awk openssl; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done
if [[ -z ${TERN_BIN:-} ]]; then
    log "building tern (release) into $CARGO_TARGET_DIR"
    cargo build --release -p tern >&2 || die "cargo build --release -p tern failed"
    case $CARGO_TARGET_DIR in
        /*) TERN_BIN=$CARGO_TARGET_DIR/release/tern ;;
        *) TERN_BIN=$ROOT/$CARGO_TARGET_DIR/release/tern ;;
    esac
fi
[[ -x $TERN_BIN ]] || die "tern binary not found at $TERN_BIN"

WORK=$(mktemp -d /tmp/tern-callgrind-tls.XXXXXX)
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

CERTS=$WORK/certs
bash "$ROOT/scripts/gen-test-certs.sh" "$CERTS" >/dev/null
TLS_ARGS=(--tls-cert-file "$CERTS/server.crt" --tls-key-file "$CERTS/server.key"
    --tls-ca-cert-file "$CERTS/ca.crt")
C=(--tls --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key")
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "no free loopback port found"
}

run() { # server mode -> total Ir of the run
    local name=$1 mode=$2 port out i
    port=$(pick_port)
    out=$WORK/$name.$mode.out
    mkdir -p "$WORK/dir-$name-$mode"
    if [[ $name == tern ]]; then
        taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$out" "$TERN_BIN" server \
            --port 0 --tls-port "$port" --bind 127.0.0.1 --save "" --appendonly no \
            --dir "$WORK/dir-$name-$mode" "${TLS_ARGS[@]}" >"$WORK/$name.$mode.log" 2>&1 &
    else
        taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$out" redis-server \
            --port 0 --tls-port "$port" --bind 127.0.0.1 --save "" --appendonly no \
            --dir "$WORK/dir-$name-$mode" "${TLS_ARGS[@]}" >"$WORK/$name.$mode.log" 2>&1 &
    fi
    SPID=$!
    for i in $(seq 1 600); do
        [[ $(timeout 10 redis-cli -p "$port" "${C[@]}" PING 2>/dev/null) == PONG ]] && break
        kill -0 "$SPID" 2>/dev/null || die "$name did not start under valgrind: $(tail -5 "$WORK/$name.$mode.log")"
        sleep 0.2
    done
    if [[ $mode == load ]]; then
        timeout 900 taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" "${C[@]}" -t set,get -n "$CG_N" \
            -P "$CG_P" -c "$CG_C" -r "$CG_R" -q >"$WORK/$name.bench" 2>&1 ||
            die "redis-benchmark against $name failed: $(tail -c 300 "$WORK/$name.bench")"
    fi
    timeout 60 redis-cli -p "$port" "${C[@]}" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    wait "$SPID" 2>/dev/null || true
    SPID=""
    # Every thread's file (callgrind writes one per thread with --separate-threads, else one).
    cat "$out"* | awk '/^(summary|totals):/ { s += $2 } END { print s }'
}

OPS=$((2 * CG_N))
echo "Callgrind over TLS: redis-benchmark --tls -t set,get -n $CG_N -P $CG_P -c $CG_C -r $CG_R ($OPS operations)"
printf '%-6s %-14s %-14s %s\n' server "Ir idle" "Ir load" "Ir per operation"
declare -A PER
for s in tern redis; do
    idle=$(run "$s" idle)
    load=$(run "$s" load)
    PER[$s]=$(((load - idle) / OPS))
    printf '%-6s %-14s %-14s %s\n' "$s" "$idle" "$load" "${PER[$s]}"
done
awk -v a="${PER[tern]}" -v b="${PER[redis]}" 'BEGIN { printf "ratio tern/redis instructions per operation: %.2f\n", a / b }'
