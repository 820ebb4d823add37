// Earning rules: the promotions with the points each added, defining and ending one; the
// tier ladder and replacing it; and the dry run of a proposed change (dry_run.js).
import { request } from "../api.js";
import { dateTime, h, integer, money, replace } from "../dom.js";
import { label, t } from "../i18n.js";
import { notify, reportAll } from "../notices.js";
import { dryRunSection } from "./dry_run.js";
import { ladderEditor, promotionFields, weekday } from "./rule_forms.js";
import { mutate, section, table } from "./widgets.js";

const PROMOTION = `id name kind value daysOfMonth daysOfWeek birthdayWindowDays tierCodes
  categories skus channels storeIds nthPurchase startsAt endsAt stackable pointsAwarded
  segment { id name }`;
const TIER = "code name rank qualifyingSpend pointsMultiplier payPercent perks";

const LISTS = `query ConsoleRules {
  promotions { ${PROMOTION} }
  tiers { ${TIER} }
  segments { id name }
}`;

const DEFINE = `mutation ConsoleDefinePromotion($input: PromotionInput!) {
  definePromotion(input: $input) { promotion { id name } userErrors { code field message } }
}`;
const END = `mutation ConsoleEndPromotion($id: ID!) {
  endPromotion(id: $id) { promotion { id endsAt } userErrors { code field message } }
}`;
const TIERS = `mutation ConsoleDefineTiers($tiers: [TierInput!]!) {
  defineTiers(tiers: $tiers) { tiers { code } userErrors { code field message } }
}`;

/** What a promotion gives: "×2" or "+50 points". */
export function promotionValue(p) {
  const v = Number(p.value);
  return p.kind === "MULTIPLIER" ? `×${v}` : t("rules.bonus", { points: integer(v) });
}

/** Running, scheduled (starts later) or ended, by the promotion's window and this clock. */
export function promotionStatus(p, now = Date.now()) {
  if (p.endsAt && Date.parse(p.endsAt) <= now) return "ENDED";
  if (Date.parse(p.startsAt) > now) return "SCHEDULED";
  return "RUNNING";
}

/** Every condition that is set, in words. */
function conditions(p) {
  const parts = [];
  if (p.daysOfMonth.length) parts.push(t("rules.cond.daysOfMonth", { days: p.daysOfMonth.join(", ") }));
  if (p.daysOfWeek.length) parts.push(t("rules.cond.daysOfWeek", { days: p.daysOfWeek.map((d) => weekday(d)).join(", ") }));
  if (p.birthdayWindowDays !== null) parts.push(t("rules.cond.birthday", { days: p.birthdayWindowDays }));
  if (p.tierCodes.length) parts.push(t("rules.cond.tiers", { tiers: p.tierCodes.join(", ") }));
  if (p.segment) parts.push(t("rules.cond.segment", { segment: p.segment.name }));
  if (p.categories.length) parts.push(t("rules.cond.categories", { list: p.categories.join(", ") }));
  if (p.skus.length) parts.push(t("rules.cond.skus", { list: p.skus.join(", ") }));
  if (p.channels.length) parts.push(t("rules.cond.channels", { list: p.channels.map((c) => label("channel", c)).join(", ") }));
  if (p.storeIds.length) parts.push(t("rules.cond.stores", { list: p.storeIds.join(", ") }));
  if (p.nthPurchase !== null) parts.push(t("rules.cond.nth", { n: p.nthPurchase }));
  return parts.length ? h("ul", { class: "plain small" }, parts.map((text) => h("li", null, text))) : h("span", { class: "muted" }, t("rules.cond.every"));
}

function promotionsTable(promotions, reload) {
  const rows = promotions.map((p) => {
    const status = promotionStatus(p);
    return [
      h("span", { testid: "promotion-name" }, p.name),
      h("span", { testid: "promotion-value", "data-kind": p.kind, "data-value": p.value }, p.kind === "MULTIPLIER" ? `${label("promotionKind", p.kind)} ${promotionValue(p)}` : promotionValue(p)),
      conditions(p),
      h("span", { class: "small" }, dateTime(p.startsAt), " – ", p.endsAt ? dateTime(p.endsAt) : t("rules.open")),
      h("span", { testid: "promotion-stackable", "data-value": String(p.stackable) }, p.stackable ? t("yes") : t("no")),
      h("span", { class: "figure", testid: "promotion-points", "data-value": p.pointsAwarded }, integer(p.pointsAwarded)),
      h("span", { class: `status status-${status}`, testid: "promotion-status", "data-value": status }, label("promotionStatus", status)),
      status === "ENDED"
        ? ""
        : h(
            "button",
            {
              type: "button",
              class: "reject",
              testid: "promotion-end",
              onclick: async () => {
                if (await mutate(END, { id: p.id }, "endPromotion")) {
                  notify("ok", t("rules.ended", { name: p.name }));
                  reload();
                }
              },
            },
            t("rules.end"),
          ),
    ];
  });
  return table(
    [t("benefits.name"), t("rules.gives"), t("rules.conditions"), t("rules.window"), t("rules.stackable"), t("rules.pointsAwarded"), t("col.status"), t("actions")],
    rows,
    (i) => ({ testid: "promotion-row", "data-promotion-id": promotions[i].id, "data-name": promotions[i].name }),
  );
}

function defineForm(tiers, segments, reload) {
  const fields = promotionFields(tiers, segments, "promo");
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const input = fields.read();
        if (await mutate(DEFINE, { input }, "definePromotion")) {
          notify("ok", t("rules.defined", { name: input.name }));
          reload();
        }
      },
    },
    fields.element,
    h("button", { type: "submit", class: "primary", testid: "promo-save" }, t("rules.define")),
  );
  return section(t("rules.defineTitle"), form);
}

/** Percent paid at the till, and the discount it means: "95% (5% off)". */
export function payPercent(value) {
  if (value === null) return "—";
  const pay = Number(value);
  return t("rules.pays", { pay, off: Math.round((100 - pay) * 100) / 100 });
}

function tiersTable(tiers) {
  const rows = tiers.map((tier) => [
    integer(tier.rank),
    h("code", null, tier.code),
    tier.name,
    h("span", { class: "figure", testid: "tier-threshold", "data-value": tier.qualifyingSpend }, money(tier.qualifyingSpend)),
    h("span", { class: "figure", testid: "tier-multiplier", "data-value": tier.pointsMultiplier }, `×${Number(tier.pointsMultiplier)}`),
    h("span", { class: "figure", testid: "tier-pay", "data-value": tier.payPercent ?? "" }, payPercent(tier.payPercent)),
    tier.perks.length ? h("ul", { class: "plain small", testid: "tier-perks" }, tier.perks.map((p) => h("li", null, p))) : "—",
  ]);
  return table(
    [t("rules.rank"), t("coupons.code"), t("benefits.name"), t("rules.threshold"), t("rules.multiplier"), t("rules.payPercent"), t("rules.perks")],
    rows,
    (i) => ({ testid: "tier-row", "data-code": tiers[i].code }),
  );
}

function ladderForm(tiers, reload) {
  const editor = ladderEditor(tiers, "ladder");
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        if (await mutate(TIERS, { tiers: editor.read() }, "defineTiers")) {
          notify("ok", t("rules.tiersSaved"));
          reload();
        }
      },
    },
    editor.element,
    h("button", { type: "submit", class: "primary", testid: "ladder-save" }, t("rules.saveLadder")),
  );
  return h("details", { class: "editor", testid: "ladder-editor" }, h("summary", { testid: "ladder-edit" }, t("rules.editLadder")), form);
}

export async function render(main, _arg, current) {
  const { data, errors } = await request(LISTS);
  if (!current()) return;
  reportAll(errors);
  const reload = () => render(main, _arg, current);
  const promotions = data?.promotions ?? [];
  const tiers = data?.tiers ?? [];
  const segments = data?.segments ?? [];
  replace(
    main,
    h("h1", null, t("nav.rules")),
    section(t("rules.promotions"), h("div", { class: "scroll", testid: "promotion-list" }, promotionsTable(promotions, reload))),
    defineForm(tiers, segments, reload),
    section(t("rules.ladder"), h("p", { class: "muted small" }, t("rules.ladderIntro")), h("div", { class: "scroll", testid: "tier-list" }, tiersTable(tiers)), ladderForm(tiers, reload)),
    dryRunSection(promotions, tiers, segments),
  );
}
