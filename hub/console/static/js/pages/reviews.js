// Fraud reviews: the queue of held points by status; approve or reject an open case.
import { query } from "../api.js";
import { dateTime, h, memberName, money, replace } from "../dom.js";
import { label, t } from "../i18n.js";
import { notify, report } from "../notices.js";

const QUEUE = `
query ConsoleReviews($status: ReviewStatus!) {
  fraudReviews(status: $status, first: 50) {
    edges { node {
      id status reasons summary createdAt decidedAt decidedBy note
      member { id profile { name } identities { type value }
        purchases(first: 20) { edges { node { storeId receiptNo amount status } } } }
    } }
  }
}`;

const DECIDE = `
mutation ConsoleReview($id: ID!, $decision: ReviewDecision!, $note: String) {
  reviewFraudCase(id: $id, decision: $decision, note: $note) {
    review { id status }
    userErrors { code field message }
  }
}`;

const STATUSES = ["OPEN", "APPROVED", "REJECTED"];
let status = "OPEN";

/** The held purchase's amount: the summary names it as "purchase STORE/RECEIPT, …". */
export function heldAmount(review) {
  const match = /^purchase (.+?)\/(.+?), /.exec(review.summary);
  if (!match || !review.member) return null;
  const found = review.member.purchases.edges.find(({ node }) => node.storeId === match[1] && node.receiptNo === match[2]);
  return found ? found.node.amount : null;
}

function decisionButtons(review, row, note) {
  async function decide(decision) {
    for (const button of row.querySelectorAll("button")) button.disabled = true;
    try {
      const data = await query(DECIDE, { id: review.id, decision, note: note.value.trim() || null });
      const errors = data.reviewFraudCase.userErrors;
      if (errors.length) {
        for (const e of errors) notify(e.code === "FORBIDDEN" ? "forbidden" : "error", `${e.code}: ${e.message}`);
        for (const button of row.querySelectorAll("button")) button.disabled = false;
        return;
      }
      row.remove();
      notify("ok", t(decision === "APPROVE" ? "reviews.approved" : "reviews.rejected"));
    } catch (error) {
      report(error);
      for (const button of row.querySelectorAll("button")) button.disabled = false;
    }
  }
  return h(
    "div",
    { class: "inline" },
    h("button", { type: "button", class: "approve", testid: "approve", onclick: () => decide("APPROVE") }, t("reviews.approve")),
    h("button", { type: "button", class: "reject", testid: "reject", onclick: () => decide("REJECT") }, t("reviews.reject")),
  );
}

function reviewRow(review) {
  const amount = heldAmount(review);
  const member = review.member
    ? h("a", { href: `#/members/${encodeURIComponent(review.member.id)}` }, memberName(review.member))
    : "—";
  const rules = h(
    "div",
    { class: "chips" },
    review.reasons.map((code) => h("span", { class: "chip chip-warn", title: label("rule", code), testid: "review-rule" }, code)),
  );
  const row = h("tr", { testid: "review-row", "data-review-id": review.id });
  let last;
  if (review.status === "OPEN") {
    const note = h("input", { type: "text", placeholder: t("note"), testid: "review-note", size: 16 });
    last = h("div", { class: "stack-tight" }, note, decisionButtons(review, row, note));
  } else {
    last = h(
      "div",
      null,
      h("div", null, t("reviews.decided", { who: review.decidedBy ?? "—", when: dateTime(review.decidedAt) })),
      review.note ? h("div", { class: "muted" }, review.note) : null,
    );
  }
  const cells = [
    dateTime(review.createdAt),
    member,
    h("div", null, rules, h("div", { class: "muted small" }, review.reasons.map((code) => label("rule", code)).join(" · "))),
    h("span", { testid: "review-summary" }, review.summary),
    h("span", { testid: "review-amount" }, amount === null ? "—" : money(amount)),
    last,
  ];
  replace(row, cells.map((c) => h("td", null, c)));
  return row;
}

export async function render(main, _arg, current) {
  const tabs = h(
    "div",
    { class: "tabs", role: "tablist" },
    STATUSES.map((s) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          class: s === status ? "active" : null,
          "aria-selected": s === status ? "true" : "false",
          testid: `reviews-${s.toLowerCase()}`,
          onclick: () => {
            status = s;
            render(main, _arg, current).catch(report);
          },
        },
        t(`reviews.${s}`),
      ),
    ),
  );
  const body = h("div", null, h("p", { class: "muted" }, t("loading")));
  replace(main, h("h1", null, t("nav.reviews")), tabs, body);
  let data;
  try {
    data = await query(QUEUE, { status });
  } catch (error) {
    replace(body);
    throw error;
  }
  if (!current()) return;
  const reviews = data.fraudReviews.edges.map((e) => e.node);
  const heads = [t("col.when"), t("col.member"), t("col.rules"), t("col.summary"), t("col.amount"), status === "OPEN" ? t("actions") : t("col.status")];
  replace(
    body,
    reviews.length === 0
      ? h("p", { class: "muted", testid: "reviews-empty" }, t("reviews.empty"))
      : h(
          "table",
          { class: "data", testid: "review-table" },
          h("thead", null, h("tr", null, heads.map((c) => h("th", null, c)))),
          h("tbody", null, reviews.map(reviewRow)),
        ),
  );
}
