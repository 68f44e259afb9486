#!/usr/bin/env bash
# The full-disk run of docs/reliability.md ("Full disk"), by hand and repeatable.
#
# The broker's data dir is a small loop-mounted ext4 filesystem, mostly taken by a filler file.
#   A. --min-free-disk FLOOR: producers fill it under load until enqueues are refused
#      (RESOURCE_EXHAUSTED, DISK_FULL); /readyz says why; a worker still leases and acks
#      the jobs stored before.
#   B. restarted with --min-free-disk 0: producers fill it until RocksDB's write really fails
#      with ENOSPC; the broker refuses writes, serves reads, /readyz says why.
#   C. the filler is deleted: writes resume by themselves (no restart); more jobs go in.
# Then every acknowledged enqueue is counted in the store, before and after a restart.
#
# Usage: loadtest/scripts/full-disk.sh [OUT_DIR]      (as root: it mounts; default OUT_DIR /tmp/hoist-full-disk)
# Needs broker/target/hoist.jar and loadtest/target/hoist-loadtest.jar (./mvnw -B -DskipTests package),
# curl and jq. SIZE_MIB (512), FLOOR (160MiB), HEADROOM_MIB (300: free space the filler leaves),
# GRPC_PORT (17470) and HTTP_PORT (17471) change the setup. The disk is not tiny on purpose: RocksDB
# reserves ~70 MiB ahead for its log (fallocate) and frees space in steps of a 64 MiB memtable
# flush, so free space moves in steps of that size.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-/tmp/hoist-full-disk}"
size_mib="${SIZE_MIB:-512}"
floor="${FLOOR:-160MiB}"
headroom_mib="${HEADROOM_MIB:-300}"
grpc="${GRPC_PORT:-17470}"
http="${HTTP_PORT:-17471}"
mnt="$out/mnt"
broker_jar="$root/broker/target/hoist.jar"
loadtest_jar="$root/loadtest/target/hoist-loadtest.jar"
pid=""

[ "$(id -u)" = 0 ] || { echo "full-disk.sh: run as root (it mounts a loop filesystem)" >&2; exit 2; }
for f in "$broker_jar" "$loadtest_jar"; do
  [ -f "$f" ] || { echo "full-disk.sh: $f is missing: ./mvnw -B -DskipTests package" >&2; exit 2; }
done
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.log "$out"/*.txt

log() { echo "== $(date -u +%T) $*" | tee -a "$out/run.log"; }
hoist() { java -jar "$broker_jar" "$@" --broker "127.0.0.1:$grpc"; }
loadtest() { java -jar "$loadtest_jar" "$@" --broker "127.0.0.1:$grpc"; }
readyz() { curl -s -w ' [HTTP %{http_code}]' "http://127.0.0.1:$http/readyz"; echo; }
ready_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/readyz" || true; }
free_kib() { df -k --output=avail "$mnt" | tail -1 | tr -d ' '; }
disk_line() { df -h --output=size,used,avail "$mnt" | tail -1; }
metric() { curl -s "http://127.0.0.1:$http/metrics" | grep -E "^$1 " || true; }
# the status codes the broker answered an RPC with since it started (Micrometer's gRPC server metrics)
codes() { curl -s "http://127.0.0.1:$http/metrics" | grep -E "^grpc_server_processing_duration_seconds_count\{.*method=\"$1\"" \
  | sed -E 's/.*status_code="([A-Z_]+)".*\} ([0-9.E+]+)$/\1=\2/' | tr '\n' ' ' || true; }
# ready + scheduled + leased + dead of a queue, from hoist queues --json
jobs_in() { hoist queues --json | jq --arg q "$1" '[.queues[] | select(.name == $q)
  | ((.ready // "0" | tonumber) + (.scheduled // "0" | tonumber) + (.leased // "0" | tonumber) + (.dead // "0" | tonumber))] | add // 0'; }

start_broker() {
  java -jar "$broker_jar" serve --data-dir "$mnt/data" --grpc-port "$grpc" --http-port "$http" \
    --min-free-disk "$1" >>"$out/broker.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    case "$(ready_code)" in 200|503) return 0 ;; esac
    sleep 0.2
  done
  echo "full-disk.sh: the broker did not come up; see $out/broker.log" >&2
  exit 1
}
stop_broker() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
cleanup() {
  stop_broker
  mountpoint -q "$mnt" && umount "$mnt"
  rm -f "$out/disk.img"
}
trap cleanup EXIT

log "setup: ${size_mib} MiB ext4 image loop-mounted on $mnt"
mkdir -p "$mnt"
truncate -s "${size_mib}M" "$out/disk.img"
mkfs.ext4 -q -F -m 0 "$out/disk.img"
mount -o loop "$out/disk.img" "$mnt"
start_broker "$floor"
log "broker up with --min-free-disk $floor; disk (size used avail): $(disk_line)"

loadtest enqueue --queue fd-drain --jobs 300 --batch 10 --json >"$out/seed.json" 2>>"$out/loadtest.log"
seeded=$(jq .stored "$out/seed.json")
log "seeded fd-drain with $seeded jobs (for the worker to drain later)"

fill_kib=$(( $(free_kib) - headroom_mib * 1024 ))
fallocate -l "${fill_kib}K" "$mnt/filler"
log "filler of $((fill_kib / 1024)) MiB written; disk: $(disk_line)"

log "A: producers fill the disk down to the floor"
loadtest enqueue --queue fd-load --jobs 200000 --payload 4096 --batch 20 --producers 4 --in-flight 8 --timeout 120 \
  --json >"$out/a.json" 2>>"$out/loadtest.log" || true
log "A: loadtest: $(jq -c '{stored, failed, seconds}' "$out/a.json"); first error: $(grep 'enqueue failed' "$out/loadtest.log" | tail -1 | cut -c1-300)"
log "A: disk: $(disk_line); /readyz: $(readyz)"
log "A: metrics: $(metric hoist_disk_free_bytes) / $(metric hoist_disk_min_free_bytes)"
set +e
one=$(hoist enqueue fd-load probe 'one more' 2>&1); code=$?
set -e
log "A: hoist enqueue → exit $code: $one"
log "A: a worker drains fd-drain below the floor"
hoist work -q fd-drain -c 8 --max-jobs "$seeded" --exec true >"$out/work-a.log" 2>&1
log "A: fd-drain jobs left: $(jobs_in fd-drain) (of $seeded; the worker acked the rest); /readyz: $(readyz)"
log "A: status codes since start: Enqueue $(codes Enqueue)| WorkerStream $(codes WorkerStream)| Lease $(codes Lease)| Ack $(codes Ack)"

log "B: restart with --min-free-disk 0; producers fill the disk until a write fails"
stop_broker
start_broker 0
loadtest enqueue --queue fd-load --jobs 200000 --payload 4096 --batch 20 --producers 4 --in-flight 8 --timeout 120 \
  --json >"$out/b.json" 2>>"$out/loadtest.log" || true
log "B: loadtest: $(jq -c '{stored, failed, seconds}' "$out/b.json"); first error: $(grep 'enqueue failed' "$out/loadtest.log" | tail -1 | cut -c1-300)"
log "B: disk: $(disk_line); /readyz: $(readyz)"
log "B: reads still work: fd-load holds $(jobs_in fd-load) jobs"
set +e
one=$(hoist enqueue fd-load probe 'one more' 2>&1); code=$?
set -e
log "B: hoist enqueue → exit $code: $one"
log "B: status codes since the restart: Enqueue $(codes Enqueue)"

log "C: the filler is deleted"
rm -f "$mnt/filler"
freed=$(date +%s%N)
while [ "$(ready_code)" != 200 ]; do
  sleep 0.1
  if [ $(( ($(date +%s%N) - freed) / 1000000000 )) -gt 60 ]; then
    log "C: still not ready after 60 s: $(readyz)"; exit 1
  fi
done
log "C: ready again after $(( ($(date +%s%N) - freed) / 1000000 )) ms, no restart; disk: $(disk_line)"
loadtest enqueue --queue fd-load --jobs 2000 --payload 4096 --batch 20 --json >"$out/c.json" 2>>"$out/loadtest.log"
log "C: loadtest: $(jq -c '{stored, failed, seconds}' "$out/c.json")"
log "C: status codes since the restart: Enqueue $(codes Enqueue)"

acked=$(( $(jq .stored "$out/a.json") + $(jq .stored "$out/b.json") + $(jq .stored "$out/c.json") ))
in_store=$(jobs_in fd-load)
log "verify: acknowledged enqueues to fd-load: $acked; in the store: $in_store"
stop_broker
start_broker "$floor"
after_restart=$(jobs_in fd-load)
log "verify: after a restart: $after_restart; fd-drain left: $(jobs_in fd-drain)"
grep -E 'WARN|ERROR|takes writes again|reopened|almost full|disk full' "$out/broker.log" | cut -c1-400 >"$out/broker-excerpt.txt" || true
if [ "$in_store" -eq "$acked" ] && [ "$after_restart" -eq "$acked" ]; then
  log "PASS: every acknowledged enqueue is stored ($acked jobs)"
else
  log "FAIL: acknowledged $acked, stored $in_store, after restart $after_restart"
  exit 1
fi
