// Segments and tags: the lists with member counts, and a form that builds a rule tree,
// counting the members it selects (previewSegment) before it is saved.
import { query, request } from "../api.js";
import { dateTime, h, integer, replace } from "../dom.js";
import { label, t } from "../i18n.js";
import { notify, report } from "../notices.js";

const LISTS = `query ConsoleSegments {
  segments { id name kind description memberCount refreshedAt }
  tags { id name description source memberCount }
}`;
const PREVIEW = `query ConsolePreview($rule: SegmentRuleInput!) {
  previewSegment(rule: $rule) { totalCount edges { node { id profile { name } } } }
}`;
const DEFINE_SEGMENT = `mutation ConsoleDefineSegment($input: SegmentInput!) {
  defineSegment(input: $input) { segment { id name memberCount } userErrors { code field message } }
}`;
const DEFINE_TAG = `mutation ConsoleDefineTag($input: TagInput!) {
  defineTag(input: $input) { tag { id name memberCount } userErrors { code field message } }
}`;

const FIELDS = [
  "PURCHASE_COUNT", "TOTAL_SPEND", "AVERAGE_ORDER_VALUE", "AOV_PERCENTILE",
  "DAYS_SINCE_LAST_PURCHASE", "DAYS_SINCE_REGISTRATION", "POINTS_BALANCE", "TIER_RANK",
  "HAS_TAG", "PURCHASED_CATEGORY", "RFM_SEGMENT", "LIFECYCLE", "CHANNEL_USED",
];
const NUMERIC = new Set(FIELDS.slice(0, 8));
const WINDOWED = new Set(["PURCHASE_COUNT", "TOTAL_SPEND", "AVERAGE_ORDER_VALUE", "AOV_PERCENTILE", "PURCHASED_CATEGORY", "CHANNEL_USED"]);
const OPERATORS = ["EQ", "NE", "GT", "GTE", "LT", "LTE", "BETWEEN", "IN"];
const SET_OPERATORS = ["EQ", "NE", "IN"];
const EXAMPLES = {
  RFM_SEGMENT: "IMPORTANT_VALUE",
  LIFECYCLE: "ACTIVE, NEW",
  CHANNEL_USED: "POS, MINI_PROGRAM",
  HAS_TAG: "vip",
  PURCHASED_CATEGORY: "tea",
};

function condition() {
  return { kind: "condition", not: false, field: "PURCHASE_COUNT", op: "GTE", values: "1", within: "" };
}

function group(mode = "all") {
  return { kind: "group", not: false, mode, children: [condition()] };
}

/** The tree as a SegmentRuleInput; null while a group is empty. */
export function toRule(node) {
  let rule;
  if (node.kind === "group") {
    const parts = node.children.map(toRule);
    if (!parts.length || parts.includes(null)) return null;
    rule = { [node.mode]: parts };
  } else {
    const values = node.values.split(",").map((v) => v.trim()).filter(Boolean);
    const within = node.within === "" ? null : Number(node.within);
    rule = { condition: { field: node.field, op: node.op, values, withinDays: within } };
  }
  return node.not ? { not: rule } : rule;
}

function fieldLabel(field) {
  return label("field", field);
}

function editor(node, changed, remove) {
  const not = h("label", { class: "check" }, h("input", { type: "checkbox", checked: node.not, onchange: (e) => { node.not = e.target.checked; changed(); } }), t("seg.not"));
  const removeButton = remove ? h("button", { type: "button", class: "link", onclick: remove }, t("seg.remove")) : null;
  if (node.kind === "group") {
    const mode = h(
      "select",
      { testid: "rule-mode", onchange: (e) => { node.mode = e.target.value; changed(); } },
      h("option", { value: "all", selected: node.mode === "all" }, t("seg.all")),
      h("option", { value: "any", selected: node.mode === "any" }, t("seg.any")),
    );
    const children = node.children.map((child, i) =>
      editor(child, changed, () => {
        node.children.splice(i, 1);
        changed(true);
      }),
    );
    return h(
      "div",
      { class: "rule-group" },
      h("div", { class: "inline" }, not, mode, removeButton),
      h("div", { class: "rule-children" }, children),
      h(
        "div",
        { class: "inline" },
        h("button", { type: "button", testid: "rule-add-condition", onclick: () => { node.children.push(condition()); changed(true); } }, t("seg.addCondition")),
        h("button", { type: "button", testid: "rule-add-group", onclick: () => { node.children.push(group("any")); changed(true); } }, t("seg.addGroup")),
      ),
    );
  }
  const ops = NUMERIC.has(node.field) ? OPERATORS : SET_OPERATORS;
  const field = h(
    "select",
    {
      testid: "rule-field",
      onchange: (e) => {
        node.field = e.target.value;
        if (!NUMERIC.has(node.field) && !SET_OPERATORS.includes(node.op)) node.op = "EQ";
        if (!WINDOWED.has(node.field)) node.within = "";
        node.values = "";
        changed(true);
      },
    },
    FIELDS.map((f) => h("option", { value: f, selected: f === node.field }, fieldLabel(f))),
  );
  const op = h(
    "select",
    { testid: "rule-op", onchange: (e) => { node.op = e.target.value; changed(); } },
    ops.map((o) => h("option", { value: o, selected: o === node.op }, o)),
  );
  const values = h("input", {
    type: "text",
    value: node.values,
    testid: "rule-values",
    placeholder: EXAMPLES[node.field] ?? (node.op === "BETWEEN" ? "10, 100" : t("seg.values")),
    "aria-label": t("seg.values"),
    oninput: (e) => { node.values = e.target.value; changed(); },
  });
  const within = WINDOWED.has(node.field)
    ? h("input", { type: "number", min: 1, max: 3650, value: node.within, placeholder: t("seg.within"), "aria-label": t("seg.within"), testid: "rule-within", class: "narrow", oninput: (e) => { node.within = e.target.value; changed(); } })
    : null;
  return h("div", { class: "rule-condition inline", testid: "rule-condition" }, not, field, op, values, within, removeButton);
}

function listTable(heads, rows, testid) {
  return h(
    "table",
    { class: "data" },
    h("thead", null, h("tr", null, heads.map((c) => h("th", null, c)))),
    h("tbody", null, rows.length ? rows.map((cells) => h("tr", { testid }, cells.map((c) => h("td", null, c)))) : h("tr", null, h("td", { colspan: heads.length, class: "muted" }, t("none")))),
  );
}

function ruleForm(reloadLists) {
  const tree = group("all");
  const name = h("input", { type: "text", required: true, maxlength: 100, testid: "segment-name" });
  const description = h("input", { type: "text", testid: "segment-description" });
  const saveAs = h(
    "select",
    { testid: "segment-save-as" },
    h("option", { value: "segment" }, t("seg.saveAs.segment")),
    h("option", { value: "tag" }, t("seg.saveAs.tag")),
  );
  const editorBox = h("div", { class: "rule-editor" });
  const count = h("span", { class: "big", testid: "segment-preview-count" }, "…");
  const sample = h("div", { class: "muted small" });
  const previewError = h("p", { class: "form-error", testid: "segment-preview-error" });
  const formError = h("p", { class: "form-error", role: "alert" });
  let timer = null;
  let asked = 0;

  async function preview() {
    const rule = toRule(tree);
    replace(previewError);
    if (!rule) {
      replace(count, "—");
      replace(sample);
      return;
    }
    const ticket = ++asked;
    replace(count, "…");
    try {
      const { data, errors } = await request(PREVIEW, { rule });
      if (ticket !== asked) return;
      if (errors.length) {
        replace(count, "—");
        replace(sample);
        replace(previewError, errors[0].message);
        return;
      }
      const found = data.previewSegment;
      replace(count, integer(found.totalCount));
      count.dataset.value = found.totalCount;
      const names = found.edges.map((e) => e.node.profile.name).filter(Boolean);
      replace(sample, names.length ? `${t("seg.preview.some")} ${names.join(", ")}` : "");
    } catch (error) {
      if (ticket !== asked) return;
      replace(count, "—");
      if (error.code === "FORBIDDEN" || error.code === "INVALID_INPUT") replace(previewError, error.message);
      else report(error);
    }
  }

  function changed(structure = false) {
    if (structure) replace(editorBox, editor(tree, changed, null));
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }

  replace(editorBox, editor(tree, changed, null));
  preview();

  return h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(formError);
        const rule = toRule(tree);
        if (!rule) return;
        const input = { name: name.value.trim(), description: description.value.trim() || null, rule };
        const asTag = saveAs.value === "tag";
        try {
          const data = await query(asTag ? DEFINE_TAG : DEFINE_SEGMENT, { input });
          const payload = asTag ? data.defineTag : data.defineSegment;
          if (payload.userErrors.length) {
            const e = payload.userErrors[0];
            if (e.code === "FORBIDDEN") notify("forbidden", `${t("error.forbidden")}: ${e.message}`);
            replace(formError, `${e.code}: ${e.message}${e.field ? ` (${e.field.join(".")})` : ""}`);
            return;
          }
          const saved = asTag ? payload.tag : payload.segment;
          notify("ok", t("seg.saved", { name: saved.name, count: integer(saved.memberCount) }));
          await reloadLists();
        } catch (error) {
          report(error);
        }
      },
    },
    h("div", { class: "inline" }, h("label", null, t("seg.name"), name), h("label", null, t("seg.description"), description), h("label", null, t("seg.saveAs"), saveAs)),
    editorBox,
    h("div", { class: "preview" }, h("span", null, t("seg.preview")), count, sample, previewError),
    formError,
    h("button", { type: "submit", class: "primary", testid: "segment-save" }, t("save")),
  );
}

function manualTagForm(reloadLists) {
  const name = h("input", { type: "text", required: true, maxlength: 100, testid: "tag-name" });
  const description = h("input", { type: "text", testid: "tag-description" });
  const formError = h("p", { class: "form-error", role: "alert" });
  return h(
    "form",
    {
      class: "inline",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(formError);
        try {
          const data = await query(DEFINE_TAG, { input: { name: name.value.trim(), description: description.value.trim() || null } });
          const errors = data.defineTag.userErrors;
          if (errors.length) {
            replace(formError, `${errors[0].code}: ${errors[0].message}`);
            return;
          }
          notify("ok", t("seg.manualSaved", { name: data.defineTag.tag.name }));
          name.value = "";
          description.value = "";
          await reloadLists();
        } catch (error) {
          report(error);
        }
      },
    },
    h("label", null, t("seg.name"), name),
    h("label", null, t("seg.description"), description),
    h("button", { type: "submit", testid: "tag-save" }, t("save")),
    formError,
  );
}

export async function render(main, _arg, current) {
  const lists = h("div", { class: "grid-2" }, h("p", { class: "muted" }, t("loading")));

  async function reloadLists() {
    let data;
    try {
      data = await query(LISTS);
    } catch (error) {
      replace(lists);
      throw error;
    }
    if (!current()) return;
    replace(
      lists,
      h(
        "section",
        { class: "card", testid: "segment-list" },
        h("h3", null, t("seg.segments")),
        listTable(
          [t("col.name"), t("col.kind"), t("col.members"), t("col.refreshed")],
          data.segments.map((s) => [
            h("div", null, s.kind === "RFM" ? label("rfm", s.name) : s.name, s.description ? h("div", { class: "muted small" }, s.description) : null),
            s.kind,
            h("span", { testid: "segment-count" }, integer(s.memberCount)),
            dateTime(s.refreshedAt),
          ]),
          "segment-row",
        ),
      ),
      h(
        "section",
        { class: "card", testid: "tag-list" },
        h("h3", null, t("seg.tags")),
        listTable(
          [t("col.name"), t("col.source"), t("col.members")],
          data.tags.map((tag) => [
            h("div", null, tag.name, tag.description ? h("div", { class: "muted small" }, tag.description) : null),
            tag.source,
            h("span", { testid: "tag-count" }, integer(tag.memberCount)),
          ]),
          "tag-row",
        ),
      ),
    );
  }

  replace(
    main,
    h("h1", null, t("nav.segments")),
    h("section", { class: "card" }, h("h3", null, t("seg.new")), ruleForm(() => reloadLists().catch(report))),
    h("section", { class: "card" }, h("h3", null, t("seg.manualTag")), manualTagForm(() => reloadLists().catch(report))),
    lists,
  );
  await reloadLists();
}
