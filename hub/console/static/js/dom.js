// A small element builder: children are text (never parsed as HTML) or nodes, so data from
// the API cannot inject markup.
import { locale } from "./i18n.js";

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

function setAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "testid") el.dataset.testid = value;
    // Through the CSSOM: the page's CSP refuses inline style attributes.
    else if (name === "style") Object.assign(el.style, value);
    else if (name === "value" || name === "checked" || name === "selected") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function integer(value) {
  return value === null || value === undefined ? "—" : new Intl.NumberFormat(locale()).format(value);
}

export function money(value) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale(), {
    style: "currency",
    currency: "CNY",
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: 2,
  }).format(Number(value));
}

export function percent(value) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(value);
}

export function dateTime(value) {
  if (!value) return "—";
  return new Date(value).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}

export function day(value) {
  if (!value) return "—";
  return new Date(value).toLocaleDateString(locale(), { dateStyle: "medium" });
}

/** An unguessable key for one write: a retry of the same action replays it. */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** How to call a member: the name, else the first phone or identity (as the API shows it). */
export function memberName(member) {
  if (member.profile?.name) return member.profile.name;
  const identities = member.identities ?? [];
  const phone = identities.find((i) => i.type === "PHONE") ?? identities[0];
  return phone ? phone.value : member.id;
}
