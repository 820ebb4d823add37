// English and Chinese strings; the browser's language by default, the operator's choice
// remembered in localStorage.
import { en } from "./strings/en.js";
import { zh } from "./strings/zh.js";

const STORAGE_KEY = "memberhub.console.lang";

const STRINGS = { en, zh };

function initial() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in STRINGS) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let current = initial();

export function lang() {
  return current;
}

export function locale() {
  return current === "zh" ? "zh-CN" : "en-GB";
}

export function setLang(value) {
  current = value in STRINGS ? value : "en";
  localStorage.setItem(STORAGE_KEY, current);
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
}

/** The string for ``key`` with ``{name}`` placeholders filled; the key itself if unknown. */
export function t(key, params) {
  const text = STRINGS[current][key] ?? en[key] ?? key;
  return params ? text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? "")) : text;
}

/** An enum value's label, e.g. label("lifecycle", "NEW"); the raw value when unknown. */
export function label(group, value) {
  const key = `${group}.${value}`;
  const text = STRINGS[current][key] ?? en[key];
  return text ?? value;
}
