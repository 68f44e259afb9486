#!/usr/bin/env bash
# The Hoist figures of docs/benchmarks.md: every scenario against a fresh broker, REPS times,
# then the median (min-max) of each. One broker per run (a new temp data dir), started the way a
# user starts it (the packaged jar, `serve`, --fsync always unless FSYNC says otherwise).
#
# Before each measured run the same scenario runs, unrecorded, on the same broker (WARMUP_JOBS
# jobs; for w3 and w3s WARMUP_SECONDS at the same rate), again and again until the broker's JIT
# compiler threads used at most 2 % of a pass (at most WARMUP_PASSES passes), so that the figures
# are those of a broker whose JIT has settled, as a broker that has been up a while: one pass left
# C2 compiling through the measured run, on the cores the load shares. WARMUP_PASSES=1 is the
# single pass of earlier sessions; WARMUP_JOBS=0 measures a cold JVM. The load generator runs with CLIENT_JAVA_OPTS, by default those of
# bin/hoist-loadtest (C1 only): run the peers' harness with the same JVM options
# (JAVA_OPTS="$CLIENT_JAVA_OPTS" for bench-peers) so that both sides have the same client.
#
# Usage: loadtest/scripts/bench.sh [OUT_DIR]     (default /tmp/hoist-bench)
#   REPS (3), JOBS (200000), FSYNC (always), SCENARIOS ("w1 w1s w1b w1b64 w2raw w2stream w2sdk w3 w3s"), W3_SECONDS (20),
#   WARMUP_JOBS (400000), WARMUP_SECONDS (30), WARMUP_PASSES (8), CLIENT_JAVA_OPTS, GRPC_PORT (17570), HTTP_PORT (17571),
#   BROKER_JAVA_OPTS (JVM options for the broker, e.g. GC logging), BROKER_JAR and LOADTEST_JAR (other builds, for an A/B)
# Needs broker/target/hoist.jar and loadtest/target/hoist-loadtest.jar
# (./mvnw -B -DskipTests package), curl and jq. Run nothing else on the machine meanwhile.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-/tmp/hoist-bench}"
REPS="${REPS:-3}" JOBS="${JOBS:-200000}" FSYNC="${FSYNC:-always}"
WARMUP_JOBS="${WARMUP_JOBS:-400000}" WARMUP_SECONDS="${WARMUP_SECONDS:-30}" WARMUP_PASSES="${WARMUP_PASSES:-8}"
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

# CPU ticks the broker's JIT compiler threads have used so far (Linux /proc)
jit_cpu_ticks() {
  local t comm sum=0
  for t in /proc/"$pid"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    case "$comm" in "C1 CompilerThre"* | "C2 CompilerThre"*) ;; *) continue ;; esac
    # after the "(comm)" field: state is field 3, utime 14, stime 15
    read -r -a f <<< "$(sed 's/^.*) //' "$t/stat" 2>/dev/null)" || continue
    sum=$((sum + f[11] + f[12]))
  done
  echo "$sum"
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
    passes=0
    while [ "$WARMUP_JOBS" -gt 0 ] && [ "$passes" -lt "$WARMUP_PASSES" ]; do
      passes=$((passes + 1))
      echo "== $scenario rep $rep, warm-up $passes: hoist-loadtest $(args_for "$scenario" "$WARMUP_JOBS" "$WARMUP_SECONDS")" >&2
      jit0=$(jit_cpu_ticks) t0=$(date +%s%N)
      # shellcheck disable=SC2046,SC2086
      java $CLIENT_JAVA_OPTS -jar "$loadtest_jar" $(args_for "$scenario" "$WARMUP_JOBS" "$WARMUP_SECONDS") --broker "127.0.0.1:$GRPC_PORT" \
        --json > /dev/null
      jit_ms=$(( ($(jit_cpu_ticks) - jit0) * 1000 / $(getconf CLK_TCK) )) wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
      echo "   the broker's JIT compilers: ${jit_ms} ms of CPU in ${wall_ms} ms" >&2
      # settled: the compilers used at most 2 % of the pass (a broker that has been up a while)
      [ $((jit_ms * 50)) -gt "$wall_ms" ] || break
    done
    echo "== $scenario rep $rep: hoist-loadtest $(args_for "$scenario" "$JOBS" "${W3_SECONDS:-20}")" >&2
    jit0=$(jit_cpu_ticks)
    # shellcheck disable=SC2046,SC2086
    run=$(java $CLIENT_JAVA_OPTS -jar "$loadtest_jar" $(args_for "$scenario" "$JOBS" "${W3_SECONDS:-20}") --broker "127.0.0.1:$GRPC_PORT" --json)
    jit_ms=$(( ($(jit_cpu_ticks) - jit0) * 1000 / $(getconf CLK_TCK) ))
    jq -c --arg s "$scenario" --arg r "$rep" --arg f "$FSYNC" --arg w "$WARMUP_JOBS" --arg p "$passes" --arg j "$jit_ms" \
        --arg c "$CLIENT_JAVA_OPTS" \
        '. + {bench: $s, rep: ($r | tonumber), fsync: $f, warmup_jobs: ($w | tonumber), warmup_passes: ($p | tonumber),
              broker_jit_cpu_ms: ($j | tonumber), client_java_opts: $c}' <<< "$run" >> "$results"
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
