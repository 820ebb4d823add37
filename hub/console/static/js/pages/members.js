// Member 360: find a member by an identity or ID, see everything the key may read, and
// act: adjust points, tag, void a coupon, unmerge; the campaigns that touched the member.
import { query, request } from "../api.js";
import { dateTime, day, h, idempotencyKey, integer, memberName, money, replace } from "../dom.js";
import { label, t } from "../i18n.js";
import { notify, report, reportAll } from "../notices.js";
import { couponsSection, COUPON_FIELDS } from "./member_coupons.js";
import { touchesSection, TOUCH_FIELDS } from "./member_touches.js";
import { fact, mutate, section, table } from "./widgets.js";

const MEMBER_FIELDS = `
fragment Member360 on Member {
  id status createdAt registeredChannel lifecycle
  profile { name gender birthday region }
  identities { type namespace value verified channel linkedAt lastSeenAt }
  tier { code name since pointsMultiplier spendToNext next { code name qualifyingSpend } }
  stats { orderCount totalSpend averageOrderValue spendLast12Months firstPurchaseAt lastPurchaseAt }
  points {
    available pending lifetimeEarned
    expiringSoon(withinDays: 90) { points expiresAt }
    history(first: 20) {
      edges { node { id kind bucket amount balanceAfter channel storeId reference reason createdAt expiresAt } }
    }
  }
  purchases(first: 10) {
    edges { node { id storeId receiptNo channel amount refundedAmount status pointsEarned occurredAt } }
  }
  tags { tag { id name source } source taggedAt }
  segments { id name kind }
  rfm { recencyDays frequency monetary r f m segment computedAt }
  ...MemberCoupons
  ...MemberTouches
  merges { id reason actor createdAt undoneAt merged { id profile { name } identities { type value } } evidence { type namespace value } }
}`;

const BY_ID = `query ConsoleMember($id: ID!) { member(id: $id) { ...Member360 } tags { id name source } }
${MEMBER_FIELDS}
${COUPON_FIELDS}
${TOUCH_FIELDS}`;

const FIND = `query ConsoleFindMember($identity: IdentityInput!) { member(identity: $identity) { id } }`;

const ADJUST = `mutation ConsoleAdjust($input: AdjustInput!) {
  adjustPoints(input: $input) { entry { id } userErrors { code field message } }
}`;
const TAG = `mutation ConsoleTag($member: ID!, $tag: ID!) {
  tagMember(memberId: $member, tagId: $tag) { userErrors { code field message } }
}`;
const UNTAG = `mutation ConsoleUntag($member: ID!, $tag: ID!) {
  untagMember(memberId: $member, tagId: $tag) { userErrors { code field message } }
}`;
const UNMERGE = `mutation ConsoleUnmerge($id: ID!, $reason: String!) {
  unmerge(mergeId: $id, reason: $reason) { userErrors { code field message } }
}`;

const TYPES = ["AUTO", "PHONE", "POS_CARD", "WECHAT_OPENID", "WECHAT_UNIONID", "EMAIL", "ID"];
const NAMESPACED = new Set(["POS_CARD", "WECHAT_OPENID", "PARTNER_ID"]);

const search = { type: "AUTO", namespace: "", value: "" };

function looksLikeMemberId(value) {
  try {
    return atob(value).startsWith("Member:");
  } catch {
    return false;
  }
}

/** What the operator typed, as a lookup: {id} or {identity}, or null when unclear. */
export function lookup(type, value, namespace) {
  const v = value.trim();
  if (!v) return null;
  let kind = type;
  if (kind === "AUTO") {
    if (looksLikeMemberId(v)) kind = "ID";
    else if (/^\+?[\d\s-]{6,20}$/.test(v)) kind = "PHONE";
    else if (v.includes("@")) kind = "EMAIL";
    else return null;
  }
  if (kind === "ID") return { id: v };
  if (NAMESPACED.has(kind) && !namespace.trim()) return null;
  const identity = { type: kind, value: v };
  if (NAMESPACED.has(kind)) identity.namespace = namespace.trim();
  return { identity };
}

function pointsSection(m) {
  const p = m.points;
  return section(
    t("members.points"),
    h("div", { class: "big", testid: "points-available", "data-value": p.available }, integer(p.available)),
    h("dl", { class: "facts" }, fact(t("members.pending"), integer(p.pending), "points-pending"), fact(t("members.lifetime"), integer(p.lifetimeEarned))),
    h("h4", null, t("members.expiring")),
    p.expiringSoon.length
      ? h("ul", { class: "plain", testid: "expiring-lots" }, p.expiringSoon.map((lot) => h("li", null, `${integer(lot.points)} · ${day(lot.expiresAt)}`)))
      : h("p", { class: "muted" }, t("none")),
  );
}

function tierSection(m) {
  const tier = m.tier;
  let progress = null;
  if (tier.next) {
    const needed = Number(tier.next.qualifyingSpend);
    const left = Number(tier.spendToNext ?? 0);
    const share = needed > 0 ? Math.min(1, Math.max(0, (needed - left) / needed)) : 1;
    progress = h(
      "div",
      { class: "progress", testid: "tier-progress" },
      h("div", { class: "progress-track" }, h("div", { class: "progress-fill", style: { width: `${(share * 100).toFixed(1)}%` } })),
      h("p", { class: "muted" }, t("members.tier.toNext", { amount: money(tier.spendToNext), tier: tier.next.name })),
    );
  }
  return section(
    t("members.tier"),
    h("div", { class: "big", testid: "member-tier" }, tier.name),
    h("dl", { class: "facts" }, fact(t("members.multiplier"), `×${tier.pointsMultiplier}`), fact(t("members.since"), day(tier.since))),
    progress ?? h("p", { class: "muted" }, t("members.tier.top")),
  );
}

function statsSection(m) {
  const s = m.stats;
  return section(
    t("members.stats"),
    h(
      "dl",
      { class: "facts" },
      fact(t("members.orders"), integer(s.orderCount)),
      fact(t("members.totalSpend"), money(s.totalSpend)),
      fact(t("dash.aov"), money(s.averageOrderValue)),
      fact(t("members.spend12"), money(s.spendLast12Months)),
      fact(t("members.lastPurchase"), dateTime(s.lastPurchaseAt)),
    ),
  );
}

function intelligenceSection(m, allTags, reload) {
  const manual = allTags.filter((tag) => tag.source === "MANUAL" && !m.tags.some((mt) => mt.tag.id === tag.id));
  const chips = m.tags.map((mt) =>
    h(
      "span",
      { class: `chip ${mt.source === "MANUAL" ? "chip-manual" : ""}`, testid: "member-tag", title: `${mt.source} · ${dateTime(mt.taggedAt)}` },
      mt.tag.name,
      mt.source === "MANUAL"
        ? h(
            "button",
            {
              type: "button",
              class: "chip-x",
              testid: "tag-remove",
              "aria-label": t("members.tag.remove"),
              onclick: async () => {
                if (await mutate(UNTAG, { member: m.id, tag: mt.tag.id }, "untagMember")) reload();
              },
            },
            "×",
          )
        : null,
    ),
  );
  const select = h("select", { testid: "tag-select" }, manual.map((tag) => h("option", { value: tag.id }, tag.name)));
  const anyManual = allTags.some((tag) => tag.source === "MANUAL");
  const tagForm = manual.length
    ? h(
        "form",
        {
          class: "inline",
          onsubmit: async (event) => {
            event.preventDefault();
            if (await mutate(TAG, { member: m.id, tag: select.value }, "tagMember")) reload();
          },
        },
        select,
        h("button", { type: "submit", testid: "tag-add" }, t("members.tag.add")),
      )
    : anyManual
      ? null
      : h("p", { class: "muted" }, t("members.tag.noManual"));
  const rfm = m.rfm
    ? h(
        "dl",
        { class: "facts", testid: "member-rfm" },
        fact(t("members.rfm"), label("rfm", m.rfm.segment)),
        fact("R / F / M", `${m.rfm.r} / ${m.rfm.f} / ${m.rfm.m}`),
        fact(t("members.lastPurchase"), `${integer(m.rfm.recencyDays)} d`),
        fact(t("members.orders"), integer(m.rfm.frequency)),
        fact(t("members.totalSpend"), money(m.rfm.monetary)),
      )
    : h("p", { class: "muted" }, t("members.rfm.none"));
  return section(
    `${t("members.tags")} · ${t("members.segments")} · ${t("members.rfm")}`,
    h("div", { class: "chips" }, chips.length ? chips : h("span", { class: "muted" }, t("none"))),
    h("h4", null, t("members.tag")),
    tagForm,
    h("p", { class: "muted small" }, t("members.tag.reasonNote")),
    h("h4", null, t("members.segments")),
    h("div", { class: "chips" }, m.segments.length ? m.segments.map((s) => h("span", { class: "chip", testid: "member-segment" }, s.name)) : h("span", { class: "muted" }, t("none"))),
    h("h4", null, t("members.rfm")),
    rfm,
  );
}

function adjustSection(m, reload) {
  const points = h("input", { type: "number", step: "1", required: true, testid: "adjust-points" });
  const reason = h("input", { type: "text", required: true, maxlength: 500, testid: "adjust-reason" });
  return section(
    t("members.adjust"),
    h(
      "form",
      {
        class: "stack",
        onsubmit: async (event) => {
          event.preventDefault();
          const input = { memberId: m.id, points: Number(points.value), reason: reason.value.trim(), idempotencyKey: idempotencyKey() };
          if (await mutate(ADJUST, { input }, "adjustPoints")) {
            notify("ok", t("members.adjust.done"));
            reload();
          }
        },
      },
      h("label", null, t("members.adjust.points"), points),
      h("label", null, t("reason"), reason),
      h("button", { type: "submit", class: "primary", testid: "adjust-submit" }, t("save")),
    ),
  );
}

function mergesSection(m, reload) {
  const rows = m.merges.map((merge) => {
    let action;
    if (merge.undoneAt) action = t("members.undone", { when: dateTime(merge.undoneAt) });
    else {
      const reason = h("input", { type: "text", required: true, placeholder: t("reason"), testid: "unmerge-reason" });
      action = h(
        "form",
        {
          class: "inline",
          onsubmit: async (event) => {
            event.preventDefault();
            if (await mutate(UNMERGE, { id: merge.id, reason: reason.value.trim() }, "unmerge")) {
              notify("ok", t("members.unmerged"));
              reload();
            }
          },
        },
        reason,
        h("button", { type: "submit", testid: "unmerge" }, t("members.unmerge")),
      );
    }
    const evidence = merge.evidence ? `${label("identity", merge.evidence.type)} ${merge.evidence.value}` : "—";
    return [
      dateTime(merge.createdAt),
      h("a", { href: `#/members/${encodeURIComponent(merge.merged.id)}` }, memberName(merge.merged)),
      merge.reason,
      merge.actor,
      evidence,
      action,
    ];
  });
  return section(
    t("members.merges"),
    table([t("col.when"), t("col.member"), t("reason"), t("col.actor"), t("col.evidence"), t("actions")], rows, () => ({ testid: "merge-row" })),
  );
}

function memberCard(m, allTags, reload) {
  const identities = m.identities.map((i) => [
    label("identity", i.type),
    i.namespace ?? "—",
    h("code", { testid: "identity-value" }, i.value),
    i.verified ? t("yes") : t("no"),
    label("channel", i.channel),
    dateTime(i.lastSeenAt),
  ]);
  const history = m.points.history.edges.map(({ node: e }) => [
    dateTime(e.createdAt),
    e.kind,
    e.bucket,
    h("span", { class: e.amount < 0 ? "neg" : "pos" }, (e.amount > 0 ? "+" : "") + integer(e.amount)),
    integer(e.balanceAfter),
    [e.reference, e.reason].filter(Boolean).join(" · ") || "—",
  ]);
  const purchases = m.purchases.edges.map(({ node: p }) => [
    dateTime(p.occurredAt),
    p.storeId,
    p.receiptNo,
    label("channel", p.channel),
    money(p.amount),
    integer(p.pointsEarned),
    p.status,
  ]);
  return h(
    "article",
    { class: "member", testid: "member-card", "data-member-id": m.id },
    h(
      "header",
      { class: "member-head card" },
      h("div", null, h("h2", { testid: "member-name" }, memberName(m)), h("code", { class: "muted", testid: "member-id" }, m.id)),
      h(
        "div",
        { class: "chips" },
        h("span", { class: "chip" }, m.status),
        h("span", { class: "chip chip-accent", testid: "member-lifecycle" }, `${t("members.lifecycle")}: ${label("lifecycle", m.lifecycle)}`),
        h("span", { class: "chip" }, `${t("members.registered")}: ${label("channel", m.registeredChannel)}`),
        h("span", { class: "chip" }, `${t("members.since")}: ${day(m.createdAt)}`),
      ),
    ),
    h("div", { class: "grid-3" }, pointsSection(m), tierSection(m), statsSection(m)),
    section(t("members.identities"), table([t("col.type"), t("col.namespace"), t("col.value"), t("col.verified"), t("col.channel"), t("col.lastSeen")], identities, () => ({ testid: "identity-row" }))),
    h("div", { class: "grid-2" }, intelligenceSection(m, allTags, reload), adjustSection(m, reload)),
    section(t("members.history"), table([t("col.when"), t("col.kind"), "", t("col.points"), t("col.balance"), t("col.reference")], history)),
    section(t("members.purchases"), table([t("col.when"), t("col.store"), t("col.receipt"), t("col.channel"), t("col.amount"), t("col.points"), t("col.status")], purchases)),
    couponsSection(m, reload),
    touchesSection(m),
    mergesSection(m, reload),
  );
}

export async function render(main, memberId, current) {
  const typeSelect = h(
    "select",
    { testid: "member-search-type", "aria-label": t("members.type") },
    TYPES.map((type) => h("option", { value: type, selected: type === search.type }, type === "AUTO" || type === "ID" ? t(`members.type.${type}`) : label("identity", type))),
  );
  const namespace = h("input", { type: "text", value: search.namespace, placeholder: t("members.namespace"), testid: "member-search-namespace", size: 18 });
  const showNamespace = () => {
    namespace.hidden = !NAMESPACED.has(typeSelect.value);
  };
  typeSelect.addEventListener("change", showNamespace);
  showNamespace();
  const value = h("input", { type: "search", value: search.value, placeholder: t("members.search"), testid: "member-search", size: 32 });
  const result = h("div", { class: "member-result" });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: async (event) => {
        event.preventDefault();
        Object.assign(search, { type: typeSelect.value, namespace: namespace.value, value: value.value });
        const found = lookup(typeSelect.value, value.value, namespace.value);
        if (!found) {
          replace(result, h("p", { class: "form-error" }, t("members.needType")));
          return;
        }
        if (found.id) {
          location.hash = `#/members/${encodeURIComponent(found.id)}`;
          if (found.id === memberId) show(found.id).catch(report);
          return;
        }
        try {
          const data = await query(FIND, { identity: found.identity });
          if (!data.member) {
            replace(result, h("p", { class: "muted", testid: "member-not-found" }, t("members.notFound")));
            return;
          }
          location.hash = `#/members/${encodeURIComponent(data.member.id)}`;
        } catch (error) {
          report(error);
        }
      },
    },
    h("label", null, t("members.type"), typeSelect),
    namespace,
    value,
    h("button", { type: "submit", class: "primary", testid: "member-search-submit" }, t("members.go")),
  );
  replace(main, h("h1", null, t("nav.members")), form, result);

  async function show(id) {
    const { data, errors } = await request(BY_ID, { id });
    if (!current()) return;
    reportAll(errors);
    if (!data.member) {
      replace(result, h("p", { class: "muted", testid: "member-not-found" }, t("members.notFound")));
      return;
    }
    const reload = () => show(id).catch(report);
    replace(result, memberCard(data.member, data.tags ?? [], reload));
  }

  if (memberId) await show(memberId);
  else value.focus();
}
