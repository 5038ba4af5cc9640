// The customer page, in the right-hand column: every identity of the
// customer, what they told us, their machines and open escalations, all their
// conversations in time order; merging another record that is the same
// person (and undoing it: merges are recorded, never erased).

import { api } from "./api.js";
import { h, clear, clock, icon, priorityBadge, toast, CHANNEL_NAMES } from "./dom.js";
import { t } from "./i18n.js";

export async function showCustomer(container, address, { onOpen, onMachine, onChanged, admin }) {
  clear(container).append(h("p", { class: "empty" }, t("Loading…")));
  let d;
  try {
    d = await api.get("/api/v1/customers?address=" + encodeURIComponent(address));
  } catch (e) {
    clear(container).append(h("p", { class: "empty" }, e.status === 404 ? t("No such customer.") : e.message));
    return;
  }
  const p = d.profile;
  const reload = (to) => showCustomer(container, to || d.address, { onOpen, onMachine, onChanged, admin });
  // An erasure request (GDPR): refused whole while a conversation is under legal hold.
  const erase = async () => {
    const typed = prompt(t("Erase everything Switchyard holds about ") + d.address + " (" + d.addresses.length +
      t(" address(es), ") + d.conversations.length + t(" conversation(s))? This cannot be undone. Type the address to confirm:"));
    if (typed == null) return;
    try {
      const r = await api.post("/api/v1/customers/erase", { address: d.address, confirm: typed.trim() });
      toast(t("Customer erased: ") + r.erased.conversations + t(" conversation(s), ") + r.erased.messages + t(" message(s), ") +
        r.erased.files_removed + t(" file(s) deleted"));
      clear(container).append(h("p", { class: "empty erased" }, t("Customer erased. The audit log names them ") + r.audit_subject + "."));
    } catch (e) { toast(e.message, "error"); }
  };
  const merge = async (from, into) => {
    try {
      await api.post("/api/v1/customers/merges", { address: from, into });
      toast(t("Records merged"));
      onChanged(into);
    } catch (e) { toast(e.message, "error"); }
  };
  const undo = async (id) => {
    try {
      await api.post(`/api/v1/customers/merges/${id}/undo`, {});
      toast(t("Merge undone"));
      reload();
    } catch (e) { toast(e.message, "error"); }
  };
  const mergeForm = h("form", { class: "merge-form", onsubmit: (e) => {
    e.preventDefault();
    const other = e.target.elements.other.value.trim();
    if (other) merge(other, d.address);
  } },
  h("label", {}, t("Same person as "), h("input", { name: "other", placeholder: t("another address, number or visitor id"), size: 32 })),
  h("button", { type: "submit" }, t("Merge into this customer")));

  clear(container).append(h("article", { class: "page customer-page", dataset: { customerPage: d.address } },
    h("header", { class: "page-head" },
      h("h2", {}, p.names[0] || d.address),
      p.companies.length ? h("span", { class: "company" }, p.companies.join(", ")) : null,
      d.tier ? h("span", { class: "badge tier" }, d.tier) : null,
      // An access request (GDPR): everything held about them, as one archive; admins only, audited.
      h("a", { class: "ghost export-data", href: "/api/v1/customers/export?address=" + encodeURIComponent(d.address), download: "",
        title: t("Everything Switchyard holds about this customer, as one archive (admins; recorded in the audit log)") }, t("Export data")),
      admin ? h("button", { type: "button", class: "ghost danger erase-customer", onclick: erase,
        title: t("Erase this customer's data (admins; recorded in the audit log)") }, t("Erase…")) : null),
    h("section", {}, h("h3", {}, t("Identities")),
      h("table", { class: "identities" },
        h("tr", {}, h("th", {}, t("Channel")), h("th", {}, t("Address")), h("th", {}, t("Conversations")), h("th", {}, t("Since"))),
        p.identities.map((i) => h("tr", { dataset: { identity: i.address } },
          h("td", {}, icon(i.channel, CHANNEL_NAMES[i.channel] || i.channel), " ", CHANNEL_NAMES[i.channel] || i.channel),
          h("td", {}, i.address,
            i.phone ? " · +" + i.phone.replace(/^\+/, "") : "",
            i.whatsapp_id ? " · " + i.whatsapp_id : "",
            i.username ? " · " + i.username : ""),
          h("td", {}, String(i.conversations)),
          h("td", {}, clock(i.first_at))))),
      h("dl", { class: "fields" },
        h("dt", {}, t("Names")), h("dd", {}, p.names.join(", ") || "—"),
        h("dt", {}, t("Emails")), h("dd", {}, p.emails.join(", ") || "—"),
        h("dt", {}, t("Phones")), h("dd", {}, p.phones.join(", ") || "—"))),
    h("section", {}, h("h3", {}, t("Machines")),
      p.machines.length
        ? h("ul", { class: "machines" }, p.machines.map((m) => h("li", {},
          h("button", { type: "button", class: "link", dataset: { serial: m.serial }, onclick: () => onMachine(m.serial) }, m.serial),
          m.models.length ? " · " + m.models.join(", ") : "",
          " · " + m.conversations + t(" conversation") + (m.conversations > 1 ? "s" : "") + t(", last ") + clock(m.last_at))))
        : h("p", { class: "muted" }, t("No serial number mentioned yet."))),
    d.escalations.length
      ? h("section", {}, h("h3", {}, t("Open escalations")),
        h("ul", {}, d.escalations.map((e) => h("li", {},
          h("button", { type: "button", class: "link", onclick: () => onOpen(e.conversation_id) }, e.kind + t(" · conversation ") + e.conversation_id),
          e.phone ? " · " + e.phone : "", t(" · since ") + clock(e.created_at)))))
      : null,
    h("section", {}, h("h3", {}, t("Conversations")),
      h("ul", { class: "timeline" }, d.conversations.map((c) => h("li", { dataset: { id: c.id } },
        h("button", { type: "button", class: "link", onclick: () => onOpen(c.id) },
          icon(c.channel, CHANNEL_NAMES[c.channel] || c.channel), " ", clock(c.created_at), " — ", c.subject || c.preview || t("(no text)")),
        " ", priorityBadge(c.priority), " ",
        h("span", { class: "muted" }, c.status === "resolved" ? t("resolved ") + clock(c.resolved_at) : c.status))))),
    h("section", {}, h("h3", {}, t("Records")),
      d.suggested_merges.length
        ? h("p", { class: "suggested" }, t("Possibly the same person: "),
          d.suggested_merges.map((a) => h("span", { class: "suggestion" }, a, " ",
            h("button", { type: "button", dataset: { merge: a }, onclick: () => merge(a, d.address) }, t("Merge"))))) : null,
      mergeForm,
      d.merges.length
        ? h("ul", { class: "merges" }, d.merges.map((m) => h("li", { dataset: { mergeId: m.id } },
          m.address + " → " + m.into_address + " · " + clock(m.created_at),
          m.undone_at ? h("span", { class: "muted" }, t(" · undone ") + clock(m.undone_at))
            : h("button", { type: "button", class: "ghost", onclick: () => undo(m.id) }, t("Undo")))))
        : null)));
}
