import assert from "node:assert/strict";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { installPackedSdk, type SdkConsumer } from "./support/packed-sdk.js";
import { buildOutput, REPO_ROOT } from "./support/process.js";

/** A Node program of the developer's: Bob waits for a message, Alice sends it, Bob prints what came. */
const NODE_CHAT = `
import { ParleyClient } from "@parley/client";

const [url, aliceToken, bobToken, bobId] = process.argv.slice(2);
const bob = new ParleyClient({ url, token: bobToken });
const received = new Promise((resolve) => bob.on("message", resolve));
await bob.connect();
const alice = new ParleyClient({ url, token: aliceToken });
await alice.connect();
const conversation = await alice.openDirect(BigInt(bobId));
const ack = await alice.send(conversation.conversationId, "hello from the packed SDK");
const message = await received;
console.log(JSON.stringify({
  resolved: import.meta.resolve("@parley/client"),
  text: message.text,
  senderId: String(message.senderId),
  sameMessage: message.messageId === ack.messageId,
}));
await Promise.all([alice.close(), bob.close()]);
`;

/** A page's script: the default socket factory, which in a browser is the global WebSocket. */
const BROWSER_PAGE = `
import { ParleyClient } from "@parley/client";

const client = new ParleyClient({ url: location.origin, getToken: async () => sessionStorage.getItem("token") ?? "" });
client.on("message", (message) => document.body.append(message.text));
await client.connect();
`;

/** The same API from TypeScript, checked against the packed declarations only (no skipLibCheck, no Node types). */
const TYPED_USE = `
import { ParleyClient, ParleyError, type DisconnectInfo } from "@parley/client";
import type { Message } from "@parley/contracts/parley/chat/v1/chat";

export async function chat(url: string, token: string, peer: bigint): Promise<Message[]> {
  const client = new ParleyClient({ url, token, format: "json" });
  const seen: Message[] = [];
  client.on("message", (message) => seen.push(message));
  client.on("disconnected", (info: DisconnectInfo) => info.refusal);
  await client.connect();
  const { conversationId } = await client.openDirect(peer);
  const ack = await client.send(conversationId, "hi").catch((err: unknown) => (err instanceof ParleyError ? undefined : Promise.reject(err)));
  return ack?.duplicate ? [] : seen;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2023",
    lib: ["ES2023", "DOM"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  },
  files: ["typed-use.ts"],
};

/** What may be in a published tarball: the build, its README, its license, its manifest. */
const PUBLISHED = /^(?:dist\/.+\.(?:js|d\.ts|js\.map)|README\.md|LICENSE|package\.json)$/;

describe("the SDK packed with npm pack and installed in a project of its own", () => {
  let sdk: SdkConsumer;
  let p: EmbeddedParley;
  before(
    async () => {
      buildOutput();
      [sdk, p] = await Promise.all([installPackedSdk(), startParley()]);
    },
    { timeout: 120_000 },
  );
  after(async () => {
    await p?.close();
    if (sdk) await rm(sdk.root, { recursive: true, force: true });
  });

  it("packs the build, README, LICENSE and package.json only", () => {
    for (const tarball of sdk.tarballs) {
      const paths = tarball.files.map((f) => f.path);
      assert.deepEqual(
        paths.filter((path) => !PUBLISHED.test(path)),
        [],
        tarball.name,
      );
      assert.ok(paths.includes("LICENSE") && paths.includes("package.json"), tarball.name);
    }
    const client = sdk.tarballs.find((t) => t.name === "@parley/client")!.files.map((f) => f.path);
    for (const file of ["README.md", "dist/index.js", "dist/index.d.ts"]) assert.ok(client.includes(file), file);
  });

  it("points every export outside the @parley/source condition at dist, and ships source maps that carry their sources", async () => {
    for (const name of ["client", "contracts", "wire"]) {
      const dir = join(sdk.app, "node_modules/@parley", name);
      const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { exports: Record<string, Record<string, string>>; private?: boolean };
      assert.notEqual(manifest.private, true, name);
      for (const conditions of Object.values(manifest.exports)) {
        for (const [condition, target] of Object.entries(conditions)) {
          if (condition !== "@parley/source") assert.match(target, /^\.\/dist\//, `${name}: ${condition}`);
        }
        assert.ok("types" in conditions, `${name} has a types condition`);
      }
      const maps = (await readdir(join(dir, "dist"), { recursive: true })).filter((f) => f.endsWith(".js.map"));
      for (const map of maps) {
        const { sources, sourcesContent } = JSON.parse(await readFile(join(dir, "dist", map), "utf8")) as { sources: string[]; sourcesContent?: string[] };
        assert.equal(sourcesContent?.length, sources.length, `${name}/dist/${map} holds its sources`);
      }
    }
  });

  it("runs in plain Node: one user sends, the other receives", async () => {
    const alice = await p.user("packed_alice");
    const bob = await p.user("packed_bob");
    await writeFile(join(sdk.app, "chat.mjs"), NODE_CHAT);
    const out = await sdk.exec(process.execPath, ["chat.mjs", p.url, alice.token, bob.token, String(bob.userId)], 30_000);
    const result = JSON.parse(out.trim()) as { resolved: string; text: string; senderId: string; sameMessage: boolean };
    assert.ok(result.resolved.endsWith("/app/node_modules/@parley/client/dist/index.js"), result.resolved);
    assert.deepEqual(
      { ...result, resolved: undefined },
      { resolved: undefined, text: "hello from the packed SDK", senderId: String(alice.userId), sameMessage: true },
    );
  });

  it("type-checks a TypeScript consumer against the packed declarations", async () => {
    await writeFile(join(sdk.app, "typed-use.ts"), TYPED_USE);
    await writeFile(join(sdk.app, "tsconfig.json"), JSON.stringify(TSCONFIG));
    await sdk.exec(join(REPO_ROOT, "node_modules/.bin/tsc"), ["-p", "."], 60_000);
  });

  it("bundles for the browser with esbuild without ws or a Node built-in", async () => {
    await writeFile(join(sdk.app, "page.mjs"), BROWSER_PAGE);
    const esbuild = await import("esbuild");
    const result = await esbuild.build({
      entryPoints: ["page.mjs"],
      absWorkingDir: sdk.app,
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    assert.deepEqual(result.warnings, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(
      inputs.some((i) => i.includes("node_modules/@parley/client/dist/")),
      "the client's build is in the bundle",
    );
    // The browser field maps ws to an empty module: esbuild names it "(disabled):...".
    assert.deepEqual(
      inputs.filter((i) => /(?:^|\/)node_modules\/ws\//.test(i) && !i.startsWith("(disabled):")),
      [],
    );
    assert.deepEqual(
      inputs.filter((i) => i.startsWith("node:")),
      [],
    );
    assert.deepEqual(
      Object.values(result.metafile.outputs).flatMap((o) => o.imports),
      [],
      "nothing is left for the page to import",
    );
  });
});
