import { test } from "node:test";
import assert from "node:assert/strict";
import { checksumAddress, siweMessage } from "../../main/js/siwe.js";

test("checksumAddress writes EIP-55 and refuses what is not an address", () => {
  assert.equal(checksumAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  assert.equal(checksumAddress("FB6916095CA1DF60BB79CE92CE3EA74C37C5D359"),
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");
  assert.throws(() => checksumAddress("0x1234"), /not an address: 0x1234/);
});

test("siweMessage writes the EIP-4361 text, with a checksummed address", () => {
  assert.equal(siweMessage({
    domain: "widget.example:8080", address: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    statement: "Link this wallet to your Earn Idle rewards.", uri: "http://widget.example:8080", chainId: 31337,
    nonce: "n0nce123", issuedAt: "2026-01-02T03:04:05Z", expirationTime: "2026-01-02T03:14:05Z"
  }), "widget.example:8080 wants you to sign in with your Ethereum account:\n"
      + "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n\n"
      + "Link this wallet to your Earn Idle rewards.\n\n"
      + "URI: http://widget.example:8080\nVersion: 1\nChain ID: 31337\nNonce: n0nce123\n"
      + "Issued At: 2026-01-02T03:04:05Z\nExpiration Time: 2026-01-02T03:14:05Z");
});

test("siweMessage leaves out an empty statement and a missing expiration time", () => {
  assert.equal(siweMessage({domain: "a.test", address: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    uri: "https://a.test", chainId: 1, nonce: "abc", issuedAt: "2026-01-02T03:04:05Z"}),
    "a.test wants you to sign in with your Ethereum account:\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n\n"
      + "URI: https://a.test\nVersion: 1\nChain ID: 1\nNonce: abc\nIssued At: 2026-01-02T03:04:05Z");
});
