/*
 * Charts of one value per day, drawn with uPlot (npm "uplot", MIT, bundled by esbuild). Used by the portal's
 * customer usage dashboard; the numbers are also in a table next to each chart, which is what screen readers get.
 */
import uPlot from "uplot";

/** @type {WeakMap<HTMLElement, uPlot>} the chart drawn in each container, redrawn with new data */
const charts = new WeakMap();

/**
 * The chart's data: x = the days as epoch seconds (UTC midnight), y = the values.
 * @param {string[]} days ISO dates (yyyy-mm-dd)
 * @param {number[]} values one per day
 * @returns {[number[], number[]]}
 */
export function dailySeries(days, values) {
  return [days.map((d) => Date.parse(d + "T00:00:00Z") / 1000), values.slice()];
}

/**
 * Draws a bar chart of one value per day into `container`, or updates the one drawn there before.
 * @param {HTMLElement} container
 * @param {string[]} days ISO dates (yyyy-mm-dd)
 * @param {number[]} values one per day
 * @param {string} label what the values are (with their unit)
 * @param {(v: number) => string} format how an axis tick shows a value
 */
export function dailyBarChart(container, days, values, label, format) {
  const data = dailySeries(days, values);
  const drawn = charts.get(container);
  if (drawn) {
    drawn.setData(data);
    return;
  }
  const chart = new uPlot({
    width: Math.max(280, Math.min(560, container.clientWidth || 560)),
    height: 160,
    legend: {show: false},
    cursor: {show: false},
    scales: {x: {time: true}, y: {range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1]}},
    axes: [{}, {values: (_u, ticks) => ticks.map(format), size: 60}],
    series: [{}, {label, stroke: "#2f6f4e", fill: "rgba(47, 111, 78, 0.35)", paths: uPlot.paths.bars?.({size: [0.7]})}]
  }, data, container);
  charts.set(container, chart);
}
