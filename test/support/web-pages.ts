import type { Browser, Page } from "playwright-core";
import { newDevice } from "./browser.js";

/** The password every browser-test user signs up with. */
export const PASSWORD = "correct horse battery";

/** Opens the app in a page and signs up (or logs in) there; each page is a device of its own. */
export async function enter(page: Page, baseUrl: string, username: string, action: "Sign up" | "Log in" = "Sign up"): Promise<void> {
  await page.goto(`${baseUrl}/app/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: action, exact: true }).click();
  await page.locator("#me").getByText(username).waitFor();
}

/** The conversation list's entry whose title is `title`. */
export function entry(page: Page, title: string) {
  return page.locator(".conversation", { has: page.locator(".title", { hasText: new RegExp(`^${title}$`) }) });
}

/** A message bubble with exactly this text in the open conversation. */
export function bubble(page: Page, text: string) {
  return page.locator("#messages .msg", { has: page.locator(".text", { hasText: new RegExp(`^${text}$`) }) });
}

export async function openChatWith(page: Page, username: string): Promise<void> {
  await page.getByLabel("Chat with (username)").fill(username);
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.locator("#chat-title", { hasText: username }).waitFor();
}

export async function sendWithEnter(page: Page, text: string): Promise<void> {
  await page.locator("#composer-input").fill(text);
  await page.locator("#composer-input").press("Enter");
}

/** Opens a message's actions (its "⋯" button) and presses one of them: "Reply", "React with 👍", "Delete for everyone"... */
export async function messageAction(page: Page, text: string, action: string): Promise<void> {
  const message = bubble(page, text);
  await message.getByRole("button", { name: "Message actions" }).click();
  await message.getByRole("button", { name: action, exact: true }).click();
}

/** A message's reaction chip showing exactly `shown` ("👍 2"), pressed or not (this user's own reaction or not). */
export function chip(page: Page, text: string, shown: string, pressed: boolean) {
  return bubble(page, text).locator(`.reaction[aria-pressed="${pressed}"]`, { hasText: new RegExp(`^${shown}$`) });
}

/** A message of this device's that the server refused: shown as failed, with the reason. */
export function failedSend(page: Page, text: string) {
  return page.locator(`#messages .msg[data-state="failed"]`, { has: page.locator(".text", { hasText: new RegExp(`^${text}$`) }) });
}

/** A message of this user's that is stored (only stored messages have actions). */
export function storedBubble(page: Page, text: string) {
  return bubble(page, text).getByRole("button", { name: "Message actions" });
}

/**
 * Alice and Bob, each in a browser context of their own, with a direct
 * conversation: Alice's `texts` sent to Bob and stored, and Bob looking at
 * it (unless `bobOpens` is false: then Bob's app shows the list only).
 * `secondTab` opens another tab of one of them: a device of its own, logged
 * in, with the conversation open.
 */
export async function aliceToBob(browser: Browser, baseUrl: string, prefix: string, texts: string[], { bobOpens = true } = {}) {
  const alice = await newDevice(browser);
  const bob = await newDevice(browser);
  const names = { alice: `${prefix}_alice`, bob: `${prefix}_bob` };
  await enter(alice.page, baseUrl, names.alice);
  await enter(bob.page, baseUrl, names.bob);
  await openChatWith(alice.page, names.bob);
  for (const text of texts) {
    await sendWithEnter(alice.page, text);
    await storedBubble(alice.page, text).waitFor();
  }
  if (bobOpens) {
    await entry(bob.page, names.alice).click();
    await bubble(bob.page, texts.at(-1)!).waitFor();
  }
  const secondTab = async (who: "alice" | "bob") => {
    const tab = await (who === "alice" ? alice : bob).context.newPage();
    await enter(tab, baseUrl, names[who], "Log in");
    await entry(tab, who === "alice" ? names.bob : names.alice).click();
    await bubble(tab, texts.at(-1)!).waitFor();
    return tab;
  };
  const close = async () => {
    await alice.context.close();
    await bob.context.close();
  };
  return { alice: alice.page, bob: bob.page, names, secondTab, close };
}
