import { test } from "node:test";
import assert from "node:assert/strict";
import { amountProblem, withdrawDeadline, withdrawTypedData } from "../../main/js/shared/withdraw.js";
import { jsonBody } from "../../main/js/shared/api.js";
import { accountFromMnemonic, personalSignWithKey, signTypedDataWithKey, typedWithBigInts }
  from "../../main/js/wallet.js";

/** The eip712 member of GET /api/payouts/config (backend WithdrawTypedData), chain 31337. */
const EIP712 = {
  types: {
    EIP712Domain: [{name: "name", type: "string"}, {name: "version", type: "string"},
      {name: "chainId", type: "uint256"}],
    Withdraw: [{name: "account", type: "string"}, {name: "destination", type: "address"},
      {name: "amount", type: "uint256"}, {name: "nonce", type: "uint256"}, {name: "deadline", type: "uint256"}]
  },
  primary_type: "Withdraw",
  domain: {name: "Earn Idle", version: "1", chainId: 31337}
};
/** @param {string} hex */
const bytes = (hex) => Uint8Array.from(Buffer.from(hex, "hex"));
const KEY = bytes("22".repeat(32));
/** keccak256("cow"), the key of the EIP-712 specification's example. */
const COW = bytes("c85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4");
const ADDRESS = "0x1563915e194D8CfBA1943570603F7606A3115508";

function withdrawal() {
  return withdrawTypedData(EIP712, {account: "wallet:" + ADDRESS.toLowerCase(), destination: ADDRESS,
    amount: 123456789012345679n, nonce: 7, deadline: 1700000000});
}

test("the deadline is an hour from now, or the server's maximum when shorter", () => {
  assert.equal(withdrawDeadline(1700000000999, 86400), 1700003600);
  assert.equal(withdrawDeadline(1700000000000, 600), 1700000600);
});

test("withdrawTypedData builds the eth_signTypedData_v4 document of the server's types and domain", () => {
  const typed = withdrawal();
  assert.deepEqual(typed, {types: EIP712.types, primaryType: "Withdraw", domain: EIP712.domain,
    message: {account: "wallet:" + ADDRESS.toLowerCase(), destination: ADDRESS, amount: 123456789012345679n,
      nonce: 7, deadline: 1700000000}});
  assert.match(jsonBody(typed), /"amount":123456789012345679,"nonce":7,"deadline":1700000000\}\}$/);
});

test("amountProblem checks the amount against the minimum and the balance exactly", () => {
  assert.equal(amountProblem(null, 1000000, 5000000), "invalid");
  assert.equal(amountProblem(0n, 1000000, 5000000), "invalid");
  assert.equal(amountProblem(999999n, 1000000, 5000000), "minimum");
  assert.equal(amountProblem(1000000n, 1000000, 5000000), null);
  assert.equal(amountProblem(5000000n, 1000000, 5000000), null);
  assert.equal(amountProblem(5000001n, 1000000, 5000000), "balance");
  assert.equal(amountProblem(9007199254740993n, 1, 9007199254740992), "balance");
});

test("typedWithBigInts turns every integer field into a bigint, nested structs and arrays too", () => {
  const typed = {types: {EIP712Domain: [{name: "chainId", type: "uint256"}],
    Order: [{name: "id", type: "uint64"}, {name: "parts", type: "Part[]"}, {name: "note", type: "string"}],
    Part: [{name: "qty", type: "int32"}]}, primaryType: "Order", domain: {chainId: 5},
  message: {id: "18446744073709551615", parts: [{qty: -3}], note: "7"}};
  assert.deepEqual(typedWithBigInts(typed).message, {id: 18446744073709551615n, parts: [{qty: -3n}], note: "7"});
  assert.deepEqual(typedWithBigInts(typed).domain, {chainId: 5n});
});

test("EIP-712 signing reproduces the spec's Mail example", () => {
  const mail = {
    types: {
      EIP712Domain: [{name: "name", type: "string"}, {name: "version", type: "string"},
        {name: "chainId", type: "uint256"}, {name: "verifyingContract", type: "address"}],
      Person: [{name: "name", type: "string"}, {name: "wallet", type: "address"}],
      Mail: [{name: "from", type: "Person"}, {name: "to", type: "Person"}, {name: "contents", type: "string"}]
    },
    primaryType: "Mail",
    domain: {name: "Ether Mail", version: "1", chainId: 1,
      verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
    message: {from: {name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
      to: {name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}, contents: "Hello, Bob!"}
  };
  assert.equal(signTypedDataWithKey(mail, COW, false),
    "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
    + "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c");
});

test("a withdrawal signature is the one the earlier hand-written EIP-712 code made (what the backend checks)", () => {
  // Digest cf4d0f2d...59af, signed with RFC 6979 nonces by the wallet bundle before micro-eth-signer replaced it.
  assert.equal(signTypedDataWithKey(withdrawal(), KEY, false),
    "0x525d975c820b40451039d47ae5cfcc9d84c2ed4ebb6ae77358568e29d0e9309f"
    + "48158967d659742b660d3ef0317e387ce84e2d84746cb9b36b0cb3fbcbe342c31b");
});

test("personal_sign (EIP-191) signatures are the ones the earlier code made", () => {
  assert.equal(personalSignWithKey("Earn Idle wants you to sign in", KEY, false),
    "0xbf9b831999a4399d8e2170203c6fac686db2fb3f9b5dbed93394ef69f70422f7"
    + "2d0b6699d0d5db5f3f4a16a1ea48d9b3e016206514c70b55c811aa3f6b793e2a1c");
});

test("a phrase restores the address common wallets derive (m/44'/60'/0'/0/0)", () => {
  const phrase = "test test test test test test test test test test test junk";
  assert.equal(accountFromMnemonic(phrase).address, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  assert.throws(() => accountFromMnemonic("not a phrase"), /not a valid 12-word recovery phrase/);
});
