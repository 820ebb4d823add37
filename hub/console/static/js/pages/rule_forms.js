// Form parts the earning-rules page and the dry run share: the fields of a promotion and an
// editable tier ladder. Each answers its element and a read() giving the API's input.
import { h } from "../dom.js";
import { label, locale, t } from "../i18n.js";

const CHANNELS = ["MINI_PROGRAM", "WEB", "POS", "PARTNER", "ADMIN"];

/** An ISO weekday (1 = Monday) in the console's language: "Mon", "周一". */
export function weekday(n) {
  // 2024-01-01 was a Monday.
  return new Date(Date.UTC(2024, 0, n)).toLocaleDateString(locale(), { weekday: "short", timeZone: "UTC" });
}

/** A list typed with commas, spaces or Chinese commas; null when blank (no condition). */
function list(input, toValue = (v) => v) {
  const items = input.value.split(/[\s,，、]+/).filter(Boolean).map(toValue);
  return items.length ? items : null;
}

function whole(input) {
  const v = input.value.trim();
  return v === "" ? null : Number(v);
}

/** The value for a datetime-local input: this browser's wall clock, to the minute. */
export function localInput(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function instant(input) {
  return input.value ? new Date(input.value).toISOString() : null;
}

function checks(values, name, testid) {
  return h(
    "div",
    { class: "inline", testid },
    values.map(([value, text]) => h("label", { class: "check" }, h("input", { type: "checkbox", value, "data-group": name }), text)),
  );
}

function checked(box) {
  const found = [...box.querySelectorAll("input:checked")].map((i) => i.value);
  return found.length ? found : null;
}

/** The fields of a PromotionInput; prefix keeps the test IDs of two forms on a page apart. */
export function promotionFields(tiers, segments, prefix = "promo") {
  const id = (name) => `${prefix}-${name}`;
  const text = (name, attrs = {}) => h("input", { type: "text", testid: id(name), ...attrs });
  const number = (name, attrs = {}) => h("input", { type: "number", step: 1, class: "narrow", testid: id(name), ...attrs });
  const name = text("name", { required: true, maxlength: 200 });
  const kind = h(
    "select",
    { testid: id("kind") },
    ["MULTIPLIER", "BONUS_POINTS"].map((k) => h("option", { value: k }, label("promotionKind", k))),
  );
  const value = text("value", { required: true, inputmode: "decimal", size: 8 });
  const daysOfMonth = text("days-of-month", { size: 10, placeholder: "8, 18" });
  const daysOfWeek = checks([1, 2, 3, 4, 5, 6, 7].map((d) => [d, weekday(d)]), "dow", id("days-of-week"));
  const birthday = number("birthday-window", { min: 0 });
  const tierBox = checks(tiers.map((tier) => [tier.code, tier.name]), "tiers", id("tiers"));
  const segment = h(
    "select",
    { testid: id("segment") },
    h("option", { value: "" }, t("rules.anySegment")),
    segments.map((sg) => h("option", { value: sg.id }, sg.name)),
  );
  const categories = text("categories", { size: 16 });
  const skus = text("skus", { size: 16 });
  const channelBox = checks(CHANNELS.map((c) => [c, label("channel", c)]), "channels", id("channels"));
  const stores = text("stores", { size: 12 });
  const nth = number("nth", { min: 1 });
  const startsAt = h("input", { type: "datetime-local", required: true, value: localInput(new Date()), testid: id("starts") });
  const endsAt = h("input", { type: "datetime-local", testid: id("ends") });
  const stackable = h("input", { type: "checkbox", testid: id("stackable") });
  const element = h(
    "div",
    { class: "stack" },
    h(
      "div",
      { class: "inline" },
      h("label", null, t("benefits.name"), name),
      h("label", null, t("benefits.kind"), kind),
      h("label", null, t("benefits.value"), value),
      h("label", { class: "check" }, stackable, t("rules.stackable")),
    ),
    h("div", { class: "inline" }, h("label", null, t("rules.starts"), startsAt), h("label", null, t("rules.ends"), endsAt)),
    h(
      "div",
      { class: "inline" },
      h("label", null, t("rules.daysOfMonth"), daysOfMonth),
      h("label", null, t("rules.birthdayWindow"), birthday),
      h("label", null, t("rules.nth"), nth),
      h("label", null, t("rules.segment"), segment),
    ),
    h("div", null, h("span", { class: "muted small" }, t("rules.daysOfWeek")), daysOfWeek),
    tiers.length ? h("div", null, h("span", { class: "muted small" }, t("rules.tiers")), tierBox) : null,
    h("div", null, h("span", { class: "muted small" }, t("rules.channels")), channelBox),
    h(
      "div",
      { class: "inline" },
      h("label", null, t("rules.categories"), categories),
      h("label", null, t("rules.skus"), skus),
      h("label", null, t("rules.stores"), stores),
    ),
    h("p", { class: "muted small" }, t("rules.promotionNote")),
  );
  const read = () => ({
    name: name.value.trim(),
    kind: kind.value,
    value: value.value.trim(),
    daysOfMonth: list(daysOfMonth, Number),
    daysOfWeek: checked(daysOfWeek)?.map(Number) ?? null,
    birthdayWindowDays: whole(birthday),
    tierCodes: checked(tierBox),
    segmentId: segment.value || null,
    categories: list(categories),
    skus: list(skus),
    channels: checked(channelBox),
    storeIds: list(stores),
    nthPurchase: whole(nth),
    startsAt: instant(startsAt),
    endsAt: instant(endsAt),
    stackable: stackable.checked,
  });
  return { element, read };
}

/** Perks are typed one a line, or separated by semicolons. */
function perks(input) {
  return input.value.split(/[\n;；]+/).map((p) => p.trim()).filter(Boolean);
}

/** The ladder as rows of inputs, lowest first, from today's tiers; rows can be added and taken out. */
export function ladderEditor(tiers, prefix = "ladder") {
  const body = h("tbody");
  const cell = (field, value, attrs = {}) => h("input", { type: "text", value: value ?? "", "data-field": field, testid: `${prefix}-${field}`, ...attrs });
  const addRow = (tier = {}) => {
    const row = h("tr", { testid: `${prefix}-row` });
    row.append(
      ...[
        cell("code", tier.code, { required: true, size: 8 }),
        cell("name", tier.name, { required: true, size: 10 }),
        cell("threshold", tier.qualifyingSpend, { required: true, inputmode: "decimal", size: 8 }),
        cell("multiplier", tier.pointsMultiplier, { required: true, inputmode: "decimal", size: 5 }),
        cell("pay-percent", tier.payPercent, { inputmode: "decimal", size: 5 }),
        cell("perks", (tier.perks ?? []).join("; "), { size: 20 }),
        h("button", { type: "button", class: "link", testid: `${prefix}-remove`, onclick: () => row.remove() }, t("rules.removeTier")),
      ].map((c) => h("td", null, c)),
    );
    body.append(row);
  };
  tiers.forEach(addRow);
  const element = h(
    "div",
    { class: "stack" },
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "data" },
        h(
          "thead",
          null,
          h("tr", null, [t("coupons.code"), t("benefits.name"), t("rules.threshold"), t("rules.multiplier"), t("rules.payPercent"), t("rules.perks"), ""].map((c) => h("th", null, c))),
        ),
        body,
      ),
    ),
    h("button", { type: "button", testid: `${prefix}-add`, onclick: () => addRow() }, t("rules.addTier")),
    h("p", { class: "muted small" }, t("rules.ladderNote")),
  );
  const read = () =>
    [...body.querySelectorAll("tr")].map((row) => {
      const get = (field) => row.querySelector(`[data-field='${field}']`);
      const pay = get("pay-percent").value.trim();
      return {
        code: get("code").value.trim(),
        name: get("name").value.trim(),
        threshold: get("threshold").value.trim(),
        multiplier: get("multiplier").value.trim(),
        payPercent: pay === "" ? null : pay,
        perks: perks(get("perks")),
      };
    });
  return { element, read };
}
