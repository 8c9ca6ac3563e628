#!/usr/bin/env bash
# bench/partition.sh — issue 6's partition measurement: a tern primary and a tern replica on two
# hosts made of network namespaces (a veth pair), 10,000 writes/s on the primary, the link cut
# by iptables for PARTITION_S seconds (default 600), then healed. Reports whether the replica
# came back with a partial resync (sync_full / sync_partial_ok on the primary), how long it took
# to catch up, the backlog size it needed, and whether the datasets ended equal (DEBUG DIGEST).
# Needs root (ip netns, iptables). Everything it creates is removed at exit.
#
# Environment: PARTITION_S=600, RATE=10000 (writes/s), BACKLOG=2gb, TERN_BIN=...,
# CARGO_TARGET_DIR, RESULTS_DIR (default bench/results).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PARTITION_S=${PARTITION_S:-600}
RATE=${RATE:-10000}
BACKLOG=${BACKLOG:-2gb}
RESULTS=${RESULTS_DIR:-$ROOT/bench/results}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
tern_bin
P=tp$$p
R=tp$$r
WORK=$(mktemp -d /tmp/tern-partition.XXXXXX)
cleanup() {
    ip netns pids "$P" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns pids "$R" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$P" 2>/dev/null || true
    ip netns del "$R" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$P"
ip netns add "$R"
ip link add "${P}v" type veth peer name "${R}v"
ip link set "${P}v" netns "$P"
ip link set "${R}v" netns "$R"
ip -n "$P" addr add 10.78.0.1/24 dev "${P}v"
ip -n "$R" addr add 10.78.0.2/24 dev "${R}v"
for ns in "$P" "$R"; do
    ip -n "$ns" link set lo up
done
ip -n "$P" link set "${P}v" up
ip -n "$R" link set "${R}v" up

cli() { ip netns exec "$1" redis-cli -h "$2" "${@:3}"; }
field() { cli "$1" "$2" INFO "$3" | tr -d '\r' | awk -F: -v f="$4" '$1 == f { print $2 }'; }

mkdir -p "$WORK/p" "$WORK/r"
common=(--protected-mode no --port 6379 --save "" --repl-backlog-size "$BACKLOG" --repl-backlog-memory 16mb --repl-timeout 60 --enable-debug-command yes)
ip netns exec "$P" "$TERN_BIN" server --bind 10.78.0.1 --dir "$WORK/p" "${common[@]}" >"$WORK/p/log" 2>&1 &
ip netns exec "$R" "$TERN_BIN" server --bind 10.78.0.2 --dir "$WORK/r" "${common[@]}" >"$WORK/r/log" 2>&1 &
sleep 1
cli "$R" 10.78.0.2 REPLICAOF 10.78.0.1 6379 >/dev/null
until [[ $(field "$R" 10.78.0.2 replication master_link_status) == up ]]; do sleep 0.2; done

# A paced writer: RATE SETs per second in pipelined batches every 10 ms, until told to stop.
ip netns exec "$P" python3 - "$RATE" "$WORK/stop" >"$WORK/writer.log" 2>&1 <<'PY' &
import os, sys, time, redis
rate, stop = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(host="10.78.0.1", port=6379)
per_tick, n, t = max(1, rate // 100), 0, time.perf_counter()
while not os.path.exists(stop):
    p = r.pipeline(transaction=False)
    for _ in range(per_tick):
        p.set(f"k:{n % 1000000}", n)
        n += 1
    p.execute()
    t += 0.01
    time.sleep(max(0.0, t - time.perf_counter()))
print(n)
PY
writer=$!
sleep 10
full_before=$(field "$P" 10.78.0.1 stats sync_full)
partial_before=$(field "$P" 10.78.0.1 stats sync_partial_ok)
off_cut=$(field "$P" 10.78.0.1 replication master_repl_offset)
echo "== cutting the link for ${PARTITION_S}s at offset $off_cut" >&2
ip netns exec "$R" iptables -I INPUT -s 10.78.0.1 -j DROP
ip netns exec "$R" iptables -I OUTPUT -d 10.78.0.1 -j DROP
sleep "$PARTITION_S"
off_heal=$(field "$P" 10.78.0.1 replication master_repl_offset)
ip netns exec "$R" iptables -D INPUT -s 10.78.0.1 -j DROP
ip netns exec "$R" iptables -D OUTPUT -d 10.78.0.1 -j DROP
t0=$(date +%s.%N)
echo "== healed at offset $off_heal ($((off_heal - off_cut)) bytes written during the cut)" >&2
touch "$WORK/stop"
wait "$writer" || true
writes=$(cat "$WORK/writer.log")
until [[ $(field "$R" 10.78.0.2 replication master_link_status) == up &&
    $(field "$R" 10.78.0.2 replication master_repl_offset) == $(field "$P" 10.78.0.1 replication master_repl_offset) ]]; do
    sleep 0.2
done
t1=$(date +%s.%N)
full_after=$(field "$P" 10.78.0.1 stats sync_full)
partial_after=$(field "$P" 10.78.0.1 stats sync_partial_ok)
dp=$(cli "$P" 10.78.0.1 DEBUG DIGEST)
dr=$(cli "$R" 10.78.0.2 DEBUG DIGEST)
mkdir -p "$RESULTS"
out=$RESULTS/latest-partition.md
{
    echo "# Partition benchmark ($(date -u +%Y-%m-%d), $(git rev-parse --short HEAD))"
    echo
    echo "- command: \`PARTITION_S=$PARTITION_S RATE=$RATE BACKLOG=$BACKLOG bench/partition.sh\`"
    echo "- writes during the run: $writes; bytes written during the cut: $((off_heal - off_cut))"
    echo "- full syncs during the cut and after: $((full_after - full_before)); partial resyncs: $((partial_after - partial_before))"
    echo "- catch-up after healing: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
    echo "- datasets equal (DEBUG DIGEST): $([[ $dp == "$dr" ]] && echo yes || echo "NO ($dp vs $dr)")"
} >"$out"
cat "$out"
