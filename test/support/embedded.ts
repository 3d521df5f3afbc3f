import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Transport } from "@connectrpc/connect";
import type { Clock, Timers } from "@parley/presence";
import { createLogger } from "@parley/runtime";
import { testCredentials, type TestCredentials } from "@parley/testkit";
import { loadEmbeddedConfig, startEmbedded, type RunningParley } from "@parley/standalone";
import { callApi } from "./http-api.js";

/** A session: the access token (`token`), the refresh token, and whose it is. */
export interface LoggedIn {
  token: string;
  refreshToken: string;
  userId: bigint;
  deviceId: bigint;
}

export interface EmbeddedParley {
  parley: RunningParley;
  url: string;
  wsUrl: string;
  /** Signs up and logs in a user; returns the tokens and ids. */
  user(username: string, deviceName?: string): Promise<LoggedIn>;
  logIn(username: string, deviceName: string): Promise<LoggedIn>;
  /**
   * A transport to `audience` on the internal port (INTERNAL_PORT) with the
   * service token of `principal` ("gateway", "operator:test"...), from
   * credentials made for this run and trusted through SERVICE_TRUST_FILE.
   */
  internalAs(principal: string, audience: string): Transport;
  close(): Promise<void>;
}

/** The whole of Parley in this process (npm start's code path) on a fresh data folder. */
export async function startParley(
  env: Record<string, string> = {},
  options: {
    presenceTime?: Clock & Timers /** Credentials of the caller's own (with TLS, say); made here when INTERNAL_PORT is set. */;
    credentials?: TestCredentials;
    /** The web app bundle to serve under /app/ (the browser tests, test/web-app*.e2e.test.ts, build one); default: apps/web/dist. */
    webAppDir?: string;
  } = {},
): Promise<EmbeddedParley> {
  const dataDir = await mkdtemp(join(tmpdir(), "parley-ws-"));
  // The internal port takes only service tokens: credentials for it when it is asked for.
  const ownCredentials = options.credentials === undefined && env.INTERNAL_PORT !== undefined;
  const credentials = options.credentials ?? (ownCredentials ? testCredentials() : undefined);
  const trust = credentials ? { SERVICE_TRUST_FILE: credentials.keys.trustFile } : {};
  // Tests sign up many users, all from 127.0.0.1: the per-address sign-up limit is lifted unless a test sets it.
  const vars = { DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "10", ACCOUNT_SIGNUPS_PER_ADDRESS: "0", ...trust, ...env };
  const parley = await startEmbedded(loadEmbeddedConfig(vars), (service) => createLogger(service, process.env.PARLEY_TEST_LOG ?? "silent"), {
    ...(options.presenceTime ? { presenceTime: options.presenceTime } : {}),
    ...(options.webAppDir ? { webAppDir: options.webAppDir } : {}),
  });
  const url = parley.gateway.url;
  const logIn = async (username: string, deviceName: string): Promise<LoggedIn> => {
    const res = await callApi(url, "LogIn", { username, password: "correct horse battery", deviceName });
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    return {
      token: res.body.session.accessToken as string,
      refreshToken: res.body.session.refreshToken as string,
      userId: BigInt(res.body.profile.userId),
      deviceId: BigInt(res.body.device.deviceId),
    };
  };
  return {
    parley,
    url,
    wsUrl: `${url.replace("http", "ws")}/ws`,
    async user(username, deviceName = "phone") {
      await callApi(url, "SignUp", { username, password: "correct horse battery" });
      return logIn(username, deviceName);
    },
    logIn,
    internalAs(principal, audience) {
      if (credentials === undefined || parley.internal === undefined) throw new Error("start Parley with INTERNAL_PORT to call its internal port");
      return credentials.plane(principal).transport(new URL(parley.internal.url).host, audience);
    },
    async close() {
      await parley.close(1_000);
      await rm(dataDir, { recursive: true, force: true });
      if (ownCredentials) credentials?.close();
    },
  };
}
