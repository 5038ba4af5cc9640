// Small DOM and formatting helpers. Everything from the server goes in as text
// (textContent, attributes), never as markup: the only HTML an agent sees from
// outside is a mail body, and that one lives in a sandboxed frame.

import { t, locale } from "./i18n.js";

/** h("div", {class: "x", onclick: f}, child, "text", [more]) */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
// Drawn as SVG: emoji depend on fonts an agent's machine may not have.
const ICONS = {
  email: "M3 5h18v14H3zM3 6l9 7l9-7",
  webchat: "M4 4h16v11H9l-5 4v-4H4z",
  whatsapp: "M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3z",
  phone: "M6 3h3l2 5l-2 1.5a11 11 0 0 0 5.5 5.5L16 13l5 2v3a2 2 0 0 1-2 2A16 16 0 0 1 4 5a2 2 0 0 1 2-2z",
  video: "M3 7h12v10H3zM15 10l6-3v10l-6-3z",
};

export function icon(name, title) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon icon-" + name);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title || name);
  const titleNode = document.createElementNS(SVG_NS, "title");
  titleNode.textContent = title || name;
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name] || ICONS.webchat);
  svg.append(titleNode, path);
  return svg;
}

export const CHANNEL_NAMES = { email: t("Email"), webchat: t("Web chat"), whatsapp: t("WhatsApp") };

/** "45 s", "12 min", "3 h 05", "2 d 4 h" */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  const hours = Math.floor(m / 60);
  if (hours < 24) return hours + " h " + String(m % 60).padStart(2, "0");
  return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
}

export function clock(ms) {
  const d = new Date(ms);
  const today = new Date();
  const time = d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === today.toDateString() ? time : d.toLocaleDateString(locale) + " " + time;
}

export function bytes(n) {
  if (n == null) return "";
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return Math.round(n / 1024) + " kB";
  return (n / 1024 / 1024).toFixed(1) + " MB";
}

export const SLA_LABELS = { on_time: t("on time"), at_risk: t("at risk"), breached: t("breached"), paused: t("paused"), none: "" };

export function slaBadge(state, extra) {
  if (!state || state === "none") return null;
  return h("span", { class: "sla sla-" + state, title: t("Service level") }, SLA_LABELS[state] + (extra ? " · " + extra : ""));
}

export function priorityBadge(priority) {
  return h("span", { class: "badge prio-" + priority }, t(priority));
}

let toastTimer = null;
export function toast(text, kind) {
  const node = document.getElementById("toast");
  node.textContent = text;
  node.className = "toast " + (kind || "");
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, kind === "error" ? 6000 : 2500);
}

/** The answer of `call`, or null after telling the agent why (a 401 is the login's business). */
export async function quietly(call) {
  try {
    return await call();
  } catch (e) {
    if (e.status !== 401) toast(e.message, "error");
    return null;
  }
}

/**
 * A check the server makes as a form changes (a rule file, a calendar):
 * `later()` asks `ms` after the last change, `now()` at once; an older answer
 * arriving after a newer one is not shown.
 */
export class LiveCheck {
  constructor(ask, show, ms) {
    this.ask = ask;
    this.show = show;
    this.ms = ms;
    this.timer = null;
    this.asked = 0;
  }

  later() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.now(), this.ms);
  }

  async now() {
    const mine = ++this.asked;
    const answer = await quietly(this.ask);
    if (answer !== null && mine === this.asked) this.show(answer);
  }
}
