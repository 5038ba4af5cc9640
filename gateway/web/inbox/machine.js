// The machine page, in the right-hand column: for a serial number, however
// it was written, every conversation that mentioned it (any customer, any
// channel), the fault codes seen with their dates, and the intervention reports.

import { api } from "./api.js";
import { h, clear, clock, icon, priorityBadge, CHANNEL_NAMES } from "./dom.js";
import { t } from "./i18n.js";

export async function showMachine(container, serial, { onOpen, onCustomer, onSearch }) {
  clear(container).append(h("p", { class: "empty" }, t("Loading…")));
  let d;
  try {
    d = await api.get("/api/v1/machines/" + encodeURIComponent(serial));
  } catch (e) {
    clear(container).append(h("p", { class: "empty" }, e.status === 404 ? t("No conversation mentions this serial.") : e.message));
    return;
  }
  const hist = d.history;
  const open = (id) => h("button", { type: "button", class: "link", onclick: () => onOpen(id) }, t("conversation ") + id);
  clear(container).append(h("article", { class: "page machine-page", dataset: { machinePage: d.key } },
    h("header", { class: "page-head" },
      h("h2", {}, t("Machine ") + d.serial),
      hist.models.length ? h("span", { class: "company" }, hist.models.join(", ")) : null,
      hist.spellings.length > 1 ? h("span", { class: "muted" }, t("also written ") + hist.spellings.slice(1).join(", ")) : null),
    h("section", {}, h("h3", {}, t("Fault codes seen")),
      hist.fault_codes.length
        ? h("table", { class: "codes" },
          hist.fault_codes.map((f) => h("tr", { dataset: { code: f.value } },
            h("td", {}, h("button", { type: "button", class: "link", title: t("Search this code everywhere"), onclick: () => onSearch(f.value) }, f.value)),
            h("td", {}, clock(f.at)),
            h("td", {}, open(f.conversation_id)))))
        : h("p", { class: "muted" }, t("No fault code reported."))),
    hist.firmware.length
      ? h("section", {}, h("h3", {}, t("Firmware")),
        h("ul", {}, hist.firmware.map((f) => h("li", {}, f.value + " · " + clock(f.at) + " · ", open(f.conversation_id)))))
      : null,
    h("section", {}, h("h3", {}, t("Intervention reports")),
      d.reports.length
        ? h("ul", {}, d.reports.map((r) => h("li", { dataset: { report: r.conversation_id } },
          h("b", {}, r.title || t("Report")), " · " + r.status + " · " + clock(r.validated_at || r.updated_at) + " · ", open(r.conversation_id),
          r.diagnosis ? h("p", { class: "muted" }, r.diagnosis) : null)))
        : h("p", { class: "muted" }, t("No report yet."))),
    h("section", {}, h("h3", {}, t("Conversations")),
      h("ul", { class: "timeline" }, d.conversations.map((c) => h("li", { dataset: { id: c.id } },
        h("button", { type: "button", class: "link", onclick: () => onOpen(c.id) },
          icon(c.channel, CHANNEL_NAMES[c.channel] || c.channel), " ", clock(c.created_at), " — ", c.subject || c.preview || t("(no text)")),
        " ", priorityBadge(c.priority), " ",
        h("button", { type: "button", class: "link muted", onclick: () => onCustomer(c.customer_address) }, c.customer_name || c.customer_address)))))));
}
