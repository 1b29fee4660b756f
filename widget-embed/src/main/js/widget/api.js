/* The widget's API calls: no cookies (credentials omitted); the wallet token, when there is one, as a bearer. */
import { requestJson } from "../shared/api.js";

/**
 * @param {string} path
 * @param {string | null} [token]
 * @returns {Promise<any>}
 */
export function getJson(path, token) {
  return requestJson(path, {token, credentials: "omit"});
}

/**
 * @param {string} path
 * @param {unknown} body
 * @param {string | null} [token]
 * @returns {Promise<any>}
 */
export function postJson(path, body, token) {
  return requestJson(path, {body: body || {}, token, credentials: "omit"});
}
