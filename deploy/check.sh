#!/usr/bin/env bash
# Checks the files in deploy/:
#   - the Prometheus config and alert rules (promtool check config / check rules),
#   - the alert rules' unit tests (promtool test rules),
#   - the Grafana dashboard (valid JSON; every PromQL query in it parses),
#   - the Kubernetes manifests (kubectl kustomize renders them; skipped without kubectl),
#   - the systemd unit (systemd-analyze verify; skipped without it),
#   - with a URL argument, a running broker's metrics (promtool check metrics must print nothing).
#
#   deploy/check.sh                                   the static checks
#   deploy/check.sh http://127.0.0.1:7071/metrics     also lint a live broker's /metrics
#   deploy/check.sh FILE                              also lint a saved scrape (CI: one taken after traffic by the tests)
#
# promtool comes from Debian's `prometheus` package, installed here when it is missing (needs
# root or sudo and apt-get). The package's service is kept from starting during the install.
# Ends with "N passed, N failed"; exits non-zero if any check failed.
set -euo pipefail

deploy="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$deploy/.."
metrics_url="${1:-}"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; }
skip() { echo "skip  $1"; }

# check NAME CMD...: runs CMD, prints its output only when it fails.
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "$name"
  else
    fail "$name"
    printf '%s\n' "$out" | sed 's/^/      /'
  fi
}

install_promtool() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "check.sh: promtool is missing; install the 'prometheus' package (needs root)" >&2; return 1; }
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || { echo "check.sh: promtool is missing and there is no apt-get; install promtool yourself" >&2; return 1; }
  echo "check.sh: installing Debian's prometheus package for promtool..." >&2
  # policy-rc.d exit 101 = "do not start services": the package's prometheus.service stays down.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    created=1
  fi
  local rc=0 log
  log="$(mktemp)"
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  } >"$log" 2>&1 || rc=$?
  if [ "$created" = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi
  if [ "$rc" != 0 ]; then tail -n 30 "$log" >&2; fi
  rm -f "$log"
  return "$rc"
}

if ! command -v promtool >/dev/null; then
  install_promtool
  hash -r
fi
command -v promtool >/dev/null || { echo "check.sh: promtool is still missing after the install" >&2; exit 1; }
echo "using $(promtool --version 2>&1 | head -n 1)"

check "prometheus config      deploy/prometheus/prometheus.yml" \
  promtool check config deploy/prometheus/prometheus.yml
check "alert rules            deploy/prometheus/hoist-alerts.yml" \
  promtool check rules deploy/prometheus/hoist-alerts.yml
check "alert rule unit tests  deploy/prometheus/hoist-alerts.test.yml" \
  promtool test rules deploy/prometheus/hoist-alerts.test.yml

check "dashboard is JSON      deploy/grafana/hoist-dashboard.json" \
  python3 -m json.tool deploy/grafana/hoist-dashboard.json

# Every query of the dashboard, with Grafana's variables filled in, goes into a throwaway rule
# file as a recording rule: `promtool check rules` then parses each one as PromQL.
dashboard_queries_parse() {
  local tmp rc=0
  tmp="$(mktemp -d)"
  python3 - deploy/grafana/hoist-dashboard.json "$tmp/queries.yml" <<'PY' || rc=$?
import json, sys
dash = json.load(open(sys.argv[1]))
subst = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
         "$instance": ".*", "$queue": ".*", "${instance}": ".*", "${queue}": ".*"}
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
rules = []
for p in panels(dash.get("panels", [])):
    for t in p.get("targets", []):
        expr = t.get("expr")
        if not expr:
            continue
        for k in sorted(subst, key=len, reverse=True):
            expr = expr.replace(k, subst[k])
        rules.append({"record": "dashboard:query:%d" % len(rules), "expr": expr, "_panel": p.get("title")})
if not rules:
    sys.exit("no queries found in the dashboard")
with open(sys.argv[2], "w") as f:
    f.write("groups:\n- name: dashboard\n  rules:\n")
    for r in rules:
        f.write("  # panel: %s\n" % r["_panel"])
        f.write("  - record: %s\n    expr: %s\n" % (r["record"], json.dumps(r["expr"])))
print("%d queries" % len(rules))
PY
  if [ "$rc" = 0 ]; then
    promtool check rules "$tmp/queries.yml" || rc=$?
  fi
  rm -rf "$tmp"
  return "$rc"
}
check "dashboard PromQL parses deploy/grafana/hoist-dashboard.json" dashboard_queries_parse

if command -v kubectl >/dev/null; then
  check "kustomize renders      deploy/kubernetes/" kubectl kustomize deploy/kubernetes
else
  skip "kustomize renders      deploy/kubernetes/ (no kubectl)"
fi

# systemd-analyze verify needs the unit's binary to exist; on a machine without Java it would
# only complain about /usr/bin/java.
if command -v systemd-analyze >/dev/null && [ -x /usr/bin/java ]; then
  verify_unit() {
    local out
    out="$(systemd-analyze verify deploy/systemd/hoist.service 2>&1)" || { printf '%s\n' "$out"; return 1; }
    # verify exits 0 on some warnings about the unit itself; treat any line naming it as a failure
    if printf '%s\n' "$out" | grep -q 'hoist.service'; then printf '%s\n' "$out"; return 1; fi
  }
  check "systemd unit           deploy/systemd/hoist.service" verify_unit
else
  skip "systemd unit           deploy/systemd/hoist.service (no systemd-analyze or no /usr/bin/java)"
fi

if [ -n "$metrics_url" ]; then
  lint_live_metrics() {
    local body out
    if [ -f "$metrics_url" ]; then
      body="$(cat "$metrics_url")"
    else
      body="$(curl -fsS --max-time 10 "$metrics_url")" || return 1
    fi
    [ -n "$body" ] || { echo "empty answer from $metrics_url"; return 1; }
    # promtool check metrics prints one line per problem; a clean exposition prints nothing
    out="$(printf '%s\n' "$body" | promtool check metrics 2>&1)" || { printf '%s\n' "$out"; return 1; }
    [ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
  }
  check "live metrics lint      $metrics_url" lint_live_metrics
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
