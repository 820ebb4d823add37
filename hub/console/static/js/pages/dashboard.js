// Dashboard: the `dashboard` query's figures for a period (and store), and a chart of
// revenue and active members built from one `dashboard` call per sub-period.
import { query } from "../api.js";
import { revenueChart } from "../chart.js";
import { h, integer, money, percent, replace } from "../dom.js";
import { label, t } from "../i18n.js";
import { report } from "../notices.js";

const FIGURES = `
query ConsoleDashboard($from: Date!, $to: Date!, $store: ID) {
  dashboard(from: $from, to: $to, storeId: $store) {
    from to members newMembers activeMembers repurchaseRate averageOrderValue revenue
    pointsIssued pointsRedeemed pointsExpired pointsOutstanding
    couponsIssued couponsRedeemed promotionPoints
    tiers { key count } rfm { key count } lifecycle { key count } channels { key count }
  }
}`;

/** At most this many sub-periods: the API's alias limit bounds one request. */
const MAX_BUCKETS = 24;

const state = { from: null, to: null, store: "" };

export function iso(date) {
  return date.toISOString().slice(0, 10);
}

function parse(text) {
  return new Date(`${text}T00:00:00Z`);
}

export function addDays(date, days) {
  return new Date(date.getTime() + days * 86_400_000);
}

/** Today in the programme's time zone (the hub names it in the page), where it books purchases. */
export function today() {
  const zone = document.querySelector('meta[name="memberhub-time-zone"]')?.content || undefined;
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  return parse(parts);
}

/** Consecutive [from, to] sub-periods covering the period: days, weeks or months. */
export function buckets(fromText, toText) {
  const from = parse(fromText);
  const to = parse(toText);
  const days = Math.round((to - from) / 86_400_000) + 1;
  const out = [];
  if (days <= MAX_BUCKETS * 7) {
    const size = days <= MAX_BUCKETS ? 1 : 7;
    for (let start = from; start <= to; start = addDays(start, size)) {
      const end = addDays(start, size - 1);
      out.push({ from: iso(start), to: iso(end > to ? to : end), label: iso(start).slice(5) });
    }
    return out;
  }
  const months = (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth() + 1;
  const size = Math.ceil(months / MAX_BUCKETS);
  let start = from;
  while (start <= to) {
    const next = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + size, 1));
    const end = addDays(next, -1);
    out.push({ from: iso(start), to: iso(end > to ? to : end), label: iso(start).slice(0, 7) });
    start = next;
  }
  return out;
}

function seriesQuery(parts) {
  const variables = parts.flatMap((_, i) => [`$f${i}: Date!`, `$t${i}: Date!`]).join(", ");
  const fields = parts
    .map((_, i) => `b${i}: dashboard(from: $f${i}, to: $t${i}, storeId: $store) { revenue activeMembers }`)
    .join("\n  ");
  return `query ConsoleDashboardSeries($store: ID, ${variables}) {\n  ${fields}\n}`;
}

function kpi(testid, title, shown, raw) {
  return h("div", { class: "kpi card", testid, "data-value": raw ?? "" }, h("div", { class: "kpi-title" }, title), h("div", { class: "kpi-value" }, shown));
}

function distribution(title, rows, group, testid) {
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  return h(
    "section",
    { class: "card", testid },
    h("h3", null, title),
    rows.length === 0
      ? h("p", { class: "muted" }, t("none"))
      : h(
          "ul",
          { class: "bars" },
          rows.map((r) =>
            h(
              "li",
              { "data-key": r.key },
              h("span", { class: "bar-label" }, group ? label(group, r.key) : r.key),
              h("span", { class: "bar-track" }, h("span", { class: "bar-fill", style: { width: `${total ? (100 * r.count) / total : 0}%` } })),
              h("span", { class: "bar-count" }, integer(r.count)),
            ),
          ),
        ),
  );
}

export async function render(main, _arg, current) {
  if (!state.to) {
    state.to = iso(today());
    state.from = iso(addDays(today(), -29));
  }
  const fromInput = h("input", { type: "date", value: state.from, testid: "dash-from", required: true });
  const toInput = h("input", { type: "date", value: state.to, testid: "dash-to", required: true });
  const storeInput = h("input", { type: "text", value: state.store, testid: "dash-store", placeholder: t("dash.store.all"), size: 14 });
  const body = h("div", { class: "dashboard" }, h("p", { class: "muted" }, t("loading")));
  const formError = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        if (toInput.value < fromInput.value) {
          replace(formError, t("dash.badRange"));
          return;
        }
        replace(formError);
        Object.assign(state, { from: fromInput.value, to: toInput.value, store: storeInput.value.trim() });
        load().catch(report);
      },
    },
    h("label", null, t("dash.from"), fromInput),
    h("label", null, t("dash.to"), toInput),
    h("label", null, t("dash.store"), storeInput),
    h("button", { type: "submit", class: "primary", testid: "dash-apply" }, t("apply")),
    formError,
  );
  replace(main, h("h1", null, t("nav.dashboard")), form, body);

  async function load() {
    const store = state.store || null;
    const parts = buckets(state.from, state.to);
    const variables = { store };
    parts.forEach((p, i) => Object.assign(variables, { [`f${i}`]: p.from, [`t${i}`]: p.to }));
    replace(body, h("p", { class: "muted" }, t("loading")));
    let figures;
    let series;
    try {
      [figures, series] = await Promise.all([
        query(FIGURES, { from: state.from, to: state.to, store }),
        query(seriesQuery(parts), variables),
      ]);
    } catch (error) {
      replace(body);
      throw error;
    }
    if (!current()) return;
    const d = figures.dashboard;
    const points = parts.map((p, i) => ({
      label: p.label,
      title: p.from === p.to ? p.from : `${p.from} – ${p.to}`,
      revenue: Number(series[`b${i}`].revenue),
      active: series[`b${i}`].activeMembers,
    }));
    replace(
      body,
      h(
        "div",
        { class: "kpis" },
        kpi("kpi-members", t("dash.members"), integer(d.members), d.members),
        kpi("kpi-new-members", t("dash.newMembers"), integer(d.newMembers), d.newMembers),
        kpi("kpi-active-members", t("dash.activeMembers"), integer(d.activeMembers), d.activeMembers),
        kpi("kpi-repurchase-rate", t("dash.repurchaseRate"), percent(d.repurchaseRate), d.repurchaseRate),
        kpi("kpi-aov", t("dash.aov"), money(d.averageOrderValue), d.averageOrderValue),
        kpi("kpi-revenue", t("dash.revenue"), money(d.revenue), d.revenue),
      ),
      h(
        "div",
        { class: "kpis" },
        kpi("kpi-points-issued", t("dash.pointsIssued"), integer(d.pointsIssued), d.pointsIssued),
        kpi("kpi-points-redeemed", t("dash.pointsRedeemed"), integer(d.pointsRedeemed), d.pointsRedeemed),
        kpi("kpi-points-expired", t("dash.pointsExpired"), integer(d.pointsExpired), d.pointsExpired),
        kpi("kpi-points-outstanding", t("dash.pointsOutstanding"), integer(d.pointsOutstanding), d.pointsOutstanding),
      ),
      h(
        "div",
        { class: "kpis" },
        kpi("kpi-coupons-issued", t("dash.couponsIssued"), integer(d.couponsIssued), d.couponsIssued),
        kpi("kpi-coupons-redeemed", t("dash.couponsRedeemed"), integer(d.couponsRedeemed), d.couponsRedeemed),
        kpi("kpi-promotion-points", t("dash.promotionPoints"), integer(d.promotionPoints), d.promotionPoints),
      ),
      h(
        "section",
        { class: "card" },
        h("h3", null, t("dash.chart")),
        revenueChart(
          points,
          { revenue: t("dash.revenue"), active: t("dash.activeMembers") },
          { revenue: (n) => money(n).replace(/\.00$/, ""), active: integer },
          { "data-testid": "chart-revenue" },
        ),
      ),
      h(
        "div",
        { class: "grid-2" },
        distribution(t("dash.lifecycle"), d.lifecycle, "lifecycle", "dist-lifecycle"),
        distribution(t("dash.rfm"), d.rfm, "rfm", "dist-rfm"),
        distribution(t("dash.tiers"), d.tiers, null, "dist-tiers"),
        distribution(t("dash.channels"), d.channels, "channel", "dist-channels"),
      ),
    );
  }

  await load();
}
