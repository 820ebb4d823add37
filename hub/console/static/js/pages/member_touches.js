// Member 360's campaign touches: which campaigns reached the member, on which arm and
// channel, with what outcome.
import { dateTime, h } from "../dom.js";
import { label, t } from "../i18n.js";
import { section, table } from "./widgets.js";

export const TOUCH_FIELDS = `
fragment MemberTouches on Member {
  campaignTouches { arm assignedAt reachedAt channel outcome campaign { id name } }
}`;

export function touchesSection(m) {
  const touches = m.campaignTouches;
  const rows = touches.map((c) => [
    h("a", { href: `#/campaigns/${encodeURIComponent(c.campaign.id)}`, testid: "touch-campaign" }, c.campaign.name),
    h("span", { testid: "touch-arm" }, c.arm),
    h("span", { testid: "touch-channel", "data-value": c.channel ?? "" }, c.channel ? label("messageChannel", c.channel) : "—"),
    h("span", { testid: "touch-outcome", "data-value": c.outcome }, label("touchOutcome", c.outcome)),
    h("span", { testid: "touch-assigned", "data-value": c.assignedAt }, dateTime(c.assignedAt)),
    h("span", { testid: "touch-reached", "data-value": c.reachedAt ?? "" }, dateTime(c.reachedAt)),
  ]);
  return section(
    `${t("members.touches")} (${touches.length})`,
    table([t("touches.campaign"), t("campaigns.arm"), t("col.channel"), t("touches.outcome"), t("touches.assigned"), t("campaigns.reached")], rows, (i) => ({
      testid: "touch-row",
      "data-campaign-id": touches[i].campaign.id,
    })),
  );
}
