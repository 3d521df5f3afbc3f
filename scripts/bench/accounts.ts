/** Accounts for the benchmark, made through the public HTTP API before any timed run. */
export interface BenchUser {
  userId: bigint;
  /** One access token per device. */
  tokens: string[];
}

const PASSWORD = "correct horse battery";

/** The part of a LogIn reply the benchmark reads (proto JSON: 64-bit ids are decimal strings). */
interface LogInReply {
  profile: { userId: string };
  session: { accessToken: string };
}

async function call(url: string, method: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(`${url}/parley.account.v1.AccountService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${JSON.stringify(json)}`);
  return json;
}

/** `count` users named `<prefix>_<n>`, each logged in on `devices` devices; `concurrency` calls at a time. */
export async function makeUsers(url: string, prefix: string, count: number, devices = 1, concurrency = 16): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const username = `${prefix}_${i}`;
      await call(url, "SignUp", { username, password: PASSWORD });
      const tokens: string[] = [];
      let userId = 0n;
      for (let d = 0; d < devices; d++) {
        const login = (await call(url, "LogIn", { username, password: PASSWORD, deviceName: `bench ${d}` })) as LogInReply;
        userId = BigInt(login.profile.userId);
        tokens.push(login.session.accessToken);
      }
      users[i] = { userId, tokens };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return users;
}
