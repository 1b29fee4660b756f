import { test } from "node:test";
import assert from "node:assert/strict";
import { positionList, wrongPositions } from "../../main/js/shared/wallet-phrase.js";

const WORDS = "abandon ability able about above absent absorb abstract absurd abuse access accident".split(" ");

test("wrongPositions compares the typed words, ignoring case and surrounding spaces", () => {
  assert.deepEqual(wrongPositions(WORDS, [1, 4, 9], [" Ability ", "above", "abuse"]), []);
  assert.deepEqual(wrongPositions(WORDS, [1, 4, 9], ["ability", "absent", ""]), [4, 9]);
});

test("positionList numbers positions from 1", () => {
  assert.equal(positionList([0, 6]), "#1, #7");
  assert.equal(positionList([]), "");
});
