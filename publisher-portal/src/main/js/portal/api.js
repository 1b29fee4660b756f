/* The portal's API calls: the session cookie (same origin) and, once signed in, the CSRF token on every change. */
import { $, requestJson } from "../shared.js";

/** @type {string | null} */
let csrf = null;

/** @param {string | null} token the CSRF token of GET /api/publisher/me, null when signed out */
export function setCsrf(token) { csrf = token; }

/**
 * Calls the API; resolves with the parsed body (null for 204), rejects with an ApiError carrying the problem.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export function api(method, path, body) {
  return requestJson(path, {
    method, body, credentials: "same-origin",
    headers: csrf && method !== "GET" ? {"X-CSRF-Token": csrf} : {},
    problemMessage: (problem, status) => problem && problem.detail ? problem.detail : "the server answered " + status
  });
}

/** @param {string} message the page's status line */
export function say(message) { $("global-status").textContent = message || ""; }
