#!/usr/bin/env bash
# Stock-grpcurl compatibility check for an Aegis node's gRPC endpoint.
#
# Usage: grpcurl.sh <grpc host:port> <address> [signed-tx.b64]
#
# Uses `grpcurl -plaintext` with server reflection only (no .proto files):
#   - lists services and requires the bank/auth/tx/tendermint services,
#   - describes cosmos.bank.v1beta1.Query (and a request message),
#   - reads the address's uaegis balance and its account,
#   - reads the latest block and the node info,
#   - reads what IBC relayers read: staking Params, the IBC client params and
#     client list, and an ICS-20 escrow address.
# With a third argument (a file holding the base64 TxRaw bytes of a signed tx, e.g.
# from cosmjs/sign.mjs) it also Simulates it, broadcasts it (BROADCAST_MODE_SYNC),
# polls GetTx by the returned hash for up to 20 s and requires code 0.
#
# Exits 0 when every step passes; otherwise prints which step failed, the request
# and the response, and exits 1 (2 for usage / missing tools).
set -euo pipefail

DENOM=uaegis
REQUIRED_SERVICES=(
  cosmos.bank.v1beta1.Query
  cosmos.auth.v1beta1.Query
  cosmos.tx.v1beta1.Service
  cosmos.base.tendermint.v1beta1.Service
  cosmos.staking.v1beta1.Query
  ibc.core.client.v1.Query
  ibc.core.connection.v1.Query
  ibc.core.channel.v1.Query
  ibc.applications.transfer.v1.Query
)
GETTX_TIMEOUT_SECS=20

usage() {
  echo "usage: $0 <grpc host:port> <address> [signed-tx.b64]" >&2
  exit 2
}
[[ $# -ge 2 && $# -le 3 ]] || usage
TARGET=$1
ADDRESS=$2
TX_FILE=${3:-}
# Accept endpoints.json style "http://host:port" too.
TARGET=${TARGET#http://}
TARGET=${TARGET%/}

command -v python3 >/dev/null || { echo "FAIL: python3 not found" >&2; exit 2; }

find_grpcurl() {
  if command -v grpcurl >/dev/null 2>&1; then
    command -v grpcurl
    return
  fi
  local gobin gopath
  for gobin in go /usr/local/go/bin/go; do
    if command -v "$gobin" >/dev/null 2>&1; then
      gopath=$("$gobin" env GOPATH 2>/dev/null || true)
      if [[ -n $gopath && -x $gopath/bin/grpcurl ]]; then
        echo "$gopath/bin/grpcurl"
        return
      fi
    fi
  done
  if [[ -x ${HOME:-/root}/go/bin/grpcurl ]]; then
    echo "${HOME:-/root}/go/bin/grpcurl"
    return
  fi
  return 1
}
GRPCURL=$(find_grpcurl) || {
  echo "FAIL: grpcurl not found on PATH or in \$(go env GOPATH)/bin" >&2
  echo "      install: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3" >&2
  exit 2
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

OUT=""
# grpc_call <description> <grpcurl args...>: runs grpcurl, leaves stdout in $OUT, fails loudly.
grpc_call() {
  local what=$1
  shift
  local err
  err=$(mktemp)
  if ! OUT=$("$GRPCURL" -plaintext -emit-defaults -max-time 15 "$@" 2>"$err"); then
    echo "FAIL: $what" >&2
    echo "  request: grpcurl -plaintext -emit-defaults $*" >&2
    echo "  stdout: $OUT" >&2
    echo "  stderr: $(cat "$err")" >&2
    rm -f "$err"
    exit 1
  fi
  rm -f "$err"
}

# py_check <description> <python code>: runs the code with `d` = parsed $OUT (or `text` = raw
# $OUT), with extra values available as environment variables; an AssertionError fails the step.
# Whatever the code prints is echoed (use it to return values).
py_check() {
  local what=$1 code=$2
  local result
  if ! result=$(OUT="$OUT" python3 -c '
import json, os, re, sys
text = os.environ["OUT"]
try:
    d = json.loads(text)
except ValueError:
    d = None
try:
'"$(sed 's/^/    /' <<<"$code")"'
except AssertionError as e:
    print(str(e), file=sys.stderr)
    sys.exit(1)
' 2>&1); then
    echo "FAIL: $what: $result" >&2
    echo "  response: $OUT" >&2
    exit 1
  fi
  printf '%s' "$result"
}

echo "grpcurl: $GRPCURL ($("$GRPCURL" -version 2>&1 | head -n1))"
echo "target:  $TARGET"

# 1. Services via reflection.
grpc_call "list services (server reflection)" "$TARGET" list
REQUIRED=${REQUIRED_SERVICES[*]} py_check "list services" '
services = set(text.split())
missing = [s for s in os.environ["REQUIRED"].split() if s not in services]
assert not missing, "missing services: %s (got: %s)" % (missing, sorted(services))
print(", ".join(sorted(services)))' >/tmp/.grpcurl_services.$$
echo "ok   list: $(cat /tmp/.grpcurl_services.$$)"
rm -f /tmp/.grpcurl_services.$$

# 2. Describe the bank query service and a request message (needs the descriptors' dependencies).
grpc_call "describe cosmos.bank.v1beta1.Query" "$TARGET" describe cosmos.bank.v1beta1.Query
py_check "describe cosmos.bank.v1beta1.Query" '
assert "cosmos.bank.v1beta1.Query is a service" in text, "not described as a service"
for rpc in ("Balance", "AllBalances"):
    assert re.search(r"rpc %s\s*\(\s*\.cosmos\.bank\.v1beta1\.Query%sRequest\s*\)" % (rpc, rpc), text), "rpc %s missing" % rpc
'
grpc_call "describe cosmos.bank.v1beta1.QueryBalanceRequest" "$TARGET" describe cosmos.bank.v1beta1.QueryBalanceRequest
py_check "describe cosmos.bank.v1beta1.QueryBalanceRequest" '
assert "is a message" in text, "not described as a message"
assert re.search(r"string address = 1", text) and re.search(r"string denom = 2", text), "fields address=1/denom=2 missing"
'
echo "ok   describe: cosmos.bank.v1beta1.Query (Balance, AllBalances), QueryBalanceRequest (address, denom)"

# 3. Balance.
REQ=$(printf '{"address":"%s","denom":"%s"}' "$ADDRESS" "$DENOM")
grpc_call "cosmos.bank.v1beta1.Query/Balance" -d "$REQ" "$TARGET" cosmos.bank.v1beta1.Query/Balance
BALANCE=$(DENOM=$DENOM py_check "Balance" '
b = d.get("balance")
assert isinstance(b, dict), "no balance object"
assert b.get("denom") == os.environ["DENOM"], "denom is %r" % b.get("denom")
assert isinstance(b.get("amount"), str) and re.fullmatch(r"0|[1-9][0-9]*", b["amount"]), "amount is not a decimal string: %r" % b.get("amount")
print(b["amount"])')
echo "ok   Balance: $BALANCE$DENOM"

# 4. Account.
REQ=$(printf '{"address":"%s"}' "$ADDRESS")
grpc_call "cosmos.auth.v1beta1.Query/Account" -d "$REQ" "$TARGET" cosmos.auth.v1beta1.Query/Account
ACCOUNT=$(ADDRESS=$ADDRESS py_check "Account" '
a = d.get("account")
assert isinstance(a, dict), "no account object"
assert a.get("@type") == "/cosmos.auth.v1beta1.BaseAccount", "@type is %r" % a.get("@type")
assert a.get("address") == os.environ["ADDRESS"], "address is %r" % a.get("address")
for k in ("accountNumber", "sequence"):
    assert isinstance(a.get(k), str) and re.fullmatch(r"0|[1-9][0-9]*", a[k]), "%s is not a decimal string: %r" % (k, a.get(k))
pk = a.get("pubKey")
assert pk is None or pk.get("@type") == "/cosmos.crypto.secp256k1.PubKey", "pubKey type %r" % pk
print("account_number=%s sequence=%s" % (a["accountNumber"], a["sequence"]))')
echo "ok   Account: $ACCOUNT"

# 5. Latest block.
grpc_call "cosmos.base.tendermint.v1beta1.Service/GetLatestBlock" "$TARGET" cosmos.base.tendermint.v1beta1.Service/GetLatestBlock
BLOCK=$(py_check "GetLatestBlock" '
h = d["block"]["header"]
assert re.fullmatch(r"[1-9][0-9]*", h.get("height", "")), "header.height %r" % h.get("height")
assert h.get("chainId"), "header.chainId empty"
assert d.get("blockId", {}).get("hash"), "blockId.hash empty"
print(h["chainId"], h["height"])')
CHAIN_ID=${BLOCK% *}
echo "ok   GetLatestBlock: chain_id=$CHAIN_ID height=${BLOCK#* }"

# 6. Node info.
grpc_call "cosmos.base.tendermint.v1beta1.Service/GetNodeInfo" "$TARGET" cosmos.base.tendermint.v1beta1.Service/GetNodeInfo
NODE=$(CHAIN_ID=$CHAIN_ID py_check "GetNodeInfo" '
n = d.get("defaultNodeInfo")
assert isinstance(n, dict), "no defaultNodeInfo"
assert n.get("network") == os.environ["CHAIN_ID"], "network %r != chain id %r" % (n.get("network"), os.environ["CHAIN_ID"])
assert n.get("defaultNodeId"), "defaultNodeId empty"
assert isinstance(d.get("applicationVersion"), dict), "no applicationVersion"
print("network=%s node_id=%s moniker=%s comet=%s app=%s/%s" % (n["network"], n["defaultNodeId"], n.get("moniker"), n.get("version"),
      d["applicationVersion"].get("appName"), d["applicationVersion"].get("version")))')
echo "ok   GetNodeInfo: $NODE"

# 6b. Aegis's own service, described by the same reflection.
grpc_call "aegis.auth.v1.Query/Params" "$TARGET" aegis.auth.v1.Query/Params
GAS=$(py_check "aegis.auth.v1.Query/Params" '
p = d.get("params")
assert isinstance(p, dict) and isinstance(p.get("gas"), dict), "no params.gas"
assert int(p["maxTxGas"]) > 0 and int(p["gas"]["sigVerifySecp256k1"]) > 0, "zero limits"
print("max_tx_gas=%s sig_verify=%s per_message=%s" % (p["maxTxGas"], p["gas"]["sigVerifySecp256k1"], p["gas"]["perMessage"]))')
echo "ok   aegis.auth.v1.Query/Params: $GAS"
grpc_call "aegis.auth.v1.Query/NextSequence" -d "$(printf '{"address":"%s"}' "$ADDRESS")" "$TARGET" aegis.auth.v1.Query/NextSequence
NEXT=$(py_check "aegis.auth.v1.Query/NextSequence" '
assert int(d.get("nextSequence", "0")) >= int(d.get("committedSequence", "0")), "nextSequence below committedSequence: %r" % d
print("committed=%s next=%s" % (d.get("committedSequence"), d.get("nextSequence")))')
echo "ok   aegis.auth.v1.Query/NextSequence: $NEXT"

# 6c. What IBC relayers read (Hermes checks the unbonding period and the
# client types before creating clients), described by the same reflection.
grpc_call "cosmos.staking.v1beta1.Query/Params" "$TARGET" cosmos.staking.v1beta1.Query/Params
STAKING=$(DENOM=$DENOM py_check "cosmos.staking.v1beta1.Query/Params" '
p = d.get("params")
assert isinstance(p, dict), "no params"
assert re.fullmatch(r"[1-9][0-9]*s", p.get("unbondingTime", "")), "unbondingTime %r" % p.get("unbondingTime")
assert int(p.get("historicalEntries", 0)) > 0, "historicalEntries %r" % p.get("historicalEntries")
assert p.get("bondDenom") == os.environ["DENOM"], "bondDenom %r" % p.get("bondDenom")
print("unbonding_time=%s historical_entries=%s" % (p["unbondingTime"], p["historicalEntries"]))')
grpc_call "ibc.core.client.v1.Query/ClientParams" "$TARGET" ibc.core.client.v1.Query/ClientParams
py_check "ibc.core.client.v1.Query/ClientParams" '
assert d.get("params", {}).get("allowedClients") == ["07-tendermint"], "allowedClients %r" % d.get("params")'
grpc_call "ibc.core.client.v1.Query/ClientStates" "$TARGET" ibc.core.client.v1.Query/ClientStates
py_check "ibc.core.client.v1.Query/ClientStates" '
assert isinstance(d.get("clientStates"), list), "no clientStates list"'
grpc_call "ibc.applications.transfer.v1.Query/EscrowAddress" -d '{"port_id":"transfer","channel_id":"channel-0"}' "$TARGET" ibc.applications.transfer.v1.Query/EscrowAddress
ESCROW=$(py_check "ibc.applications.transfer.v1.Query/EscrowAddress" '
a = d.get("escrowAddress", "")
assert a.startswith("aegis1"), "escrowAddress %r" % a
print(a)')
echo "ok   IBC: $STAKING, allowed clients 07-tendermint, transfer/channel-0 escrow $ESCROW"

if [[ -z $TX_FILE ]]; then
  echo "PASS: grpcurl queries (no signed tx given: Simulate/BroadcastTx/GetTx skipped)"
  exit 0
fi

# 7. Simulate, broadcast and look up a signed tx.
[[ -r $TX_FILE ]] || fail "cannot read signed tx file $TX_FILE"
TX_B64=$(tr -d ' \n\r\t' <"$TX_FILE")
[[ -n $TX_B64 ]] || fail "signed tx file $TX_FILE is empty"
EXPECTED_HASH=$(TX_B64=$TX_B64 python3 -c '
import base64, hashlib, os
print(hashlib.sha256(base64.b64decode(os.environ["TX_B64"], validate=True)).hexdigest().upper())') ||
  fail "signed tx file $TX_FILE is not valid base64"

REQ=$(printf '{"tx_bytes":"%s"}' "$TX_B64")
grpc_call "cosmos.tx.v1beta1.Service/Simulate" -d "$REQ" "$TARGET" cosmos.tx.v1beta1.Service/Simulate
SIM=$(py_check "Simulate" '
g = d.get("gasInfo")
assert isinstance(g, dict), "no gasInfo"
assert re.fullmatch(r"[1-9][0-9]*", g.get("gasUsed", "")), "gasInfo.gasUsed %r" % g.get("gasUsed")
r = d.get("result")
assert isinstance(r, dict), "no result"
types = [e.get("type") for e in r.get("events", [])]
assert "transfer" in types, "no transfer event in simulation result: %s" % types
print("gas_used=%s gas_wanted=%s" % (g["gasUsed"], g.get("gasWanted")))')
echo "ok   Simulate: $SIM"

REQ=$(printf '{"tx_bytes":"%s","mode":"BROADCAST_MODE_SYNC"}' "$TX_B64")
grpc_call "cosmos.tx.v1beta1.Service/BroadcastTx" -d "$REQ" "$TARGET" cosmos.tx.v1beta1.Service/BroadcastTx
TXHASH=$(EXPECTED_HASH=$EXPECTED_HASH py_check "BroadcastTx" '
r = d.get("txResponse")
assert isinstance(r, dict), "no txResponse"
assert r.get("code") == 0, "CheckTx code %r: %s" % (r.get("code"), r.get("rawLog"))
assert re.fullmatch(r"[0-9A-F]{64}", r.get("txhash", "")), "txhash %r is not 64 upper-case hex" % r.get("txhash")
assert r["txhash"] == os.environ["EXPECTED_HASH"], "txhash %s != sha256(tx bytes) %s" % (r["txhash"], os.environ["EXPECTED_HASH"])
print(r["txhash"])')
echo "ok   BroadcastTx (sync): txhash=$TXHASH"

REQ=$(printf '{"hash":"%s"}' "$TXHASH")
DEADLINE=$((SECONDS + GETTX_TIMEOUT_SECS))
LAST_ERR=""
while :; do
  if OUT=$("$GRPCURL" -plaintext -emit-defaults -max-time 5 -d "$REQ" "$TARGET" cosmos.tx.v1beta1.Service/GetTx 2>/tmp/.grpcurl_gettx.$$); then
    break
  fi
  LAST_ERR=$(cat /tmp/.grpcurl_gettx.$$)
  if ((SECONDS >= DEADLINE)); then
    rm -f /tmp/.grpcurl_gettx.$$
    fail "GetTx $TXHASH not found within ${GETTX_TIMEOUT_SECS}s; last error: $LAST_ERR"
  fi
  sleep 1
done
rm -f /tmp/.grpcurl_gettx.$$
RESULT=$(TXHASH=$TXHASH py_check "GetTx" '
r = d.get("txResponse")
assert isinstance(r, dict), "no txResponse"
assert r.get("txhash") == os.environ["TXHASH"], "txhash %r" % r.get("txhash")
assert r.get("code") == 0, "DeliverTx code %r: %s" % (r.get("code"), r.get("rawLog"))
assert re.fullmatch(r"[1-9][0-9]*", r.get("height", "")), "height %r" % r.get("height")
gu, gw = int(r.get("gasUsed", "0")), int(r.get("gasWanted", "0"))
assert 0 < gu <= gw, "gasUsed %d / gasWanted %d" % (gu, gw)
msgs = d.get("tx", {}).get("body", {}).get("messages", [])
assert msgs and msgs[0].get("@type") == "/cosmos.bank.v1beta1.MsgSend", "tx.body.messages %r" % msgs
rmsgs = r.get("tx", {}).get("body", {}).get("messages", [])
assert rmsgs == msgs, "txResponse.tx differs from tx"
print("height=%s code=0 gas_used=%d gas_wanted=%d" % (r["height"], gu, gw))')
echo "ok   GetTx: $RESULT"

# 8. Find the same tx by its events (CometBFT tx_search behind GetTxsEvent).
HEIGHT=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["txResponse"]["height"])' "$OUT")
grpc_call "cosmos.tx.v1beta1.Service/GetTxsEvent" -d "$(printf '{"query":"tx.height=%s","page":1,"limit":10}' "$HEIGHT")" "$TARGET" cosmos.tx.v1beta1.Service/GetTxsEvent
FOUND=$(TXHASH=$TXHASH py_check "GetTxsEvent" '
hashes = [r.get("txhash") for r in d.get("txResponses", [])]
assert os.environ["TXHASH"] in hashes, "tx %s not among %r" % (os.environ["TXHASH"], hashes)
assert int(d.get("total", "0")) == len(hashes), "total %r for %d results" % (d.get("total"), len(hashes))
print("%d tx(s) at the height" % len(hashes))')
echo "ok   GetTxsEvent: $FOUND"
echo "PASS: grpcurl queries, Simulate, BroadcastTx, GetTx and GetTxsEvent"
