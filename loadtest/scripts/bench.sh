#!/usr/bin/env bash
# The Hoist figures of docs/benchmarks.md: every scenario against a fresh broker, REPS times,
# then the median (min-max) of each. One broker per run (a new temp data dir), started the way a
# user starts it (the packaged jar, `serve`, --fsync always unless FSYNC says otherwise).
#
# Before each measured run the same scenario runs once, unrecorded, on the same broker (WARMUP_JOBS
# jobs; for w3 and w3s WARMUP_SECONDS at the same rate), so that the figures are those of a broker whose JIT
# has compiled its hot paths, as a broker that has been up for a minute; WARMUP_JOBS=0 measures a
# cold JVM instead. The load generator runs with CLIENT_JAVA_OPTS, by default those of
# bin/hoist-loadtest (C1 only): run the peers' harness with the same JVM options
# (JAVA_OPTS="$CLIENT_JAVA_OPTS" for bench-peers) so that both sides have the same client.
#
# Usage: loadtest/scripts/bench.sh [OUT_DIR]     (default /tmp/hoist-bench)
#   REPS (3), JOBS (200000), FSYNC (always), SCENARIOS ("w1 w1s w1b w1b64 w2raw w2stream w2sdk w3 w3s"), W3_SECONDS (20),
#   WARMUP_JOBS (400000), WARMUP_SECONDS (30), CLIENT_JAVA_OPTS, GRPC_PORT (17570), HTTP_PORT (17571),
#   BROKER_JAVA_OPTS (JVM options for the broker, e.g. GC logging), BROKER_JAR and LOADTEST_JAR (other builds, for an A/B)
# Needs broker/target/hoist.jar and loadtest/target/hoist-loadtest.jar
# (./mvnw -B -DskipTests package), curl and jq. Run nothing else on the machine meanwhile.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-/tmp/hoist-bench}"
REPS="${REPS:-3}" JOBS="${JOBS:-200000}" FSYNC="${FSYNC:-always}"
WARMUP_JOBS="${WARMUP_JOBS:-400000}" WARMUP_SECONDS="${WARMUP_SECONDS:-30}"
CLIENT_JAVA_OPTS="${CLIENT_JAVA_OPTS:--Xms1g -Xmx2g -XX:+UseParallelGC -XX:TieredStopAtLevel=1}"
SCENARIOS="${SCENARIOS:-w1 w1s w1b w1b64 w2raw w2stream w2sdk w3 w3s}"
GRPC_PORT="${GRPC_PORT:-17570}" HTTP_PORT="${HTTP_PORT:-17571}"
broker_jar="${BROKER_JAR:-$root/broker/target/hoist.jar}"
loadtest_jar="${LOADTEST_JAR:-$root/loadtest/target/hoist-loadtest.jar}"
for f in "$broker_jar" "$loadtest_jar"; do
  [ -f "$f" ] || { echo "missing $f: run ./mvnw -B -DskipTests package first" >&2; exit 2; }
done
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
pid=

stop_broker() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi
}
trap 'stop_broker' EXIT

start_broker() {
  local data="$1"
  # shellcheck disable=SC2086
  java ${BROKER_JAVA_OPTS:-} -jar "$broker_jar" serve --data-dir "$data" --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" \
    --fsync "$FSYNC" > "$out/broker.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" > /dev/null && return 0
    sleep 0.2
  done
  echo "the broker did not become ready; see $out/broker.log" >&2
  exit 1
}

# args_for SCENARIO JOBS SECONDS
args_for() {
  case "$1" in
    w1) echo "enqueue --jobs $2 --producers 4 --in-flight 64" ;;
    w1s) echo "enqueue --jobs $2 --producers 4 --in-flight 64 --stream" ;;
    w1b) echo "enqueue --jobs $2 --producers 4 --in-flight 1 --batch 100" ;;
    w1b64) echo "enqueue --jobs $2 --producers 4 --in-flight 64 --batch 100" ;;
    w2raw) echo "drain --jobs $2 --consumers 4 --in-flight 16 --mode raw" ;;
    w2stream) echo "drain --jobs $2 --consumers 4 --in-flight 16 --mode stream" ;;
    w2sdk) echo "drain --jobs $2 --consumers 4 --in-flight 16 --mode sdk" ;;
    w3) echo "latency --rate 2000 --duration $3 --consumers 4" ;;
    w3s) echo "latency --rate 2000 --duration $3 --consumers 4 --stream" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
  esac
}

for scenario in $SCENARIOS; do
  for rep in $(seq 1 "$REPS"); do
    data="$(mktemp -d /tmp/hoist-bench-data.XXXXXX)"
    start_broker "$data"
    if [ "$WARMUP_JOBS" -gt 0 ]; then
      echo "== $scenario rep $rep, warm-up: hoist-loadtest $(args_for "$scenario" "$WARMUP_JOBS" "$WARMUP_SECONDS")" >&2
      # shellcheck disable=SC2046,SC2086
      java $CLIENT_JAVA_OPTS -jar "$loadtest_jar" $(args_for "$scenario" "$WARMUP_JOBS" "$WARMUP_SECONDS") --broker "127.0.0.1:$GRPC_PORT" \
        --json > /dev/null
    fi
    echo "== $scenario rep $rep: hoist-loadtest $(args_for "$scenario" "$JOBS" "${W3_SECONDS:-20}")" >&2
    # shellcheck disable=SC2046,SC2086
    java $CLIENT_JAVA_OPTS -jar "$loadtest_jar" $(args_for "$scenario" "$JOBS" "${W3_SECONDS:-20}") --broker "127.0.0.1:$GRPC_PORT" --json \
      | jq -c --arg s "$scenario" --arg r "$rep" --arg f "$FSYNC" --arg w "$WARMUP_JOBS" --arg c "$CLIENT_JAVA_OPTS" \
        '. + {bench: $s, rep: ($r | tonumber), fsync: $f, warmup_jobs: ($w | tonumber), client_java_opts: $c}' \
      >> "$results"
    stop_broker
    rm -rf "$data"
  done
done

# median (min-max) per scenario: jobs/s, or the latency percentiles for w3
jq -rs '
  def med: sort | .[(length - 1) / 2 | floor];
  group_by(.bench)[] | . as $runs | $runs[0].bench as $b |
  if ($b | startswith("w3")) then
    "\($b): p50 \([$runs[].p50_ms] | med) ms, p99 \([$runs[].p99_ms] | med) ms (\([$runs[].p99_ms] | min)-\([$runs[].p99_ms] | max)), p99.9 \([$runs[].p99_9_ms] | med) ms, max \([$runs[].max_ms] | med) ms"
  else
    "\($b): \([$runs[].jobs_per_second] | med) jobs/s (\([$runs[].jobs_per_second] | min)-\([$runs[].jobs_per_second] | max))"
  end' "$results" | tee "$out/summary.txt"
