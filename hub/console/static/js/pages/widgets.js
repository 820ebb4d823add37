// Building blocks the pages share: a card section, a data table, a fact, and a mutation
// whose payload reports userErrors.
import { query } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { notify, report } from "../notices.js";

/** Run a mutation whose payload has userErrors; the payload when it succeeded, else null. */
export async function mutate(text, variables, field) {
  try {
    const data = await query(text, variables);
    const errors = data[field].userErrors;
    for (const e of errors) notify(e.code === "FORBIDDEN" ? "forbidden" : "error", `${e.code}: ${e.message}`);
    return errors.length === 0 ? data[field] : null;
  } catch (error) {
    report(error);
    return null;
  }
}

export function table(columns, rows, rowAttrs) {
  return h(
    "table",
    { class: "data" },
    h("thead", null, h("tr", null, columns.map((c) => h("th", null, c)))),
    h(
      "tbody",
      null,
      rows.length === 0
        ? h("tr", null, h("td", { colspan: columns.length, class: "muted" }, t("none")))
        : rows.map((cells, i) => h("tr", rowAttrs ? rowAttrs(i) : null, cells.map((c) => h("td", null, c)))),
    ),
  );
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h3", null, title), ...children);
}

export function fact(name, value, testid) {
  return h("div", { class: "fact" }, h("dt", null, name), h("dd", testid ? { testid } : null, value));
}
