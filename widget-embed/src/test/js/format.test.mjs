import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatDuration, formatReputation } from "../../main/js/widget/format.js";

test("formatDuration writes m:ss, then h:mm:ss", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(-5), "0:00");
  assert.equal(formatDuration(65999), "1:05");
  assert.equal(formatDuration(3600000 + 9 * 60000 + 7000), "1:09:07");
});

test("formatBytes writes KB below a mebibyte and MB from one on", () => {
  assert.equal(formatBytes(2048), "2 KB");
  assert.equal(formatBytes(1048576 * 3.25), "3.3 MB");
  assert.equal(formatBytes(undefined), "?");
});

test("formatReputation writes the score out of 100 and the tier, or a dash before they are known", () => {
  assert.equal(formatReputation(71, "verified"), "71 / 100 · Verified");
  assert.equal(formatReputation(3, "probation"), "3 / 100 · Probation");
  assert.equal(formatReputation(undefined, "trusted"), "–");
  assert.equal(formatReputation(50, undefined), "–");
});
