import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { screenshot } from "./support/browser.js";
import type { EmbeddedParley } from "./support/embedded.js";
import { connectDevice } from "./support/sdk.js";
import { openWebAppWorld, type WebAppWorld } from "./support/web-app-world.js";
import { aliceToBob, bubble, chip, entry, failedSend, messageAction, sendWithEnter, storedBubble } from "./support/web-pages.js";

/**
 * Sends `${prefix} 1`, `${prefix} 2`... until the server answers as `want`
 * says (refused and shown as failed, or stored), and returns the text that
 * did. A block reaches the chat service's cache within moments of the
 * account call's answer (docs/protocol.md, "Blocking"), so the first send
 * right after one may still go the old way.
 */
async function sendUntil(page: Page, prefix: string, want: "refused" | "stored"): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const text = `${prefix} ${attempt}`;
    await sendWithEnter(page, text);
    await failedSend(page, text).or(storedBubble(page, text)).waitFor();
    const refused = await failedSend(page, text).isVisible();
    if (refused === (want === "refused")) return text;
    assert.ok(attempt < 20, `the send was never ${want}`);
  }
}

describe("web app: reactions, replies, mentions, search and blocking (in Debian's Chromium)", () => {
  let world: WebAppWorld | undefined;
  let p: EmbeddedParley;
  let browser: Browser;

  before(async () => {
    world = await openWebAppWorld("parley-web-features-");
    ({ parley: p, browser } = world);
  });
  after(() => world?.close());

  it("shows reactions live to both, toggles them from the chips, keeps them after a reload, and shows the server's cap as a refusal", async () => {
    const { alice, bob, names, close } = await aliceToBob(browser, p.url, "rx", ["react to this", "and to this one"]);
    try {
      // Bob reacts from the menu's palette: alice sees the count live, bob sees it as his.
      await messageAction(bob, "react to this", "React with 👍");
      await chip(bob, "react to this", "👍 1", true).waitFor();
      await chip(alice, "react to this", "👍 1", false).waitFor();

      // Alice adds hers with the chip; bob takes his away with his.
      await chip(alice, "react to this", "👍 1", false).click();
      await chip(alice, "react to this", "👍 2", true).waitFor();
      await chip(bob, "react to this", "👍 2", true).waitFor();
      await chip(bob, "react to this", "👍 2", true).click();
      await chip(bob, "react to this", "👍 1", false).waitFor();
      await chip(alice, "react to this", "👍 1", true).waitFor();
      await screenshot(alice, "reactions");

      // History has the counts, each side's own marked: after a reload both see the same.
      for (const page of [alice, bob]) {
        await page.reload();
        await entry(page, page === alice ? names.bob : names.alice).click();
        await chip(page, "react to this", "👍 1", page === alice).waitFor();
      }

      // Three reactions per member per message: a fourth is refused, and the refusal is shown on the message.
      for (const emoji of ["👍", "😂", "😮"]) {
        await messageAction(bob, "and to this one", `React with ${emoji}`);
        await chip(bob, "and to this one", `${emoji} 1`, true).waitFor();
      }
      await messageAction(bob, "and to this one", "React with 😢");
      const refusal = bubble(bob, "and to this one").locator(".action-error");
      await refusal.waitFor();
      assert.match(String(await refusal.textContent()), /^Not added: .*3 reactions/);
      assert.equal(await bubble(bob, "and to this one").locator(".reaction").count(), 3);
      await chip(alice, "and to this one", "😮 1", false).waitFor();
      assert.equal(await bubble(alice, "and to this one").getByText("😢").count(), 0);
    } finally {
      await close();
    }
  });

  it("sends a reply with its quote to the other, jumps to the quoted message, and shows the quote as deleted once the original is", async () => {
    const { alice, bob, names, close } = await aliceToBob(browser, p.url, "re", ["the original question", "something else"]);
    try {
      // Bob picks Reply: the bar above the message box shows what he answers; Cancel drops it.
      await messageAction(bob, "the original question", "Reply");
      const bar = bob.locator("#reply-bar");
      await bar.locator(".quote-text", { hasText: "the original question" }).waitFor();
      assert.equal(await bob.locator("#composer-input").evaluate((el) => el === document.activeElement), true, "the message box has the focus");
      await bob.getByRole("button", { name: "Cancel reply" }).click();
      await bar.waitFor({ state: "hidden" });
      await messageAction(bob, "the original question", "Reply");
      await bar.waitFor();
      await sendWithEnter(bob, "my answer");
      await bar.waitFor({ state: "hidden" });

      // Both see the reply with its quote: the original's sender and text.
      await storedBubble(bob, "my answer").waitFor();
      for (const [page, sender] of [
        [alice, "You"],
        [bob, names.alice],
      ] as const) {
        const quote = bubble(page, "my answer").locator(".quote");
        await quote.locator(".quote-sender", { hasText: new RegExp(`^${sender}$`) }).waitFor();
        await quote.locator(".quote-text", { hasText: /^the original question$/ }).waitFor();
      }
      await screenshot(alice, "reply");

      // Clicking the quote shows (and focuses) the quoted message.
      await bubble(alice, "my answer").locator(".quote").click();
      await alice.locator("#messages .msg:focus", { hasText: "the original question" }).waitFor();

      // Alice deletes the original for everyone: bob's quote says so, live and after a reload.
      await messageAction(alice, "the original question", "Delete for everyone");
      await bubble(alice, "the original question").getByRole("button", { name: "Yes, delete" }).click();
      const deleted = bubble(bob, "my answer").locator('.quote[data-state="deleted"]', { hasText: "The original message was deleted" });
      await deleted.waitFor();
      await bob.reload();
      await entry(bob, names.alice).click();
      await deleted.waitFor();
      assert.equal(await bubble(bob, "my answer").locator(".quote-text", { hasText: "the original question" }).count(), 0);
    } finally {
      await close();
    }
  });

  it("highlights a mention and shows the @ badge on the mentioned user's conversation list until it is read", async () => {
    const { alice, bob, names, close } = await aliceToBob(browser, p.url, "mn", ["no mention here"], { bobOpens: false });
    try {
      await sendWithEnter(alice, `look @${names.bob} and @nobody_here`);
      const bobEntry = entry(bob, names.alice);
      await bobEntry.locator(".mentioned", { hasText: "@" }).waitFor();
      assert.equal(await bobEntry.locator(".mentioned").getAttribute("aria-label"), "1 unread mention");
      await screenshot(bob, "mention-badge");

      // Opened: the mention of bob is highlighted as his, the unknown name is plain text, and the badge goes.
      await bobEntry.click();
      const text = `look @${names.bob} and @nobody_here`;
      await bubble(bob, text)
        .locator(".mention.me", { hasText: new RegExp(`^@${names.bob}$`) })
        .waitFor();
      assert.equal(await bubble(bob, text).locator(".mention").count(), 1, "@nobody_here is no member: not highlighted");
      await bobEntry.locator(".mentioned").waitFor({ state: "detached" });
      // The sender sees the mention highlighted too (as someone else's).
      await bubble(alice, text)
        .locator(".mention:not(.me)", { hasText: `@${names.bob}` })
        .waitFor();
      assert.equal(await bubble(alice, "no mention here").locator(".mention").count(), 0);
    } finally {
      await close();
    }
  });

  it("finds a message with a highlighted snippet and opens its conversation at it; pages on with Load more results", async () => {
    const { alice, bob, names, close } = await aliceToBob(browser, p.url, "sr", ["the quick brown fox jumps", "nothing to find", "a slow brown bear"], {
      bobOpens: false,
    });
    try {
      await entry(bob, names.alice).waitFor();
      await bob.getByLabel("Search messages", { exact: true }).fill("brown fox");
      await bob.getByRole("button", { name: "Search", exact: true }).click();
      const hit = bob.locator("#search-results .search-hit");
      await bob.locator("#search-status", { hasText: "1 message found" }).waitFor();
      assert.equal(await hit.count(), 1, "only the message with both words");
      assert.equal(await hit.locator(".title").textContent(), names.alice);
      assert.equal(await hit.locator(".hit-sender").textContent(), `${names.alice}:`);
      assert.deepEqual(await hit.locator(".snippet mark").allTextContents(), ["brown", "fox"]);
      assert.equal(await hit.locator(".snippet").textContent(), "the quick brown fox jumps");
      await screenshot(bob, "search");

      // Choosing the hit opens the conversation at the message.
      await hit.click();
      await bob.locator("#chat-title", { hasText: names.alice }).waitFor();
      await bob.locator("#messages .msg:focus", { hasText: "the quick brown fox jumps" }).waitFor();

      // A search that finds nothing says so; Close search empties the results.
      await bob.getByLabel("Search messages", { exact: true }).fill("zebra");
      await bob.getByLabel("Search messages", { exact: true }).press("Enter");
      await bob.locator("#search-status", { hasText: "No messages found" }).waitFor();
      await bob.getByRole("button", { name: "Close search" }).click();
      await bob.locator("#search-results").waitFor({ state: "hidden" });

      // More hits than a page (20): "Load more results" brings the rest, then goes.
      const eve = await connectDevice(p.url, (await p.user("sr_eve")).token);
      try {
        const conversation = await eve.client.openDirect((await p.logIn(names.bob, "cli")).userId);
        for (let i = 1; i <= 22; i++) await eve.client.send(conversation.conversationId, `needle number ${i}`);
      } finally {
        await eve.client.close();
      }
      await bob.getByLabel("Search messages", { exact: true }).fill("needle");
      await bob.getByLabel("Search messages", { exact: true }).press("Enter");
      await bob.locator("#search-status", { hasText: "20+ messages found" }).waitFor();
      assert.equal(await hit.count(), 20);
      assert.equal(await hit.first().locator(".snippet").textContent(), "needle number 22", "newest first");
      await bob.getByRole("button", { name: "Load more results" }).click();
      await bob.locator("#search-status", { hasText: "22 messages found" }).waitFor();
      assert.equal(await hit.count(), 22);
      assert.equal(await hit.last().locator(".snippet").textContent(), "needle number 1");
      await bob.getByRole("button", { name: "Load more results" }).waitFor({ state: "hidden" });
      assert.ok(await alice.locator("#me").isVisible());
    } finally {
      await close();
    }
  });

  it("blocks from the conversation's header after a confirmation: the other's send is refused and shown; unblocked from the list, sends work again", async () => {
    const { alice, bob, names, close } = await aliceToBob(browser, p.url, "bl", ["before the block"]);
    try {
      // Asked first: "No" keeps things as they were.
      await alice.getByRole("button", { name: `Block ${names.bob}` }).click();
      const confirm = alice.getByRole("group", { name: "Confirm block" });
      await confirm.getByRole("button", { name: "No" }).click();
      await confirm.waitFor({ state: "detached" });
      await alice.getByRole("button", { name: `Block ${names.bob}` }).click();
      await confirm.getByRole("button", { name: "Yes, block" }).click();
      await alice.getByRole("button", { name: `Unblock ${names.bob}` }).waitFor();
      await alice.locator("#chat-notice", { hasText: `You blocked ${names.bob}` }).waitFor();

      // Bob's send is refused, with the server's words; so is alice's own.
      const refused = await sendUntil(bob, "across the block", "refused");
      await failedSend(bob, refused).locator(".status", { hasText: "you cannot send messages to this user" }).waitFor();
      await failedSend(bob, refused).getByRole("button", { name: "Retry" }).waitFor();
      await sendWithEnter(alice, "from the blocker");
      await failedSend(alice, "from the blocker").locator(".status", { hasText: "you blocked this user" }).waitFor();
      await screenshot(bob, "blocked-send");
      assert.equal(await bubble(alice, refused).count(), 0, "nothing refused reached alice");

      // The sidebar's list has bob; unblocking there restores the header's Block button and the sends.
      await alice.locator("summary", { hasText: "Blocked users" }).click();
      await alice.locator("#blocked-users li", { hasText: names.bob }).waitFor();
      await screenshot(alice, "blocked-list");
      await alice
        .locator("#blocked-users")
        .getByRole("button", { name: `Unblock ${names.bob}` })
        .click();
      await alice.locator("#blocked-users li", { hasText: "You block nobody." }).waitFor();
      await alice.getByRole("button", { name: `Block ${names.bob}` }).waitFor();
      await alice.locator("#chat-notice").filter({ hasText: /^$/ }).waitFor({ state: "attached" });
      const accepted = await sendUntil(bob, "after the unblock", "stored");
      await bubble(alice, accepted).waitFor();
    } finally {
      await close();
    }
  });
});
