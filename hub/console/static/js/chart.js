// A hand-written SVG chart: revenue as bars on the left axis, active members as a line on
// the right one. No library: a few dozen points need none.
import { s } from "./dom.js";

const WIDTH = 760;
const HEIGHT = 280;
const MARGIN = { top: 16, right: 56, bottom: 44, left: 76 };

/** The top of an axis of four equal steps of 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (!(value > 0)) return 4;
  const raw = value / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((m) => m * magnitude >= raw) * magnitude;
  return 4 * Math.max(1, step);
}

/**
 * points: [{label, revenue, active, title}]; labels: {revenue, active};
 * formats: {revenue(n), active(n)}.
 */
export function revenueChart(points, labels, formats, attrs = {}) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const maxRevenue = niceMax(Math.max(0, ...points.map((p) => p.revenue)));
  const maxActive = niceMax(Math.max(0, ...points.map((p) => p.active)));
  const slot = plotW / Math.max(points.length, 1);
  const barW = Math.max(2, slot * 0.62);
  const x = (i) => MARGIN.left + slot * i + slot / 2;
  const yRevenue = (v) => MARGIN.top + plotH - (v / maxRevenue) * plotH;
  const yActive = (v) => MARGIN.top + plotH - (v / maxActive) * plotH;

  const grid = [];
  for (let i = 0; i <= 4; i += 1) {
    const y = MARGIN.top + (plotH * i) / 4;
    grid.push(s("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: "grid" }));
    grid.push(
      s("text", { x: MARGIN.left - 8, y: y + 4, class: "axis", "text-anchor": "end" }, formats.revenue((maxRevenue * (4 - i)) / 4)),
    );
    grid.push(
      s("text", { x: WIDTH - MARGIN.right + 8, y: y + 4, class: "axis" }, formats.active(Math.round((maxActive * (4 - i)) / 4))),
    );
  }
  const every = Math.ceil(points.length / 12);
  const bars = points.map((p, i) =>
    s(
      "g",
      { class: "bar" },
      s(
        "rect",
        {
          x: x(i) - barW / 2,
          y: yRevenue(p.revenue),
          width: barW,
          height: Math.max(0, MARGIN.top + plotH - yRevenue(p.revenue)),
          rx: 2,
          "data-revenue": p.revenue,
        },
        s("title", null, `${p.title}\n${labels.revenue}: ${formats.revenue(p.revenue)}\n${labels.active}: ${formats.active(p.active)}`),
      ),
      i % every === 0
        ? s("text", { x: x(i), y: HEIGHT - MARGIN.bottom + 18, class: "axis", "text-anchor": "middle" }, p.label)
        : null,
    ),
  );
  const line = points.map((p, i) => `${x(i).toFixed(1)},${yActive(p.active).toFixed(1)}`).join(" ");
  const dots = points.map((p, i) => s("circle", { cx: x(i), cy: yActive(p.active), r: 3, class: "dot" }));
  const legendY = HEIGHT - 10;
  return s(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": `${labels.revenue} / ${labels.active}`, ...attrs },
    grid,
    bars,
    points.length > 1 ? s("polyline", { points: line, class: "line" }) : null,
    dots,
    s("rect", { x: MARGIN.left, y: legendY - 9, width: 12, height: 10, class: "legend-bar" }),
    s("text", { x: MARGIN.left + 18, y: legendY, class: "legend" }, labels.revenue),
    s("line", { x1: MARGIN.left + 140, x2: MARGIN.left + 160, y1: legendY - 4, y2: legendY - 4, class: "line" }),
    s("text", { x: MARGIN.left + 166, y: legendY, class: "legend" }, labels.active),
  );
}
