import type { Page } from "playwright-core";

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
