// The mailboxes Switchyard reads, for admins: how each logs in, whether its
// reader is connected, and for OAuth 2 whether its authorisation holds —
// "needs reconnect" says why. A mailbox an admin connects (authorization
// code) has Connect, which leaves for the provider's consent page and comes
// back through /oauth/callback, and Disconnect, which forgets its token.

import { api } from "./api.js";
import { h, clear, clock, toast } from "./dom.js";
import { t } from "./i18n.js";

const STATES = {
  ok: t("authorised"),
  needs_reconnect: t("needs an admin to reconnect"),
  unavailable: t("token endpoint unavailable (retrying)"),
  pending: t("no token asked for yet"),
};

export class MailboxesView {
  constructor(root) {
    this.root = root;
  }

  async load() {
    let data;
    try {
      data = await api.get("/api/v1/admin/mailboxes");
    } catch (e) {
      toast(e.message);
      return;
    }
    const rows = data.mailboxes.map((m) => {
      const o = m.oauth;
      const reader = m.reader || {};
      const actions = h("td", {});
      if (m.connectable) {
        actions.append(h("button", { type: "button", class: "connect", onclick: () => this.connect(m.name) }, o && o.state === "ok" ? t("Reconnect") : t("Connect")));
        if (o && o.connected_at) actions.append(" ", h("button", { type: "button", class: "ghost disconnect", onclick: () => this.disconnect(m.name) }, t("Disconnect")));
      }
      return h("tr", { dataset: { mailbox: m.name, state: o ? o.state : "password" } },
        h("td", {}, m.name), h("td", {}, m.user),
        h("td", {}, o ? "OAuth 2 (" + o.grant.replaceAll("_", " ") + ")" : t("password")),
        h("td", {}, reader.connected ? t("connected") : t("not connected")),
        h("td", { class: "auth-state" }, o ? STATES[o.state] || o.state : "—",
          o && o.message ? h("div", { class: "muted" }, o.message) : null,
          o && o.connected_as ? h("div", { class: "muted" }, t("connected by ") + o.connected_as + (o.connected_at ? " " + clock(o.connected_at) : "")) : null,
          o && o.refreshed_at ? h("div", { class: "muted" }, t("token refreshed ") + clock(o.refreshed_at)) : null),
        actions);
    });
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Mailboxes"))),
      h("p", { class: "muted" }, t("Connecting signs in as the mailbox's user at its provider; the provider sends you back to ") + data.redirect_uri + "."),
      h("table", { class: "worth mailboxes" },
        h("thead", {}, h("tr", {}, [t("Mailbox"), t("Address"), t("Login"), t("Reader"), t("Authorisation"), ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows)));
  }

  async connect(name) {
    try {
      const r = await api.post("/api/v1/admin/mailboxes/" + encodeURIComponent(name) + "/connect");
      location.assign(r.authorize_url);
    } catch (e) {
      toast(e.message);
    }
  }

  async disconnect(name) {
    if (!confirm(t("Forget the connection of ") + name + t("? Switchyard stops reading it until someone connects it again."))) return;
    try {
      await api.post("/api/v1/admin/mailboxes/" + encodeURIComponent(name) + "/disconnect");
      this.load();
    } catch (e) {
      toast(e.message);
    }
  }
}
