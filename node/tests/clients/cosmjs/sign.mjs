// Sign (without broadcasting) a MsgSend from the faucet with stock cosmjs and write the
// TxRaw bytes, base64-encoded, to a file (for grpcurl.sh's Simulate/BroadcastTx/GetTx steps).
//
// Usage: node sign.mjs <endpoints.json> <out.b64>
//
// The account number and sequence are read from the chain (getAccount) and passed
// explicitly; the fee is fixed (5000uaegis for 200000 gas). Prints one JSON line
// describing the signed tx (recipient, amount, sequence, expected txhash).

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { SigningStargateClient } from "@cosmjs/stargate";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";

const DENOM = "uaegis";
const PREFIX = "aegis";
const AMOUNT = "4242";
const FEE = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };
const MEMO = "aegis grpcurl compatibility check";

async function main() {
  const [endpointsPath, outPath] = process.argv.slice(2);
  if (!endpointsPath || !outPath) {
    console.error("usage: node sign.mjs <endpoints.json> <out.b64>");
    process.exit(2);
  }
  const chain = JSON.parse(readFileSync(endpointsPath, "utf8")).chains[0];
  const faucetEntry = chain.accounts.find((a) => a.name === "faucet") ?? chain.accounts[0];

  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(faucetEntry.mnemonic, { prefix: PREFIX });
  const [{ address: faucet }] = await wallet.getAccounts();
  const [{ address: recipient }] = await (await DirectSecp256k1HdWallet.generate(24, { prefix: PREFIX })).getAccounts();

  const client = await SigningStargateClient.connectWithSigner(chain.nodes[0].rpc, wallet);
  const chainId = await client.getChainId();
  const account = await client.getAccount(faucet);
  if (!account) throw new Error(`faucet account ${faucet} not found`);

  const msg = {
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: MsgSend.fromPartial({ fromAddress: faucet, toAddress: recipient, amount: [{ denom: DENOM, amount: AMOUNT }] }),
  };
  const txRaw = await client.sign(faucet, [msg], FEE, MEMO, {
    accountNumber: BigInt(account.accountNumber),
    sequence: account.sequence,
    chainId,
  });
  const bytes = TxRaw.encode(txRaw).finish();
  writeFileSync(outPath, Buffer.from(bytes).toString("base64") + "\n");
  client.disconnect();

  console.log(
    JSON.stringify({
      out: outPath,
      chain_id: chainId,
      from: faucet,
      to: recipient,
      amount: `${AMOUNT}${DENOM}`,
      fee: `${FEE.amount[0].amount}${DENOM}`,
      gas: FEE.gas,
      account_number: account.accountNumber.toString(),
      sequence: account.sequence,
      txhash: createHash("sha256").update(bytes).digest("hex").toUpperCase(),
    }),
  );
}

main().catch((err) => {
  console.error(`sign.mjs FAILED: ${err?.stack ?? err}`);
  process.exit(1);
});
