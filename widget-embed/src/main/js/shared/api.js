/*
 * The JSON API client both front-ends use: fetch, a JSON body (BigInt amounts written as exact JSON integers) and
 * application/problem+json failures turned into ApiError.
 */

/** A non-2xx answer: the message is for people (the problem's detail), status and problem are for code. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {any} problem the parsed problem+json body, or null
   */
  constructor(message, status, problem) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/**
 * JSON.stringify that writes BigInt values as plain JSON integers (exact, unlike a conversion to number).
 * @param {unknown} value
 * @returns {string}
 */
export function jsonBody(value) {
  const marker = "\u0000bigint:";
  const text = JSON.stringify(value, (_key, v) => typeof v === "bigint" ? marker + v.toString() : v);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
}

/**
 * @callback ProblemMessage the message of a failed request, from its problem body (or null) and HTTP status
 * @param {any} problem
 * @param {number} status
 * @returns {string}
 */

/**
 * @typedef {object} RequestOptions
 * @property {string} [method] GET unless a body is given (then POST)
 * @property {unknown} [body] sent as JSON
 * @property {string | null} [token] a bearer token
 * @property {Record<string, string>} [headers] extra headers
 * @property {RequestCredentials} [credentials]
 * @property {ProblemMessage} [problemMessage]
 * @property {boolean} [contentTypeWithoutBody] send Content-Type: application/json even without a body
 */

/** @type {ProblemMessage} */
export function detailOrTitle(problem, status) {
  return problem && (problem.detail || problem.title) ? (problem.detail || problem.title) : "HTTP " + status;
}

/**
 * Resolves with the parsed JSON body of a 2xx answer (null when it has none); rejects with ApiError otherwise.
 * @param {Response} response
 * @param {ProblemMessage} [problemMessage]
 * @returns {Promise<any>}
 */
export async function readJson(response, problemMessage = detailOrTitle) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (!response.ok) { throw new ApiError(problemMessage(body, response.status), response.status, body); }
  return body;
}

/**
 * One API request.
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
export async function requestJson(path, options = {}) {
  const hasBody = options.body !== undefined;
  /** @type {Record<string, string>} */
  const headers = {"Accept": "application/json"};
  if (hasBody || options.contentTypeWithoutBody) { headers["Content-Type"] = "application/json"; }
  if (options.token) { headers["Authorization"] = "Bearer " + options.token; }
  Object.assign(headers, options.headers || {});
  const response = await fetch(path, {
    method: options.method || (hasBody ? "POST" : "GET"),
    credentials: options.credentials,
    headers,
    body: hasBody ? jsonBody(options.body) : undefined
  });
  return readJson(response, options.problemMessage);
}
