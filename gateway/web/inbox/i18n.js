// The inbox's language: French or English, the agent's choice (their
// profile), else the browser's. The texts are written in English in the
// code and looked up in `fr.js`; a text missing there shows in English.
// The language is known before any other module runs (kept in this
// browser), so tables built when a module loads are translated too; a
// change of profile reloads the page once.

const KEY = "switchyard.inbox.language";

function fromBrowser() {
  return (navigator.language || "en").slice(0, 2).toLowerCase() === "fr" ? "fr" : "en";
}

function initial() {
  try {
    const kept = localStorage.getItem(KEY);
    if (kept === "fr" || kept === "en") return kept;
  } catch (e) { /* private mode */ }
  return fromBrowser();
}

export const lang = initial();

// The French texts are fetched only for a French inbox (top-level await: the
// modules that import this one run once they are here).
const FR = lang === "fr" ? (await import("./fr.js")).FR : {};

/** The English `text` in the inbox's language. */
export function t(text) {
  return lang === "fr" && Object.prototype.hasOwnProperty.call(FR, text) ? FR[text] : text;
}

/** Dates and numbers are written the way the language writes them. */
export const locale = lang === "fr" ? "fr-FR" : "en-GB";

/**
 * Follows the agent's profile (`fr`, `en`, `de`, `es`, `it` or null: the
 * browser's); true when the page reloads to do so.
 */
export function follow(agentLanguage) {
  const wanted = agentLanguage ? (agentLanguage === "fr" ? "fr" : "en") : fromBrowser();
  try {
    if (agentLanguage) localStorage.setItem(KEY, wanted);
    else localStorage.removeItem(KEY);
  } catch (e) { /* private mode: this page only */ }
  if (wanted === lang) return false;
  location.reload();
  return true;
}

/** The static page: its texts and the labels people read (placeholders, titles). */
export function translatePage(root) {
  if (lang === "en") return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue.trim();
    if (text && Object.prototype.hasOwnProperty.call(FR, text)) node.nodeValue = node.nodeValue.replace(text, FR[text]);
  }
  for (const el of root.querySelectorAll("[placeholder], [title], [aria-label]")) {
    for (const attr of ["placeholder", "title", "aria-label"]) {
      const v = el.getAttribute(attr);
      if (v && Object.prototype.hasOwnProperty.call(FR, v)) el.setAttribute(attr, FR[v]);
    }
  }
}
