import { logOut } from "./api.js";
import { showChat } from "./app-view.js";
import { ChatController } from "./controller.js";
import { byId } from "./dom.js";
import { showLogin } from "./login-view.js";
import { clearSession, loadSession, saveSession, type StoredSession, TokenSource } from "./session.js";

/**
 * The web app's entry: the log-in screen, or, with this tab's session (kept
 * across reloads), the chat. A session that ends (log-out here or from
 * another device, a refused refresh) comes back to the log-in with a word
 * saying why.
 */
const root = byId("root");

function signIn(session: StoredSession): void {
  saveSession(session);
  const ctl = new ChatController(new TokenSource(session));
  let ended = false;
  const end = (notice: string, callLogOut: boolean) => {
    if (ended) return;
    ended = true;
    teardown();
    const token = ctl.tokens.session.session.accessToken;
    void (async () => {
      if (callLogOut) await logOut(token).catch(() => {});
      await ctl.close();
    })();
    clearSession();
    showLogin(root, signIn, notice);
  };
  const teardown = showChat(root, ctl, () => end("You logged out.", true));
  ctl.onSignedOut = (why) => end(`Your session ended (${why}). Please log in again.`, false);
  ctl.start().catch((err: unknown) => {
    if (ctl.client.state === "stopped") end(`Could not connect: ${err instanceof Error ? err.message : String(err)}`, false);
  });
}

const saved = loadSession();
if (saved) signIn(saved);
else showLogin(root, signIn);
