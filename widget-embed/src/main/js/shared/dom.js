/* Small DOM helpers shared by the widget and the portal. Server values always go in as text, never as HTML. */

/**
 * The element with this id (the pages are static, so a missing id is a programming error).
 * @param {string} id
 * @returns {any} typed loosely: callers use it as the input, button, progress... the page has at that id
 */
export function $(id) {
  const e = document.getElementById(id);
  if (!e) { throw new Error("no element #" + id); }
  return e;
}

/**
 * Shows a message in the element (hidden when the message is empty).
 * @param {string} id
 * @param {string} [message]
 */
export function showError(id, message) {
  const e = $(id);
  e.textContent = message || "";
  e.hidden = !message;
}

/**
 * The message of a failure, whatever was thrown.
 * @param {unknown} e
 * @returns {string}
 */
export function errorText(e) {
  return e && typeof e === "object" && "message" in e && e.message ? String(e.message) : String(e);
}

/**
 * A new element with attributes and text content.
 * @param {string} tag
 * @param {Record<string, string> | null} [attrs]
 * @param {unknown} [text]
 * @returns {any}
 */
export function el(tag, attrs, text) {
  const e = document.createElement(tag);
  if (attrs) { Object.keys(attrs).forEach((k) => e.setAttribute(k, attrs[k])); }
  if (text !== undefined && text !== null) { e.textContent = String(text); }
  return e;
}
