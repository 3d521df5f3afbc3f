import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { newDevice, screenshot } from "./support/browser.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { openWebAppWorld, type WebAppWorld } from "./support/web-app-world.js";
import { aliceToBob, bubble, enter, entry, openChatWith, sendWithEnter } from "./support/web-pages.js";

const TOMBSTONE = "This message was deleted";

/** Opens a message's actions (the "⋯" button) and picks one. */
async function act(page: Page, text: string, action: "Edit message" | "Delete for everyone" | "Delete for me"): Promise<void> {
  const message = bubble(page, text);
  await message.getByRole("button", { name: "Message actions" }).click();
  await message.getByRole("button", { name: action }).click();
}

/** Edits a message in place: the edit box takes the new text, Enter saves. */
async function edit(page: Page, text: string, newText: string): Promise<void> {
  await act(page, text, "Edit message");
  const box = page.getByLabel("Edit message text");
  await box.fill(newText);
  await box.press("Enter");
}

/** Deletes a message, answering the inline question with yes. */
async function remove(page: Page, text: string, action: "Delete for everyone" | "Delete for me"): Promise<void> {
  await act(page, text, action);
  await bubble(page, text).getByRole("group", { name: "Confirm deletion" }).getByRole("button", { name: "Yes, delete" }).click();
}

/** A message of this user's, stored (only stored messages have actions), with exactly this text. */
async function stored(page: Page, text: string): Promise<void> {
  await bubble(page, text).getByRole("button", { name: "Message actions" }).waitFor();
}

describe("web app: editing and deleting messages (in Debian's Chromium)", () => {
  let world: WebAppWorld | undefined;
  let bundle: string;
  let p: EmbeddedParley;
  let browser: Browser;

  before(async () => {
    world = await openWebAppWorld("parley-web-edit-");
    ({ bundle, parley: p, browser } = world);
  });
  after(() => world?.close());

  it("shows an edit with its (edited) mark live to the other member and the author's other tab, and after a reload", async () => {
    const { alice, bob, names, secondTab, close } = await aliceToBob(browser, p.url, "edit", ["an older one", "first draft"]);
    try {
      const aliceTab2 = await secondTab("alice");

      // Others' messages offer only "Delete for me"; Escape closes the menu.
      await bubble(bob, "first draft").getByRole("button", { name: "Message actions" }).click();
      await bubble(bob, "first draft").getByRole("button", { name: "Delete for me" }).waitFor();
      assert.equal(await bubble(bob, "first draft").getByRole("button", { name: "Edit message" }).count(), 0);
      await bob.keyboard.press("Escape");
      await bubble(bob, "first draft").getByRole("button", { name: "Delete for me" }).waitFor({ state: "detached" });

      // The new text with "(edited)", live in bob's view, in alice's other tab and in bob's conversation list.
      await edit(alice, "first draft", "final text");
      for (const page of [alice, bob, aliceTab2]) await bubble(page, "final text").locator(".edited", { hasText: "(edited)" }).waitFor();
      await entry(bob, names.alice)
        .locator(".preview", { hasText: `${names.alice}: final text` })
        .waitFor();
      assert.equal(await bubble(bob, "first draft").count(), 0);

      // Escape cancels an edit: nothing changes, and the focus goes back to the message's menu button.
      await act(alice, "final text", "Edit message");
      await alice.getByLabel("Edit message text").fill("never saved");
      await screenshot(alice, "edit-box");
      await alice.getByLabel("Edit message text").press("Escape");
      await alice.getByLabel("Edit message text").waitFor({ state: "detached" });
      await bubble(alice, "final text").locator('button[aria-expanded="false"]:focus').waitFor();

      // After a reload (history from the server) the edit holds, mark included.
      await bob.reload();
      await entry(bob, names.alice).click();
      await bubble(bob, "final text").locator(".edited", { hasText: "(edited)" }).waitFor();
      assert.equal(await bubble(bob, "an older one").locator(".edited").count(), 0);
    } finally {
      await close();
    }
  });

  it("shows a deletion for everyone as a tombstone to all, live and after a reload, and one for me only in that user's tabs", async () => {
    const { alice, bob, names, secondTab, close } = await aliceToBob(browser, p.url, "del", ["to be deleted", "bob drops this one", "the last one"]);
    try {
      const bobTab2 = await secondTab("bob");

      // Asked first: "No" keeps the message and puts the focus back on its menu button.
      await act(alice, "to be deleted", "Delete for everyone");
      await screenshot(alice, "delete-confirm");
      await alice.getByRole("button", { name: "No", exact: true }).click();
      await bubble(alice, "to be deleted").getByRole("group", { name: "Confirm deletion" }).waitFor({ state: "detached" });
      await bubble(alice, "to be deleted").locator('button[aria-expanded="false"]:focus').waitFor();

      // Deleted for everyone: a tombstone for alice and both of bob's tabs.
      await remove(alice, "to be deleted", "Delete for everyone");
      for (const page of [alice, bob, bobTab2]) {
        await bubble(page, TOMBSTONE).waitFor();
        assert.equal(await bubble(page, "to be deleted").count(), 0);
      }

      // Bob deletes one of alice's messages for himself in one tab: it leaves both his tabs, and stays with alice.
      await remove(bob, "bob drops this one", "Delete for me");
      for (const page of [bob, bobTab2]) await bubble(page, "bob drops this one").waitFor({ state: "detached" });
      await screenshot(bob, "edit-delete");

      // After a reload (history from the server): the tombstone for both, bob's deletion for himself his only.
      for (const page of [alice, bob]) {
        await page.reload();
        await entry(page, page === bob ? names.alice : names.bob).click();
        await bubble(page, "the last one").waitFor();
        await bubble(page, TOMBSTONE).waitFor();
        assert.equal(await bubble(page, "to be deleted").count(), 0);
      }
      assert.equal(await bubble(bob, "bob drops this one").count(), 0, "deleted for bob: gone from his history");
      assert.equal(await bubble(alice, "bob drops this one").count(), 1, "alice keeps it");

      // The last message deleted for everyone: the conversation list says so.
      await remove(alice, "the last one", "Delete for everyone");
      await entry(bob, names.alice)
        .locator(".preview", { hasText: `${names.alice}: ${TOMBSTONE}` })
        .waitFor();
    } finally {
      await close();
    }
  });

  it("shows a refused edit (its window has passed) on the message, keeping the text typed", async () => {
    // A second Parley whose edit window is one second: the edit is tried until the server refuses it.
    const short = await startParley({ CHAT_EDIT_WINDOW_SECONDS: "1" }, { webAppDir: bundle });
    const cat = await newDevice(browser);
    try {
      await short.user("late_dan");
      await enter(cat.page, short.url, "late_cat");
      await openChatWith(cat.page, "late_dan");
      await sendWithEnter(cat.page, "set in stone");
      await stored(cat.page, "set in stone");

      const refusal = cat.page.locator("#messages .action-error");
      let current = "set in stone";
      const deadline = Date.now() + 30_000;
      for (let attempt = 1; !(await refusal.isVisible()); attempt++) {
        assert.ok(Date.now() < deadline, "the edit window never passed");
        const next = `attempt ${attempt}`;
        if (attempt > 1) await stored(cat.page, current); // an early attempt went through: try again on its text
        await edit(cat.page, current, next);
        // Either the edit is saved (the message shows it) or refused (the error shows).
        await refusal.or(bubble(cat.page, next)).waitFor();
        if (!(await refusal.isVisible())) current = next;
      }
      await screenshot(cat.page, "edit-refused");
      assert.match(String(await refusal.textContent()), /^Not saved: .*edit window.*has passed/);
      assert.match(await cat.page.getByLabel("Edit message text").inputValue(), /^attempt \d+$/, "the typed text is kept");
      await cat.page.getByLabel("Edit message text").press("Escape");
      await bubble(cat.page, current).waitFor();
      await refusal.waitFor({ state: "detached" });
    } finally {
      await cat.context.close();
      await short.close();
    }
  });
});
