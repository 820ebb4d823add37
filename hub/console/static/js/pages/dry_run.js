// The dry run on the earning-rules page: a proposed change (base rate, promotions added and
// taken out, a new tier ladder, a period) replayed by dryRunRuleChange; writes nothing.
import { request } from "../api.js";
import { deltaChart } from "../delta_chart.js";
import { h, integer, money, replace } from "../dom.js";
import { t } from "../i18n.js";
import { report, reportAll } from "../notices.js";
import { addDays, iso, today } from "./dashboard.js";
import { ladderEditor, promotionFields } from "./rule_forms.js";
import { fact, section, table } from "./widgets.js";

const DRY_RUN = `query ConsoleDryRun($change: RuleChangeInput!, $from: Date!, $to: Date!) {
  dryRunRuleChange(change: $change, from: $from, to: $to) {
    from to purchasesReplayed membersWithPurchases pointsNow pointsProposed pointsDelta
    liabilityDelta membersAffected durationMs
    tierMoves { fromTier toTier members }
    deltaByTier { key count }
  }
}`;

function signed(value) {
  return value > 0 ? `+${integer(value)}` : integer(value);
}

/** A figure as the API gave it (in data-value); a signed one is green up, red down. */
function figure(testid, value, text, signedValue = false) {
  const sign = signedValue ? (Number(value) > 0 ? "pos" : Number(value) < 0 ? "neg" : "") : "";
  return h("span", { class: `figure ${sign}`, testid, "data-value": value }, text);
}

function resultView(r) {
  const summary = table(
    [t("dry.pointsNow"), t("dry.pointsProposed"), t("dry.pointsDelta"), t("dry.liability"), t("dry.membersAffected")],
    [
      [
        figure("dry-points-now", r.pointsNow, integer(r.pointsNow)),
        figure("dry-points-proposed", r.pointsProposed, integer(r.pointsProposed)),
        figure("dry-points-delta", r.pointsDelta, signed(r.pointsDelta), true),
        figure("dry-liability", r.liabilityDelta, money(r.liabilityDelta), true),
        figure("dry-members-affected", r.membersAffected, integer(r.membersAffected)),
      ],
    ],
  );
  const moves = table(
    [t("dry.fromTier"), t("dry.toTier"), t("campaigns.members")],
    r.tierMoves.map((m) => [m.fromTier, m.toTier, figure("dry-move-members", m.members, integer(m.members))]),
    (i) => ({ testid: "dry-move-row", "data-from": r.tierMoves[i].fromTier, "data-to": r.tierMoves[i].toTier }),
  );
  const byTier = table(
    [t("dry.tier"), t("dry.pointsDelta")],
    r.deltaByTier.map((d) => [d.key, figure("dry-tier-delta", d.count, signed(d.count), true)]),
    (i) => ({ testid: "dry-tier-row", "data-tier": r.deltaByTier[i].key }),
  );
  const chart = r.deltaByTier.length
    ? deltaChart(
        r.deltaByTier.map((d) => ({ label: d.key, value: d.count })),
        (v) => integer(v),
        t("dry.byTier"),
        { "data-testid": "dry-chart" },
      )
    : null;
  return h(
    "div",
    { class: "stack-tight", testid: "dry-result" },
    h(
      "dl",
      { class: "facts" },
      fact(t("dry.period"), `${r.from} – ${r.to}`, "dry-period"),
      fact(t("dry.purchases"), integer(r.purchasesReplayed), "dry-purchases"),
      fact(t("dry.membersWithPurchases"), integer(r.membersWithPurchases), "dry-members-with-purchases"),
      fact(t("dry.duration"), `${integer(r.durationMs)} ms`),
    ),
    h("div", { class: "scroll" }, summary),
    h("div", { class: "grid-2" }, h("div", null, h("h4", null, t("dry.tierMoves")), moves), h("div", null, h("h4", null, t("dry.byTier")), byTier)),
    chart,
  );
}

/** The section: the proposal's form and, once run, the report. */
export function dryRunSection(promotions, tiers, segments) {
  const end = today();
  const from = h("input", { type: "date", required: true, value: iso(addDays(end, -29)), testid: "dry-from" });
  const to = h("input", { type: "date", required: true, value: iso(end), testid: "dry-to" });
  const rate = h("input", { type: "number", min: 0, step: 1, class: "narrow", testid: "dry-rate", placeholder: t("dry.unchanged") });
  const remove = h(
    "div",
    { class: "inline", testid: "dry-remove" },
    promotions.length
      ? promotions.map((p) => h("label", { class: "check" }, h("input", { type: "checkbox", value: p.id, "data-name": p.name }), p.name))
      : h("span", { class: "muted" }, t("none")),
  );
  // Proposed promotions: each a set of fields, read when the dry run is sent.
  const added = [];
  const addedList = h("div", { class: "stack" });
  const addPromotion = () => {
    const n = added.length;
    const fields = promotionFields(tiers, segments, `dry-promo-${n}`);
    const box = h("fieldset", { class: "card", testid: "dry-added-promotion" }, h("legend", null, t("dry.addedPromotion", { n: n + 1 })), fields.element);
    const entry = { fields, box };
    box.append(
      h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => {
            added.splice(added.indexOf(entry), 1);
            box.remove();
          },
        },
        t("dry.dropPromotion"),
      ),
    );
    added.push(entry);
    addedList.append(box);
  };
  const newLadder = h("input", { type: "checkbox", testid: "dry-new-ladder" });
  const ladder = ladderEditor(tiers, "dry-ladder");
  ladder.element.hidden = true;
  newLadder.addEventListener("change", () => {
    ladder.element.hidden = !newLadder.checked;
  });
  const result = h("div", { testid: "dry-output" });
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const change = {};
        if (rate.value.trim() !== "") change.pointsPer100Yuan = Number(rate.value);
        const removed = [...remove.querySelectorAll("input:checked")].map((i) => i.value);
        if (removed.length) change.removePromotionIds = removed;
        if (added.length) change.addPromotions = added.map((a) => a.fields.read());
        if (newLadder.checked) change.tiers = ladder.read();
        replace(result, h("p", { class: "muted" }, t("loading")));
        try {
          const { data, errors } = await request(DRY_RUN, { change, from: from.value, to: to.value });
          reportAll(errors);
          replace(result, data?.dryRunRuleChange ? resultView(data.dryRunRuleChange) : "");
        } catch (error) {
          replace(result);
          report(error);
        }
      },
    },
    h("div", { class: "inline" }, h("label", null, t("dry.from"), from), h("label", null, t("dry.to"), to), h("label", null, t("dry.rate"), rate)),
    h("div", null, h("span", { class: "muted small" }, t("dry.remove")), remove),
    addedList,
    h("button", { type: "button", testid: "dry-add-promotion", onclick: addPromotion }, t("dry.addPromotion")),
    h("div", null, h("label", { class: "check" }, newLadder, t("dry.newLadder"))),
    ladder.element,
    h("button", { type: "submit", class: "primary", testid: "dry-run" }, t("dry.run")),
  );
  return section(t("dry.title"), h("p", { class: "muted small" }, t("dry.intro")), form, result);
}
