import { test } from "node:test";
import assert from "node:assert/strict";
import { AmountTooLargeError, MAX_MICRO_USDC, formatMicroUsdc, parseUsdc, toMicro }
  from "../../main/js/shared/money.js";

test("parseUsdc reads whole and decimal amounts, dot or comma, up to 6 decimals", () => {
  assert.equal(parseUsdc("1"), 1000000n);
  assert.equal(parseUsdc("1.5"), 1500000n);
  assert.equal(parseUsdc("0,25"), 250000n);
  assert.equal(parseUsdc(" 12.000001 "), 12000001n);
  assert.equal(parseUsdc("0"), 0n);
  assert.equal(parseUsdc("7."), 7000000n);
  assert.equal(parseUsdc("0.000001"), 1n);
  assert.equal(parseUsdc("000123.4"), 123400000n);
});

test("parseUsdc returns null for what is not a plain amount", () => {
  for (const text of ["", "   ", "abc", "1.1234567", "-1", "+1", "1e3", "1.2.3", ".5", "1 000", "0x10", null,
    undefined]) {
    assert.equal(parseUsdc(text), null, String(text));
  }
});

test("parseUsdc is exact where doubles are not (the widget's old copy rounded this to ...680)", () => {
  assert.equal(parseUsdc("123456789012.345679"), 123456789012345679n);
});

test("parseUsdc is exact at and beyond the safe-integer range", () => {
  assert.equal(Number.MAX_SAFE_INTEGER, 9007199254740991);
  assert.equal(parseUsdc("9007199254.740991"), 9007199254740991n);
  assert.equal(parseUsdc("9007199254.740992"), 9007199254740992n);
  assert.equal(parseUsdc("9007199254.740993"), 9007199254740993n);
});

test("parseUsdc accepts up to the API's 64-bit maximum and refuses more with a clear error", () => {
  assert.equal(parseUsdc("9223372036854.775807"), MAX_MICRO_USDC);
  assert.equal(MAX_MICRO_USDC, 2n ** 63n - 1n);
  assert.throws(() => parseUsdc("9223372036854.775808"), AmountTooLargeError);
  assert.throws(() => parseUsdc("100000000000000000000"),
    /larger than the most that can be withdrawn \(9223372036854\.775807 USDC\)/);
});

test("formatMicroUsdc writes 6 decimals without floating point", () => {
  assert.equal(formatMicroUsdc(0), "0.000000");
  assert.equal(formatMicroUsdc(1), "0.000001");
  assert.equal(formatMicroUsdc(1500000), "1.500000");
  assert.equal(formatMicroUsdc(-1), "-0.000001");
  assert.equal(formatMicroUsdc(-2500000), "-2.500000");
  assert.equal(formatMicroUsdc(1500000.9), "1.500000");
});

test("formatMicroUsdc is exact at and beyond the safe-integer range", () => {
  assert.equal(formatMicroUsdc(Number.MAX_SAFE_INTEGER), "9007199254.740991");
  assert.equal(formatMicroUsdc(2 ** 53), "9007199254.740992");
  assert.equal(formatMicroUsdc(9007199254740993n), "9007199254.740993");
  assert.equal(formatMicroUsdc(MAX_MICRO_USDC), "9223372036854.775807");
  assert.equal(formatMicroUsdc(1e21), "1000000000000000.000000"); // String(1e21) would be "1e+21"
});

test("formatMicroUsdc shows what is not an amount as zero", () => {
  for (const v of [NaN, Infinity, -Infinity, null, undefined]) { assert.equal(formatMicroUsdc(v), "0.000000"); }
  assert.equal(formatMicroUsdc(/** @type {any} */ ("12")), "0.000000");
});

test("parseUsdc and formatMicroUsdc round-trip", () => {
  for (const micro of [0n, 1n, 999999n, 1000000n, 123456789012345679n, 9007199254740993n, MAX_MICRO_USDC]) {
    assert.equal(parseUsdc(formatMicroUsdc(micro)), micro);
  }
});

test("toMicro turns API numbers into bigints", () => {
  assert.equal(toMicro(1500000), 1500000n);
  assert.equal(toMicro(7n), 7n);
  assert.equal(toMicro(undefined), 0n);
  assert.equal(toMicro(NaN), 0n);
});
