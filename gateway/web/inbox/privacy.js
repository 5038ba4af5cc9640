// Personal data, for admins: visitors' erasure requests (each answered in
// one click, refused while a legal hold stands), what the retention
// policies let go of now — the dry run, listing the very items a run would
// erase — with t("Run now"), and the audit log, searchable by address even
// once the customer is erased (the log names them by a keyed digest).

import { api } from "./api.js";
import { h, clear, clock, toast } from "./dom.js";
import { t } from "./i18n.js";

const KINDS = {
  resolved_conversations: t("Resolved conversations (anonymised)"),
  anonymous_chats: t("Chats of anonymous visitors"),
  raw_mails: t("Raw mails"),
  attachments: t("Attachments"),
  delivery_logs: t("Delivery logs"),
  webhook_journal: t("WhatsApp webhook journal"),
  translation_cache: t("Translation cache"),
};

// What the log records (api/audit.rs and its callers), for the filter.
const AUDITED = [
  "login", "login_failed", "login_disabled", "logout", "password_changed",
  "agent_created", "agent_disabled", "agent_enabled", "sessions_revoked", "dispatch_changed",
  "conversation_claimed", "conversation_assigned", "conversation_released", "conversation_transferred",
  "conversation_resolved", "conversation_reopened", "escalation_outcome",
  "knowledge_edited", "knowledge_published", "knowledge_retired",
  "raw_mail_download", "mailbox_disconnected", "customer_export", "customer_erasure",
  "legal_hold", "legal_hold_released", "retention_run", "retention_dry_run",
];

function period(hours) {
  return hours % 24 === 0 ? hours / 24 + t(" days") : hours + t(" hours");
}

// "conversations 3 · messages 12 …": the non-zero counts of an entry.
function counts(detail) {
  let d;
  try { d = JSON.parse(detail); } catch (e) { return detail; }
  return Object.entries(d)
    .filter(([, v]) => (typeof v === "number" && v !== 0) || typeof v === "string")
    .map(([k, v]) => k.replaceAll("_", " ") + " " + v)
    .join(" · ");
}

export class PrivacyView {
  constructor(root, { onOpenConversation }) {
    this.root = root;
    this.onOpenConversation = onOpenConversation;
  }

  async load() {
    let requests, retention, audit;
    try {
      [requests, retention, audit] = await Promise.all([
        api.get("/api/v1/admin/erasure-requests"),
        api.get("/api/v1/admin/retention"),
        api.get("/api/v1/admin/audit"),
      ]);
    } catch (e) {
      toast(e.message);
      return;
    }
    const report = retention.report;
    const lookup = h("form", { class: "audit-lookup", onsubmit: (e) => {
      e.preventDefault();
      const f = e.target.elements;
      this.lookup(f.subject.value.trim(), f.action.value);
    } }, h("input", { name: "subject", placeholder: t("an address or number"), size: 30, "aria-label": t("Audit entries about") }),
    h("select", { name: "action", "aria-label": t("Action") }, h("option", { value: "" }, t("Every action")),
      AUDITED.map((a) => h("option", { value: a }, a.replaceAll("_", " ")))),
    h("button", { type: "submit" }, t("Find")));
    this.auditBody = h("tbody", {});
    this.fillAudit(audit.entries);
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Personal data"))),
      h("section", {}, h("h3", {}, t("Erasure requests from the chat widget")),
        requests.requests.length
          ? h("table", { class: "worth erasure-requests" },
            h("thead", {}, h("tr", {}, [t("Asked"), t("Customer"), t("Conversation"), ""].map((t) => h("th", {}, t)))),
            h("tbody", {}, requests.requests.map((r) => h("tr", { dataset: { request: r.id } },
              h("td", {}, clock(r.requested_at)), h("td", {}, r.customer_address),
              h("td", {}, h("button", { type: "button", class: "link", onclick: () => this.onOpenConversation(r.conversation_id) }, "#" + r.conversation_id)),
              h("td", {}, h("button", { type: "button", class: "danger erase-request", onclick: () => this.erase(r.customer_address) }, t("Erase")))))))
          : h("p", { class: "muted" }, t("No request waiting."))),
      h("section", {}, h("h3", {}, t("Retention")),
        h("p", { class: "muted" }, retention.dry_run
          ? t("The daily run only reports (retention.dry_run = true): nothing is erased until an admin runs it.")
          : t("The daily run applies these policies by itself; conversations under legal hold are never touched.")),
        h("table", { class: "worth retention" },
          h("thead", {}, h("tr", {}, [t("Data"), t("Kept"), t("Past its period now"), t("Items")].map((t) => h("th", {}, t)))),
          h("tbody", {}, report.policies.map((p) => h("tr", { dataset: { kind: p.kind, count: p.count } },
            h("td", {}, KINDS[p.kind] || p.kind), h("td", {}, period(p.period_hours)),
            h("td", { class: "num" }, String(p.count)),
            h("td", { class: "muted" }, p.items.slice(0, 20).map((i) => "#" + i).join(" ") + (p.items.length > 20 ? " …" : "")))))),
        h("p", {},
          h("button", { type: "button", class: "retention-run", onclick: () => this.run() }, t("Run now")),
          " ", h("span", { class: "muted" }, t("Last runs: ") + (retention.runs.length
            ? retention.runs.slice(0, 3).map((r) => clock(r.at) + (r.action === "retention_run" ? "" : t(" (dry run)"))).join(", ")
            : t("none yet"))))),
      h("section", {}, h("h3", {}, t("Audit log")), lookup,
        h("table", { class: "worth audit" },
          h("thead", {}, h("tr", {}, [t("When"), t("Who"), t("From"), t("What"), t("About"), t("Counts")].map((x) => h("th", {}, x)))),
          this.auditBody)));
  }

  fillAudit(entries) {
    clear(this.auditBody).append(...entries.map((e) => h("tr", { dataset: { action: e.action } },
      h("td", {}, clock(e.at)), h("td", {}, e.agent_id == null ? t("retention job") : t("agent ") + e.agent_id),
      h("td", {}, e.client || "—"),
      h("td", {}, e.action.replaceAll("_", " ")), h("td", {}, e.subject), h("td", { class: "muted" }, counts(e.detail)))));
  }

  async lookup(subject, action) {
    const q = subject ? "?subject=" + encodeURIComponent(subject) : action ? "?action=" + encodeURIComponent(action) : "";
    try {
      const r = await api.get("/api/v1/admin/audit" + q);
      this.fillAudit(r.entries);
    } catch (e) {
      toast(e.message);
    }
  }

  async erase(address) {
    const typed = prompt(t("Erase everything Switchyard holds about ") + address + t("? This cannot be undone. Type the address to confirm:"));
    if (typed == null) return;
    try {
      await api.post("/api/v1/customers/erase", { address, confirm: typed.trim() });
      toast(t("Customer erased"));
      this.load();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async run() {
    if (!confirm(t("Apply the retention policies now? What the table lists is erased."))) return;
    try {
      const r = await api.post("/api/v1/admin/retention/run");
      toast(t("Retention applied: ") + r.report.policies.map((p) => p.count + " " + (KINDS[p.kind] || p.kind).toLowerCase()).join(", "));
      this.load();
    } catch (e) {
      toast(e.message);
    }
  }
}
