/* What the signed-in page remembers between polls. */
export const P = {
  /** @type {any} the latest GET /api/publisher/dashboard */
  lastDashboard: null,
  /** @type {any} GET /api/payouts/config (chain, token, minimum, EIP-712 domain and types) */
  payoutCfg: null,
  /** @type {string | null} id of the withdrawal this page requested, until it is confirmed or failed */
  awaitingPayout: null,
  /** @type {ReturnType<typeof setInterval> | null} */
  pollTimer: null
};
