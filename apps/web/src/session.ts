import { type LoggedIn, refreshSession, type Session } from "./api.js";

/**
 * This tab's log-in, kept in sessionStorage: every tab is a device of its
 * own (its own session, cursor and socket, as the protocol expects of
 * devices), and a reload keeps it. Tokens never go to localStorage, which
 * every tab of the origin shares; only the last username does, to prefill.
 */
const KEY = "parley.session";
const CURSOR_KEY = "parley.cursor";
const LAST_USERNAME_KEY = "parley.lastUsername";
/** Refresh this long before the access token expires, so a reconnect never presents an expired one. */
const REFRESH_MARGIN_MS = 60_000;

export interface StoredSession {
  userId: bigint;
  username: string;
  displayName: string;
  deviceId: bigint;
  session: Session;
}

export function loadSession(): StoredSession | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw) as Record<string, string | number>;
    return {
      userId: BigInt(s.userId!),
      username: String(s.username),
      displayName: String(s.displayName ?? ""),
      deviceId: BigInt(s.deviceId!),
      session: { accessToken: String(s.accessToken), accessTokenExpiresAt: Number(s.accessTokenExpiresAt), refreshToken: String(s.refreshToken) },
    };
  } catch {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
}

export function saveSession(s: StoredSession): void {
  sessionStorage.setItem(
    KEY,
    JSON.stringify({
      userId: String(s.userId),
      username: s.username,
      displayName: s.displayName,
      deviceId: String(s.deviceId),
      ...s.session,
    }),
  );
  localStorage.setItem(LAST_USERNAME_KEY, s.username);
}

export function fromLogIn(logged: LoggedIn): StoredSession {
  return {
    userId: logged.profile.userId,
    username: logged.profile.username,
    displayName: logged.profile.displayName,
    deviceId: logged.deviceId,
    session: logged.session,
  };
}

/** Forgets the tokens and the cursor; the device id stays, so logging in again in this tab reuses the device. */
export function clearSession(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(CURSOR_KEY);
}

/** The device this tab last was for this user, to log in as the same device again (another user's device id would be refused). */
export function lastDeviceId(username: string): bigint | undefined {
  const raw = sessionStorage.getItem(`parley.deviceId.${username.toLowerCase()}`);
  return raw ? BigInt(raw) : undefined;
}

export function rememberDevice(username: string, deviceId: bigint): void {
  sessionStorage.setItem(`parley.deviceId.${username.toLowerCase()}`, String(deviceId));
}

export function lastUsername(): string {
  return localStorage.getItem(LAST_USERNAME_KEY) ?? "";
}

/** The inbox cursor the SDK reported last: after a reload, sync resumes above it. */
export function loadCursor(): bigint | undefined {
  const raw = sessionStorage.getItem(CURSOR_KEY);
  return raw ? BigInt(raw) : undefined;
}

export function saveCursor(cursor: bigint): void {
  sessionStorage.setItem(CURSOR_KEY, String(cursor));
}

/**
 * Hands out access tokens, refreshing shortly before expiry or when the
 * server refused one; one refresh at a time (a refresh token is single-use,
 * so two at once would end the session). A failed refresh throws: the SDK
 * then stops with an AuthenticationError and the app shows the log-in.
 */
export class TokenSource {
  private refreshing: Promise<string> | undefined;

  constructor(private current: StoredSession) {}

  get session(): StoredSession {
    return this.current;
  }

  async token(refused = false): Promise<string> {
    const fresh = this.current.session.accessTokenExpiresAt - Date.now() > REFRESH_MARGIN_MS;
    if (fresh && !refused) return this.current.session.accessToken;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<string> {
    const session = await refreshSession(this.current.session.refreshToken);
    this.current = { ...this.current, session };
    saveSession(this.current);
    return session.accessToken;
  }
}
