// Search results in the middle column: the customers whose record matched,
// then the conversations, best first, each with the snippet that shows why
// (marked words are the server's `hit` segments, put in as text).

import { h, clear } from "./dom.js";
import { conversationItem } from "./list.js";
import { t } from "./i18n.js";

const FIELD_NAMES = {
  subject: "subject",
  body: "message",
  attachment: "attachment",
  quoted: t("quoted history"),
};

const FACT_NAMES = { serial: "serial", model: "model", fault_code: t("fault code"), firmware: "firmware", phone: "phone" };

function snippet(r) {
  const m = r.match;
  if (m && m.snippet && m.snippet.some((s) => s.hit)) {
    const where = r.direction === "note" ? "note" : r.direction === "out" ? t("our reply") : FIELD_NAMES[m.field] || m.field;
    return h("div", { class: "snippet", dataset: { field: m.field, direction: r.direction || "" } },
      h("span", { class: "where" }, where + ": "),
      m.snippet.map((s) => (s.hit ? h("mark", {}, s.text) : s.text)));
  }
  if (r.facts && r.facts.length) {
    return h("div", { class: "snippet", dataset: { field: "fact" } },
      r.facts.map((f) => h("span", { class: "fact" }, (FACT_NAMES[f.kind] || f.kind) + " ", h("mark", {}, f.value))));
  }
  if (r.customer) return h("div", { class: "snippet muted", dataset: { field: "customer" } }, t("customer matches"));
  return null;
}

export function renderResults(container, { found, selectedId, me, onOpen, onCustomer }) {
  clear(container);
  for (const c of found.customers || []) {
    container.append(h("li", { class: "item customer-hit", dataset: { customer: c.address }, onclick: () => onCustomer(c.address) },
      h("div", { class: "item-top" },
        h("span", { class: "badge" }, "customer"),
        h("span", { class: "customer" }, c.name || c.address),
        c.company ? h("span", { class: "company" }, c.company) : null),
      h("div", { class: "subject muted" },
        c.address + " · " + c.conversations + t(" conversation") + (c.conversations > 1 ? "s" : "") + " · " + c.channels.join(", "))));
  }
  const results = found.results || [];
  if (!results.length && !(found.customers || []).length) {
    container.append(h("li", { class: "empty" }, t("Nothing found.")));
    return;
  }
  for (const r of results) {
    const item = conversationItem(r.conversation, { selectedId, me, onOpen }, snippet(r));
    item.dataset.searchResult = "";
    container.append(item);
  }
  if (found.found > results.length) {
    container.append(h("li", { class: "more muted" }, `${results.length} of ${found.found} shown, best first: add a word or a filter.`));
  }
}
