// The reply box. It says where the reply will go (channel and recipients; for
// email To and Cc are editable), inserts canned replies by "/keyword", writes
// private notes, attaches files, and keeps every draft in localStorage as it
// is typed, so a reload or an expired session loses nothing.

import { api } from "./api.js";
import { h, clear, toast, CHANNEL_NAMES } from "./dom.js";
import { t } from "./i18n.js";

const DRAFT_PREFIX = "switchyard.draft.";

function draftKey(id, mode) {
  return DRAFT_PREFIX + id + "." + mode;
}

function readDraft(id, mode) {
  try { return localStorage.getItem(draftKey(id, mode)) || ""; } catch (e) { return ""; }
}

function writeDraft(id, mode, text) {
  try {
    if (text) localStorage.setItem(draftKey(id, mode), text);
    else localStorage.removeItem(draftKey(id, mode));
  } catch (e) { /* storage full or disabled: the draft stays in the page */ }
}

function addresses(text) {
  return text.split(/[,;\s]+/).map((a) => a.trim()).filter(Boolean);
}

export class Composer {
  constructor({ me, canned, onSent }) {
    this.me = me;
    this.canned = canned; // () => [{keyword, language, text}]
    this.onSent = onSent;
    this.id = null;
    this.mode = "reply";
    this.uploads = [];
    this.recipientsEdited = false;
    this.typingSent = 0;
    this.suggestions = [];
    this.picked = 0;

    this.replyTab = h("button", { type: "button", class: "tab selected", onclick: () => this.setMode("reply") }, t("Reply"));
    this.noteTab = h("button", { type: "button", class: "tab", onclick: () => this.setMode("note") }, t("Private note"));
    this.route = h("div", { class: "route" });
    this.to = h("input", { class: "to", "aria-label": t("To"), oninput: () => { this.recipientsEdited = true; } });
    this.cc = h("input", { class: "cc", "aria-label": t("Cc"), oninput: () => { this.recipientsEdited = true; } });
    this.recipients = h("div", { class: "recipients", hidden: true },
      h("label", {}, t("To "), this.to), h("label", {}, t("Cc "), this.cc));
    this.warning = h("p", { class: "warning", hidden: true });
    this.text = h("textarea", { class: "reply-text", rows: "4", "aria-label": t("Reply"),
      oninput: () => this.typed(), onkeydown: (e) => this.key(e) });
    this.menu = h("ul", { class: "canned", role: "listbox", hidden: true });
    this.files = h("div", { class: "pending-files" });
    this.fileInput = h("input", { type: "file", multiple: true, hidden: true, onchange: () => this.attach() });
    this.sendButton = h("button", { type: "submit", class: "send", title: "Ctrl+Enter" }, t("Send"));
    // The reply in the customer's language, editable; what is sent when shown.
    this.translateButton = h("button", { type: "button", class: "ghost translate", hidden: true, onclick: () => this.translate() }, t("Translate"));
    this.preview = h("textarea", { class: "translated-preview", rows: "4", "aria-label": t("Translation that will be sent") });
    this.previewNote = h("p", { class: "muted small" });
    this.previewBox = h("div", { class: "translation-preview", hidden: true }, this.previewNote, this.preview);
    this.element = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); this.send(); } },
      h("div", { class: "tabs" }, this.replyTab, this.noteTab, h("span", { class: "spacer" }), this.route),
      this.recipients,
      this.warning,
      h("div", { class: "editor" }, this.text, this.menu),
      this.previewBox,
      h("div", { class: "composer-foot" },
        this.fileInput,
        this.translateButton,
        h("button", { type: "button", class: "ghost attach", onclick: () => this.fileInput.click() }, t("Attach")),
        this.files,
        h("span", { class: "spacer" }),
        h("span", { class: "muted hint" }, t("/ for canned replies")),
        this.sendButton));
  }

  /** New data for the conversation (first load or a live refresh). */
  update(d) {
    const c = d.conversation;
    const fresh = this.id !== c.id;
    this.data = d;
    if (fresh) {
      this.id = c.id;
      this.recipientsEdited = false;
      this.text.value = readDraft(c.id, this.mode);
    }
    const name = CHANNEL_NAMES[c.channel] || c.channel;
    if (c.channel === "email") {
      this.recipients.hidden = this.mode !== "reply";
      if (fresh || !this.recipientsEdited) {
        const cc = (d.participants || []).filter((p) => p.active && p.address !== c.customer_address).map((p) => p.address);
        this.defaultTo = c.customer_address;
        this.defaultCc = cc.join(", ");
        this.to.value = this.defaultTo;
        this.cc.value = this.defaultCc;
      }
      this.route.textContent = this.mode === "reply" ? t("Reply by email (threaded)") : t("Only agents see notes");
    } else {
      this.recipients.hidden = true;
      this.route.textContent = this.mode === "reply"
        ? t("Reply on ") + name + t(" to ") + (c.customer_name || c.customer_address)
        : t("Only agents see notes");
    }
    const tr = d.translation;
    this.translateTo = tr && tr.needed ? c.language : null;
    this.translateButton.hidden = !(this.mode === "reply" && this.translateTo);
    this.translateButton.textContent = t("Translate to ") + (this.translateTo || "").toUpperCase();
    if (fresh || !this.translateTo) this.clearPreview();
    const wa = d.whatsapp;
    if (this.mode === "reply" && wa && !wa.window_open) {
      this.warning.hidden = false;
      this.warning.textContent = t("The 24-hour WhatsApp window is closed: only an approved template can be sent.");
    } else if (this.mode === "reply" && wa && wa.window_closing_soon) {
      this.warning.hidden = false;
      this.warning.textContent = t("The 24-hour WhatsApp window closes soon.");
    } else {
      this.warning.hidden = true;
    }
  }

  setMode(mode) {
    if (this.mode === mode) return;
    writeDraft(this.id, this.mode, this.text.value);
    this.mode = mode;
    this.replyTab.classList.toggle("selected", mode === "reply");
    this.noteTab.classList.toggle("selected", mode === "note");
    this.element.classList.toggle("noting", mode === "note");
    this.text.setAttribute("aria-label", mode === "note" ? t("Private note") : t("Reply"));
    this.sendButton.textContent = mode === "note" ? t("Add note") : t("Send");
    this.text.value = readDraft(this.id, mode);
    if (this.data) this.update(this.data);
    this.text.focus();
  }

  focus(mode) {
    this.setMode(mode);
    this.text.focus();
  }

  insert(text) {
    this.setMode("reply");
    this.text.value = this.text.value ? this.text.value.replace(/\s*$/, "\n\n") + text : text;
    this.typed();
    this.text.focus();
  }

  typed() {
    // A translation of the earlier text would not say what the record says.
    if (!this.previewBox.hidden) this.clearPreview();
    writeDraft(this.id, this.mode, this.text.value);
    this.suggest();
    const now = Date.now();
    if (this.mode === "reply" && this.data && this.data.conversation.channel === "webchat" && now - this.typingSent > 3000) {
      this.typingSent = now;
      api.post(`/api/v1/conversations/${this.id}/typing`, { on: true }).catch(() => {});
    }
  }

  /** "/kw" just before the caret lists the canned replies starting with kw. */
  suggest() {
    const before = this.text.value.slice(0, this.text.selectionStart);
    const match = /(?:^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(before);
    const language = this.data && this.data.conversation.language;
    this.suggestions = match
      ? this.canned().filter((c) => c.keyword.toLowerCase().startsWith(match[1].toLowerCase()) &&
          (!c.language || !language || c.language === language)).slice(0, 8)
      : [];
    this.slash = match ? before.length - match[1].length - 1 : -1;
    this.picked = 0;
    this.drawMenu();
  }

  drawMenu() {
    clear(this.menu);
    this.menu.hidden = !this.suggestions.length;
    this.suggestions.forEach((c, i) => {
      this.menu.append(h("li", {
        role: "option",
        class: i === this.picked ? "picked" : "",
        "aria-selected": i === this.picked ? "true" : "false",
        onmousedown: (e) => { e.preventDefault(); this.pick(i); },
      }, h("b", {}, "/" + c.keyword), c.language ? h("span", { class: "muted" }, " " + c.language) : null, " ", c.text));
    });
  }

  pick(i) {
    const c = this.suggestions[i];
    if (!c) return;
    const caret = this.text.selectionStart;
    this.text.value = this.text.value.slice(0, this.slash) + c.text + this.text.value.slice(caret);
    const at = this.slash + c.text.length;
    this.text.setSelectionRange(at, at);
    this.suggestions = [];
    this.drawMenu();
    writeDraft(this.id, this.mode, this.text.value);
  }

  key(e) {
    if (this.suggestions.length) {
      if (e.key === "Tab" || (e.key === "Enter" && !e.ctrlKey && !e.metaKey)) {
        e.preventDefault();
        this.pick(this.picked);
        return;
      }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = this.suggestions.length;
        this.picked = (this.picked + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
        this.drawMenu();
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        this.suggestions = [];
        this.drawMenu();
        return;
      }
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.send();
    } else if (e.key === "Escape") {
      this.text.blur();
    }
  }

  async attach() {
    for (const file of this.fileInput.files || []) {
      try {
        const up = await api.upload(file);
        this.uploads.push({ id: up.upload_id, name: file.name });
      } catch (e) {
        toast(file.name + ": " + e.message, "error");
      }
    }
    this.fileInput.value = "";
    this.drawFiles();
  }

  drawFiles() {
    clear(this.files);
    this.uploads.forEach((u, i) => this.files.append(h("span", { class: "chip" }, u.name,
      h("button", { type: "button", "aria-label": t("Remove ") + u.name, onclick: () => { this.uploads.splice(i, 1); this.drawFiles(); } }, "×"))));
  }

  clearPreview() {
    this.previewBox.hidden = true;
    this.preview.value = "";
  }

  // The agent's text in the customer's language, for them to check (and
  // edit) before sending; protected terms the provider lost are named.
  async translate() {
    const text = this.text.value.trim();
    if (!text || this.id == null) return;
    try {
      const r = await api.post(`/api/v1/conversations/${this.id}/translate`, { text });
      this.preview.value = r.text;
      this.previewBox.hidden = false;
      this.previewNote.textContent = t("Sent in ") + r.to.toUpperCase() + t(" (your ") + r.from.toUpperCase() + t(" text stays in the record)") +
        (r.lost && r.lost.length ? t(" — check: the translation changed ") + r.lost.join(", ") : "");
      this.previewNote.classList.toggle("warning", !!(r.lost && r.lost.length));
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
    }
  }

  async send() {
    const text = this.text.value.trim();
    if (!text || this.id == null || this.sending) return;
    const c = this.data.conversation;
    let path, body;
    if (this.mode === "note") {
      path = `/api/v1/conversations/${this.id}/notes`;
      body = { text };
    } else {
      path = `/api/v1/conversations/${this.id}/reply`;
      body = { text, attachments: this.uploads.map((u) => u.id) };
      if (!this.previewBox.hidden && this.preview.value.trim()) {
        body.text = this.preview.value.trim();
        body.original = text;
      }
      if (c.channel === "email" && (this.to.value !== this.defaultTo || this.cc.value !== this.defaultCc)) {
        body.to = addresses(this.to.value);
        body.cc = addresses(this.cc.value);
      }
    }
    this.sending = true;
    this.sendButton.disabled = true;
    try {
      await api.post(path, body);
      this.text.value = "";
      this.clearPreview();
      this.uploads = [];
      this.drawFiles();
      writeDraft(this.id, this.mode, "");
      this.recipientsEdited = false;
      if (this.mode === "reply" && c.channel === "webchat") {
        api.post(`/api/v1/conversations/${this.id}/typing`, { on: false }).catch(() => {});
        this.typingSent = 0;
      }
      this.onSent();
    } catch (e) {
      // 401: the app asks for a login; the draft is still in storage and in the box.
      if (e.status !== 401) toast(e.message, "error");
    } finally {
      this.sending = false;
      this.sendButton.disabled = false;
    }
  }
}
