#!/usr/bin/env bash
# bench/run.sh — the benchmark of record: tern against Debian's redis-server on this machine.
#
# Both servers run pinned to one CPU (SERVER_CPU, default 0) and redis-benchmark runs pinned to
# another (CLIENT_CPU, default 1). Every row is run ROUNDS times, alternating tern and redis
# (and swapping which goes first every round), so that noise from neighbours hits both alike.
# Reported per row: median ops/s of each, the median of the per-round ratios tern/redis, and the
# server CPU seconds spent per million operations (utime+stime from /proc/<pid>/stat).
# Then a memory table: 1M distinct keys with 16-byte values loaded with `redis-cli --pipe` into
# freshly started servers, RSS and INFO used_memory growth per key.
#
# Environment:
#   ROUNDS=3          rounds per row
#   N_SCALE=1         multiplies every -n (and the memory key count); e.g. N_SCALE=0.01 to smoke
#   SUITE=core        core: strings (issue 2); types: lists, sets, hashes, sorted sets (issue 3);
#                     features: PUBLISH fan-out, EVALSHA, MULTI/EXEC, SET under maxmemory (issue 4)
#   MEM_KEYS=1000000  core memory table: keys loaded (default 1000000 * N_SCALE, at least 10000)
#   MEM_ELEMS=1000000 types memory table: elements of each big collection (same scaling)
#   MEM_SMALL=100000  types memory table: number of small 10-field hashes (same scaling)
#   SERVER_CPU=0 CLIENT_CPU=1
#   RUN_TIMEOUT=600   seconds allowed for one redis-benchmark invocation
#   TERN_BIN=...      use this binary instead of building one
#   TERN_ARGS='...'   more arguments for tern (split on spaces), e.g. '--busy-poll-us 0'
#   CARGO_TARGET_DIR  honoured by the build (default: target)
#   RESULTS_DIR       where latest-$SUITE.md and raw/ go (default: bench/results)
#   ONLY='-P1$'       run only the rows whose label matches this extended regex
#   SKIP_MEM=1        skip the memory table (the features suite has none)
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
awk -v s="$N_SCALE" 'BEGIN { exit !(s + 0 > 0) }' || die "N_SCALE must be a positive number (got '$N_SCALE')"

# scale BASE [MIN]: BASE * N_SCALE rounded, at least MIN (default 1000).
scale() { awk -v b="$1" -v s="$N_SCALE" -v m="${2:-1000}" 'BEGIN { n = int(b * s + 0.5); if (n < m) n = m; print n }'; }
MEM_KEYS=${MEM_KEYS:-$(scale 1000000 10000)}
MEM_ELEMS=${MEM_ELEMS:-$(scale 1000000 10000)}
MEM_SMALL=${MEM_SMALL:-$(scale 100000 1000)}
SUITE=${SUITE:-core}
[[ $MEM_KEYS =~ ^[1-9][0-9]*$ ]] || die "MEM_KEYS must be a positive integer (got '$MEM_KEYS')"

# ---------------------------------------------------------------------------------------------
# Prerequisites
for tool in redis-server redis-benchmark redis-cli taskset timeout awk; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found in PATH (Debian: apt-get install redis-server redis-tools util-linux coreutils)"
done
REDIS_SERVER=$(command -v redis-server)
REDIS_BENCHMARK=$(command -v redis-benchmark)
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU (SERVER_CPU); CPUs: $(nproc)"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU (CLIENT_CPU); this needs 2 CPUs, have $(nproc)"
[[ $SERVER_CPU != "$CLIENT_CPU" ]] || die "SERVER_CPU and CLIENT_CPU must differ"
CLK_TCK=$(getconf CLK_TCK)

tern_bin

WORK=$(mktemp -d /tmp/tern-bench.XXXXXX)
RAW=$RESULTS/raw
mkdir -p "$RESULTS"
rm -rf "$RAW"
mkdir -p "$RAW"

declare -A PID PORT
TERN_STARTS=0
NOTES=()
note() { NOTES+=("$*"); echo "!! $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Servers

wait_ping() { # port pid name
    local i
    for i in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || return 1
        if [[ $(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null) == PONG ]]; then return 0; fi
        sleep 0.1
    done
    return 1
}

start_tern() {
    TERN_STARTS=$((TERN_STARTS + 1))
    local logf=$WORK/tern.$TERN_STARTS.log i port=""
    mkdir -p "$WORK/tern-dir"
    # --port 0: tern picks a free port and logs it.
    (cd "$WORK/tern-dir" && exec taskset -c "$SERVER_CPU" "$TERN_BIN" server --port 0 --bind 127.0.0.1 \
        --save "" --appendonly no ${TERN_ARGS:-}) >/dev/null 2>"$logf" &
    PID[tern]=$!
    TERN_LOG=$logf
    for i in $(seq 1 300); do
        port=$(grep -ao 'Ready to accept connections tcp port=[0-9]*' "$logf" 2>/dev/null | head -n1 | sed 's/.*port=//') || true
        [[ -n $port ]] && break
        kill -0 "${PID[tern]}" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $port ]] || ! wait_ping "$port" "${PID[tern]}"; then
        cat "$logf" >&2
        die "tern did not start (log above)"
    fi
    PORT[tern]=$port
}

start_redis() {
    local attempt port
    mkdir -p "$WORK/redis-dir"
    for attempt in 1 2 3 4 5; do
        port=$(pick_port)
        REDIS_LOG=$WORK/redis.$port.log
        taskset -c "$SERVER_CPU" "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no --dir "$WORK/redis-dir" --logfile "$REDIS_LOG" >/dev/null 2>&1 &
        PID[redis]=$!
        if wait_ping "$port" "${PID[redis]}"; then
            PORT[redis]=$port
            return 0
        fi
        kill "${PID[redis]}" 2>/dev/null || true
        wait "${PID[redis]}" 2>/dev/null || true
    done
    cat "$REDIS_LOG" >&2 || true
    die "redis-server did not start"
}

stop_server() { # name
    local pid=${PID[$1]:-}
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    PID[$1]=""
}

cleanup() {
    stop_server tern
    stop_server redis
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

alive() { [[ -n ${PID[$1]:-} ]] && kill -0 "${PID[$1]}" 2>/dev/null; }

start() { case $1 in tern) start_tern ;; redis) start_redis ;; esac; }

# ---------------------------------------------------------------------------------------------
# Measurements
cpu_ticks() { # pid -> utime+stime of the whole process (all threads), in clock ticks
    local s
    s=$(<"/proc/$1/stat")
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
used_memory() { # port -> bytes, or empty if INFO memory is not answered
    redis-cli -h 127.0.0.1 -p "$1" INFO memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'
}
cli() { local port=$1; shift; timeout 30 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>&1 | tr -d '\r'; }

# A functional check before anything is timed: if a server answers wrongly, its ops/s mean nothing.
sanity_check() { # name
    local p=${PORT[$1]} bad=()
    [[ $(cli "$p" SET bench:sanity hello) == OK ]] || bad+=("SET")
    [[ $(cli "$p" GET bench:sanity) == hello ]] || bad+=("GET")
    cli "$p" SET bench:ctr 41 >/dev/null
    [[ $(cli "$p" INCR bench:ctr) == 42 ]] || bad+=("INCR")
    [[ $(cli "$p" MSET bench:m1 a bench:m2 b) == OK ]] || bad+=("MSET")
    [[ $(cli "$p" MGET bench:m1 bench:m2 | tr '\n' ' ') == "a b " ]] || bad+=("MGET")
    [[ $(cli "$p" -n 1 SET bench:sanity db1) == OK && $(cli "$p" -n 1 GET bench:sanity) == db1 ]] || bad+=("SELECT 1")
    if ((${#bad[@]})); then note "$1 failed the sanity check on: ${bad[*]} (its numbers are suspect)"; fi
}

# The features suite's script (EVALSHA rows) and the driver for what redis-benchmark cannot send.
EVAL_SCRIPT="return redis.call('incr', KEYS[1])"
EVAL_SHA=$(printf '%s' "$EVAL_SCRIPT" | sha1sum | cut -d' ' -f1)
setup_script() { # port
    [[ $(cli "$1" SCRIPT LOAD "$EVAL_SCRIPT") == "$EVAL_SHA" ]] || note "SCRIPT LOAD on port $1 did not reply $EVAL_SHA"
}
setup_maxmemory() { # port: an empty db bounded at 64 MiB; the rows' keyspace is several times that
    cli "$1" FLUSHALL >/dev/null
    [[ $(cli "$1" CONFIG SET maxmemory 64mb) == OK && $(cli "$1" CONFIG SET maxmemory-policy allkeys-lru) == OK ]] ||
        note "CONFIG SET maxmemory on port $1 failed"
}
teardown_maxmemory() { # port: checks that memory stayed bounded, then lifts the limit
    local um
    um=$(used_memory "$1")
    [[ -n $um ]] && ((um > 72 * 1024 * 1024)) && note "port $1: used_memory $um after the maxmemory row (limit 64mb)"
    cli "$1" CONFIG SET maxmemory 0 >/dev/null
    cli "$1" FLUSHALL >/dev/null
}
DRIVER=""
if [[ $SUITE == features ]]; then
    command -v rustc >/dev/null 2>&1 || die "rustc not found (needed to build bench/driver.rs)"
    DRIVER=$WORK/tern-bench-driver
    log "building bench/driver.rs"
    rustc --edition 2021 -O -o "$DRIVER" "$ROOT/bench/driver.rs" >&2 || die "rustc bench/driver.rs failed"
    # 1000 subscribers plus the servers' own descriptors.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    (($(ulimit -n) >= 1200)) || die "open files limit $(ulimit -n) is too low for 1000 subscribers (need 1200)"
fi

# Rows: label | base -n | redis-benchmark arguments. SET precedes GET so GETs mostly hit
# (-n 2M random keys over 1M: ~86% of the key range set in round 1). The 1 KiB rows use db 1
# so that they do not change the value size the small-value rows read.
ROWS=(
    "SET -P16|2000000|-t set -P 16 -c 50"
    "GET -P16|2000000|-t get -P 16 -c 50"
    "INCR -P16|2000000|-t incr -P 16 -c 50"
    "MSET (10 keys) -P16|1000000|-t mset -P 16 -c 50"
    "SET -P1|200000|-t set -P 1 -c 50"
    "GET -P1|200000|-t get -P 1 -c 50"
    "SET 1KiB -P16|2000000|-t set -P 16 -c 50 -d 1024 --dbnum 1"
    "GET 1KiB -P16|2000000|-t get -P 16 -c 50 -d 1024 --dbnum 1"
)

# Rows: label | base -n | redis-benchmark arguments.
case $SUITE in
core)
    # SET precedes GET so GETs mostly hit (-n 2M random keys over 1M: ~86% of the key range
    # set in round 1). The 1 KiB rows use db 1 so that they do not change the value size the
    # small-value rows read.
    ROWS=(
        "SET -P16|2000000|-t set -P 16 -c 50"
        "GET -P16|2000000|-t get -P 16 -c 50"
        "INCR -P16|2000000|-t incr -P 16 -c 50"
        "MSET (10 keys) -P16|1000000|-t mset -P 16 -c 50"
        "SET -P1|200000|-t set -P 1 -c 50"
        "GET -P1|200000|-t get -P 1 -c 50"
        "SET 1KiB -P16|2000000|-t set -P 16 -c 50 -d 1024 --dbnum 1"
        "GET 1KiB -P16|2000000|-t get -P 16 -c 50 -d 1024 --dbnum 1"
    )
    ;;
types)
    # redis-benchmark's own data-structure tests: one key per type (mylist, myset, myhash,
    # myzset), members element:<rand>. Pushes precede pops so pops find data. LRANGE_100/600
    # first fill mylist with LPUSHes, then read (the row reports the LRANGE figure).
    ROWS=()
    for P in 16 1; do
        if ((P == 16)); then n=1000000 nl=200000; else n=200000 nl=50000; fi
        ROWS+=(
            "LPUSH -P$P|$n|-t lpush -P $P -c 50"
            "LPOP -P$P|$n|-t lpop -P $P -c 50"
            "RPUSH -P$P|$n|-t rpush -P $P -c 50"
            "RPOP -P$P|$n|-t rpop -P $P -c 50"
            "SADD -P$P|$n|-t sadd -P $P -c 50"
            "SPOP -P$P|$n|-t spop -P $P -c 50"
            "HSET -P$P|$n|-t hset -P $P -c 50"
            "ZADD -P$P|$n|-t zadd -P $P -c 50"
            "ZPOPMIN -P$P|$n|-t zpopmin -P $P -c 50"
            "LRANGE_100 -P$P|$nl|-t lrange_100 -P $P -c 50"
            "LRANGE_600 -P$P|$((nl / 4))|-t lrange_600 -P $P -c 50"
        )
    done
    ;;
features)
    # Rows: label | -n | arguments | setup | teardown. Arguments starting with @ run
    # bench/driver.rs instead of redis-benchmark: `@pubsub SUBSCRIBERS` (-n = messages
    # delivered, over all subscribers) and `@multi PIPELINE` (-n = transactions of 10 SETs);
    # setup and teardown are functions below, run on the server before and after each run.
    ROWS=(
        "PUBLISH fan-out, 1 subscriber|1000000|@pubsub 1"
        "PUBLISH fan-out, 100 subscribers|2000000|@pubsub 100"
        "PUBLISH fan-out, 1000 subscribers|2000000|@pubsub 1000"
        "EVALSHA -P16|1000000|-P 16 -c 50 EVALSHA $EVAL_SHA 1 key:__rand_int__|setup_script"
        "EVALSHA -P1|200000|-P 1 -c 50 EVALSHA $EVAL_SHA 1 key:__rand_int__|setup_script"
        "MULTI/EXEC 10 SETs -P16|200000|@multi 16|"
        "MULTI/EXEC 10 SETs -P1|50000|@multi 1|"
        "SET maxmemory 64mb allkeys-lru -P16|2000000|-t set -P 16 -c 50 -d 100|setup_maxmemory|teardown_maxmemory"
        "SET maxmemory 64mb allkeys-lru -P1|200000|-t set -P 1 -c 50 -d 100|setup_maxmemory|teardown_maxmemory"
    )
    SKIP_MEM=1
    ;;
*) die "SUITE must be core, types or features (got '$SUITE')" ;;
esac

# selected ROWIDX: whether the row's label matches ONLY (an extended regex; every row if unset).
selected() {
    local label
    IFS='|' read -r label _ <<<"${ROWS[$1]}"
    [[ -z ${ONLY:-} ]] || [[ $label =~ $ONLY ]]
}

declare -A RPS CPU   # [server,row,round]
declare -A ROW_N     # [row]
declare -A ROW_ERR   # [server,row] -> first error text

# run_one SERVER ROWIDX ROUND
run_one() {
    local s=$1 i=$2 r=$3 label n args setup teardown out err rc before after rps
    IFS='|' read -r label n args setup teardown <<<"${ROWS[$i]}"
    n=$(scale "$n")
    ROW_N[$i]=$n
    if ! alive "$s"; then
        note "$s was not running before row '$label' round $r; restarting it"
        start "$s"
        sanity_check "$s"
    fi
    out=$RAW/$s.row$i.round$r.csv
    err=$RAW/$s.row$i.round$r.err
    [[ -z $setup ]] || "$setup" "${PORT[$s]}"
    before=$(cpu_ticks "${PID[$s]}")
    rc=0
    case $args in
    @pubsub*)
        # shellcheck disable=SC2086
        set -- ${args#@pubsub}
        timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "$DRIVER" pubsub 127.0.0.1 "${PORT[$s]}" "$n" "$1" \
            "$RUN_TIMEOUT" >"$out" 2>"$err" || rc=$?
        ;;
    @multi*)
        # shellcheck disable=SC2086
        set -- ${args#@multi}
        timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "$DRIVER" multi 127.0.0.1 "${PORT[$s]}" "$n" "$1" 50 \
            "$RUN_TIMEOUT" >"$out" 2>"$err" || rc=$?
        ;;
    *)
        # shellcheck disable=SC2086
        timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "$REDIS_BENCHMARK" -h 127.0.0.1 -p "${PORT[$s]}" \
            --csv -r 1000000 -n "$n" $args >"$out" 2>"$err" || rc=$?
        ;;
    esac
    if alive "$s"; then after=$(cpu_ticks "${PID[$s]}"); else after=""; fi
    [[ -z $teardown ]] || ! alive "$s" || "$teardown" "${PORT[$s]}"
    # redis-benchmark's CSV has a header line; the driver's has none.
    rps=$(awk -F, '$2 ~ /^"?[0-9.]+"?$/ { gsub(/"/, "", $2); v = $2 } END { print v }' "$out")
    if ((rc != 0)) || [[ -z $rps ]] || [[ -z $after ]] || grep -q 'Error from server' "$err"; then
        local why="redis-benchmark exit $rc"
        ((rc == 124)) && why="timed out after ${RUN_TIMEOUT}s"
        [[ -z $after ]] && why="$why; SERVER DIED (see $s log tail below)"
        why="$why; stderr: $(tr '\r' '\n' <"$err" | grep -v '^ *$' | grep -av 'rps=' | tail -n 3 | tr '\n' ' ')"
        [[ -n ${ROW_ERR[$s,$i]:-} ]] || ROW_ERR[$s,$i]=$why
        note "$s row '$label' round $r failed: $why"
        if [[ -z $after ]]; then
            local lf=$TERN_LOG
            [[ $s == redis ]] && lf=$REDIS_LOG
            tail -n 20 "$lf" >&2 || true
            cp "$lf" "$RAW/$s.crash.row$i.round$r.log" 2>/dev/null || true
            local st=0
            wait "${PID[$s]}" 2>/dev/null || st=$?
            note "$s exited with status $st (128+N = killed by signal N)"
            PID[$s]=""
        fi
        return 0
    fi
    RPS[$s,$i,$r]=$rps
    CPU[$s,$i,$r]=$(awk -v d=$((after - before)) -v t="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", (d / t) / (n / 1e6) }')
    printf '   %-20s round %d %-5s %12s ops/s  %8s CPU-s/Mops\n' "$label" "$r" "$s" "$rps" "${CPU[$s,$i,$r]}" >&2
}

median() { # values... -> median (empty if none)
    (($#)) || { echo ""; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------------------------------------
# Throughput and CPU
TERN_VERSION=$("$TERN_BIN" --version 2>/dev/null | head -n1 || echo tern)
REDIS_VERSION=$("$REDIS_SERVER" --version | sed 's/.* v=\([^ ]*\).*/\1/')
log "tern: $TERN_BIN ($TERN_VERSION); redis-server $REDIS_VERSION; rounds=$ROUNDS n_scale=$N_SCALE; server CPU $SERVER_CPU, client CPU $CLIENT_CPU"

start_tern
start_redis
log "tern pid ${PID[tern]} port ${PORT[tern]}; redis pid ${PID[redis]} port ${PORT[redis]}"
sanity_check tern
sanity_check redis

for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r of $ROUNDS"
    if ((r % 2)); then order=(tern redis); else order=(redis tern); fi
    for i in "${!ROWS[@]}"; do
        selected "$i" || continue
        for s in "${order[@]}"; do run_one "$s" "$i" "$r"; done
    done
done

# ---------------------------------------------------------------------------------------------
# Memory: for each case, freshly started servers, baseline, then the case's data loaded with
# `redis-cli --pipe` (checked: no errors, the right DBSIZE), growth per element.
stop_server tern
stop_server redis

# Cases: label | elements | expected DBSIZE | awk program printing the RESP commands.
resp_cmd='function cmd(a, n,   i, s) { s = "*" n "\r\n"; for (i = 1; i <= n; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"; printf "%s", s }'
case $SUITE in
core)
    MEM_CASES=("$MEM_KEYS keys, 16-byte values|$MEM_KEYS|$MEM_KEYS|BEGIN { for (i = 0; i < $MEM_KEYS; i++) { a[1] = \"SET\"; a[2] = \"key:\" i; a[3] = sprintf(\"%016d\", i); cmd(a, 3) } }")
    ;;
types)
    # Collections get 100 elements per command; the small hashes one HSET of 10 fields each.
    big() { # label cmd key member-expr [score]
        echo "$MEM_ELEMS-element $1|$MEM_ELEMS|1|BEGIN { for (i = 0; i < $MEM_ELEMS; i += 100) { n = 2; a[1] = \"$2\"; a[2] = \"$3\"; for (j = i; j < i + 100 && j < $MEM_ELEMS; j++) { $4 } cmd(a, n) } }"
    }
    MEM_CASES=(
        "$(big list RPUSH biglist 'a[++n] = "element:" j')"
        "$(big hash HSET bighash 'a[++n] = "field:" j; a[++n] = "value:" j')"
        "$(big set SADD bigset 'a[++n] = "member:" j')"
        "$(big "sorted set" ZADD bigzset 'a[++n] = j; a[++n] = "member:" j')"
        "$MEM_SMALL hashes of 10 fields|$((MEM_SMALL * 10))|$MEM_SMALL|BEGIN { for (i = 0; i < $MEM_SMALL; i++) { n = 2; a[1] = \"HSET\"; a[2] = \"hash:\" i; for (f = 0; f < 10; f++) { a[++n] = \"field\" f; a[++n] = \"value:\" i } cmd(a, n) } }"
    )
    ;;
esac

declare -A MEM   # [server,case] -> "dbsize|rss0|rss1|um0|um1" or "died"
mem_one() { # server case-index
    local s=$1 c=$2 label elems want prog file p out rss0 rss1 um0 um1 dbsize
    IFS='|' read -r label elems want prog <<<"${MEM_CASES[$c]}"
    file=$WORK/mem.$c.resp
    [[ -s $file ]] || awk "$resp_cmd $prog" >"$file"
    start "$s"
    p=${PORT[$s]}
    cli "$p" FLUSHALL >/dev/null || true
    sleep 1
    rss0=$(rss_kb "${PID[$s]}")
    um0=$(used_memory "$p")
    out=$(timeout "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "$p" --pipe <"$file" 2>&1 | tr -d '\r') || true
    echo "$out" >"$RAW/$s.mem.$c.pipe.txt"
    if ! alive "$s"; then
        note "$s died while loading '$label' with redis-cli --pipe: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
        tail -n 20 "$([[ $s == tern ]] && echo "$TERN_LOG" || echo "$REDIS_LOG")" >&2 || true
        MEM[$s,$c]="died"
        PID[$s]=""
        return 0
    fi
    grep -q "errors: 0," <<<"$out" || note "$s: '$label': redis-cli --pipe reported errors: $(echo "$out" | tail -n 1)"
    dbsize=$(cli "$p" DBSIZE)
    [[ $dbsize == "$want" ]] || note "$s: '$label': DBSIZE is $dbsize, expected $want"
    sleep 1
    rss1=$(rss_kb "${PID[$s]}")
    um1=$(used_memory "$p")
    MEM[$s,$c]="$dbsize|$rss0|$rss1|$um0|$um1"
    stop_server "$s"
}
if [[ -z ${SKIP_MEM:-} ]]; then
    for c in "${!MEM_CASES[@]}"; do
        log "memory: ${MEM_CASES[$c]%%|*}"
        mem_one tern "$c"
        mem_one redis "$c"
    done
fi

# ---------------------------------------------------------------------------------------------
# Report
fmt_int() { [[ -n $1 ]] && awk -v x="$1" 'BEGIN { printf "%.0f", x }' || echo "n/a"; }

TABLE_ROWS=()
for i in "${!ROWS[@]}"; do
    selected "$i" || continue
    IFS='|' read -r label _ _ <<<"${ROWS[$i]}"
    tr_=() rr_=() tc_=() rc_=() ratios=()
    for ((r = 1; r <= ROUNDS; r++)); do
        t=${RPS[tern,$i,$r]:-} d=${RPS[redis,$i,$r]:-}
        [[ -n $t ]] && tr_+=("$t") && tc_+=("${CPU[tern,$i,$r]}")
        [[ -n $d ]] && rr_+=("$d") && rc_+=("${CPU[redis,$i,$r]}")
        [[ -n $t && -n $d ]] && ratios+=("$(awk -v a="$t" -v b="$d" 'BEGIN { printf "%.4f", a / b }')")
    done
    tm=$(median "${tr_[@]+"${tr_[@]}"}") rm_=$(median "${rr_[@]+"${rr_[@]}"}")
    ratio=$(median "${ratios[@]+"${ratios[@]}"}")
    tcm=$(median "${tc_[@]+"${tc_[@]}"}") rcm=$(median "${rc_[@]+"${rc_[@]}"}")
    ok_t="${#tr_[@]}/$ROUNDS" ok_r="${#rr_[@]}/$ROUNDS"
    TABLE_ROWS+=("$label|${ROW_N[$i]:-?}|$(fmt_int "$tm")|$(fmt_int "$rm_")|$([[ -n $ratio ]] && printf '%.2f' "$ratio" || echo n/a)|$([[ -n $tcm ]] && printf '%.2f' "$tcm" || echo n/a)|$([[ -n $rcm ]] && printf '%.2f' "$rcm" || echo n/a)|$ok_t|$ok_r")
done

per_elem() { # server case field(rss|um) -> bytes per element, or n/a
    local v=${MEM[$1,$2]:-} elems
    IFS='|' read -r _ elems _ _ <<<"${MEM_CASES[$2]}"
    [[ -n $v && $v != died ]] || { echo "n/a"; return; }
    IFS='|' read -r _ rss0 rss1 um0 um1 <<<"$v"
    case $3 in
        rss) awk -v a="$rss0" -v b="$rss1" -v n="$elems" 'BEGIN { printf "%.1f", (b - a) * 1024 / n }' ;;
        um) [[ -n $um0 && -n $um1 ]] && awk -v a="$um0" -v b="$um1" -v n="$elems" 'BEGIN { printf "%.1f", (b - a) / n }' || echo "n/a" ;;
    esac
}
ratio_of() { [[ $1 != n/a && $2 != n/a ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "n/a"; }
MEM_ROWS=()
for c in "${!MEM_CASES[@]}"; do
    [[ -n ${SKIP_MEM:-} ]] && break
    IFS='|' read -r label _ <<<"${MEM_CASES[$c]}"
    tu=$(per_elem tern "$c" um) ru=$(per_elem redis "$c" um) trs=$(per_elem tern "$c" rss) rrs=$(per_elem redis "$c" rss)
    MEM_ROWS+=("$label|$tu|$ru|$(ratio_of "$tu" "$ru")|$trs|$rrs|$(ratio_of "$trs" "$rrs")")
done

HDR="row|-n|tern ops/s|redis ops/s|tern/redis|tern CPU-s/Mops|redis CPU-s/Mops|tern ok|redis ok"
MHDR="data|tern used_memory B/elem|redis used_memory B/elem|tern/redis|tern RSS B/elem|redis RSS B/elem|tern/redis"

print_text() {
    echo
    echo "Throughput (median of $ROUNDS alternating rounds; tern/redis = median of per-round ratios)"
    { echo "$HDR"; printf '%s\n' "${TABLE_ROWS[@]}"; } | column -t -s '|'
    if [[ -z ${SKIP_MEM:-} ]]; then
        echo
        echo "Memory (growth per element over a fresh server, data loaded with redis-cli --pipe)"
        { echo "$MHDR"; printf '%s\n' "${MEM_ROWS[@]}"; } | column -t -s '|'
    fi
    if ((${#NOTES[@]})); then
        echo
        echo "Notes:"
        printf '  - %s\n' "${NOTES[@]}"
    fi
}

md_table() { # header rows...
    local h=$1; shift
    echo "| ${h//|/ | } |"
    echo "|$(awk -F'|' '{ for (i = 1; i <= NF; i++) printf "---|" }' <<<"$h")"
    local row
    for row in "$@"; do echo "| ${row//|/ | } |"; done
}

GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || GIT_REV="$GIT_REV (dirty)"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

{
    echo "# Tern vs redis-server benchmark ($SUITE)"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); tern $GIT_REV ($TERN_VERSION); redis-server $REDIS_VERSION"
    echo "- machine: $(nproc) CPUs, $CPU_MODEL; kernel $(uname -r)"
    echo "- servers pinned to CPU $SERVER_CPU, redis-benchmark to CPU $CLIENT_CPU; rounds=$ROUNDS; N_SCALE=$N_SCALE; -r 1000000, -c 50"
    echo "- command: \`SUITE=$SUITE ROUNDS=$ROUNDS N_SCALE=$N_SCALE${ONLY:+ ONLY='$ONLY'}${SKIP_MEM:+ SKIP_MEM=1} bench/run.sh\`"
    echo
    echo "## Throughput"
    echo
    echo "ops/s: median of the rounds; tern/redis: median of the per-round ratios; CPU-s/Mops: server"
    echo "utime+stime per million commands (an MSET of 10 keys is one command)."
    echo
    md_table "$HDR" "${TABLE_ROWS[@]}"
    if [[ -z ${SKIP_MEM:-} ]]; then
        echo
        echo "## Memory"
        echo
        echo "Each case loaded with \`redis-cli --pipe\` into freshly started servers; growth over the"
        echo "empty-server baseline, per element (per key for string keys, per field for the small hashes)."
        echo
        md_table "$MHDR" "${MEM_ROWS[@]}"
    fi
    if ((${#NOTES[@]})); then
        echo
        echo "## Notes"
        echo
        printf -- '- %s\n' "${NOTES[@]}"
    fi
} >"$RESULTS/latest-$SUITE.md"

print_text
echo
echo "(markdown: $RESULTS/latest-$SUITE.md; raw redis-benchmark output: $RAW/)"
