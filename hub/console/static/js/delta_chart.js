// A hand-written SVG bar chart of signed values (e.g. the points a rule change adds or takes
// away per tier): bars up from zero for gains, down for losses. No library.
import { s } from "./dom.js";

const WIDTH = 640;
const HEIGHT = 240;
const MARGIN = { top: 16, right: 16, bottom: 36, left: 76 };

/** A round step (1, 2 or 5 times a power of ten) that splits ``span`` in about four. */
function niceStep(span) {
  if (!(span > 0)) return 1;
  const raw = span / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].find((m) => m * magnitude >= raw) * magnitude;
}

/**
 * bars: [{label, value}]; format(n) writes an axis label or a value; title names the chart
 * for screen readers. Each bar carries its value in data-value, as the API gave it.
 */
export function deltaChart(bars, format, title, attrs = {}) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = bars.map((b) => b.value);
  const step = niceStep(Math.max(0, ...values) - Math.min(0, ...values));
  const top = Math.max(step, Math.ceil(Math.max(0, ...values) / step) * step);
  const bottom = Math.min(0, Math.floor(Math.min(0, ...values) / step) * step);
  const y = (v) => MARGIN.top + ((top - v) / (top - bottom)) * plotH;
  const slot = plotW / Math.max(bars.length, 1);
  const barW = Math.min(64, Math.max(4, slot * 0.6));
  const x = (i) => MARGIN.left + slot * i + slot / 2;

  const grid = [];
  for (let v = bottom; v <= top + step / 2; v += step) {
    grid.push(s("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(v), y2: y(v), class: v === 0 ? "zero" : "grid" }));
    grid.push(s("text", { x: MARGIN.left - 8, y: y(v) + 4, class: "axis", "text-anchor": "end" }, format(v)));
  }
  const drawn = bars.map((b, i) =>
    s(
      "g",
      { class: b.value < 0 ? "bar bar-neg" : "bar" },
      s(
        "rect",
        {
          x: x(i) - barW / 2,
          y: Math.min(y(0), y(b.value)),
          width: barW,
          height: Math.abs(y(b.value) - y(0)),
          rx: 2,
          "data-key": b.label,
          "data-value": b.value,
        },
        s("title", null, `${b.label}: ${format(b.value)}`),
      ),
      s("text", { x: x(i), y: HEIGHT - MARGIN.bottom + 18, class: "axis", "text-anchor": "middle" }, b.label),
    ),
  );
  return s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart delta-chart", role: "img", "aria-label": title, ...attrs }, grid, drawn);
}
