// Shared by the browser flows: Debian's chromium through playwright-core,
// the gateway the Rust harness started (SY_BASE), and screenshots under
// SY_ARTIFACTS (target/browser by default).

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import zlib from "node:zlib";

export const BASE = required("SY_BASE");
export const ARTIFACTS = process.env.SY_ARTIFACTS || "target/browser";
mkdirSync(ARTIFACTS, { recursive: true });

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: these flows run from tests/tests/browser.rs (cargo test -p e2e --test browser)`);
  return value;
}

export function credentials(who) {
  return { username: required(`SY_${who}_USER`), password: required(`SY_${who}_PASSWORD`) };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.SY_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** A page whose console errors and failed POSTs are recorded, to assert on at the end. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "fr-FR", ...options });
  const page = await context.newPage();
  page.problems = [];
  page.posts = [];
  page.on("pageerror", (e) => page.problems.push("page error: " + e.message));
  // A refused request (401 after the session ends, a mail's broken image) is the
  // server's answer, not a fault of the page; script errors and CSP refusals are.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) page.problems.push("console: " + m.text());
  });
  page.on("request", (r) => {
    if (r.method() !== "GET" && new URL(r.url()).pathname.startsWith("/api/v1/")) {
      page.posts.push({ path: new URL(r.url()).pathname, csrf: r.headers()["x-csrf-token"] || "" });
    }
  });
  return page;
}

/** An agent's page: these agents' browsers are in English (the visitors' in French). */
export async function agentPage(browser, options = {}) {
  return newPage(browser, { locale: "en-GB", ...options });
}

export async function login(page, who) {
  const { username, password } = credentials(who);
  await page.goto(BASE + "/inbox");
  await page.fill("#login-form input[name=username]", username);
  await page.fill("#login-form input[name=password]", password);
  await page.click("#login-form button[type=submit]");
  await page.locator("#app").waitFor({ state: "visible" });
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, name + ".png") });
}

/** Every state-changing API call of the page carried a CSRF token (the login makes one). */
export function assertCsrfOnEveryPost(page) {
  const missing = page.posts.filter((p) => p.path !== "/api/v1/auth/login" && !p.csrf);
  assert.deepEqual(missing, [], "calls without X-CSRF-Token");
  assert.ok(page.posts.length > 0, "the flow made state-changing calls");
}

export function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], "errors in the page");
}

/** A 64x48 PNG (red with a dark bar), encoded here so no binary fixture is needed. */
export function photo() {
  const width = 64, height = 48;
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const dark = y > 18 && y < 30;
      row.set(dark ? [30, 30, 30] : [200, 30, 30], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
