#!/usr/bin/env bash
# bench/tls.sh — GET/SET over TLS: tern against Debian's redis-server, both serving TLS.
#
# The method of bench/run.sh: both servers pinned to one CPU (SERVER_CPU, default 0),
# redis-benchmark (Debian's, built with TLS) pinned to another (CLIENT_CPU, default 1); every
# row is run ROUNDS times alternating tern and redis (swapping which goes first every round), in
# one run. Reported per row: median ops/s of each, the median of the per-round ratios
# tern/redis, and server CPU seconds per million operations (utime+stime from /proc/<pid>/stat).
#
# Both servers get the same certificates (scripts/gen-test-certs.sh: EC P-256, a test CA) and
# the same TLS settings: `tls-port` only (`port 0`), `tls-auth-clients yes` (redis-benchmark
# presents the client certificate), default protocols (both negotiate TLS 1.3; the suite each
# negotiated is printed). Connections are made once per client (-c 50), so the rows measure
# the encrypted request/reply path, not handshakes.
#
# Environment:
#   ROUNDS=3  N_SCALE=1  SERVER_CPU=0  CLIENT_CPU=1  RUN_TIMEOUT=600
#   TERN_BIN=...      use this binary instead of building one (release)
#   TERN_ARGS='...'   more arguments for tern (split on spaces), e.g. '--busy-poll-us 0'
#   CARGO_TARGET_DIR  honoured by the build (default: target)
#   RESULTS_DIR       where latest-tls.md and raw/ go (default: bench/results)
#   ONLY='-P1$'       run only the rows whose label matches this extended regex
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


ROUNDS=${ROUNDS:-3}
N_SCALE=${N_SCALE:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
RESULTS=${RESULTS_DIR:-$ROOT/bench/results}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer (got '$ROUNDS')"
scale() { awk -v b="$1" -v s="$N_SCALE" 'BEGIN { n = int(b * s + 0.5); if (n < 1000) n = 1000; print n }'; }

for tool in redis-server redis-benchmark redis-cli taskset timeout awk openssl; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found (Debian: apt-get install redis-server redis-tools util-linux coreutils openssl)"
done
REDIS_SERVER=$(command -v redis-server)
REDIS_BENCHMARK=$(command -v redis-benchmark)
"$REDIS_BENCHMARK" --help 2>&1 | grep -q -- '--tls' || die "this redis-benchmark was built without TLS"
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU (this needs 2 CPUs)"
CLK_TCK=$(getconf CLK_TCK)

tern_bin

WORK=$(mktemp -d /tmp/tern-bench-tls.XXXXXX)
RAW=$RESULTS/raw-tls
mkdir -p "$RESULTS"
rm -rf "$RAW"
mkdir -p "$RAW"
CERTS=$WORK/certs
bash "$ROOT/scripts/gen-test-certs.sh" "$CERTS" >/dev/null
TLS_ARGS=(--tls-cert-file "$CERTS/server.crt" --tls-key-file "$CERTS/server.key"
    --tls-ca-cert-file "$CERTS/ca.crt")
CLIENT_TLS=(--tls --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key")

declare -A PID PORT
cli() { local port=$1; shift; timeout 30 redis-cli -h 127.0.0.1 -p "$port" "${CLIENT_TLS[@]}" "$@" 2>&1 | tr -d '\r'; }
wait_ping() { # port pid
    local i
    for i in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || return 1
        [[ $(cli "$1" PING) == PONG ]] && return 0
        sleep 0.1
    done
    return 1
}

start_server() { # name
    local name=$1 attempt port
    mkdir -p "$WORK/$name-dir"
    for attempt in 1 2 3 4 5; do
        port=$(pick_port)
        if [[ $name == tern ]]; then
            (cd "$WORK/$name-dir" && exec taskset -c "$SERVER_CPU" "$TERN_BIN" server --port 0 \
                --tls-port "$port" --bind 127.0.0.1 --save "" --appendonly no "${TLS_ARGS[@]}" ${TERN_ARGS:-}) \
                >/dev/null 2>"$WORK/$name.log" &
        else
            taskset -c "$SERVER_CPU" "$REDIS_SERVER" --port 0 --tls-port "$port" --bind 127.0.0.1 \
                --save '' --appendonly no --daemonize no --dir "$WORK/$name-dir" \
                --logfile "$WORK/$name.log" "${TLS_ARGS[@]}" >/dev/null 2>&1 &
        fi
        PID[$name]=$!
        if wait_ping "$port" "${PID[$name]}"; then
            PORT[$name]=$port
            return 0
        fi
        kill "${PID[$name]}" 2>/dev/null || true
        wait "${PID[$name]}" 2>/dev/null || true
    done
    cat "$WORK/$name.log" >&2 || true
    die "$name did not start with TLS"
}
stop_server() {
    local pid=${PID[$1]:-}
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PID[$1]=""
}
cleanup() { stop_server tern; stop_server redis; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ticks() {
    local s
    s=$(<"/proc/$1/stat")
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
median() {
    (($#)) || { echo ""; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ROWS=(
    "SET -P16|1000000|-t set -P 16 -c 50"
    "GET -P16|1000000|-t get -P 16 -c 50"
    "SET -P1|200000|-t set -P 1 -c 50"
    "GET -P1|200000|-t get -P 1 -c 50"
)

if [[ -n ${ONLY:-} ]]; then
    kept=()
    for row in "${ROWS[@]}"; do [[ ${row%%|*} =~ $ONLY ]] && kept+=("$row"); done
    ROWS=("${kept[@]}")
    ((${#ROWS[@]})) || die "no row matches ONLY='$ONLY'"
fi

declare -A RPS CPU
run_one() { # server row round
    local s=$1 i=$2 r=$3 label n args out err rc=0 before after rps
    IFS='|' read -r label n args <<<"${ROWS[$i]}"
    n=$(scale "$n")
    out=$RAW/$s.row$i.round$r.csv
    err=$RAW/$s.row$i.round$r.err
    before=$(cpu_ticks "${PID[$s]}")
    # shellcheck disable=SC2086
    timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "$REDIS_BENCHMARK" -h 127.0.0.1 -p "${PORT[$s]}" \
        "${CLIENT_TLS[@]}" --csv -r 1000000 -n "$n" $args >"$out" 2>"$err" || rc=$?
    after=$(cpu_ticks "${PID[$s]}" 2>/dev/null || echo "")
    rps=$(awk -F, '$2 ~ /^"?[0-9.]+"?$/ { gsub(/"/, "", $2); v = $2 } END { print v }' "$out")
    if ((rc != 0)) || [[ -z $rps ]] || [[ -z $after ]]; then
        die "$s row '$label' round $r failed (exit $rc): $(tail -c 300 "$err")"
    fi
    RPS[$s,$i,$r]=$rps
    CPU[$s,$i,$r]=$(awk -v d=$((after - before)) -v t="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", (d / t) / (n / 1e6) }')
    printf '   %-10s round %d %-5s %12s ops/s  %8s CPU-s/Mops\n' "$label" "$r" "$s" "$rps" "${CPU[$s,$i,$r]}" >&2
}

REDIS_VERSION=$("$REDIS_SERVER" --version | sed 's/.* v=\([^ ]*\).*/\1/')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "tern: $TERN_BIN; redis-server $REDIS_VERSION; rounds=$ROUNDS n_scale=$N_SCALE; load: $LOAD_START"
start_server tern
start_server redis
SUITES=""
for s in tern redis; do
    [[ $(cli "${PORT[$s]}" SET bench:sanity hello) == OK && $(cli "${PORT[$s]}" GET bench:sanity) == hello ]] ||
        die "$s failed the sanity check over TLS"
    suite=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:${PORT[$s]}" -CAfile "$CERTS/ca.crt" \
        -cert "$CERTS/client.crt" -key "$CERTS/client.key" 2>/dev/null |
        awk '/^New, / { print $2, $NF; exit }')
    SUITES="$SUITES $s: ${suite:-?};"
done
log "negotiated (openssl s_client):$SUITES"

for r in $(seq 1 "$ROUNDS"); do
    for i in "${!ROWS[@]}"; do
        if ((r % 2)); then order=(tern redis); else order=(redis tern); fi
        for s in "${order[@]}"; do run_one "$s" "$i" "$r"; done
    done
done

OUT=$RESULTS/latest-tls.md
{
    echo "Command: \`bench/tls.sh\` (ROUNDS=$ROUNDS N_SCALE=$N_SCALE ONLY='${ONLY:-}'), $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "Negotiated:$SUITES"
    echo
    echo "| row | -n | tern ops/s | redis ops/s | tern/redis | tern CPU-s/Mops | redis CPU-s/Mops |"
    echo "|---|---|---|---|---|---|---|"
    for i in "${!ROWS[@]}"; do
        IFS='|' read -r label n _ <<<"${ROWS[$i]}"
        tr=() rr=() ratios=() tc=() rc=()
        for r in $(seq 1 "$ROUNDS"); do
            tr+=("${RPS[tern,$i,$r]}") rr+=("${RPS[redis,$i,$r]}")
            tc+=("${CPU[tern,$i,$r]}") rc+=("${CPU[redis,$i,$r]}")
            ratios+=("$(awk -v a="${RPS[tern,$i,$r]}" -v b="${RPS[redis,$i,$r]}" 'BEGIN { printf "%.3f", a / b }')")
        done
        printf '| %s over TLS | %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n' "$label" "$(scale "$n")" \
            "$(median "${tr[@]}")" "$(median "${rr[@]}")" "$(median "${ratios[@]}")" \
            "$(median "${tc[@]}")" "$(median "${rc[@]}")"
    done
    echo
    echo "Per-round ratios:"
    for i in "${!ROWS[@]}"; do
        IFS='|' read -r label _ <<<"${ROWS[$i]}"
        line="$label:"
        for r in $(seq 1 "$ROUNDS"); do
            line="$line $(awk -v a="${RPS[tern,$i,$r]}" -v b="${RPS[redis,$i,$r]}" 'BEGIN { printf "%.2f", a / b }')"
        done
        echo "- $line"
    done
} >"$OUT"
cat "$OUT"
