// Benefits: coupon templates with their statistics, defining a template, issuing coupons
// to members or a segment, and the rewards catalogue (templates with a points price).
import { request } from "../api.js";
import { h, idempotencyKey, integer, money, percent, replace } from "../dom.js";
import { label, t } from "../i18n.js";
import { notify, reportAll } from "../notices.js";
import { mutate, section, table } from "./widgets.js";

const LISTS = `query ConsoleBenefits {
  couponTemplates(activeOnly: false) {
    id code name kind value minSpend validDays stock perMemberLimit pointsPrice active
    stats { issued redeemed expired redemptionRate revenue }
  }
  rewards { id code name kind value pointsPrice stock }
  segments { id name memberCount }
}`;

const DEFINE = `mutation ConsoleDefineTemplate($input: CouponTemplateInput!) {
  defineCouponTemplate(input: $input) { template { id } userErrors { code field message } }
}`;
const DEACTIVATE = `mutation ConsoleDeactivateTemplate($id: ID!) {
  deactivateCouponTemplate(id: $id) { template { id active } userErrors { code field message } }
}`;
const ISSUE = `mutation ConsoleIssueCoupons($input: IssueCouponsInput!) {
  issueCoupons(input: $input) { issued skipped userErrors { code field message } }
}`;

// The last issue's outcome, kept while the page reloads its lists.
let lastIssue = null;

const KINDS = ["CASH_OFF", "PERCENT_OFF", "GIFT", "POINTS_MULTIPLIER", "FREE_SHIPPING"];

function benefit(template) {
  if (template.kind === "CASH_OFF") return `${label("couponKind", template.kind)} ${money(template.value)}`;
  if (template.kind === "PERCENT_OFF") return `${label("couponKind", template.kind)} ${integer(Number(template.value))}%`;
  if (template.kind === "POINTS_MULTIPLIER") return `${label("couponKind", template.kind)} ×${integer(Number(template.value))}`;
  return label("couponKind", template.kind);
}

function templatesTable(templates, reload) {
  const rows = templates.map((tpl) => [
    h("code", null, tpl.code),
    tpl.name,
    benefit(tpl),
    tpl.minSpend === null ? "—" : money(tpl.minSpend),
    integer(tpl.validDays),
    tpl.stock === null ? "∞" : integer(tpl.stock),
    tpl.pointsPrice === null ? "—" : integer(tpl.pointsPrice),
    h("span", { testid: "stat-issued", "data-value": tpl.stats.issued }, integer(tpl.stats.issued)),
    h("span", { testid: "stat-redeemed", "data-value": tpl.stats.redeemed }, integer(tpl.stats.redeemed)),
    h("span", { testid: "stat-expired", "data-value": tpl.stats.expired }, integer(tpl.stats.expired)),
    h("span", { testid: "stat-rate" }, percent(tpl.stats.redemptionRate)),
    h("span", { testid: "stat-revenue", "data-value": tpl.stats.revenue }, money(tpl.stats.revenue)),
    tpl.active
      ? h(
          "button",
          {
            type: "button",
            class: "reject",
            testid: "template-deactivate",
            onclick: async () => {
              if (await mutate(DEACTIVATE, { id: tpl.id }, "deactivateCouponTemplate")) reload();
            },
          },
          t("benefits.deactivate"),
        )
      : h("span", { class: "muted" }, t("benefits.inactive")),
  ]);
  return table(
    [
      t("coupons.code"),
      t("benefits.name"),
      t("benefits.benefit"),
      t("benefits.minSpend"),
      t("benefits.validDays"),
      t("benefits.stock"),
      t("benefits.pointsPrice"),
      t("benefits.issued"),
      t("benefits.redeemed"),
      t("benefits.expired"),
      t("benefits.rate"),
      t("benefits.revenue"),
      t("actions"),
    ],
    rows,
    (i) => ({ testid: "template-row", "data-template-id": templates[i].id, "data-code": templates[i].code }),
  );
}

/** An optional number field: blank is null (the API's "no limit"/"not set"). */
function optional(input) {
  const v = input.value.trim();
  return v === "" ? null : v;
}

function defineForm(reload) {
  const field = (testid, attrs = {}) => h("input", { type: "text", testid, ...attrs });
  const code = field("template-code", { required: true, maxlength: 64 });
  const name = field("template-name", { required: true, maxlength: 200 });
  const kind = h("select", { testid: "template-kind" }, KINDS.map((k) => h("option", { value: k }, label("couponKind", k))));
  const value = field("template-value", { inputmode: "decimal", size: 8 });
  const minSpend = field("template-min-spend", { inputmode: "decimal", size: 8 });
  const validDays = h("input", { type: "number", min: 1, step: 1, value: "30", required: true, testid: "template-valid-days", class: "narrow" });
  const stock = h("input", { type: "number", min: 0, step: 1, testid: "template-stock", class: "narrow" });
  const perMember = h("input", { type: "number", min: 1, step: 1, testid: "template-per-member", class: "narrow" });
  const pointsPrice = h("input", { type: "number", min: 1, step: 1, testid: "template-points-price", class: "narrow" });
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const int = (input) => (optional(input) === null ? null : Number(input.value));
        const input = {
          code: code.value.trim(),
          name: name.value.trim(),
          kind: kind.value,
          value: optional(value),
          minSpend: optional(minSpend),
          validDays: Number(validDays.value),
          stock: int(stock),
          perMemberLimit: int(perMember),
          pointsPrice: int(pointsPrice),
        };
        if (await mutate(DEFINE, { input }, "defineCouponTemplate")) {
          notify("ok", t("benefits.defined", { code: input.code }));
          reload();
        }
      },
    },
    h("div", { class: "inline" }, h("label", null, t("coupons.code"), code), h("label", null, t("benefits.name"), name)),
    h(
      "div",
      { class: "inline" },
      h("label", null, t("benefits.kind"), kind),
      h("label", null, t("benefits.value"), value),
      h("label", null, t("benefits.minSpend"), minSpend),
    ),
    h(
      "div",
      { class: "inline" },
      h("label", null, t("benefits.validDays"), validDays),
      h("label", null, t("benefits.stock"), stock),
      h("label", null, t("benefits.perMember"), perMember),
      h("label", null, t("benefits.pointsPrice"), pointsPrice),
    ),
    h("p", { class: "muted small" }, t("benefits.valueNote")),
    h("button", { type: "submit", class: "primary", testid: "template-save" }, t("save")),
  );
  return section(t("benefits.define"), form);
}

function issueForm(templates, segments, reload) {
  const live = templates.filter((tpl) => tpl.active);
  const template = h("select", { testid: "issue-template" }, live.map((tpl) => h("option", { value: tpl.id }, `${tpl.name} (${tpl.code})`)));
  const target = h(
    "select",
    { testid: "issue-target" },
    h("option", { value: "members" }, t("benefits.toMembers")),
    h("option", { value: "segment" }, t("benefits.toSegment")),
  );
  const members = h("textarea", { rows: 3, cols: 40, testid: "issue-members", placeholder: t("benefits.memberIds") });
  const segment = h("select", { testid: "issue-segment" }, segments.map((s) => h("option", { value: s.id }, `${s.name} (${integer(s.memberCount)})`)));
  const reason = h("input", { type: "text", required: true, maxlength: 500, testid: "issue-reason" });
  const result = h("p", { class: "muted", testid: "issue-result" });
  if (lastIssue) {
    replace(result, t("benefits.issuedResult", { issued: integer(lastIssue.issued), skipped: integer(lastIssue.skipped) }));
    result.dataset.issued = lastIssue.issued;
    result.dataset.skipped = lastIssue.skipped;
  }
  const showTarget = () => {
    members.hidden = target.value !== "members";
    segment.hidden = target.value !== "segment";
  };
  target.addEventListener("change", showTarget);
  showTarget();
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const input = { templateId: template.value, reason: reason.value.trim(), idempotencyKey: idempotencyKey() };
        if (target.value === "segment") input.segmentId = segment.value;
        else input.memberIds = members.value.split(/[\s,]+/).filter(Boolean);
        const done = await mutate(ISSUE, { input }, "issueCoupons");
        if (done) {
          lastIssue = { issued: done.issued, skipped: done.skipped };
          reload();
        }
      },
    },
    h("div", { class: "inline" }, h("label", null, t("benefits.template"), template), h("label", null, t("benefits.to"), target)),
    members,
    segment,
    h("label", null, t("reason"), reason),
    h("button", { type: "submit", class: "primary", testid: "issue-submit", disabled: live.length === 0 }, t("benefits.issue")),
    result,
  );
  return section(t("benefits.issueTitle"), form);
}

function rewardsTable(rewards) {
  const rows = rewards.map((r) => [h("code", null, r.code), r.name, benefit(r), h("span", { testid: "reward-price", "data-value": r.pointsPrice }, integer(r.pointsPrice)), r.stock === null ? "∞" : integer(r.stock)]);
  return section(
    t("benefits.rewards"),
    h("p", { class: "muted small" }, t("benefits.rewardsNote")),
    table([t("coupons.code"), t("benefits.name"), t("benefits.benefit"), t("benefits.pointsPrice"), t("benefits.stock")], rows, (i) => ({
      testid: "reward-row",
      "data-template-id": rewards[i].id,
    })),
  );
}

export async function render(main, _arg, current, keepResult = false) {
  if (!keepResult) lastIssue = null;
  const { data, errors } = await request(LISTS);
  if (!current()) return;
  reportAll(errors);
  const reload = () => render(main, _arg, current, true);
  const templates = data?.couponTemplates ?? [];
  replace(
    main,
    h("h1", null, t("nav.benefits")),
    section(t("benefits.templates"), h("div", { class: "scroll", testid: "template-list" }, templatesTable(templates, reload))),
    h("div", { class: "grid-2" }, defineForm(reload), issueForm(templates, data?.segments ?? [], reload)),
    rewardsTable(data?.rewards ?? []),
  );
}
