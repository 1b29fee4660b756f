/*
 * Money is integer micro-USDC (1 USDC = 1,000,000 micro-USDC, the token's 6-decimal base unit). Parsing and
 * formatting are exact: BigInt and string arithmetic, never floating point. Amounts travel to the API as JSON
 * integers that the backend reads as a signed 64-bit long, so a parsed amount above that is refused, not rounded.
 */

/** The largest amount the API accepts (Java's Long.MAX_VALUE micro-USDC). */
export const MAX_MICRO_USDC = 9223372036854775807n;

const MICRO_PER_USDC = 1000000n;

/**
 * Integer micro-USDC to a decimal USDC string with 6 decimals ("1.500000"). A number is taken as the integer it
 * holds (its fraction, if any, is dropped); anything else (NaN, Infinity, a non-number) formats as "0.000000".
 * @param {number | bigint | null | undefined} micro
 * @returns {string}
 */
export function formatMicroUsdc(micro) {
  /** @type {bigint} */
  let value;
  if (typeof micro === "bigint") {
    value = micro;
  } else if (typeof micro === "number" && Number.isFinite(micro)) {
    value = BigInt(Math.trunc(micro));
  } else {
    return "0.000000";
  }
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(7, "0");
  return (negative ? "-" : "") + digits.slice(0, digits.length - 6) + "." + digits.slice(digits.length - 6);
}

/** Thrown by parseUsdc for text that is an amount but too large to be paid exactly. */
export class AmountTooLargeError extends Error {
  /** @param {string} text */
  constructor(text) {
    super("The amount " + text.trim() + " USDC is larger than the most that can be withdrawn ("
      + formatMicroUsdc(MAX_MICRO_USDC) + " USDC).");
    this.name = "AmountTooLargeError";
  }
}

/**
 * A USDC amount as typed ("1", "1.5", "0,25", " 12.000001 ") to integer micro-USDC, by string arithmetic.
 * Returns null when the text is not digits with at most 6 decimals; throws AmountTooLargeError when it is an
 * amount above MAX_MICRO_USDC (it could not be represented exactly).
 * @param {string | null | undefined} text
 * @returns {bigint | null}
 */
export function parseUsdc(text) {
  const m = /^\s*(\d+)(?:[.,](\d{0,6}))?\s*$/.exec(text || "");
  if (!m) { return null; }
  const micro = BigInt(m[1]) * MICRO_PER_USDC + BigInt((m[2] || "").padEnd(6, "0"));
  if (micro > MAX_MICRO_USDC) { throw new AmountTooLargeError(text || ""); }
  return micro;
}

/**
 * A micro-USDC amount from the API (a JSON number, or a bigint) as a bigint, so it compares exactly with parsed
 * amounts. Missing or non-integer values count as 0.
 * @param {number | bigint | null | undefined} micro
 * @returns {bigint}
 */
export function toMicro(micro) {
  if (typeof micro === "bigint") { return micro; }
  return typeof micro === "number" && Number.isFinite(micro) ? BigInt(Math.trunc(micro)) : 0n;
}
