// Messages above the page: what worked, what failed, and what the key may not do.
import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

/** Show a message above the page: kind is "ok", "error" or "forbidden". */
export function notify(kind, message) {
  const area = document.getElementById("notices");
  if (!area) return;
  const testid = kind === "forbidden" ? "forbidden" : kind === "ok" ? "notice" : "error";
  const item = h(
    "div",
    { class: `notice notice-${kind}`, role: kind === "ok" ? "status" : "alert", testid },
    h("span", null, message),
    h("button", { class: "link", type: "button", "aria-label": "×", onclick: () => item.remove() }, "×"),
  );
  area.append(item);
  if (kind === "ok") setTimeout(() => item.remove(), 6000);
}

/** Report a failed call the way the operator can act on it. */
export function report(error) {
  if (!(error instanceof ApiError)) {
    notify("error", `${t("error.generic")}: ${error}`);
    return;
  }
  if (error.code === "UNAUTHENTICATED") return; // the sign-in form says it
  if (error.code === "FORBIDDEN") notify("forbidden", `${t("error.forbidden")}: ${error.message}`);
  else if (error.code === "RATE_LIMITED") notify("error", t("error.rate"));
  else if (error.code === "NETWORK") notify("error", t("error.network"));
  else notify("error", `${t("error.generic")}: ${error.message}`);
}

/** Report the errors that came with partial data (a field the key may not read). */
export function reportAll(errors) {
  for (const e of errors) {
    report(new ApiError(e.message, e.extensions?.code ?? "ERROR", 200));
  }
}
