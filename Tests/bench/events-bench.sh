#!/bin/bash
# Event delivery benchmark: floods denied connections from a simulated pod
# at several rates and compares what the kernel refused, what the agent
# emitted, and what one `podgate events tail -o json` received.
#   usage: Tests/bench/events-bench.sh [RATE...]     (root; run `swift build` first)
# Prints figures; it is a measurement, not a pass/fail test.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=.build/debug/podgate
RATES=("$@"); [ ${#RATES[@]} -eq 0 ] && RATES=(1000 5000 20000 0)
SECONDS_PER_RATE=${SECONDS_PER_RATE:-3}
WORK=$(mktemp -d /tmp/podgate-bench.XXXX)
$B sim --hold Tests/scenarios/seed-walkthrough.yaml >"$WORK/hold.out" 2>"$WORK/hold.err" &
SIM=$!
cleanup() { kill -INT $SIM 2>/dev/null || true; wait $SIM 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q '^holding' "$WORK/hold.out" 2>/dev/null && break; sleep 0.2; done
grep -q '^holding' "$WORK/hold.out" || { cat "$WORK/hold.err"; exit 1; }
STATE=$(sed -n 's/^node a: .*--state-dir \([^ ]*\).*/\1/p' "$WORK/hold.out")
HTTP=$(cat "$STATE/health-address")
FRONT=$(grep '^pod demo/frontend' "$WORK/hold.out")
CGROUP=$(sed 's/.*--cgroup \([^ ]*\).*/\1/' <<<"$FRONT"); NETNS=$(sed 's/.*--netns \([^ ]*\).*/\1/' <<<"$FRONT")
BACKEND=$(grep '^pod demo/backend' "$WORK/hold.out" | awk '{print $5}')
metric() { curl -s "http://$HTTP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
printf '%-10s %9s %9s %9s %11s %9s %9s %9s\n' rate attempted refused emitted lost-kernel received skipped per-sec
for rate in "${RATES[@]}"; do
  e0=$(metric podgate_events_emitted_total); l0=$(metric 'podgate_events_lost_total{where="kernel"}')
  $B events tail --state-dir "$STATE" -o json >"$WORK/tail.json" 2>/dev/null &
  TAIL=$!
  sleep 0.5
  out=$($B sim-helper flood --cgroup "$CGROUP" --netns "$NETNS" --to "$BACKEND" --port 8080 --rate "$rate" --seconds "$SECONDS_PER_RATE")
  sleep 2
  kill $TAIL; wait $TAIL 2>/dev/null || true
  e1=$(metric podgate_events_emitted_total); l1=$(metric 'podgate_events_lost_total{where="kernel"}')
  attempted=$(awk '{print $2}' <<<"$out"); refused=$(awk '{print $4}' <<<"$out"); persec=$(sed 's/.*(\([0-9]*\) per second).*/\1/' <<<"$out")
  received=$(grep -c '"dst"' "$WORK/tail.json" || true)
  skipped=$( (grep -o '"skipped":[0-9]*' "$WORK/tail.json" || true) | awk -F: '{s+=$2} END {print s+0}')
  printf '%-10s %9s %9s %9s %11s %9s %9s %9s\n' "${rate/#0/max}" "$attempted" "$refused" $((e1-e0)) $((l1-l0)) "$received" "$skipped" "$persec"
done
