/*
 * The front-end modules the portal shares with the widget. They live once, in widget-embed/src/main/js/shared
 * (next to the wallet bundle they go with); this is the one place that names that path.
 */
export * from "../../../../widget-embed/src/main/js/shared/money.js";
export * from "../../../../widget-embed/src/main/js/shared/api.js";
export * from "../../../../widget-embed/src/main/js/shared/dom.js";
export * from "../../../../widget-embed/src/main/js/shared/wallet-phrase.js";
export * from "../../../../widget-embed/src/main/js/shared/withdraw.js";
export * from "../../../../widget-embed/src/main/js/shared/charts.js";
