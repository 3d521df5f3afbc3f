/**
 * What the measurement scripts share: a Parley to measure (the one at `url`,
 * or one started embedded in this process on a fresh data folder, on
 * DATABASE_URL when set) and accounts made through its public API.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@parley/runtime";
import { loadEmbeddedConfig, startEmbedded } from "@parley/standalone";

export async function parleyToMeasure(url: string | undefined, extraEnv: Record<string, string> = {}): Promise<{ url: string; stop(): Promise<void> }> {
  if (url) return { url, stop: async () => {} };
  const dataDir = await mkdtemp(join(tmpdir(), "parley-measure-"));
  // Accounts for the measurement all sign up from this machine: the per-address sign-up limit is lifted.
  const env: Record<string, string> = { DATA_DIR: dataDir, PORT: "0", ACCOUNT_SCRYPT_LOG_N: "10", ACCOUNT_SIGNUPS_PER_ADDRESS: "0", ...extraEnv };
  if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
  const parley = await startEmbedded({ ...loadEmbeddedConfig(env), internalPort: undefined }, (service) => createLogger(service, "warn"));
  return {
    url: parley.gateway.url,
    async stop() {
      await parley.close(1_000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs up and logs in `username`; returns the access token and user id. */
export async function account(url: string, username: string): Promise<{ token: string; userId: bigint }> {
  const call = async (method: string, body: unknown) =>
    (await (
      await fetch(`${url}/parley.account.v1.AccountService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      })
    ).json()) as { session: { accessToken: string }; profile: { userId: string } };
  await call("SignUp", { username, password: "correct horse battery" });
  const login = await call("LogIn", { username, password: "correct horse battery", deviceName: "measurement" });
  return { token: login.session.accessToken, userId: BigInt(login.profile.userId) };
}

/** "median X ms, p99 Y ms, max Z ms (n=N)". */
export function describeTimes(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  return `median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(2)} ms (n=${values.length})`;
}
