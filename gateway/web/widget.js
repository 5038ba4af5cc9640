/* Switchyard chat widget: one self-contained script, no dependencies.
 * <script src="https://gateway.example/widget.js" data-gateway="https://gateway.example"
 *         data-color="#0b5cad" data-lang="fr" data-prechat="name,email,phone,company,machine_serial"
 *         data-privacy="https://maker.example/privacy" defer></script>
 * Protocol: docs/webchat-protocol.md. Everything lives in a Shadow DOM so the host page's CSS cannot reach it. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__switchyardWidget) return;
  window.__switchyardWidget = true;

  var data = script.dataset || {};
  var base = (data.gateway || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var color = /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#0b5cad";
  var lang = (data.lang || document.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  if (lang !== "fr") lang = "en";
  var prechatFields = (data.prechat || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  var TOKEN_KEY = "switchyard.token." + base;
  var privacyUrl = /^https?:\/\//.test(data.privacy || "") ? data.privacy : "";

  var T = {
    fr: { title: "Assistance technique", open: "Ouvrir le chat", close: "Fermer", placeholder: "Décrivez le problème…",
      send: "Envoyer", photo: "Joindre une photo", connecting: "Connexion…", offline: "Hors ligne — reconnexion…",
      typing: "Un agent écrit…", failed: "Non envoyé — toucher pour réessayer", start: "Commencer",
      intro: "Quelques informations pour aller plus vite (facultatif) :", uploading: "Envoi du fichier…",
      tooLarge: "Fichier trop volumineux", name: "Nom", email: "E-mail", phone: "Téléphone", company: "Société",
      machine_serial: "N° de série machine", you: "Vous", agent: "Agent", system: "Switchyard",
      comment: "Un commentaire ? (facultatif)", rate: "Envoyer mon avis", thanks: "Merci pour votre avis.",
      privacy: "Confidentialité", forget: "Effacer ce chat de cet appareil", forgetSure: "Confirmer l'effacement ?",
      forgotten: "Chat effacé de cet appareil.", erase: "Demander l'effacement de mes données",
      eraseFiled: "Demande d'effacement transmise : nous vous confirmerons quand ce sera fait.",
      eraseNone: "Aucune donnée à effacer pour ce chat." },
    en: { title: "Technical support", open: "Open chat", close: "Close", placeholder: "Describe the problem…",
      send: "Send", photo: "Attach a photo", connecting: "Connecting…", offline: "Offline — reconnecting…",
      typing: "An agent is typing…", failed: "Not sent — tap to retry", start: "Start",
      intro: "A few details to speed things up (optional):", uploading: "Uploading…",
      tooLarge: "File too large", name: "Name", email: "Email", phone: "Phone", company: "Company",
      machine_serial: "Machine serial number", you: "You", agent: "Agent", system: "Switchyard",
      comment: "Any comment? (optional)", rate: "Send my rating", thanks: "Thank you for your rating.",
      privacy: "Privacy", forget: "Delete this chat from this device", forgetSure: "Really delete?",
      forgotten: "Chat deleted from this device.", erase: "Ask for my data to be erased",
      eraseFiled: "Erasure request sent: we will confirm once it is done.",
      eraseNone: "There is no data to erase for this chat." }
  }[lang];

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;display:flex;align-items:center;justify-content:center;",
    "background:var(--c);color:#fff;font-size:26px;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}",
    ".panel{position:fixed;right:20px;bottom:92px;width:360px;max-width:calc(100vw - 24px);height:520px;",
    "max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);",
    "display:none;flex-direction:column;overflow:hidden;z-index:2147483000;color:#1d2733;font-size:14px}",
    ".panel.open{display:flex}",
    ".head{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}",
    ".head b{font-size:15px}.head button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}",
    ".status{font-size:12px;padding:4px 14px;background:#fff4d6;color:#6b4e00;display:none}.status.show{display:block}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fb}",
    ".msg{max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35}",
    ".msg small{display:block;font-size:11px;opacity:.7;margin-bottom:2px}",
    ".customer{align-self:flex-end;background:var(--c);color:#fff}",
    ".agent,.system{align-self:flex-start;background:#fff;border:1px solid #dde3ea}",
    ".system{background:#eef4ff}",
    ".pending{opacity:.6}.failed{background:#b3261e;cursor:pointer}",
    ".msg img{max-width:100%;border-radius:6px;display:block;margin-top:4px}",
    ".msg a{color:inherit}",
    ".chips{display:flex;flex-wrap:wrap;gap:6px;justify-content:flex-end}",
    ".rating{flex-direction:column;align-items:stretch}.rating textarea{font:inherit;min-height:48px}",
    ".chip{border:1px solid " + color + ";color:" + color + ";background:#fff;border-radius:14px;padding:4px 10px;font:inherit;font-size:13px;cursor:pointer}",
    ".typing{font-size:12px;color:#5b6775;padding:2px 14px;min-height:18px}",
    ".compose{display:flex;gap:6px;padding:8px;border-top:1px solid #dde3ea;align-items:flex-end}",
    ".compose textarea{flex:1;resize:none;border:1px solid #c9d2dc;border-radius:8px;padding:8px;font-size:14px;height:40px;max-height:120px}",
    ".compose button{border:0;border-radius:8px;padding:0 12px;height:40px;cursor:pointer;background:var(--c);color:#fff}",
    ".compose .file{background:#e7ecf2;color:#1d2733;display:flex;align-items:center;justify-content:center}",
    ".prechat{padding:12px;display:flex;flex-direction:column;gap:6px;overflow-y:auto}",
    ".prechat input{border:1px solid #c9d2dc;border-radius:6px;padding:7px;font-size:14px}",
    ".prechat button{margin-top:6px;border:0;border-radius:8px;padding:9px;background:var(--c);color:#fff;cursor:pointer}",
    ".foot{display:flex;flex-wrap:wrap;gap:4px 12px;padding:4px 10px 6px;border-top:1px solid #dde3ea;background:#fff}",
    ".foot a,.foot button{color:#5b6775;background:none;border:0;padding:0;font-size:11px;cursor:pointer;text-decoration:underline}",
    ".hidden{display:none!important}"
  ].join("");

  var host = document.createElement("div");
  host.id = "switchyard-widget";
  var root = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  // Icons drawn as SVG: emoji need a font the visitor's machine may not have.
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    camera: "M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1zM12 11a3.5 3.5 0 1 0 0 7a3.5 3.5 0 0 0 0-7z"
  };
  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", name === "close" ? "none" : "currentColor");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", name === "close" ? "2.5" : "0");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
    return svg;
  }
  function setIcon(button, name) {
    while (button.firstChild) button.removeChild(button.firstChild);
    button.appendChild(icon(name));
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  var wrap = el("div");
  wrap.style.setProperty("--c", color);
  var launcher = el("button", "launcher");
  setIcon(launcher, "chat");
  launcher.setAttribute("aria-label", T.open);
  launcher.setAttribute("part", "launcher");
  var panel = el("div", "panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", T.title);
  var head = el("div", "head");
  head.appendChild(el("b", null, T.title));
  var closeBtn = el("button", null, "×");
  closeBtn.setAttribute("aria-label", T.close);
  head.appendChild(closeBtn);
  var status = el("div", "status", T.connecting);
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  var typing = el("div", "typing");
  var compose = el("div", "compose");
  var fileInput = el("input");
  fileInput.type = "file";
  fileInput.accept = "image/*,application/pdf,video/*";
  fileInput.setAttribute("capture", "environment");
  fileInput.className = "hidden";
  var fileBtn = el("button", "file");
  setIcon(fileBtn, "camera");
  fileBtn.title = T.photo;
  fileBtn.setAttribute("aria-label", T.photo);
  var input = el("textarea");
  input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.placeholder);
  var sendBtn = el("button", "send", T.send);
  compose.append(fileInput, fileBtn, input, sendBtn);

  var prechat = el("form", "prechat hidden");
  var prechatInputs = {};
  if (prechatFields.length) {
    prechat.appendChild(el("div", null, T.intro));
    prechatFields.forEach(function (f) {
      if (!T[f]) return;
      var i = el("input");
      i.name = f;
      i.placeholder = T[f];
      i.setAttribute("aria-label", T[f]);
      i.type = f === "email" ? "email" : f === "phone" ? "tel" : "text";
      prechatInputs[f] = i;
      prechat.appendChild(i);
    });
    prechat.appendChild(el("button", null, T.start));
  }

  // The visitor's rights: the site's notice, forgetting this chat on this
  // device (the token is the only link to it), and, when the gateway takes
  // them, a request to erase their data.
  var foot = el("div", "foot");
  var privacyLink = el("a", "hidden", T.privacy);
  privacyLink.target = "_blank";
  privacyLink.rel = "noopener";
  var forgetBtn = el("button", null, T.forget);
  forgetBtn.type = "button";
  forgetBtn.setAttribute("data-forget", "");
  var eraseBtn = el("button", "hidden", T.erase);
  eraseBtn.type = "button";
  eraseBtn.setAttribute("data-erase", "");
  foot.append(privacyLink, forgetBtn, eraseBtn);
  function showPrivacy(url) {
    if (!url) return;
    privacyLink.href = url;
    privacyLink.classList.remove("hidden");
  }
  showPrivacy(privacyUrl);

  panel.append(head, status, prechat, log, typing, compose, foot);
  wrap.append(launcher, panel);
  root.appendChild(wrap);

  var token = null;
  try { token = localStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
  var canErase = false;
  var ws = null, opened = false, retry = 0, pingTimer = null, reconnectTimer = null, waitAtLeast = 0;
  var shown = {};          // message id -> element
  var pending = {};        // client_id -> {text, attachments, el}
  var seq = 0;
  var prechatDone = !prechatFields.length || !!token;

  function setStatus(text) {
    status.textContent = text || "";
    status.classList.toggle("show", !!text);
  }

  // File links come signed and short-lived from the gateway: the chat token,
  // the only key to the conversation, never goes into a URL.
  function fileUrl(url) {
    return base + url;
  }

  function render(m) {
    if (m.client_id && pending[m.client_id]) {
      var p = pending[m.client_id];
      delete pending[m.client_id];
      p.el.classList.remove("pending", "failed");
      shown[m.id] = p.el;
      return;
    }
    if (shown[m.id]) return;
    var node = el("div", "msg " + (m.author === "customer" ? "customer" : m.author === "agent" ? "agent" : "system"));
    node.appendChild(el("small", null, m.author === "customer" ? T.you : (m.name || T[m.author] || T.agent)));
    node.appendChild(document.createTextNode(m.text || ""));
    (m.attachments || []).forEach(function (a) {
      if ((a.content_type || "").indexOf("image/") === 0) {
        var img = el("img");
        img.src = fileUrl(a.url);
        img.alt = a.name || "";
        node.appendChild(img);
      } else {
        var link = el("a", null, a.name || "file");
        link.href = fileUrl(a.url);
        link.target = "_blank";
        link.rel = "noopener";
        node.appendChild(el("div")).appendChild(link);
      }
    });
    shown[m.id] = node;
    log.appendChild(node);
    // Quick answers to a question: a tap sends the answer (or opens the photo
    // picker); the chips go once one is used or the visitor writes anything.
    if ((m.choices || []).length && m.author !== "customer") {
      clearChips();
      chips = el("div", "chips");
      m.choices.forEach(function (c) {
        var b = el("button", "chip", c.title);
        b.type = "button";
        b.setAttribute("data-choice", c.id);
        b.addEventListener("click", function () {
          clearChips();
          if (c.photo) fileInput.click();
          else if (c.id === "feedback:good" || c.id === "feedback:bad") rating(c);
          else queueMessage(c.title, [], null);
        });
        chips.appendChild(b);
      });
      log.appendChild(chips);
    }
    log.scrollTop = log.scrollHeight;
  }

  // The satisfaction question: the chosen rating, an optional comment, one
  // "rate" frame (not a message: it must not reopen the conversation).
  function rating(choice) {
    chips = el("form", "chips rating");
    chips.appendChild(el("div", null, choice.title));
    var comment = el("textarea");
    comment.placeholder = T.comment;
    comment.maxLength = 2000;
    comment.setAttribute("data-rating-comment", "");
    chips.appendChild(comment);
    var go = el("button", "chip", T.rate);
    go.type = "submit";
    chips.appendChild(go);
    chips.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var frame = { type: "rate", rating: choice.id === "feedback:good" ? "good" : "bad" };
      if (comment.value.trim()) frame.comment = comment.value.trim();
      if (send(frame)) clearChips();
    });
    log.appendChild(chips);
    comment.focus();
  }

  var chips = null;
  function clearChips() {
    if (chips && chips.parentNode) chips.parentNode.removeChild(chips);
    chips = null;
  }

  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function prechatValues() {
    var out = {};
    Object.keys(prechatInputs).forEach(function (k) {
      var v = prechatInputs[k].value.trim();
      if (v) out[k] = v;
    });
    return out;
  }

  function connect() {
    setStatus(retry ? T.offline : T.connecting);
    var url = base.replace(/^http/, "ws") + "/ws/chat";
    clearTimeout(reconnectTimer);
    var sock;
    try { sock = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    ws = sock;
    sock.onopen = function () {
      send({ type: "open", token: token, prechat: prechatValues(), lang: lang });
    };
    sock.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "opened") {
        opened = true;
        retry = 0;
        setStatus("");
        token = f.token;
        try { localStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode */ }
        (f.history || []).forEach(render);
        if (!privacyUrl && /^https?:\/\//.test(f.privacy_url || "")) showPrivacy(f.privacy_url);
        canErase = !!f.erasure;
        eraseBtn.classList.toggle("hidden", !(canErase && f.conversation));
        Object.keys(pending).forEach(function (id) { transmit(id); });
        clearInterval(pingTimer);
        pingTimer = setInterval(function () { send({ type: "ping" }); }, 25000);
      } else if (f.type === "ack") {
        // The first message made a conversation: there is now something to erase.
        if (canErase) eraseBtn.classList.remove("hidden");
        var p = pending[f.client_id];
        if (p) {
          delete pending[f.client_id];
          p.el.classList.remove("pending", "failed");
          shown[f.message_id] = p.el;
        }
      } else if (f.type === "message") {
        typing.textContent = "";
        render(f);
      } else if (f.type === "rated") {
        if (f.recorded) log.appendChild(el("div", "msg system", T.thanks));
        log.scrollTop = log.scrollHeight;
      } else if (f.type === "erase_requested") {
        notice(f.recorded ? T.eraseFiled : T.eraseNone);
        if (f.recorded) { canErase = false; eraseBtn.classList.add("hidden"); }
      } else if (f.type === "typing") {
        typing.textContent = f.on ? T.typing : "";
      } else if (f.type === "error") {
        if (f.code === "bad_token") {
          token = null;
          try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
          send({ type: "open", token: null, prechat: prechatValues(), lang: lang });
        } else if (f.client_id && pending[f.client_id]) {
          var q = pending[f.client_id];
          q.el.classList.add("failed");
          q.el.title = f.message;
        } else if (f.code === "rate_limited" && f.retry_after_ms) {
          // Too many new chats from here: the socket closes; come back when told.
          waitAtLeast = f.retry_after_ms;
        }
      }
    };
    sock.onclose = function () {
      // A socket replaced by a newer one (reconnect after "online") is not news.
      if (ws !== sock) return;
      opened = false;
      clearInterval(pingTimer);
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    retry += 1;
    setStatus(T.offline);
    clearTimeout(reconnectTimer);
    var wait = Math.max(waitAtLeast, Math.min(15000, 500 * Math.pow(2, retry)));
    waitAtLeast = 0;
    reconnectTimer = setTimeout(connect, wait);
  }

  // The browser knows before the socket does: say so at once, and try again
  // as soon as the network is back instead of waiting for the backoff.
  window.addEventListener("offline", function () {
    if (!ws) return;
    setStatus(T.offline);
    try { ws.close(); } catch (e) { /* already closed */ }
  });
  window.addEventListener("online", function () {
    if (ws && !opened) { retry = Math.max(retry, 1); connect(); }
  });

  function transmit(clientId) {
    var p = pending[clientId];
    if (!p || !opened) return;
    send({ type: "message", client_id: clientId, text: p.text, attachments: p.attachments });
  }

  function queueMessage(text, attachments, preview) {
    clearChips();
    var clientId = "c" + Date.now().toString(36) + "-" + (seq++) + "-" + Math.random().toString(36).slice(2, 8);
    var node = el("div", "msg customer pending");
    node.appendChild(el("small", null, T.you));
    node.appendChild(document.createTextNode(text));
    if (preview) node.appendChild(preview);
    node.addEventListener("click", function () {
      if (node.classList.contains("failed")) { node.classList.remove("failed"); transmit(clientId); }
    });
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    pending[clientId] = { text: text, attachments: attachments, el: node };
    transmit(clientId);
  }

  function submitText() {
    var text = input.value.trim();
    if (!text) return;
    if (!ws) connect();
    input.value = "";
    queueMessage(text, [], null);
    send({ type: "typing", on: false });
  }

  function upload(file) {
    if (!token || !opened) { setStatus(T.offline); return; }
    setStatus(T.uploading);
    fetch(base + "/api/v1/chat/uploads?name=" + encodeURIComponent(file.name || "photo"), {
      method: "POST",
      headers: { "Content-Type": file.type || "application/octet-stream", "X-Chat-Token": token },
      body: file
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    }).then(function (r) {
      setStatus("");
      if (!r.ok) { setStatus(r.status === 413 ? T.tooLarge : (r.body.error && r.body.error.message) || "error"); return; }
      var preview = null;
      if ((file.type || "").indexOf("image/") === 0) {
        preview = el("img");
        preview.src = URL.createObjectURL(file);
        preview.alt = file.name || "";
      }
      var caption = input.value.trim();
      input.value = "";
      queueMessage(caption || file.name || "📷", [r.body.upload_id], preview);
    }).catch(function () { setStatus(T.offline); });
  }

  function notice(text) {
    log.appendChild(el("div", "msg system", text));
    log.scrollTop = log.scrollHeight;
  }

  // Two taps: a chat lost by a slip cannot be had back on this device.
  var forgetArmed = null;
  forgetBtn.addEventListener("click", function () {
    if (!forgetArmed) {
      forgetBtn.textContent = T.forgetSure;
      forgetArmed = setTimeout(function () { forgetArmed = null; forgetBtn.textContent = T.forget; }, 5000);
      return;
    }
    clearTimeout(forgetArmed);
    forgetArmed = null;
    forgetBtn.textContent = T.forget;
    var sock = ws;
    ws = null;
    opened = false;
    clearInterval(pingTimer);
    clearTimeout(reconnectTimer);
    if (sock) { try { sock.close(); } catch (e) { /* already closed */ } }
    token = null;
    try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    while (log.firstChild) log.removeChild(log.firstChild);
    shown = {};
    pending = {};
    clearChips();
    eraseBtn.classList.add("hidden");
    prechatDone = !prechatFields.length;
    showPanel();
    setStatus(T.forgotten);
  });
  eraseBtn.addEventListener("click", function () { send({ type: "erase_request" }); });

  var typingSent = 0;
  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - typingSent > 3000) { typingSent = now; send({ type: "typing", on: true }); }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submitText(); }
  });
  sendBtn.addEventListener("click", submitText);
  fileBtn.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    if (fileInput.files && fileInput.files[0]) upload(fileInput.files[0]);
    fileInput.value = "";
  });
  prechat.addEventListener("submit", function (e) {
    e.preventDefault();
    prechatDone = true;
    showPanel();
    if (!ws) connect();
  });

  function showPanel() {
    prechat.classList.toggle("hidden", prechatDone);
    log.classList.toggle("hidden", !prechatDone);
    compose.classList.toggle("hidden", !prechatDone);
    if (prechatDone) input.focus();
  }

  function toggle() {
    var open = !panel.classList.contains("open");
    panel.classList.toggle("open", open);
    setIcon(launcher, open ? "close" : "chat");
    showPanel();
    if (open && !ws && prechatDone) connect();
  }
  launcher.addEventListener("click", toggle);
  closeBtn.addEventListener("click", toggle);

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  // Resume straight away after a reload, so replies that came meanwhile show up.
  if (token) connect();
})();
