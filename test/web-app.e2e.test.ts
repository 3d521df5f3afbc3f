import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { newDevice, screenshot } from "./support/browser.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { connectDevice, type Device } from "./support/sdk.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { openWebAppWorld, type WebAppWorld } from "./support/web-app-world.js";
import { bubble, enter, entry, openChatWith, sendWithEnter } from "./support/web-pages.js";

/** A GET (or another method) with the path sent exactly as written: fetch and URL would normalise `..` away before the server saw it. */
function rawRequest(
  baseUrl: string,
  path: string,
  method = "GET",
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("web app (served by the gateway, driven in Debian's Chromium)", () => {
  let world: WebAppWorld | undefined;
  let workDir: string;
  let bundle: string;
  let p: EmbeddedParley;
  let browser: Browser;

  before(async () => {
    // No grace period: a user who closes the app is offline at once (the presence test waits for it).
    world = await openWebAppWorld("parley-web-", { PRESENCE_GRACE_MS: "0" }, (dir) =>
      // A file beside the bundle, of a type the handler serves: what a path traversal would reach.
      writeFile(join(dir, "secret.js"), "the secret beside the bundle\n"),
    );
    ({ workDir, bundle, parley: p, browser } = world);
  });
  after(() => world?.close());

  describe("the static handler", () => {
    it("redirects / to /app/ and serves the page with a strict CSP, nosniff and revalidation", async () => {
      const root = await rawRequest(p.url, "/");
      assert.equal(root.status, 302);
      assert.equal(root.headers.location, "/app/");
      const page = await rawRequest(p.url, "/app/");
      assert.equal(page.status, 200);
      assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(page.headers["x-content-type-options"], "nosniff");
      assert.equal(page.headers["cache-control"], "no-cache");
      const csp = String(page.headers["content-security-policy"]);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(page.body, /<script type="module" src="app\.js"><\/script>/);
      const again = await rawRequest(p.url, "/app/", "GET", { "if-none-match": String(page.headers.etag) });
      assert.equal(again.status, 304);
      const script = await rawRequest(p.url, "/app/app.js");
      assert.equal(script.status, 200);
      assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
      const style = await rawRequest(p.url, "/app/style.css");
      assert.equal(style.headers["content-type"], "text/css; charset=utf-8");
    });

    it("answers 404 for unknown files and for every way out of the folder", async () => {
      assert.equal((await rawRequest(p.url, "/app/nope.js")).status, 404);
      for (const path of [
        "/app/../secret.js",
        "/app/..%2fsecret.js",
        "/app/..%2Fsecret.js",
        "/app/%2e%2e/secret.js",
        "/app/%2e%2e%2fsecret.js",
        "/app/..%5csecret.js",
        "/app/..\\secret.js",
        "/app/./index.html",
        "/app/.hidden.js",
        "/app/index.html%00.js",
        "/app/%E0%A4%A.js",
        "/app//etc/passwd.js",
        "/app/%2fetc%2fpasswd.js",
        "/app/build.d.mts",
      ]) {
        const res = await rawRequest(p.url, path);
        assert.ok(res.status === 404, `${path}: ${res.status}`);
        assert.doesNotMatch(res.body, /secret beside the bundle/, path);
      }
    });

    it("refuses other methods on the app's files and leaves the API and its 404s alone", async () => {
      const post = await rawRequest(p.url, "/app/index.html", "POST");
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, "GET, HEAD");
      assert.equal((await rawRequest(p.url, "/livez")).status, 200);
      assert.equal((await rawRequest(p.url, "/nothing-here")).status, 404);
      const head = await rawRequest(p.url, "/app/app.js", "HEAD");
      assert.equal(head.status, 200);
      assert.equal(head.body, "");
    });

    it("says the app is not built (503) when its folder has no bundle, and serves nothing with GATEWAY_WEB_APP=off", async () => {
      const empty = join(workDir, "empty");
      await mkdir(empty);
      const unbuilt = await startParley({}, { webAppDir: empty });
      try {
        const res = await rawRequest(unbuilt.url, "/app/");
        assert.equal(res.status, 503);
        assert.match(res.body, /not built: run `npm run build`/);
      } finally {
        await unbuilt.close();
      }
      const off = await startParley({ GATEWAY_WEB_APP: "off" }, { webAppDir: bundle });
      try {
        assert.equal((await rawRequest(off.url, "/app/")).status, 404);
        assert.equal((await rawRequest(off.url, "/")).status, 404);
      } finally {
        await off.close();
      }
    });
  });

  it("lets two users chat both ways: unread counts, typing, read receipts, presence and last seen", async () => {
    const alice = await newDevice(browser);
    const bob = await newDevice(browser);
    try {
      await alice.page.goto(`${p.url}/`); // redirected to /app/
      await alice.page.getByRole("button", { name: "Log in", exact: true }).waitFor();
      await screenshot(alice.page, "0-login");
      await enter(alice.page, p.url, "web_alice");
      await screenshot(alice.page, "1-signed-in");
      await enter(bob.page, p.url, "web_bob");
      await openChatWith(alice.page, "web_bob");
      await sendWithEnter(alice.page, "hi bob");
      await bubble(alice.page, "hi bob").locator(".status", { hasText: "Sent" }).waitFor();

      // Bob sees the conversation arrive with one unread message and its text.
      const fromAlice = entry(bob.page, "web_alice");
      await fromAlice.locator(".unread", { hasText: "1" }).waitFor();
      await fromAlice.locator(".preview", { hasText: "web_alice: hi bob" }).waitFor();
      await fromAlice.click();
      await bubble(bob.page, "hi bob").waitFor();
      await fromAlice.locator(".unread").waitFor({ state: "detached" });
      await alice.page.locator("#messages .status", { hasText: "Seen" }).waitFor();

      // Typing reaches the other side, then a reply sent with Enter.
      await bob.page.locator("#composer-input").pressSequentially("hel");
      await alice.page.locator("#typing", { hasText: "web_bob is typing" }).waitFor();
      await sendWithEnter(bob.page, "hello alice");
      await bubble(alice.page, "hello alice").waitFor();
      await alice.page.locator("#typing").filter({ hasText: /^$/ }).waitFor();
      await screenshot(alice.page, "2-conversation");
      assert.equal(await alice.page.locator("#composer-input").evaluate((el) => el === document.activeElement), true, "the message box keeps focus");

      // Friends see each other's presence with a last-seen time.
      await alice.page.locator("#chat-subtitle", { hasText: "online" }).waitFor();
      await alice.page.getByRole("button", { name: "Add friend" }).click();
      await alice.page.locator(".chat-header .badge", { hasText: "Friend request sent" }).waitFor();
      await entry(bob.page, "web_alice").click(); // opening a conversation re-reads friend requests
      await bob.page.getByRole("button", { name: "Accept friend request" }).click();
      await bob.page.locator(".chat-header .badge", { hasText: "Friends" }).waitFor();
      await bob.context.close();
      await alice.page.locator("#chat-subtitle", { hasText: "last seen" }).waitFor();
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it("runs a group of three: create, add, roles, remove; messages reach the members only", async () => {
    const [alice, bob, carol] = [await newDevice(browser), await newDevice(browser), await newDevice(browser)];
    try {
      await enter(alice.page, p.url, "grp_alice");
      await enter(bob.page, p.url, "grp_bob");
      await enter(carol.page, p.url, "grp_carol");
      await alice.page.getByLabel("Group name").fill("Trio");
      await alice.page.getByLabel("Members (usernames, comma-separated)").fill("grp_bob");
      await alice.page.getByRole("button", { name: "Create group" }).click();
      await alice.page.locator("#chat-title", { hasText: "Trio" }).waitFor();
      await alice.page.getByLabel("Add a member (username)").fill("grp_carol");
      await alice.page.getByRole("button", { name: "Add", exact: true }).click();
      await alice.page.locator("#members li", { hasText: "grp_carol" }).waitFor();

      await sendWithEnter(alice.page, "welcome both");
      for (const member of [bob, carol]) {
        await entry(member.page, "Trio").click();
        await bubble(member.page, "welcome both").waitFor();
      }
      await sendWithEnter(carol.page, "thanks from carol");
      await bubble(alice.page, "thanks from carol").waitFor();
      await bubble(bob.page, "thanks from carol").waitFor();

      // The owner makes bob an admin; bob's own panel shows it.
      await alice.page.getByLabel("Role of grp_bob").selectOption({ label: "admin" });
      await bob.page.locator("#members li", { hasText: "grp_bob (you)" }).locator(".role", { hasText: "admin" }).waitFor();
      await screenshot(alice.page, "3-group");

      // Carol is removed: she sees it, and what follows reaches bob only.
      await alice.page.getByRole("button", { name: "Remove grp_carol" }).click();
      await alice.page.locator("#members li", { hasText: "grp_carol" }).waitFor({ state: "detached" });
      await carol.page.locator("#chat-notice", { hasText: "no longer in this group" }).waitFor();
      await sendWithEnter(alice.page, "just us now");
      await bubble(bob.page, "just us now").waitFor();
      // A direct message to carol after it: her inbox delivers in order, so once it is in, the group message would be too.
      await openChatWith(alice.page, "grp_carol");
      await sendWithEnter(alice.page, "ping carol");
      await entry(carol.page, "grp_alice").locator(".preview", { hasText: "ping carol" }).waitFor();
      assert.equal(await bubble(carol.page, "just us now").count(), 0, "a removed member gets nothing sent after the removal");
      await carol.page.reload();
      await entry(carol.page, "grp_alice").waitFor();
      assert.equal(await entry(carol.page, "Trio").count(), 0, "the group is gone from a removed member's list");
      await entry(alice.page, "Trio").click();

      // Bob leaves; alice's member list follows.
      await bob.page.getByRole("button", { name: "Leave group" }).click();
      await alice.page.locator("#members li", { hasText: "grp_bob" }).waitFor({ state: "detached" });
      await alice.page.locator("#messages .msg.system", { hasText: "grp_bob left" }).waitFor();
    } finally {
      for (const device of [alice, bob, carol]) await device.context.close();
    }
  });

  it("keeps the session and history across a reload, pages older history, and keeps several tabs of one user in step", async () => {
    const dana = await newDevice(browser);
    let eveDevice: Device | undefined;
    try {
      await enter(dana.page, p.url, "tab_dana");
      // Forty-five messages from another user, through the SDK: more than one page of history (30).
      const eve = await p.user("tab_eve", "laptop");
      eveDevice = await connectDevice(p.url, eve.token);
      const conversation = await eveDevice.client.openDirect((await p.logIn("tab_dana", "cli")).userId);
      for (let i = 1; i <= 45; i++) await eveDevice.client.send(conversation.conversationId, `history ${i}`);
      await entry(dana.page, "tab_eve").locator(".unread", { hasText: "45" }).waitFor();

      await dana.page.reload();
      await dana.page.locator("#me").getByText("tab_dana").waitFor();
      await entry(dana.page, "tab_eve").click();
      await bubble(dana.page, "history 45").waitFor();
      assert.equal(await bubble(dana.page, "history 1").count(), 0, "the first page holds the newest messages only");
      // Scrolling up to the top loads the older page (the "Load older messages" button does the same).
      await dana.page.locator(".scroller").evaluate((scroller) => {
        scroller.scrollTop = 0;
      });
      await bubble(dana.page, "history 1").waitFor();
      await dana.page.getByRole("button", { name: "Load older messages" }).waitFor({ state: "hidden" });

      // A second tab is a second device: it logs in on its own and stays in step with the first.
      const tab2 = await dana.context.newPage();
      await enter(tab2, p.url, "tab_dana", "Log in");
      await entry(tab2, "tab_eve").waitFor();
      // Tab 1 looks at another conversation, so eve's next message is unread in both tabs.
      await dana.page.getByLabel("Group name").fill("Notes");
      await dana.page.getByRole("button", { name: "Create group" }).click();
      await dana.page.locator("#chat-title", { hasText: "Notes" }).waitFor();
      await entry(tab2, "Notes").waitFor();
      await eveDevice.client.send(conversation.conversationId, "for both tabs");
      for (const tab of [dana.page, tab2]) await entry(tab, "tab_eve").locator(".unread", { hasText: /^1$/ }).waitFor();
      await entry(tab2, "tab_eve").click();
      await bubble(tab2, "for both tabs").waitFor();
      await entry(dana.page, "tab_eve").locator(".unread").waitFor({ state: "detached" }); // read in tab 2, cleared in tab 1
      await sendWithEnter(tab2, "sent from tab 2");
      await entry(dana.page, "tab_eve").locator(".preview", { hasText: "You: sent from tab 2" }).waitFor();
    } finally {
      await eveDevice?.client.close();
      await dana.context.close();
    }
  });

  it("shows sends as pending while offline, catches up on reconnect, and offers a retry when the server refuses one", async () => {
    // The page reaches Parley through a proxy the test cuts: the browser sees its socket reset and the server vanish.
    const proxy = await TcpProxy.start({ host: "127.0.0.1", port: Number(new URL(p.url).port) });
    const viaProxy = `http://127.0.0.1:${proxy.port}`;
    const fay = await newDevice(browser);
    let gusDevice: Device | undefined;
    try {
      await enter(fay.page, viaProxy, "off_fay");
      const gus = await p.user("off_gus", "laptop");
      gusDevice = await connectDevice(p.url, gus.token);
      const conversation = await gusDevice.client.openDirect((await p.logIn("off_fay", "cli")).userId);
      await gusDevice.client.send(conversation.conversationId, "before the outage");
      await entry(fay.page, "off_gus").click();
      await bubble(fay.page, "before the outage").waitFor();

      proxy.cut();
      await fay.page.locator("#status", { hasText: /Offline|Disconnected/ }).waitFor();
      await gusDevice.client.send(conversation.conversationId, "sent while you were away");
      await sendWithEnter(fay.page, "written offline");
      await bubble(fay.page, "written offline").locator(".status", { hasText: "Sending…" }).waitFor();
      assert.equal(await bubble(fay.page, "sent while you were away").count(), 0);

      await proxy.restore();
      await bubble(fay.page, "sent while you were away").waitFor({ timeout: 60_000 });
      await fay.page.locator(`#messages .msg[data-state="sent"]`, { hasText: "written offline" }).waitFor({ timeout: 60_000 });
      await fay.page.locator("#status").waitFor({ state: "hidden" });
      await gusDevice.received(3);
      assert.equal(gusDevice.messages.filter((m) => m.text === "written offline").length, 1, "the message written offline reached gus once");

      // A text the server refuses (NUL is never allowed) fails at once, with the reason and a retry.
      await sendWithEnter(fay.page, "bad\u0000text");
      const failed = fay.page.locator(`#messages .msg[data-state="failed"]`);
      await failed.locator(".status", { hasText: "NUL" }).waitFor();
      await failed.getByRole("button", { name: "Retry" }).click();
      await failed.getByRole("button", { name: "Retry" }).waitFor();
      assert.equal(gusDevice.messages.filter((m) => m.text.includes("bad")).length, 0);
    } finally {
      await gusDevice?.client.close();
      await fay.context.close();
      proxy.close();
    }
  });
});
