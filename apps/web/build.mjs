// Bundles the web chat app into dist/ (index.html, app.js, app.css and the
// source map): esbuild for the browser, from the workspaces' TypeScript
// sources (the @parley/source condition), so it needs no `tsc -b` first.
// Type-checking is the root `tsc -p .`'s job; esbuild only strips types.
//
//   node apps/web/build.mjs [outdir]   # default: apps/web/dist
//
// Plain JavaScript on purpose, like bin/parley.mjs: `npm start` runs it with
// plain Node. Tests import buildWebApp() to build into a folder of their own.
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Builds the app into `outdir` and returns that folder. */
export async function buildWebApp(outdir = join(here, "dist")) {
  // Imported here so that a process that only reads this module's path does not load esbuild.
  const { build } = await import("esbuild");
  const out = resolve(outdir);
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: { app: join(here, "src", "main.ts"), style: join(here, "src", "style.css") },
    outdir: out,
    entryNames: "[name]",
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    conditions: ["@parley/source"],
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  });
  // The stylesheet is its own entry point (no CSS-in-JS); its bundle is style.css.
  await copyFile(join(here, "index.html"), join(out, "index.html"));
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = Date.now();
  const out = await buildWebApp(process.argv[2]);
  process.stderr.write(`web app built into ${out} in ${Date.now() - started} ms\n`);
}
