// Campaigns: the list with status, trigger and audience; a campaign's arms as its report
// gives them (members, reached, converted, revenue…), the best arm's uplift over the
// holdout with its p-value; starting and pausing.
import { request } from "../api.js";
import { dateTime, h, integer, money, percent, replace } from "../dom.js";
import { label, locale, t } from "../i18n.js";
import { notify, reportAll } from "../notices.js";
import { fact, mutate, section, table } from "./widgets.js";

const CAMPAIGN = `id name status trigger triggerDays triggerCategory startsAt endsAt
  frequencyCapDays conversionWindowDays audience { id name memberCount }`;

const LIST = `query ConsoleCampaigns { campaigns { ${CAMPAIGN} } }`;

const DETAIL = `query ConsoleCampaign($id: ID!) {
  campaign(id: $id) {
    ${CAMPAIGN}
    report {
      arms { name weight holdout members reached converted conversionRate revenue couponsRedeemed pointsAwarded }
      uplift pValue
    }
  }
}`;

const START = `mutation ConsoleStartCampaign($id: ID!) {
  startCampaign(id: $id) { campaign { id status } userErrors { code field message } }
}`;
const PAUSE = `mutation ConsolePauseCampaign($id: ID!) {
  pauseCampaign(id: $id) { campaign { id status } userErrors { code field message } }
}`;

function status(c) {
  return h("span", { class: `status status-${c.status}`, testid: "campaign-status", "data-value": c.status }, label("campaignStatus", c.status));
}

/** The trigger in words, with its days or category when it has them. */
function trigger(c) {
  const name = label("campaignTrigger", c.trigger);
  if (c.triggerDays !== null && c.triggerCategory) return `${name} (${t("campaigns.days", { n: c.triggerDays })}, ${c.triggerCategory})`;
  if (c.triggerDays !== null) return `${name} (${t("campaigns.days", { n: c.triggerDays })})`;
  if (c.triggerCategory) return `${name} (${c.triggerCategory})`;
  return name;
}

function audience(c) {
  return c.audience ? `${c.audience.name} (${integer(c.audience.memberCount)})` : t("campaigns.everyone");
}

/** Start (a draft or a paused campaign) or pause (a running one). */
function actions(c, reload) {
  const act = (text, testid, cls, mutation, field, done) =>
    h(
      "button",
      {
        type: "button",
        class: cls,
        testid,
        onclick: async () => {
          if (await mutate(mutation, { id: c.id }, field)) {
            notify("ok", t(done, { name: c.name }));
            reload();
          }
        },
      },
      text,
    );
  return h(
    "div",
    { class: "inline" },
    c.status === "DRAFT" || c.status === "PAUSED" ? act(t("campaigns.start"), "campaign-start", "approve", START, "startCampaign", "campaigns.started") : null,
    c.status === "RUNNING" ? act(t("campaigns.pause"), "campaign-pause", "reject", PAUSE, "pauseCampaign", "campaigns.paused") : null,
  );
}

function listView(campaigns, reload) {
  const rows = campaigns.map((c) => [
    h("a", { href: `#/campaigns/${encodeURIComponent(c.id)}`, testid: "campaign-open" }, c.name),
    status(c),
    h("span", { testid: "campaign-trigger", "data-value": c.trigger }, trigger(c)),
    h("span", { testid: "campaign-audience" }, audience(c)),
    h("span", { class: "small" }, dateTime(c.startsAt), " – ", c.endsAt ? dateTime(c.endsAt) : t("rules.open")),
    actions(c, reload),
  ]);
  return section(
    t("campaigns.list"),
    h(
      "div",
      { class: "scroll", testid: "campaign-list" },
      table([t("benefits.name"), t("col.status"), t("campaigns.trigger"), t("campaigns.audience"), t("rules.window"), t("actions")], rows, (i) => ({
        testid: "campaign-row",
        "data-campaign-id": campaigns[i].id,
        "data-name": campaigns[i].name,
      })),
    ),
  );
}

function cell(testid, value, text) {
  return h("span", { class: "figure", testid, "data-value": value ?? "" }, text);
}

/** Percentage points with two decimals, signed: "+4.17 pp". */
function points(value) {
  if (value === null) return "—";
  const text = new Intl.NumberFormat(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: "exceptZero" }).format(value);
  return t("campaigns.pp", { value: text });
}

function pValue(value) {
  if (value === null) return "—";
  return value < 0.0001 ? "< 0.0001" : value.toPrecision(3);
}

function armsTable(arms) {
  const rows = arms.map((a) => [
    h("span", null, a.name, a.holdout ? " " : null, a.holdout ? h("span", { class: "chip", testid: "arm-holdout" }, t("campaigns.holdout")) : null),
    cell("arm-weight", a.weight, integer(a.weight)),
    cell("arm-members", a.members, integer(a.members)),
    cell("arm-reached", a.reached, integer(a.reached)),
    cell("arm-converted", a.converted, integer(a.converted)),
    cell("arm-rate", a.conversionRate, percent(a.conversionRate)),
    cell("arm-revenue", a.revenue, money(a.revenue)),
    cell("arm-coupons", a.couponsRedeemed, integer(a.couponsRedeemed)),
    cell("arm-points", a.pointsAwarded, integer(a.pointsAwarded)),
  ]);
  return table(
    [
      t("campaigns.arm"),
      t("campaigns.weight"),
      t("campaigns.members"),
      t("campaigns.reached"),
      t("campaigns.converted"),
      t("campaigns.rate"),
      t("benefits.revenue"),
      t("campaigns.coupons"),
      t("campaigns.points"),
    ],
    rows,
    (i) => ({ testid: "arm-row", "data-arm": arms[i].name }),
  );
}

function detailView(c, reload) {
  const { arms, uplift, pValue: p } = c.report;
  return h(
    "article",
    { testid: "campaign-detail", "data-campaign-id": c.id },
    h("p", null, h("a", { href: "#/campaigns", testid: "campaign-back" }, t("campaigns.back"))),
    h(
      "header",
      { class: "member-head card" },
      h("div", null, h("h2", { testid: "campaign-name" }, c.name), h("code", { class: "muted" }, c.id)),
      h("div", { class: "inline" }, status(c), actions(c, reload)),
    ),
    h(
      "div",
      { class: "grid-2" },
      section(
        t("campaigns.setup"),
        h(
          "dl",
          { class: "facts" },
          fact(t("campaigns.trigger"), trigger(c)),
          fact(t("campaigns.audience"), audience(c)),
          fact(t("rules.starts"), dateTime(c.startsAt)),
          fact(t("rules.ends"), c.endsAt ? dateTime(c.endsAt) : t("rules.open")),
          fact(t("campaigns.cap"), t("campaigns.days", { n: c.frequencyCapDays })),
          fact(t("campaigns.window"), t("campaigns.days", { n: c.conversionWindowDays })),
        ),
      ),
      section(
        t("campaigns.uplift"),
        h("div", { class: "big", testid: "campaign-uplift", "data-value": uplift ?? "" }, points(uplift)),
        h("dl", { class: "facts" }, fact(t("campaigns.pValue"), h("span", { testid: "campaign-p-value", "data-value": p ?? "" }, pValue(p)))),
        h("p", { class: "muted small" }, uplift === null ? t("campaigns.noHoldout") : t("campaigns.upliftNote")),
      ),
    ),
    section(t("campaigns.report"), h("div", { class: "scroll", testid: "arm-list" }, armsTable(arms))),
  );
}

export async function render(main, id, current) {
  const reload = () => render(main, id, current);
  if (id) {
    const { data, errors } = await request(DETAIL, { id });
    if (!current()) return;
    reportAll(errors);
    if (!data?.campaign) {
      replace(main, h("h1", null, t("nav.campaigns")), h("p", { class: "muted", testid: "campaign-not-found" }, t("campaigns.notFound")));
      return;
    }
    replace(main, h("h1", null, t("nav.campaigns")), detailView(data.campaign, reload));
    return;
  }
  const { data, errors } = await request(LIST);
  if (!current()) return;
  reportAll(errors);
  replace(main, h("h1", null, t("nav.campaigns")), h("p", { class: "muted small" }, t("campaigns.intro")), listView(data?.campaigns ?? [], reload));
}
