import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { testCredentials } from "@parley/testkit";
import { runToExit } from "./support/process.js";

describe("a service run alone refuses to start, with a clear message, on a database it cannot reach or a bad variable", () => {
  const credentials = testCredentials({ tls: true });
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "parley-refusals-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    credentials.close();
  });

  it("exits 1 naming the unreachable database", async () => {
    const unreachable = await runToExit("services/account/src/main.ts", {
      ...credentials.env("account"),
      ACCOUNT_PORT: "0",
      DATA_DIR: dataDir,
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
    });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.output, /failed to start: .*ECONNREFUSED/);
  });

  it("exits 1 naming the bad variable and why", async () => {
    const badSecret = await runToExit("services/account/src/main.ts", {
      ...credentials.env("account"),
      ACCOUNT_PORT: "0",
      DATA_DIR: dataDir,
      ACCOUNT_TOKEN_SECRET: "short",
    });
    assert.equal(badSecret.code, 1);
    assert.match(badSecret.output, /ACCOUNT_TOKEN_SECRET: must be at least 32 random bytes/);
    const badAddress = await runToExit("gateway/src/main.ts", { ...credentials.env("gateway"), PORT: "0", ACCOUNT_ADDRESS: "not an address" });
    assert.equal(badAddress.code, 1);
    assert.match(badAddress.output, /ACCOUNT_ADDRESS: must be host:port or an http:\/\/ URL \(got "not an address"\)/);
    const badSync = await runToExit("services/chat/src/main.ts", { ...credentials.env("chat"), CHAT_PORT: "0", DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: "off" });
    assert.equal(badSync.code, 1);
    assert.match(badSync.output, /SQLITE_SYNCHRONOUS: must be one of full, normal/);
  });
});
