// How each channel is doing (supervisors): the mailbox readers, the outbox
// per channel with its last error, the WhatsApp numbers and backlogs, and
// translation. Read-only: mailbox logins are on the Mailboxes page (admins),
// the settings in the configuration file.

import { api } from "./api.js";
import { h, clear, clock, toast } from "./dom.js";
import { t } from "./i18n.js";

export class ChannelsView {
  constructor(root) {
    this.root = root;
  }

  async load() {
    let d;
    try {
      d = await api.get("/api/v1/admin/channels");
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
      return;
    }
    const table = (heads, rows) => h("table", { class: "groups" },
      h("thead", {}, h("tr", {}, heads.map((x) => h("th", {}, x)))), h("tbody", {}, rows));
    const state = (ok, text) => h("span", { class: "badge " + (ok ? "presence-online" : "prio-critical") }, text);
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Channels")),
        h("button", { type: "button", class: "ghost", id: "channels-refresh", onclick: () => this.load() }, t("Refresh"))),
      h("h3", {}, t("Mailboxes")),
      d.mailboxes.length === 0 ? h("p", { class: "muted" }, t("Email is not enabled.")) :
        table([t("Mailbox"), t("Server"), t("State"), t("Last good round"), t("Last UID"), t("Mails taken"), t("Last error")],
          d.mailboxes.map((m) => {
            const s = m.status || {};
            const auth = m.authorisation && m.authorisation.state === "needs_reconnect";
            return h("tr", { dataset: { mailbox: m.name } },
              h("td", {}, h("strong", {}, m.name), h("div", { class: "muted" }, `${m.user} · ${m.folder}`)),
              h("td", {}, m.server),
              h("td", { class: "mailbox-state" }, auth ? state(false, t("needs reconnect")) : state(!!s.connected, s.connected ? t("connected") : t("not connected"))),
              h("td", {}, s.last_ok_at ? clock(s.last_ok_at) : "—"),
              h("td", {}, s.last_uid == null ? "—" : String(s.last_uid)),
              h("td", {}, String(s.ingested || 0)),
              h("td", { class: "error" }, s.last_error || ""));
          })),
      h("h3", {}, t("Outgoing messages")),
      d.outbox.length === 0 ? h("p", { class: "muted" }, t("Nothing waiting, nothing given up.")) :
        table([t("Channel"), t("Waiting"), t("Retrying"), t("Given up"), t("Last error")],
          d.outbox.map((o) => h("tr", { dataset: { channel: o.channel } },
            h("td", {}, o.channel), h("td", { class: "waiting" }, String(o.waiting)), h("td", {}, String(o.retrying)),
            h("td", { class: "failed" }, String(o.failed)),
            h("td", { class: "error" }, o.last_error ? `${clock(o.last_error_at)} — ${o.last_error}` : "")))),
      h("h3", {}, "WhatsApp"),
      d.whatsapp ? h("div", {},
        h("p", {}, t("Numbers: ") + d.whatsapp.numbers.map((n) => `${n.name} (${n.phone_number_id})`).join(", ")),
        h("p", { id: "whatsapp-backlogs" }, t("Notifications not processed yet: ") + d.whatsapp.journal_backlog + " · " + t("media to download: ") + d.whatsapp.media_backlog),
        d.whatsapp.errors.length ? table([t("When"), t("Number"), t("Error")],
          d.whatsapp.errors.map((e) => h("tr", {}, h("td", {}, clock(e.received_at)), h("td", {}, e.endpoint), h("td", {}, `${e.title}${e.details ? " — " + e.details : ""}`))))
          : h("p", { class: "muted" }, t("No account error."))) : h("p", { class: "muted" }, t("WhatsApp is not enabled.")),
      h("h3", {}, t("Translation")),
      d.translation ? h("p", {}, state(d.translation.state === "ok", d.translation.state), ` ${d.translation.provider} → ${d.translation.target}` +
        (d.translation.last_error ? " — " + d.translation.last_error : "")) : h("p", { class: "muted" }, t("No translation provider.")));
  }
}
