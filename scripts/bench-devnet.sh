#!/usr/bin/env bash
# Committed throughput of a release-built devnet and what it costs: brings
# up `devnet.sh up --release --validators V` in a scratch directory, runs
# `aegisd loadtest` with the standard profile (20,000 transfers, async,
# JSON-RPC batches of 10, from 100 accounts funded by the faucet) against
# node 0, prints its report, then the CPU time (utime + stime from
# /proc/<pid>/stat, before and after the run) per committed tx of aegisd
# and of cometbft, and their peak resident memory (VmHWM).
#   scripts/bench-devnet.sh [--validators V] [--txs N] [--accounts K] [--batch B]
#                           [--concurrency C] [--mode async|sync] [--base-port P]
#                           [--tx-index kv|null]
# --tx-index null: CometBFT indexes nothing (as many validators run); the load
# generator waits for its funding txs in the blocks, so it needs no index.
# env: AEGISD_BIN (skip the release build; it serves the nodes and the client).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VALIDATORS=1
TXS=20000
ACCOUNTS=100
BATCH=10
CONCURRENCY=8
MODE=async
TX_INDEX=kv
BASE_PORT=26600
while [ $# -gt 0 ]; do
  case "$1" in
    --validators) VALIDATORS="$2"; shift 2 ;;
    --txs) TXS="$2"; shift 2 ;;
    --accounts) ACCOUNTS="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --tx-index) TX_INDEX="$2"; shift 2 ;;
    --base-port) BASE_PORT="$2"; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

DIR="$(mktemp -d)"
NET="$DIR/devnet"
cleanup() { "$ROOT/scripts/devnet.sh" down --dir "$NET" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

echo "bench-devnet: devnet.sh up --release --validators $VALIDATORS --tx-index $TX_INDEX (build and start)" >&2
"$ROOT/scripts/devnet.sh" up --release --validators "$VALIDATORS" --tx-index "$TX_INDEX" --dir "$NET" --base-port "$BASE_PORT" >"$DIR/up.log" 2>&1 || {
  tail -n 30 "$DIR/up.log" >&2
  exit 1
}
if [ -n "${AEGISD_BIN:-}" ]; then
  AEGISD="$AEGISD_BIN"
else
  target="${CARGO_TARGET_DIR:-target}"
  [[ "$target" = /* ]] || target="$ROOT/$target"
  AEGISD="$target/release/aegisd"
fi
read -r RPC GRPC < <(python3 -c 'import json, sys
n = json.load(open(sys.argv[1]))["chains"][0]["nodes"][0]
print(n["rpc"], n["grpc"])' "$NET/endpoints.json")

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
declare -A START
while read -r pid name; do START[$pid]="$(ticks "$pid")"; done <"$NET/pids"

# The client's own CPU (signing included) from getrusage of the child.
python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[2:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(str(u.ru_utime + u.ru_stime))
sys.exit(r.returncode)' "$DIR/client-cpu" "$AEGISD" loadtest --rpc "$RPC" --grpc "$GRPC" --home "$NET/node0" --from faucet \
  --txs "$TXS" --accounts "$ACCOUNTS" --mode "$MODE" --batch "$BATCH" --concurrency "$CONCURRENCY" \
  --output text --save "$DIR/report.json"

python3 - "$NET/pids" "$(getconf CLK_TCK)" "$DIR/report.json" "$VALIDATORS" "$DIR/client-cpu" <<EOF_PY
import json, sys
pids_file, hz, report, validators = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3])), int(sys.argv[4])
client_cpu = float(open(sys.argv[5]).read())
start = {$(for pid in "${!START[@]}"; do printf '%s: %s, ' "$pid" "${START[$pid]}"; done)}
committed = report["committed"]
roles = {}
for line in open(pids_file):
    parts = line.split()
    if len(parts) < 2:
        continue
    pid, name = int(parts[0]), parts[1]
    role = "aegisd" if name.endswith("-aegisd") else "cometbft" if name.endswith("-cometbft") else None
    if role is None:
        continue
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(stat[11]) + int(stat[12])
    hwm = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM:"))
    r = roles.setdefault(role, {"cpu_s": 0.0, "hwm_kib": 0})
    r["cpu_s"] += (ticks - start.get(pid, ticks)) / hz
    r["hwm_kib"] = max(r["hwm_kib"], hwm)
print()
print(f"CPU during the run ({validators} validator(s); {committed} txs committed):")
print(f"{'process':10} {'CPU s (all nodes)':>18} {'ms per committed tx per node':>30} {'peak RSS MiB (max)':>19}")
for role in ("aegisd", "cometbft"):
    r = roles.get(role, {"cpu_s": 0.0, "hwm_kib": 0})
    per_tx = r["cpu_s"] * 1000 / committed / validators if committed else float("nan")
    print(f"{role:10} {r['cpu_s']:18.2f} {per_tx:30.3f} {r['hwm_kib'] / 1024:19.1f}")
if committed:
    print(f"{'loadtest':10} {client_cpu:18.2f} {client_cpu * 1000 / committed:30.3f}   (the client, signing included; per tx, not per node)")
EOF_PY

# Every node must agree on the state the load produced: the app hash in the
# header after the last load block, read from each node once it has it.
python3 - "$NET/endpoints.json" "$DIR/report.json" <<'EOF_PY'
import json, sys, time, urllib.request
nodes = json.load(open(sys.argv[1]))["chains"][0]["nodes"]
h = json.load(open(sys.argv[2]))["last_height"] + 1
def app_hash(rpc):
    for _ in range(100):
        try:
            return json.load(urllib.request.urlopen(f"{rpc}/block?height={h}", timeout=5))["result"]["block"]["header"]["app_hash"]
        except Exception:
            time.sleep(0.2)
    return None
hashes = {n["rpc"]: app_hash(n["rpc"]) for n in nodes}
if None in hashes.values() or len(set(hashes.values())) != 1:
    print(f"\napp hash at height {h} DIFFERS between nodes: {hashes}")
    sys.exit(1)
print(f"\napp hash at height {h}, the same on all {len(nodes)} node(s): {next(iter(hashes.values()))}")
EOF_PY
