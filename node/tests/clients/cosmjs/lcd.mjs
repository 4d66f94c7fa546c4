// REST (LCD) check for an Aegis node: plain fetch() of the grpc-gateway routes, cross-checked
// against stock cosmjs over the CometBFT RPC, and a MsgSend signed by cosmjs broadcast through
// POST /cosmos/tx/v1beta1/txs and found again by GET /cosmos/tx/v1beta1/txs/{hash}.
//
// Usage: node lcd.mjs <endpoints.json>
//
// Prints one JSON summary line and exits 0 on success; prints the failed assertion and
// exits 1 otherwise.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";

const DENOM = "uaegis";
const PREFIX = "aegis";
const AMOUNT = "777";
const FEE = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };
const MEMO = "aegis lcd check";

class CheckError extends Error {}

function assert(cond, msg, details) {
  if (!cond) throw new CheckError(`${msg}${details === undefined ? "" : ` ${JSON.stringify(details)}`}`);
}

// JSON with object keys sorted, so key order does not matter.
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

function assertEq(got, want, what) {
  const [g, w] = [JSON.stringify(canonical(got)), JSON.stringify(canonical(want))];
  assert(g === w, `${what}: got ${g}, want ${w}`);
}

async function getJson(rest, path) {
  const r = await fetch(`${rest}${path}`);
  const body = await r.json();
  assert(r.status === 200, `GET ${path} answered ${r.status}`, body);
  return body;
}

async function postJson(rest, path, payload) {
  const r = await fetch(`${rest}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
  const body = await r.json();
  assert(r.status === 200, `POST ${path} answered ${r.status}`, body);
  return body;
}

async function main() {
  const endpointsPath = process.argv[2];
  if (!endpointsPath) {
    console.error("usage: node lcd.mjs <endpoints.json>");
    process.exit(2);
  }
  const chain = JSON.parse(readFileSync(endpointsPath, "utf8")).chains[0];
  const { rest, rpc } = chain.nodes[0];
  assert(typeof rest === "string" && rest.startsWith("http://"), "endpoints.json has no rest URL for node 0", chain.nodes[0]);
  const faucetEntry = chain.accounts.find((a) => a.name === "faucet") ?? chain.accounts[0];
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(faucetEntry.mnemonic, { prefix: PREFIX });
  const [{ address: faucet }] = await wallet.getAccounts();
  const rpcClient = await StargateClient.connect(rpc);

  // Queries: the REST answers equal what cosmjs reads over the RPC.
  const info = await getJson(rest, "/cosmos/base/tendermint/v1beta1/node_info");
  assertEq(info.default_node_info.network, chain.chain_id, "node_info network");
  const latest = await getJson(rest, "/cosmos/base/tendermint/v1beta1/blocks/latest");
  assertEq(latest.block.header.chain_id, chain.chain_id, "latest block chain_id");
  const rpcBalance = await rpcClient.getBalance(faucet, DENOM);
  const bal = await getJson(rest, `/cosmos/bank/v1beta1/balances/${faucet}/by_denom?denom=${DENOM}`);
  assertEq(bal.balance, { denom: rpcBalance.denom, amount: rpcBalance.amount }, "balance by denom");
  const all = await getJson(rest, `/cosmos/bank/v1beta1/balances/${faucet}`);
  assertEq(all.balances.find((c) => c.denom === DENOM), { denom: DENOM, amount: rpcBalance.amount }, "uaegis in all balances");
  const rpcAccount = await rpcClient.getAccount(faucet);
  const acc = (await getJson(rest, `/cosmos/auth/v1beta1/accounts/${faucet}`)).account;
  assertEq(acc["@type"], "/cosmos.auth.v1beta1.BaseAccount", "account @type");
  assertEq(acc.address, faucet, "account address");
  assertEq(acc.account_number, String(rpcAccount.accountNumber), "account_number");
  assertEq(acc.sequence, String(rpcAccount.sequence), "sequence");

  // A MsgSend signed offline by cosmjs, simulated and broadcast over REST.
  const [{ address: recipient }] = await (await DirectSecp256k1HdWallet.generate(24, { prefix: PREFIX })).getAccounts();
  const signer = await SigningStargateClient.offline(wallet);
  const msg = {
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: MsgSend.fromPartial({ fromAddress: faucet, toAddress: recipient, amount: [{ denom: DENOM, amount: AMOUNT }] }),
  };
  const txRaw = await signer.sign(faucet, [msg], FEE, MEMO, {
    accountNumber: BigInt(acc.account_number),
    sequence: Number(acc.sequence),
    chainId: chain.chain_id,
  });
  const bytes = TxRaw.encode(txRaw).finish();
  const txBytes = Buffer.from(bytes).toString("base64");
  const hash = createHash("sha256").update(bytes).digest("hex").toUpperCase();

  const sim = await postJson(rest, "/cosmos/tx/v1beta1/simulate", { tx_bytes: txBytes });
  assert(/^[1-9][0-9]*$/.test(sim.gas_info.gas_used), "simulate gas_used is not a positive decimal string", sim.gas_info);
  const sent = await postJson(rest, "/cosmos/tx/v1beta1/txs", { tx_bytes: txBytes, mode: "BROADCAST_MODE_SYNC" });
  assertEq(sent.tx_response.code, 0, "broadcast code");
  assertEq(sent.tx_response.txhash, hash, "broadcast txhash");

  let found = null;
  for (let i = 0; i < 100 && found === null; i++) {
    const r = await fetch(`${rest}/cosmos/tx/v1beta1/txs/${hash}`);
    if (r.status === 200) found = await r.json();
    else {
      assertEq(r.status, 404, "GET txs/{hash} status while pending");
      await new Promise((res) => setTimeout(res, 300));
    }
  }
  assert(found !== null, "tx not found over REST within 30 s", hash);
  assertEq(found.tx_response.code, 0, "GetTx code");
  assertEq(found.tx.body.memo, MEMO, "GetTx memo");
  assertEq(
    found.tx.body.messages,
    [{ "@type": "/cosmos.bank.v1beta1.MsgSend", from_address: faucet, to_address: recipient, amount: [{ denom: DENOM, amount: AMOUNT }] }],
    "GetTx messages",
  );
  const height = Number(found.tx_response.height);
  for (let i = 0; i < 100 && (await rpcClient.getHeight()) <= height; i++) await new Promise((res) => setTimeout(res, 300));

  const got = (await getJson(rest, `/cosmos/bank/v1beta1/balances/${recipient}/by_denom?denom=${DENOM}`)).balance;
  assertEq(got, { denom: DENOM, amount: AMOUNT }, "recipient balance over REST");
  assertEq(await rpcClient.getBalance(recipient, DENOM), { denom: DENOM, amount: AMOUNT }, "recipient balance over RPC");
  const after = (await getJson(rest, `/cosmos/auth/v1beta1/accounts/${faucet}`)).account;
  assertEq(after.sequence, String(rpcAccount.sequence + 1), "faucet sequence after");
  rpcClient.disconnect();

  console.log(JSON.stringify({ ok: true, txhash: hash, height, recipient, recipient_balance: got.amount, gas_used: sim.gas_info.gas_used }));
}

main().catch((err) => {
  console.error(err instanceof CheckError ? `FAIL: ${err.message}` : err);
  process.exit(1);
});
