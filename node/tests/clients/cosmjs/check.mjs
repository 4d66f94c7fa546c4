// Stock-cosmjs compatibility check for an Aegis node.
//
// Usage: node check.mjs <endpoints.json>
//
// Uses only published cosmjs APIs (no Aegis-specific code) against the CometBFT RPC
// of node 0: reads a balance and an account, estimates gas by simulation, signs and
// broadcasts a MsgSend with fee "auto", finds the result by hash and checks the
// resulting balance changes exactly. Prints one JSON summary line and exits 0 on
// success; prints the failed assertion and exits 1 otherwise.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { DirectSecp256k1HdWallet, decodeTxRaw } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, calculateFee } from "@cosmjs/stargate";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";

const DENOM = "uaegis";
const PREFIX = "aegis";
const GAS_PRICE = "0.025uaegis";
const AMOUNT = "123456";
const MEMO = "aegis cosmjs compatibility check";
// SigningStargateClient's default multiplier for fee "auto".
const AUTO_GAS_MULTIPLIER = 1.4;

class CheckError extends Error {}

function assert(cond, msg, details) {
  if (!cond) {
    const suffix = details === undefined ? "" : ` ${JSON.stringify(details, jsonReplacer)}`;
    throw new CheckError(`${msg}${suffix}`);
  }
}

function jsonReplacer(_key, value) {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

// Run a client call; turn a thrown error into a CheckError naming the step.
async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CheckError) throw err;
    throw new CheckError(`${name} threw: ${err?.message ?? err}`);
  }
}

const isUintString = (s) => typeof s === "string" && /^(0|[1-9][0-9]*)$/.test(s);

async function main() {
  const endpointsPath = process.argv[2];
  if (!endpointsPath) {
    console.error("usage: node check.mjs <endpoints.json>");
    process.exit(2);
  }
  const endpoints = JSON.parse(readFileSync(endpointsPath, "utf8"));
  const chain = endpoints.chains[0];
  const rpc = chain.nodes[0].rpc;
  const faucetEntry = chain.accounts.find((a) => a.name === "faucet") ?? chain.accounts[0];

  const gasPrice = GasPrice.fromString(GAS_PRICE);
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(faucetEntry.mnemonic, { prefix: PREFIX });
  const [faucetAcc] = await wallet.getAccounts();
  const faucet = faucetAcc.address;
  assert(faucet === faucetEntry.address, "faucet address derived by cosmjs differs from endpoints.json", {
    derived: faucet,
    expected: faucetEntry.address,
  });

  const client = await SigningStargateClient.connectWithSigner(rpc, wallet, {
    gasPrice,
    broadcastPollIntervalMs: 500,
    broadcastTimeoutMs: 60_000,
  });

  // --- chain id / height -------------------------------------------------------
  const chainId = await step("getChainId", () => client.getChainId());
  assert(chainId === chain.chain_id, "getChainId mismatch", { got: chainId, expected: chain.chain_id });
  const startHeight = await step("getHeight", () => client.getHeight());
  assert(Number.isInteger(startHeight) && startHeight > 0, "getHeight returned a bad height", startHeight);

  // --- balance + account ---------------------------------------------------------
  const faucetBefore = await step("getBalance(faucet)", () => client.getBalance(faucet, DENOM));
  assert(faucetBefore.denom === DENOM, "getBalance returned wrong denom", faucetBefore);
  assert(isUintString(faucetBefore.amount), "getBalance amount is not a decimal string", faucetBefore);
  assert(BigInt(faucetBefore.amount) > BigInt(AMOUNT) * 10n, "faucet balance too low", faucetBefore);

  const faucetAccountBefore = await step("getAccount(faucet)", () => client.getAccount(faucet));
  assert(faucetAccountBefore !== null, "getAccount(faucet) returned null");
  assert(faucetAccountBefore.address === faucet, "getAccount returned wrong address", faucetAccountBefore);
  // cosmjs >= 0.39 returns accountNumber as bigint (older versions: number).
  assert(
    typeof faucetAccountBefore.accountNumber === "bigint" || Number.isInteger(faucetAccountBefore.accountNumber),
    "accountNumber not an integer",
    faucetAccountBefore,
  );
  assert(Number.isInteger(faucetAccountBefore.sequence), "sequence not an integer", faucetAccountBefore);

  // --- fresh recipient -----------------------------------------------------------
  const recipientWallet = await DirectSecp256k1HdWallet.generate(24, { prefix: PREFIX });
  const [recipientAcc] = await recipientWallet.getAccounts();
  const recipient = recipientAcc.address;
  assert(recipient.startsWith(`${PREFIX}1`) && recipient !== faucet, "bad recipient address", recipient);

  const recipientBefore = await step("getBalance(recipient)", () => client.getBalance(recipient, DENOM));
  assert(recipientBefore.denom === DENOM && recipientBefore.amount === "0", "fresh recipient balance not 0", recipientBefore);
  // Stock cosmjs maps a gRPC NotFound ("rpc error: code = NotFound") to null.
  const recipientAccountBefore = await step("getAccount(fresh recipient)", () => client.getAccount(recipient));
  assert(recipientAccountBefore === null, "getAccount(fresh address) should be null", recipientAccountBefore);

  // --- simulate ------------------------------------------------------------------
  const sendMsg = {
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: MsgSend.fromPartial({
      fromAddress: faucet,
      toAddress: recipient,
      amount: [{ denom: DENOM, amount: AMOUNT }],
    }),
  };
  const simulatedGas = await step("simulate(MsgSend)", () => client.simulate(faucet, [sendMsg], MEMO));
  assert(Number.isInteger(simulatedGas) && simulatedGas > 0, "simulate returned bad gas", simulatedGas);
  const expectedAutoFee = calculateFee(Math.ceil(simulatedGas * AUTO_GAS_MULTIPLIER), gasPrice);

  // --- sign + broadcast (fee "auto" simulates again) -------------------------------
  const result = await step('signAndBroadcast(MsgSend, fee "auto")', () => client.signAndBroadcast(faucet, [sendMsg], "auto", MEMO));
  assert(result.code === 0, "DeliverTxResponse code != 0", { code: result.code, rawLog: result.rawLog, events: result.events });
  assert(/^[0-9A-F]{64}$/.test(result.transactionHash), "transactionHash is not 64 upper-case hex", result.transactionHash);
  assert(Number.isInteger(result.height) && result.height >= startHeight, "bad inclusion height", result.height);
  const gasWanted = BigInt(result.gasWanted);
  const gasUsed = BigInt(result.gasUsed);
  assert(gasUsed > 0n && gasUsed <= gasWanted, "gasUsed must be in (0, gasWanted]", {
    gasUsed: result.gasUsed,
    gasWanted: result.gasWanted,
  });

  // --- find by hash ----------------------------------------------------------------
  const indexed = await step("getTx(hash)", () => client.getTx(result.transactionHash));
  assert(indexed !== null, "getTx(hash) returned null", result.transactionHash);
  assert(indexed.code === 0, "getTx code != 0", { code: indexed.code, rawLog: indexed.rawLog });
  assert(indexed.hash === result.transactionHash, "getTx hash mismatch", { got: indexed.hash });
  assert(indexed.height === result.height, "getTx height != broadcast height", {
    getTx: indexed.height,
    broadcast: result.height,
  });
  const rawHash = createHash("sha256").update(indexed.tx).digest("hex").toUpperCase();
  assert(rawHash === result.transactionHash, "sha256(getTx.tx) != txhash", { rawHash });

  const decoded = decodeTxRaw(indexed.tx);
  assert(decoded.body.memo === MEMO, "memo mismatch in stored tx", decoded.body.memo);
  assert(decoded.body.messages.length === 1, "stored tx must have exactly one message");
  assert(decoded.body.messages[0].typeUrl === "/cosmos.bank.v1beta1.MsgSend", "stored message type", decoded.body.messages[0].typeUrl);
  const storedMsg = MsgSend.decode(decoded.body.messages[0].value);
  assert(
    storedMsg.fromAddress === faucet &&
      storedMsg.toAddress === recipient &&
      storedMsg.amount.length === 1 &&
      storedMsg.amount[0].denom === DENOM &&
      storedMsg.amount[0].amount === AMOUNT,
    "stored MsgSend differs from what was sent",
    storedMsg,
  );
  const authFee = decoded.authInfo.fee;
  assert(authFee && authFee.amount.length === 1 && authFee.amount[0].denom === DENOM, "stored fee must be one uaegis coin", authFee);
  const feePaid = BigInt(authFee.amount[0].amount);
  const gasLimit = BigInt(authFee.gasLimit);
  assert(gasLimit === gasWanted, "fee gas_limit != gasWanted", { gasLimit: authFee.gasLimit, gasWanted: result.gasWanted });
  // fee "auto" = ceil(gasLimit * gasPrice); gasPrice 0.025 = 1/40.
  const feeFromGas = (gasLimit + 39n) / 40n;
  assert(feePaid === feeFromGas, "fee amount != ceil(gas_limit * 0.025)", { feePaid: feePaid.toString(), feeFromGas: feeFromGas.toString() });
  // fee "auto" = calculateFee(ceil(simulate() * 1.4), gasPrice) with its own simulate call; it
  // should match ours (allow 1% in case a block in between changed stored value sizes).
  const expectedGasLimit = BigInt(expectedAutoFee.gas);
  const gasDiff = gasLimit > expectedGasLimit ? gasLimit - expectedGasLimit : expectedGasLimit - gasLimit;
  assert(
    gasDiff * 100n <= expectedGasLimit,
    "fee 'auto' gas limit is not ceil(simulated gas * 1.4) of the earlier simulate",
    { used: { amount: authFee.amount[0].amount, gas: authFee.gasLimit }, expectedFromEarlierSimulate: expectedAutoFee },
  );
  assert(decoded.authInfo.signerInfos.length === 1, "expected one signer info");
  assert(
    BigInt(decoded.authInfo.signerInfos[0].sequence) === BigInt(faucetAccountBefore.sequence),
    "signed sequence != account sequence before",
    { signed: decoded.authInfo.signerInfos[0].sequence, before: faucetAccountBefore.sequence },
  );

  // --- balances / account after ----------------------------------------------------
  const faucetAccountAfter = await client.getAccount(faucet);
  assert(faucetAccountAfter !== null, "getAccount(faucet) returned null after tx");
  assert(BigInt(faucetAccountAfter.accountNumber) === BigInt(faucetAccountBefore.accountNumber), "faucet account number changed", faucetAccountAfter);
  assert(
    faucetAccountAfter.sequence === faucetAccountBefore.sequence + 1,
    "faucet sequence must increase by exactly 1 (is something else using the faucet concurrently?)",
    { before: faucetAccountBefore.sequence, after: faucetAccountAfter.sequence },
  );
  assert(faucetAccountAfter.pubkey !== null, "faucet pubkey should be set after signing", faucetAccountAfter);

  const recipientAfter = await client.getBalance(recipient, DENOM);
  assert(recipientAfter.amount === AMOUNT, "recipient did not receive exactly the amount", recipientAfter);
  // As in the Cosmos SDK, receiving coins creates the recipient's account (no key yet).
  const recipientAccountAfter = await client.getAccount(recipient);
  assert(recipientAccountAfter !== null, "getAccount(recipient) is null after it received coins");
  assert(
    recipientAccountAfter.address === recipient && recipientAccountAfter.sequence === 0 && recipientAccountAfter.pubkey === null,
    "recipient account after receiving should have sequence 0 and no pubkey",
    recipientAccountAfter,
  );
  const faucetAfter = await client.getBalance(faucet, DENOM);
  const spent = BigInt(faucetBefore.amount) - BigInt(faucetAfter.amount);
  const expectedSpent = BigInt(AMOUNT) + feePaid;
  assert(spent === expectedSpent, "faucet balance change != amount + fee", {
    before: faucetBefore.amount,
    after: faucetAfter.amount,
    spent: spent.toString(),
    expected: expectedSpent.toString(),
  });

  const summary = {
    ok: true,
    chain_id: chainId,
    rpc,
    faucet,
    recipient,
    account_number: faucetAccountBefore.accountNumber.toString(),
    sequence_before: faucetAccountBefore.sequence,
    sequence_after: faucetAccountAfter.sequence,
    simulated_gas: simulatedGas,
    gas_wanted: result.gasWanted.toString(),
    gas_used: result.gasUsed.toString(),
    fee: `${feePaid}${DENOM}`,
    amount: `${AMOUNT}${DENOM}`,
    txhash: result.transactionHash,
    height: result.height,
    faucet_balance_before: faucetBefore.amount,
    faucet_balance_after: faucetAfter.amount,
    recipient_balance_after: recipientAfter.amount,
    recipient_account_number: recipientAccountAfter.accountNumber.toString(),
  };
  console.log(JSON.stringify(summary));
  client.disconnect();
}

main().then(
  () => process.exit(0),
  (err) => {
    if (err instanceof CheckError) {
      console.error(`cosmjs check FAILED: ${err.message}`);
    } else {
      console.error(`cosmjs check FAILED with error: ${err?.stack ?? err}`);
    }
    process.exit(1);
  },
);
