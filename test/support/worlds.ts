/**
 * The ChatWorlds the end-to-end scenarios run in: users signed up on first
 * use and logged in once per device, on npm start's process or through a
 * gateway's public HTTP API, as a client developer would.
 */
import assert from "node:assert/strict";
import type { ChatWorld } from "./chat-scenarios.js";
import type { EmbeddedParley } from "./embedded.js";
import { callApi } from "./http-api.js";

const PASSWORD = "correct horse battery";

/** Users of an embedded Parley (its own sign-up and log-in helpers). */
export function embeddedWorld(p: EmbeddedParley): ChatWorld {
  const signedUp = new Set<string>();
  return {
    gatewayUrl: p.url,
    async login(username, deviceName) {
      if (signedUp.has(username)) return p.logIn(username, deviceName);
      signedUp.add(username);
      return p.user(username, deviceName);
    },
  };
}

/** Users made through the public HTTP API of the gateway `gatewayUrl()` names (read at each use: a restarted gateway moves). */
export function httpWorld(gatewayUrl: () => string): ChatWorld {
  const signedUp = new Set<string>();
  return {
    get gatewayUrl() {
      return gatewayUrl();
    },
    async login(username, deviceName) {
      if (!signedUp.has(username)) {
        signedUp.add(username);
        const signUp = await callApi(gatewayUrl(), "SignUp", { username, password: PASSWORD });
        assert.equal(signUp.status, 200, JSON.stringify(signUp.body));
      }
      const res = await callApi(gatewayUrl(), "LogIn", { username, password: PASSWORD, deviceName });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { token: res.body.session.accessToken as string, userId: BigInt(res.body.profile.userId) };
    },
  };
}
