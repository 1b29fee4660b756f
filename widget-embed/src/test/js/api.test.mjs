import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, jsonBody, readJson, requestJson } from "../../main/js/shared/api.js";

test("jsonBody writes bigints as exact JSON integers", () => {
  assert.equal(jsonBody({amount_micro_usdc: 9007199254740993n, nonce: 3, destination: "0xab"}),
    '{"amount_micro_usdc":9007199254740993,"nonce":3,"destination":"0xab"}');
  assert.equal(jsonBody({a: [-5n, {b: 0n}]}), '{"a":[-5,{"b":0}]}');
  assert.equal(jsonBody({text: "bigint:1"}), '{"text":"bigint:1"}');
});

test("readJson resolves with the body of a 2xx answer, null when empty", async () => {
  assert.deepEqual(await readJson(new Response('{"ok":true}', {status: 200})), {ok: true});
  assert.equal(await readJson(new Response(null, {status: 204})), null);
});

test("readJson rejects with the problem's detail, else its title, else the status", async () => {
  const problem = (/** @type {object} */ body, /** @type {number} */ status) =>
    readJson(new Response(JSON.stringify(body), {status})).then(() => assert.fail("resolved"), (e) => e);
  const e = await problem({title: "Bad", detail: "amount too small"}, 400);
  assert.ok(e instanceof ApiError);
  assert.equal(e.message, "amount too small");
  assert.equal(e.status, 400);
  assert.deepEqual(e.problem, {title: "Bad", detail: "amount too small"});
  assert.equal((await problem({title: "Forbidden"}, 403)).message, "Forbidden");
  const plain = await readJson(new Response("oops", {status: 502})).catch((err) => err);
  assert.equal(plain.message, "HTTP 502");
  const custom = await readJson(new Response("", {status: 500}), (p, s) => "the server answered " + s)
    .catch((err) => err);
  assert.equal(custom.message, "the server answered 500");
});

test("requestJson sends JSON with the token, method and credentials asked for", async (t) => {
  /** @type {any[]} */
  const calls = [];
  t.mock.method(globalThis, "fetch", async (/** @type {string} */ path, /** @type {any} */ init) => {
    calls.push({path, init});
    return new Response('{"id":"p1"}', {status: 201});
  });
  assert.deepEqual(await requestJson("/api/payouts", {body: {amount_micro_usdc: 10n}, token: "tok",
    credentials: "omit"}), {id: "p1"});
  await requestJson("/api/publisher/me", {credentials: "same-origin", headers: {"X-CSRF-Token": "c"}});
  assert.deepEqual(calls[0], {path: "/api/payouts", init: {method: "POST", credentials: "omit",
    headers: {"Accept": "application/json", "Content-Type": "application/json", "Authorization": "Bearer tok"},
    body: '{"amount_micro_usdc":10}'}});
  assert.deepEqual(calls[1], {path: "/api/publisher/me", init: {method: "GET", credentials: "same-origin",
    headers: {"Accept": "application/json", "X-CSRF-Token": "c"}, body: undefined}});
});
