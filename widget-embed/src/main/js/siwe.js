/* Sign-In with Ethereum (EIP-4361) message text, and EIP-55 addresses. */
import { addr } from "micro-eth-signer";

/**
 * EIP-55 checksummed form of a 0x address.
 * @param {string} address
 * @returns {string}
 */
export function checksumAddress(address) {
  const hex = String(address).toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{40}$/.test(hex)) { throw new Error("not an address: " + address); }
  return addr.addChecksum("0x" + hex);
}

/**
 * @typedef {object} SiweFields
 * @property {string} domain
 * @property {string} address
 * @property {string} [statement]
 * @property {string} uri
 * @property {number | string} chainId
 * @property {string} nonce
 * @property {string} issuedAt ISO time
 * @property {string} [expirationTime] ISO time
 */

/**
 * The text of a SIWE message.
 * @param {SiweFields} fields
 * @returns {string}
 */
export function siweMessage({ domain, address, statement, uri, chainId, nonce, issuedAt, expirationTime }) {
  let m = domain + " wants you to sign in with your Ethereum account:\n" + checksumAddress(address) + "\n\n";
  if (statement) { m += statement + "\n\n"; }
  m += "URI: " + uri + "\nVersion: 1\nChain ID: " + chainId + "\nNonce: " + nonce + "\nIssued At: " + issuedAt;
  if (expirationTime) { m += "\nExpiration Time: " + expirationTime; }
  return m;
}
