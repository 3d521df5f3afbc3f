import assert from "node:assert/strict";
import { callApi } from "./http-api.js";

const PASSWORD = "correct horse battery";

/**
 * The account journey a client developer takes with curl, checked through
 * the gateway's public HTTP API: every step's HTTP status and Connect error
 * code, so both run modes are held to the same contract. `prefix` keeps
 * usernames apart when one database serves several runs.
 */
export async function runAccountJourney(baseUrl: string, prefix: string): Promise<{ token: string; username: string }> {
  const alice = `${prefix}_alice`;
  const bob = `${prefix}_bob`;

  const signUp = await callApi(baseUrl, "SignUp", { username: alice, password: PASSWORD, displayName: "Alice" });
  assert.equal(signUp.status, 200, JSON.stringify(signUp.body));
  assert.equal(signUp.body.profile.username, alice);
  assert.match(signUp.body.profile.userId, /^\d+$/, "64-bit ids are decimal strings on JSON");
  await callApi(baseUrl, "SignUp", { username: bob, password: PASSWORD });

  const duplicate = await callApi(baseUrl, "SignUp", { username: alice.toUpperCase(), password: PASSWORD });
  assert.deepEqual([duplicate.status, duplicate.body.code], [409, "already_exists"]);
  const badName = await callApi(baseUrl, "SignUp", { username: "no spaces", password: PASSWORD });
  assert.deepEqual([badName.status, badName.body.code], [400, "invalid_argument"]);
  assert.match(badName.body.message, /username/);
  const weak = await callApi(baseUrl, "SignUp", { username: `${prefix}_weak`, password: "aaaaaaaaaaaa" });
  assert.deepEqual([weak.status, weak.body.code], [400, "invalid_argument"]);
  const malformed = await callApi(baseUrl, "SignUp", "{not json");
  assert.equal(malformed.body.code, "invalid_argument");
  const wrongType = await callApi(baseUrl, "SignUp", { username: 42, password: PASSWORD });
  assert.equal(wrongType.body.code, "invalid_argument");

  const wrongPassword = await callApi(baseUrl, "LogIn", { username: alice, password: "not the password", deviceName: "laptop" });
  assert.deepEqual([wrongPassword.status, wrongPassword.body.code], [401, "unauthenticated"]);
  const unknown = await callApi(baseUrl, "LogIn", { username: `${prefix}_nobody`, password: PASSWORD, deviceName: "laptop" });
  assert.deepEqual([unknown.status, unknown.body.code], [401, "unauthenticated"]);

  const login = await callApi(baseUrl, "LogIn", { username: alice, password: PASSWORD, deviceName: "laptop" });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const token = login.body.session.accessToken as string;
  assert.ok(token.split(".").length === 3, "the access token is a JWT");

  const profile = await callApi(baseUrl, "GetProfile", {}, token);
  assert.deepEqual([profile.status, profile.body.profile.displayName], [200, "Alice"]);
  const other = await callApi(baseUrl, "GetProfile", { username: bob }, token);
  assert.equal(other.body.profile.username, bob);
  const missing = await callApi(baseUrl, "GetProfile", { username: `${prefix}_ghost` }, token);
  assert.deepEqual([missing.status, missing.body.code], [404, "not_found"]);
  const noToken = await callApi(baseUrl, "GetProfile", {});
  assert.deepEqual([noToken.status, noToken.body.code], [401, "unauthenticated"]);
  const tampered = await callApi(baseUrl, "GetProfile", {}, `${token.slice(0, -4)}AAAA`);
  assert.equal(tampered.body.code, "unauthenticated");

  const renamed = await callApi(baseUrl, "UpdateProfile", { displayName: "Alice A." }, token);
  assert.equal(renamed.body.profile.displayName, "Alice A.");

  const request = await callApi(baseUrl, "AddFriend", { username: bob }, token);
  assert.equal(request.body.state, "FRIENDSHIP_STATE_REQUEST_SENT");
  const bobLogin = await callApi(baseUrl, "LogIn", { username: bob, password: PASSWORD, deviceName: "phone" });
  const accept = await callApi(baseUrl, "AddFriend", { username: alice }, bobLogin.body.session.accessToken);
  assert.equal(accept.body.state, "FRIENDSHIP_STATE_FRIENDS");
  const friends = await callApi(baseUrl, "ListFriends", {}, token);
  assert.deepEqual(
    friends.body.friends.map((f: { profile: { username: string }; state: string }) => [f.profile.username, f.state]),
    [[bob, "FRIENDSHIP_STATE_FRIENDS"]],
  );

  const devices = await callApi(baseUrl, "ListDevices", {}, token);
  assert.deepEqual(
    devices.body.devices.map((d: { name: string }) => d.name),
    ["laptop"],
  );

  // A second device logs out; its token stops working, the first one's does not.
  const phone = await callApi(baseUrl, "LogIn", { username: alice, password: PASSWORD, deviceName: "phone" });
  const phoneToken = phone.body.session.accessToken as string;
  assert.equal((await callApi(baseUrl, "LogOut", {}, phoneToken)).status, 200);
  const afterLogout = await callApi(baseUrl, "GetProfile", {}, phoneToken);
  assert.deepEqual([afterLogout.status, afterLogout.body.code], [401, "unauthenticated"]);
  assert.equal((await callApi(baseUrl, "GetProfile", {}, token)).status, 200);

  return { token, username: alice };
}
