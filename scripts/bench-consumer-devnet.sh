#!/usr/bin/env bash
# What a consumer chain costs its validators on a devnet: brings up
# `devnet.sh up --validators V --consumers M` in a scratch directory, lets it
# run WARMUP seconds, then samples every process's CPU time (utime+stime from
# /proc/<pid>/stat) over SECONDS seconds and its resident memory (VmRSS) at
# the end, and prints them per process and per role (provider node, consumer
# node = aegisd + cometbft of one validator on one consumer, relayer).
#   scripts/bench-consumer-devnet.sh [--validators V] [--consumers M] [--seconds S] [--warmup W]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VALIDATORS=4
CONSUMERS=2
SECONDS_SAMPLED=60
WARMUP=20
while [ $# -gt 0 ]; do
  case "$1" in
    --validators) VALIDATORS="$2"; shift 2 ;;
    --consumers) CONSUMERS="$2"; shift 2 ;;
    --seconds) SECONDS_SAMPLED="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

DIR="$(mktemp -d)"
export AEGIS_DEVNET_DIR="$DIR/devnet"
cleanup() { "$ROOT/scripts/devnet.sh" down --dir "$AEGIS_DEVNET_DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

"$ROOT/scripts/devnet.sh" up --validators "$VALIDATORS" --consumers "$CONSUMERS" --dir "$AEGIS_DEVNET_DIR" >"$DIR/up.log" 2>&1 || {
  tail -n 30 "$DIR/up.log" >&2
  exit 1
}
sleep "$WARMUP"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
HZ="$(getconf CLK_TCK)"

declare -A START
while read -r pid name; do START[$pid]="$(ticks "$pid")"; done <"$AEGIS_DEVNET_DIR/pids"
sleep "$SECONDS_SAMPLED"

python3 - "$AEGIS_DEVNET_DIR/pids" "$HZ" "$SECONDS_SAMPLED" "$VALIDATORS" "$CONSUMERS" <<EOF
import re, sys
pids_file, hz, secs, validators, consumers = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
start = {$(for pid in "${!START[@]}"; do printf '%s: %s, ' "$pid" "${START[$pid]}"; done)}
rows = []
for line in open(pids_file):
    parts = line.split()
    if len(parts) < 2:
        continue
    pid, name = int(parts[0]), parts[1]
    try:
        stat = open(f"/proc/{pid}/stat").read().split()
        ticks = int(stat[13]) + int(stat[14])
        rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
    except (FileNotFoundError, StopIteration):
        continue
    cpu = (ticks - start.get(pid, ticks)) / hz / secs * 100
    rows.append((name, cpu, rss / 1024))
def role(name):
    if "relayer" in name:
        return "relayer"
    return "consumer node" if "consumer" in name else "provider node"
print(f"devnet: {validators} validators, {consumers} consumers; CPU over {secs:.0f} s, RSS at the end")
print(f"{'process':40} {'CPU %':>7} {'RSS MiB':>8}")
for name, cpu, rss in sorted(rows):
    print(f"{name:40} {cpu:7.2f} {rss:8.1f}")
groups = {}
for name, cpu, rss in rows:
    g = groups.setdefault(role(name), [0.0, 0.0, 0])
    g[0] += cpu; g[1] += rss; g[2] += 1
print()
print(f"{'role':16} {'processes':>9} {'CPU % total':>12} {'RSS MiB total':>14}")
for r, (cpu, rss, n) in sorted(groups.items()):
    print(f"{r:16} {n:9d} {cpu:12.2f} {rss:14.1f}")
nodes = [(cpu, rss) for name, cpu, rss in rows if role(name) == "consumer node"]
if nodes:
    # One validator's consumer node is its aegisd + its cometbft.
    pairs = len(nodes) / 2
    print(f"\nper consumer node (aegisd + cometbft): {sum(c for c, _ in nodes) / pairs:.2f}% of a core, {sum(r for _, r in nodes) / pairs:.1f} MiB")
EOF
