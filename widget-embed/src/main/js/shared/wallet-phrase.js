/*
 * The wallet-phrase flow both front-ends show: load the wallet bundle (after consent only), list the 12 words once,
 * then ask for three of them back. The words stay in memory only; the key is kept by the wallet bundle.
 */
import { el } from "./dom.js";

/** @typedef {typeof import("../wallet.js")} WalletBundle the API of web/widget/wallet.bundle.js (EarnIdleWallet) */

export const WALLET_BUNDLE_URL = "/widget/wallet.bundle.js";

/**
 * Loads the wallet bundle once (a script tag; it defines the global EarnIdleWallet) and resolves with its API.
 * @param {string} failureMessage the error message when the script cannot be loaded
 * @returns {Promise<WalletBundle>}
 */
export function loadWalletBundle(failureMessage) {
  const w = /** @type {any} */ (window);
  if (w.EarnIdleWallet) { return Promise.resolve(w.EarnIdleWallet); }
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = WALLET_BUNDLE_URL;
    s.onload = () => resolve(w.EarnIdleWallet);
    s.onerror = () => reject(new Error(failureMessage));
    document.head.appendChild(s);
  });
}

/**
 * Lists the words, in order, in the list element (replacing what it held).
 * @param {HTMLElement} list
 * @param {string[]} words
 */
export function showWords(list, words) {
  list.textContent = "";
  words.forEach((word) => list.appendChild(el("li", null, word)));
}

/**
 * Fills the box with one text field per position to confirm: ids idPrefix + 0, 1, ..., labelled "Word #n" and
 * carrying data-position (1-based).
 * @param {HTMLElement} box
 * @param {number[]} indexes 0-based positions in the phrase
 * @param {string} idPrefix
 * @param {boolean} wrap each label and field in a div of their own
 */
export function showConfirmFields(box, indexes, idPrefix, wrap) {
  box.textContent = "";
  indexes.forEach((idx, n) => {
    const id = idPrefix + n;
    const label = el("label", {"for": id}, "Word #" + (idx + 1));
    const input = el("input", {id, type: "text", autocomplete: "off", autocapitalize: "off", spellcheck: "false",
      "data-position": String(idx + 1)});
    const parent = wrap ? box.appendChild(el("div")) : box;
    parent.appendChild(label);
    parent.appendChild(input);
  });
}

/**
 * The positions (0-based) whose typed word differs from the phrase (case and surrounding spaces ignored).
 * @param {string[]} words the phrase
 * @param {number[]} indexes the positions asked for
 * @param {string[]} typed what was typed for each of them, in the same order
 * @returns {number[]}
 */
export function wrongPositions(words, indexes, typed) {
  return indexes.filter((idx, n) => (typed[n] || "").trim().toLowerCase() !== words[idx]);
}

/**
 * Reads the confirmation fields showConfirmFields made, marks each valid or not (aria-invalid) and returns the
 * wrong positions.
 * @param {string[]} words
 * @param {number[]} indexes
 * @param {string} idPrefix
 * @returns {number[]}
 */
export function checkConfirmFields(words, indexes, idPrefix) {
  const inputs = indexes.map((_idx, n) => /** @type {HTMLInputElement} */ (document.getElementById(idPrefix + n)));
  const wrong = wrongPositions(words, indexes, inputs.map((i) => i.value));
  inputs.forEach((input, n) => input.setAttribute("aria-invalid", wrong.includes(indexes[n]) ? "true" : "false"));
  return wrong;
}

/**
 * "#2, #7" for positions 1 and 6.
 * @param {number[]} positions 0-based
 * @returns {string}
 */
export function positionList(positions) {
  return positions.map((i) => "#" + (i + 1)).join(", ");
}
