// Translation in the inbox, in a real browser: the gateway started by
// tests/tests/browser.rs (translation_in_chromium) with a DeepL stand-in that
// "translates" by prefixing the target language. A German chat is read in
// French with the original one click away; the reply box translates the
// French answer, the visitor receives the German, the record keeps both.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, login, screenshot, assertNoProblems } from "./support.mjs";

const GERMAN = "Guten Tag, die Verpackungsmaschine steht seit heute Morgen still, Fehler E-217.";
const FRENCH = "Bonjour, remplacez le capteur du module E-217 et redémarrez.";

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

test("a French agent reads a German chat and answers it in German", async () => {
  const visitor = await newPage(browser, { locale: "de-DE" });
  await visitor.goto(BASE + "/");
  await visitor.locator(".launcher").click();
  await visitor.locator("form.prechat button").click();
  await visitor.locator("textarea").fill(GERMAN);
  await visitor.locator("textarea").press("Enter");
  await visitor.locator(".msg.customer:not(.pending)", { hasText: "Verpackungsmaschine" }).waitFor();

  // A French-only agent: their browser is French, so is the inbox.
  const agent = await newPage(browser);
  await login(agent, "ADMIN");
  await agent.locator("#logout", { hasText: "Se déconnecter" }).waitFor();
  const id = await agent.evaluate(async () => {
    const data = await (await fetch("/api/v1/conversations?limit=100")).json();
    const found = data.conversations.find((c) => (c.preview || "").startsWith("Guten Tag"));
    return found && found.id;
  });
  assert.ok(id, "the German chat is in a queue");
  await agent.goto(BASE + "/inbox#c/" + id);
  const message = agent.locator("#conversation .msg.in").first();
  // The translation first; the original one click away.
  await message.locator(".text.translated", { hasText: "[FR] " + GERMAN }).waitFor();
  assert.equal(await message.locator(".translation > .text:not(.translated)").isHidden(), true);
  await message.locator("button.toggle-original", { hasText: "original" }).click();
  await message.locator("button.toggle-original", { hasText: "traduction" }).waitFor();
  await message.locator(".translation > .text:not(.translated)", { hasText: GERMAN }).waitFor({ state: "visible" });
  await screenshot(agent, "inbox-translated");

  // The reply box: Translate, check, send.
  await agent.locator(".reply-text").fill(FRENCH);
  await agent.locator("button.translate", { hasText: "Traduire en DE" }).click();
  const preview = agent.locator(".translated-preview");
  await preview.waitFor({ state: "visible" });
  assert.equal(await preview.inputValue(), "[DE] " + FRENCH);
  await agent.locator("button.send").click();
  await visitor.locator(".msg.agent", { hasText: "[DE] " + FRENCH }).waitFor();
  // The record keeps what the agent wrote.
  await agent.locator("#conversation .agent-original summary", { hasText: "écrit en fr" }).click();
  await agent.locator("#conversation .agent-original .text", { hasText: FRENCH }).waitFor();
  await screenshot(agent, "inbox-translated-reply");
  assertNoProblems(agent);
  assertNoProblems(visitor);
  await visitor.context().close();
  await agent.context().close();
});
