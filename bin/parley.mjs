#!/usr/bin/env node
// One entry point for every Parley process, run from the built JavaScript
// (`npm run build`): `node bin/parley.mjs <name>` imports that process's
// compiled main, which configures itself from environment variables. One
// image thus serves every service, chosen by its command. Plain JavaScript on
// purpose: it runs with no TypeScript tooling installed (the runtime image has
// none).

import { setFlagsFromString } from "node:v8";

// V8's allocation-site pretenuring, off for every process, whichever way it is started (npm start, the
// image, the chart; NODE_OPTIONS refuses this flag). Pretenuring watches which allocation sites' objects
// survive young-generation collections and then allocates that site's objects straight into the old
// generation. A chat server's per-message objects (a command, its promise, its reply) live a millisecond,
// but a burst can make their sites look long-lived, and from then on every message's objects went to the
// old generation, where only full mark-compacts free them: at 2,000 msg/s one every 4 s, each slowing
// every message for tens of milliseconds. Measured (docs/performance.md, "The tail at 2,000 msg/s,
// attributed: timers and pretenuring"): pairs-rate p99 14.2 -> 6.0 ms (median of 3), full collections
// during the run 4 -> 1.
setFlagsFromString("--no-allocation-site-pretenuring");

/** Each process's built main, relative to this file. */
const MAINS = {
  standalone: "../apps/standalone/dist/main.js",
  account: "../services/account/dist/main.js",
  idgen: "../services/idgen/dist/main.js",
  chat: "../services/chat/dist/main.js",
  presence: "../services/presence/dist/main.js",
  notify: "../services/notify/dist/main.js",
  discovery: "../services/discovery/dist/main.js",
  gateway: "../gateway/dist/main.js",
};

const USAGE = `usage: node bin/parley.mjs <${Object.keys(MAINS).join("|")}>

  standalone  every service in one process on the embedded defaults (npm start)
  account, idgen, chat, presence, notify, discovery, gateway
              that service alone, as one process of the distributed mode

Each is configured by environment variables (README, "Configuration").
Runs the built output: run \`npm run build\` first in a source checkout.
`;

const name = process.argv[2];
if (name === "--help" || name === "-h") {
  process.stdout.write(USAGE);
} else if (name === undefined || !Object.hasOwn(MAINS, name) || process.argv.length > 3) {
  process.stderr.write(name === undefined || Object.hasOwn(MAINS, name) ? USAGE : `parley: unknown process "${name}"\n${USAGE}`);
  process.exitCode = 2;
} else {
  const main = new URL(MAINS[name], import.meta.url);
  try {
    await import(main.href);
  } catch (err) {
    // Only a missing build gets its own message; any other failure is the process's own and propagates.
    if (err?.code === "ERR_MODULE_NOT_FOUND" && err.url === main.href) {
      process.stderr.write(`parley: ${name} is not built (no ${main.pathname}): run \`npm run build\`\n`);
      process.exit(1);
    }
    throw err;
  }
}
