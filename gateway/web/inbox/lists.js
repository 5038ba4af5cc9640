// The lists an admin keeps (supervisors read): canned replies agents insert
// with "/keyword", and the customer directory — accounts, their tier
// ("strategic" makes a line stop critical at once) and what they are known
// by (email domains, addresses, phone numbers).

import { api } from "./api.js";
import { h, clear, toast } from "./dom.js";
import { t } from "./i18n.js";

const lines = (text) => text.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);

export class ListsView {
  constructor(root) {
    this.root = root;
  }

  async load() {
    let canned;
    let accounts;
    let queues;
    try {
      [canned, accounts, queues] = await Promise.all([
        api.get("/api/v1/admin/canned-replies"), api.get("/api/v1/admin/accounts"), api.get("/api/v1/admin/queues"),
      ]);
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
      return;
    }
    const ro = !canned.can_edit;
    this.cannedBody = h("tbody", {}, canned.canned_replies.map((r) => this.cannedRow(r, ro)));
    this.accountsBody = h("tbody", {}, accounts.accounts.map((a) => this.accountRow(a, ro)));
    const origin = (o) => o === "inbox" ? t("saved in the inbox") : o === "file" ? t("the configuration file") : t("built-in");
    this.queueText = h("textarea", { id: "queues-text", rows: 4, cols: 30, disabled: ro, "aria-label": t("Queues") }, queues.queues.join("\n"));
    clear(this.root).append(
      h("div", { class: "report-controls" }, h("h2", {}, t("Lists"))),
      h("section", { id: "queues-editor" },
        h("h3", {}, t("Queues")),
        h("p", { class: "muted" }, t("In force: "), h("strong", { id: "queues-origin" }, origin(queues.origin)), ". " + t("Listed in the inbox even when empty, most urgent first, one per line. Rules send conversations to a queue; the Team page says who works it.")),
        this.queueText,
        ro ? null : h("div", { class: "dialog-buttons" },
          queues.origin === "inbox" ? h("button", { type: "button", class: "ghost", id: "queues-file", onclick: () => this.toFile("queues") }, t("Back to the configured queues")) : null,
          h("button", { type: "button", id: "queues-save", onclick: () => this.save("/api/v1/admin/queues", { queues: lines(this.queueText.value) }, "queues-error", t("Queues saved")) }, t("Save and apply"))),
        h("p", { class: "error", id: "queues-error", role: "alert" })),
      h("section", { id: "canned-editor" },
        h("h3", {}, t("Canned replies")),
        h("p", { class: "muted" }, t("In force: "), h("strong", { id: "canned-origin" }, origin(canned.origin)), ". " + t("Agents type /keyword in the reply box; a reply with a language is offered in conversations in that language.")),
        h("table", { class: "groups lists-table" },
          h("thead", {}, h("tr", {}, [t("Keyword"), t("Language"), t("Text"), ""].map((x) => h("th", {}, x)))), this.cannedBody),
        ro ? null : h("div", { class: "dialog-buttons" },
          h("button", { type: "button", class: "ghost", id: "canned-add", onclick: () => this.cannedBody.append(this.cannedRow({ keyword: "", language: "", text: "" }, false)) }, t("Add a reply")),
          canned.origin === "inbox" ? h("button", { type: "button", class: "ghost", id: "canned-file", onclick: () => this.toFile("canned-replies") }, t("Back to the configured replies")) : null,
          h("button", { type: "button", id: "canned-save", onclick: () => this.saveCanned() }, t("Save and apply"))),
        h("p", { class: "error", id: "canned-error", role: "alert" })),
      h("section", { id: "accounts-editor" },
        h("h3", {}, t("Accounts")),
        h("p", { class: "muted" }, t("In force: "), h("strong", { id: "accounts-origin" }, origin(accounts.origin)), ". " + t("Rules test the tier: a strategic account's line stop is critical at once.")),
        h("table", { class: "groups lists-table" },
          h("thead", {}, h("tr", {}, [t("Account"), t("Tier"), t("Email domains"), t("Addresses"), t("Phone numbers"), ""].map((x) => h("th", {}, x)))), this.accountsBody),
        ro ? null : h("div", { class: "dialog-buttons" },
          h("button", { type: "button", class: "ghost", id: "accounts-add", onclick: () => this.accountsBody.append(this.accountRow({ name: "", tier: "strategic", domains: [], addresses: [], phones: [] }, false)) }, t("Add an account")),
          accounts.origin === "inbox" ? h("button", { type: "button", class: "ghost", id: "accounts-file", onclick: () => this.toFile("accounts") }, t("Back to the configured accounts")) : null,
          h("button", { type: "button", id: "accounts-save", onclick: () => this.saveAccounts() }, t("Save and apply"))),
        h("p", { class: "error", id: "accounts-error", role: "alert" })));
  }

  remove(ro) {
    return ro ? null : h("button", { type: "button", class: "ghost", onclick: (e) => e.target.closest("tr").remove() }, t("Remove"));
  }

  cannedRow(r, ro) {
    return h("tr", { class: "canned-row" },
      h("td", {}, h("input", { name: "keyword", value: r.keyword, size: 10, disabled: ro, "aria-label": t("Keyword") })),
      h("td", {}, h("input", { name: "language", value: r.language, size: 3, placeholder: t("any"), disabled: ro, "aria-label": t("Language") })),
      h("td", {}, h("textarea", { name: "text", rows: 2, cols: 60, disabled: ro, "aria-label": t("Text") }, r.text)),
      h("td", {}, this.remove(ro)));
  }

  accountRow(a, ro) {
    const area = (name, list) => h("td", {}, h("textarea", { name, rows: 2, cols: 22, disabled: ro, "aria-label": name }, list.join("\n")));
    return h("tr", { class: "account-row" },
      h("td", {}, h("input", { name: "name", value: a.name, disabled: ro, "aria-label": t("Account") })),
      h("td", {}, h("input", { name: "tier", value: a.tier, size: 10, disabled: ro, "aria-label": t("Tier") })),
      area("domains", a.domains), area("addresses", a.addresses), area("phones", a.phones),
      h("td", {}, this.remove(ro)));
  }

  async saveCanned() {
    const canned_replies = [...this.cannedBody.querySelectorAll("tr")].map((r) => ({
      keyword: r.querySelector("[name=keyword]").value, language: r.querySelector("[name=language]").value, text: r.querySelector("[name=text]").value,
    }));
    await this.save("/api/v1/admin/canned-replies", { canned_replies }, "canned-error", t("Canned replies saved"));
    // The reply box offers the new list without a reload.
    window.dispatchEvent(new CustomEvent("sy:canned-changed"));
  }

  async saveAccounts() {
    const accounts = [...this.accountsBody.querySelectorAll("tr")].map((r) => ({
      name: r.querySelector("[name=name]").value, tier: r.querySelector("[name=tier]").value,
      domains: lines(r.querySelector("[name=domains]").value), addresses: lines(r.querySelector("[name=addresses]").value), phones: lines(r.querySelector("[name=phones]").value),
    }));
    await this.save("/api/v1/admin/accounts", { accounts }, "accounts-error", t("Accounts saved and in force"));
  }

  async save(path, body, errorId, done) {
    const error = this.root.querySelector("#" + errorId);
    error.textContent = "";
    try {
      await api.put(path, body);
      toast(done);
    } catch (e) {
      error.textContent = e.message;
      return;
    }
    await this.load();
  }

  async toFile(what) {
    try {
      await api.post(`/api/v1/admin/${what}/file`, {});
    } catch (e) {
      toast(e.message, "error");
      return;
    }
    if (what === "canned-replies") window.dispatchEvent(new CustomEvent("sy:canned-changed"));
    await this.load();
  }
}
