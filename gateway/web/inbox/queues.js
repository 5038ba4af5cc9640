// The left column: "mine", then every queue, most urgent first, with its
// count, unassigned count, oldest waiting age and service-level state.

import { h, clear, duration, slaBadge } from "./dom.js";
import { t } from "./i18n.js";

const RANK = { critical: 0, important: 1, faq: 2 };

export function sortQueues(queues) {
  return [...queues].sort((a, b) => (RANK[a.priority] ?? 9) - (RANK[b.priority] ?? 9) || a.name.localeCompare(b.name));
}

export function renderQueues(container, { queues, mineCount, selected, onSelect }) {
  clear(container);
  const mine = selected.kind === "mine";
  container.append(
    h("button", {
      type: "button",
      class: "queue mine" + (mine ? " selected" : ""),
      "aria-current": mine ? "true" : null,
      dataset: { queue: "mine" },
      onclick: () => onSelect({ kind: "mine" }),
    },
    h("span", { class: "queue-name" }, t("Mine")),
    h("span", { class: "count" }, String(mineCount ?? "")))
  );
  for (const q of sortQueues(queues)) {
    const current = selected.kind === "queue" && selected.name === q.name;
    const sla = q.sla || {};
    const slaDetail = sla.breached ? sla.breached + t(" late") : sla.at_risk ? sla.at_risk + t(" at risk") : "";
    container.append(
      h("button", {
        type: "button",
        class: "queue prio-edge-" + q.priority + (current ? " selected" : ""),
        "aria-current": current ? "true" : null,
        dataset: { queue: q.name, sla: q.sla_state || "none" },
        onclick: () => onSelect({ kind: "queue", name: q.name }),
      },
      h("span", { class: "queue-name" }, q.name),
      h("span", { class: "count", title: t("open conversations") }, String(q.open)),
      h("span", { class: "queue-meta" },
        q.unassigned ? h("span", { title: t("not assigned") }, q.unassigned + t(" unassigned")) : null,
        q.oldest_waiting_secs != null ? h("span", { class: "age", title: t("oldest waiting") }, t("oldest ") + duration(q.oldest_waiting_secs * 1000)) : null,
        slaBadge(q.sla_state, slaDetail)))
    );
  }
}
