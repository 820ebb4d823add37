// The console's shell: sign-in, navigation, language, notices, and the page router.
import { apiKey, request, signIn, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { lang, setLang, t } from "./i18n.js";
import { report } from "./notices.js";
import * as benefits from "./pages/benefits.js";
import * as campaigns from "./pages/campaigns.js";
import * as dashboard from "./pages/dashboard.js";
import * as members from "./pages/members.js";
import * as reviews from "./pages/reviews.js";
import * as rules from "./pages/rules.js";
import * as segments from "./pages/segments.js";

const PAGES = {
  dashboard: { page: dashboard, nav: "nav-dashboard", title: "nav.dashboard" },
  members: { page: members, nav: "nav-members", title: "nav.members" },
  reviews: { page: reviews, nav: "nav-reviews", title: "nav.reviews" },
  segments: { page: segments, nav: "nav-segments", title: "nav.segments" },
  benefits: { page: benefits, nav: "nav-benefits", title: "nav.benefits" },
  rules: { page: rules, nav: "nav-rules", title: "nav.rules" },
  campaigns: { page: campaigns, nav: "nav-campaigns", title: "nav.campaigns" },
};

const root = document.getElementById("app");
let signInMessage = null;

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, ...rest] = hash.split("/");
  return { name: name in PAGES ? name : "dashboard", arg: rest.length ? decodeURIComponent(rest.join("/")) : null };
}

function languageButton() {
  return h(
    "button",
    {
      type: "button",
      class: "link lang",
      testid: "lang-switch",
      onclick: () => {
        setLang(lang() === "zh" ? "en" : "zh");
        render();
      },
    },
    t("lang.switch"),
  );
}

function renderSignIn() {
  const input = h("input", {
    id: "api-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    testid: "api-key",
    required: true,
  });
  const message = h("p", { class: "form-error", testid: "sign-in-error", role: "alert" }, signInMessage ?? "");
  const form = h(
    "form",
    {
      class: "signin card",
      onsubmit: async (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) {
          replace(message, t("signin.empty"));
          return;
        }
        signIn(key);
        try {
          await request("query ConsoleSignIn { __typename }");
        } catch (error) {
          signOut();
          signInMessage = null;
          replace(message, error.code === "UNAUTHENTICATED" ? t("signin.refused") : `${t("error.generic")}: ${error.message}`);
          return;
        }
        signInMessage = null;
        // A new hash renders through the hashchange event; an unchanged one needs a call.
        if (!location.hash || location.hash === "#") location.hash = "#/dashboard";
        else render();
      },
    },
    h("h1", null, t("signin.title")),
    h("p", { class: "muted" }, t("signin.intro")),
    h("label", { for: "api-key" }, t("signin.key")),
    input,
    message,
    h("button", { type: "submit", class: "primary", testid: "sign-in" }, t("signin.submit")),
  );
  replace(
    root,
    h(
      "div",
      { class: "signin-page" },
      h("header", { class: "signin-head" }, h("strong", null, t("app.title")), " · ", t("app.console"), languageButton()),
      form,
    ),
  );
  input.focus();
}

function renderShell(current) {
  const nav = h(
    "nav",
    { class: "nav" },
    Object.entries(PAGES).map(([name, entry]) =>
      h(
        "a",
        { href: `#/${name}`, testid: entry.nav, class: name === current ? "active" : null, "aria-current": name === current ? "page" : null },
        t(entry.title),
      ),
    ),
  );
  const main = h("main", { id: "page", class: "page" });
  replace(
    root,
    h(
      "header",
      { class: "top" },
      h("div", { class: "brand" }, h("strong", null, t("app.title")), h("span", { class: "muted" }, t("app.console"))),
      nav,
      h(
        "div",
        { class: "top-actions" },
        languageButton(),
        h(
          "button",
          {
            type: "button",
            class: "link",
            testid: "sign-out",
            onclick: () => {
              signOut();
              render();
            },
          },
          t("signout"),
        ),
      ),
    ),
    h("div", { id: "notices", class: "notices" }),
    main,
  );
  return main;
}

let rendering = 0;

export async function render() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = `${t("app.title")} · ${t("app.console")}`;
  if (!apiKey()) {
    renderSignIn();
    return;
  }
  const { name, arg } = route();
  const main = renderShell(name);
  const ticket = ++rendering;
  const loading = h("p", { class: "muted" }, t("loading"));
  main.append(loading);
  try {
    await PAGES[name].page.render(main, arg, () => ticket === rendering);
  } catch (error) {
    if (ticket === rendering) {
      loading.remove();
      report(error);
    }
  }
}

window.addEventListener("console:unauthorised", () => {
  // At the sign-in form already, the form itself says the key was refused.
  if (document.querySelector("[data-testid='api-key']")) return;
  signInMessage = t("signin.expired");
  render();
});
window.addEventListener("hashchange", render);
setLang(lang());
render();
