import { ApiError, logIn, signUp } from "./api.js";
import { field, fill, h } from "./dom.js";
import { fromLogIn, lastDeviceId, lastUsername, rememberDevice, type StoredSession } from "./session.js";

/**
 * The log-in and sign-up form. Sign-up creates the account and logs in at
 * once; each tab logs in as a device of its own ("Web browser"), or as the
 * tab's previous device after a log-out.
 */
export function showLogin(root: HTMLElement, onLoggedIn: (session: StoredSession) => void, notice = ""): void {
  const username = field("username", "Username", {
    autocomplete: "username",
    required: true,
    minlength: 3,
    maxlength: 32,
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = field("password", "Password", { type: "password", autocomplete: "current-password", required: true, minlength: 10, maxlength: 128 });
  username.input.value = lastUsername();
  const error = h("p", { id: "login-error", class: "error", attrs: { role: "alert" } });
  const signUpButton = h("button", { id: "sign-up", text: "Sign up", attrs: { type: "button", class: "secondary" } });
  const logInButton = h("button", { id: "log-in", text: "Log in", attrs: { type: "submit" } });

  async function go(creating: boolean): Promise<void> {
    if (!form.reportValidity()) return;
    error.textContent = "";
    for (const b of [signUpButton, logInButton]) b.disabled = true;
    try {
      const name = username.input.value.trim();
      if (creating) await signUp(name, password.input.value);
      const logged = await logIn(name, password.input.value, "Web browser", lastDeviceId(name));
      rememberDevice(name, logged.deviceId);
      onLoggedIn(fromLogIn(logged));
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : String(err);
      for (const b of [signUpButton, logInButton]) b.disabled = false;
      password.input.focus();
    }
  }

  const submitted = (e: Event) => {
    e.preventDefault();
    void go(false);
  };
  const form = h(
    "form",
    { class: "login", attrs: { "aria-labelledby": "login-title", novalidate: true }, on: { submit: (e) => submitted(e) } },
    h("h1", { id: "login-title", text: "Parley" }),
    h("p", { class: "hint", text: "Log in, or pick a username and a password (10 characters or more) and sign up." }),
    notice ? h("p", { class: "notice", text: notice, attrs: { role: "status" } }) : null,
    username.wrapper,
    password.wrapper,
    error,
    h("p", { class: "actions" }, logInButton, signUpButton),
  );
  signUpButton.addEventListener("click", () => void go(true));
  fill(root, form);
  root.setAttribute("aria-busy", "false");
  (username.input.value ? password.input : username.input).focus();
}
