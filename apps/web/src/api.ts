/**
 * The account half of Parley: the gateway's public HTTP API (Connect's JSON
 * over HTTP, same origin), for what the WebSocket does not carry: sign-up,
 * log-in, token refresh, log-out, profiles, friends and blocks. 64-bit ids come as
 * decimal strings and are turned into bigints here.
 */

const SERVICE = "/parley.account.v1.AccountService";

/** A refused call: Connect's code (`unauthenticated`, `already_exists`...) and its message, written for people. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Seconds to wait, on a throttled call (`resource_exhausted`). */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Session {
  accessToken: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  refreshToken: string;
}

export interface Profile {
  userId: bigint;
  username: string;
  displayName: string;
}

export interface LoggedIn {
  profile: Profile;
  deviceId: bigint;
  session: Session;
}

/** FriendshipState's names as the JSON API writes them. */
export type Friendship = "FRIENDSHIP_STATE_NONE" | "FRIENDSHIP_STATE_REQUEST_SENT" | "FRIENDSHIP_STATE_REQUEST_RECEIVED" | "FRIENDSHIP_STATE_FRIENDS";

type Json = Record<string, unknown>;

async function call(method: string, body: Json, token?: string): Promise<Json> {
  let res: Response;
  try {
    res = await fetch(`${SERVICE}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("unavailable", "Parley cannot be reached; check the connection and try again", undefined);
  }
  const answer = (await res.json().catch(() => ({}))) as Json;
  if (res.ok) return answer;
  const retryAfter = Number(res.headers.get("retry-after"));
  throw new ApiError(
    String(answer.code ?? "unknown"),
    String(answer.message ?? `HTTP ${res.status}`),
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

function profileOf(json: unknown): Profile {
  const p = (json ?? {}) as Json;
  return { userId: BigInt(String(p.userId ?? "0")), username: String(p.username ?? ""), displayName: String(p.displayName ?? "") };
}

function sessionOf(json: unknown): Session {
  const s = (json ?? {}) as Json;
  return {
    accessToken: String(s.accessToken ?? ""),
    accessTokenExpiresAt: Date.parse(String(s.accessTokenExpiresAt ?? "")) || Date.now() + 600_000,
    refreshToken: String(s.refreshToken ?? ""),
  };
}

export async function signUp(username: string, password: string): Promise<Profile> {
  return profileOf((await call("SignUp", { username, password })).profile);
}

/** Logs in as a device: `deviceId` reuses this tab's device after a log-out (its sync cursor stays). */
export async function logIn(username: string, password: string, deviceName: string, deviceId?: bigint): Promise<LoggedIn> {
  const answer = await call("LogIn", { username, password, deviceName, ...(deviceId ? { deviceId: String(deviceId) } : {}) });
  const device = (answer.device ?? {}) as Json;
  return { profile: profileOf(answer.profile), deviceId: BigInt(String(device.deviceId ?? "0")), session: sessionOf(answer.session) };
}

/** Swaps the single-use refresh token for new tokens. */
export async function refreshSession(refreshToken: string): Promise<Session> {
  return sessionOf((await call("RefreshSession", { refreshToken })).session);
}

export async function logOut(token: string): Promise<void> {
  await call("LogOut", {}, token);
}

/** Another user's profile, by id or by username. */
export async function getProfile(token: string, who: { userId: bigint } | { username: string }): Promise<Profile> {
  const body = "userId" in who ? { userId: String(who.userId) } : { username: who.username };
  return profileOf((await call("GetProfile", body, token)).profile);
}

/** Asks for a friendship, or accepts the other's request. Friends see each other's last-seen time. */
export async function addFriend(token: string, userId: bigint): Promise<Friendship> {
  return (await call("AddFriend", { userId: String(userId) }, token)).state as Friendship;
}

export async function listFriends(token: string): Promise<Map<bigint, Friendship>> {
  const friends = ((await call("ListFriends", {}, token)).friends ?? []) as Json[];
  return new Map(friends.map((f) => [profileOf(f.profile).userId, f.state as Friendship]));
}

/** Blocks a user: neither can then message the other in their direct conversation (docs/protocol.md, "Blocking"). Repeating it is harmless. */
export async function blockUser(token: string, userId: bigint): Promise<Profile> {
  return profileOf((await call("BlockUser", { userId: String(userId) }, token)).blocked);
}

/** Ends this user's block; harmless when there was none. */
export async function unblockUser(token: string, userId: bigint): Promise<void> {
  await call("UnblockUser", { userId: String(userId) }, token);
}

/** The users this user blocks, newest block first. */
export async function listBlockedUsers(token: string): Promise<Profile[]> {
  const blocked = ((await call("ListBlockedUsers", {}, token)).blockedUsers ?? []) as Json[];
  return blocked.map((b) => profileOf(b.profile));
}
