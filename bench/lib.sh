# bench/lib.sh — what every bench script starts with; sourced, not run. It sets ROOT (the
# repository, also the working directory) and defines die, log, port_in_use, pick_port and
# tern_bin. The script's name in messages is the one that sourced this file.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_NAME=bench/$(basename "${BASH_SOURCE[1]:-$0}")

die() { echo "$BENCH_NAME: error: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A loopback port nobody listens on (a server can still lose it before binding it: callers
# that start servers retry).
pick_port() {
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "no free loopback port found"
}

# Sets TERN_BIN: as given, or a release build (into CARGO_TARGET_DIR, default target; the
# workspace release profile keeps debug symbols, which callgrind and perf use).
tern_bin() {
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
    if [[ -z ${TERN_BIN:-} ]]; then
        log "building tern (release) into $CARGO_TARGET_DIR"
        cargo build --release -p tern >&2 || die "cargo build --release -p tern failed"
        case $CARGO_TARGET_DIR in
            /*) TERN_BIN=$CARGO_TARGET_DIR/release/tern ;;
            *) TERN_BIN=$ROOT/$CARGO_TARGET_DIR/release/tern ;;
        esac
    fi
    [[ -x $TERN_BIN ]] || die "tern binary not found at $TERN_BIN"
}
