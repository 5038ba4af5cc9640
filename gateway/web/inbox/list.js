// The middle column: the conversations of the selected queue (or the agent's
// own), most urgent and oldest first, as the API orders them.

import { h, clear, icon, duration, priorityBadge, slaBadge, CHANNEL_NAMES } from "./dom.js";
import { t } from "./i18n.js";

export function customerLabel(c) {
  return c.customer_name || c.customer_email || c.customer_phone || c.customer_address || t("Visitor");
}

export function renderList(container, { conversations, total, selectedId, me, onOpen }) {
  clear(container);
  if (!conversations.length) {
    container.append(h("li", { class: "empty" }, t("Nothing here.")));
    return;
  }
  for (const c of conversations) container.append(conversationItem(c, { selectedId, me, onOpen }));
  if (total != null && total > conversations.length) {
    container.append(h("li", { class: "more muted" }, `${conversations.length} of ${total} shown: the most urgent and longest waiting first.`));
  }
}

/** One conversation as a list item; `extra` nodes go under it (a search snippet). */
export function conversationItem(c, { selectedId, me, onOpen }, ...extra) {
  const waiting = c.waiting_since != null ? Date.now() - c.waiting_since : null;
  const assignee = c.assignee_id == null ? "unassigned" : c.assignee_id === me.id ? "you" : c.assignee_name || t("agent ") + c.assignee_id;
  return h("li", {
    class: "item" + (c.id === selectedId ? " selected" : "") + (c.status === "resolved" ? " resolved" : ""),
    role: "option",
    tabindex: "-1",
    "aria-selected": c.id === selectedId ? "true" : "false",
    dataset: { id: c.id, priority: c.priority },
    onclick: () => onOpen(c.id),
  },
  h("div", { class: "item-top" },
    icon(c.channel, CHANNEL_NAMES[c.channel] || c.channel),
    h("span", { class: "customer" }, customerLabel(c)),
    c.customer_company ? h("span", { class: "company" }, c.customer_company) : null,
    h("span", { class: "spacer" }),
    priorityBadge(c.priority)),
  h("div", { class: "subject" }, c.subject || c.preview || t("(no text)")),
  ...extra,
  h("div", { class: "item-bottom" },
    waiting != null
      ? h("span", { class: "waiting", title: t("waiting for an answer") }, t("waiting ") + duration(waiting))
      : h("span", { class: "muted" }, c.status === "resolved" ? "resolved" : "answered"),
    slaBadge(c.sla_state),
    h("span", { class: "spacer" }),
    h("span", { class: "assignee" + (c.assignee_id == null ? " none" : "") }, assignee)));
}
