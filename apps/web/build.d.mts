/** Bundles the web chat app into `outdir` (default apps/web/dist) and returns that folder. */
export function buildWebApp(outdir?: string): Promise<string>;
