// Member 360's coupon wallet: the member's coupons, newest first, and voiding a live one
// with a reason.
import { dateTime, h } from "../dom.js";
import { label, t } from "../i18n.js";
import { notify } from "../notices.js";
import { mutate, section, table } from "./widgets.js";

export const COUPON_FIELDS = `
fragment MemberCoupons on Member {
  coupons(first: 20) {
    totalCount
    edges { node { id code status source issuedAt validUntil redeemedAt template { code name } } }
  }
}`;

const VOID = `mutation ConsoleVoidCoupon($id: ID!, $reason: String!) {
  voidCoupon(id: $id, reason: $reason) { coupon { id status } userErrors { code field message } }
}`;

function voidForm(coupon, reload) {
  const reason = h("input", { type: "text", required: true, maxlength: 500, placeholder: t("reason"), testid: "coupon-void-reason" });
  return h(
    "form",
    {
      class: "inline",
      onsubmit: async (event) => {
        event.preventDefault();
        if (await mutate(VOID, { id: coupon.id, reason: reason.value.trim() }, "voidCoupon")) {
          notify("ok", t("coupons.voided"));
          reload();
        }
      },
    },
    reason,
    h("button", { type: "submit", class: "reject", testid: "coupon-void" }, t("coupons.void")),
  );
}

export function couponsSection(m, reload) {
  const rows = m.coupons.edges.map(({ node: c }) => [
    h("code", { testid: "coupon-code" }, c.code),
    `${c.template.name} (${c.template.code})`,
    h("span", { testid: "coupon-status", "data-value": c.status }, label("couponStatus", c.status)),
    label("couponSource", c.source),
    dateTime(c.issuedAt),
    dateTime(c.validUntil),
    c.status === "ACTIVE" ? voidForm(c, reload) : c.redeemedAt ? dateTime(c.redeemedAt) : "—",
  ]);
  return section(
    `${t("members.coupons")} (${m.coupons.totalCount})`,
    table(
      [t("coupons.code"), t("coupons.template"), t("col.status"), t("coupons.source"), t("coupons.issued"), t("coupons.validUntil"), t("actions")],
      rows,
      (i) => ({ testid: "coupon-row", "data-coupon-id": m.coupons.edges[i].node.id }),
    ),
  );
}
