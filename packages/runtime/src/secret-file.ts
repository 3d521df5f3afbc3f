import { readFileSync } from "node:fs";

/**
 * A password kept in a file (a mounted Kubernetes Secret, a Vault agent's
 * output) rather than in an environment variable, which leaks into process
 * listings, crash dumps and `kubectl describe`. The returned function reads
 * the file each time it is called: at start, to fail fast, and again at each
 * sign-in of a new connection, so a rotated file is used without a restart.
 * A file that cannot be read after a good read keeps the last good password
 * (a half-done Secret update must not break new connections); at the first
 * read it throws, naming the variable and the file, never the content.
 *
 * Trailing line breaks are dropped (`echo secret > file` adds one); any
 * other character, spaces included, is part of the password.
 */
export function secretFromFile(variable: string, path: string): () => string {
  let lastGood: string | undefined;
  return () => {
    try {
      lastGood = read(path);
    } catch (err) {
      if (lastGood === undefined) throw new Error(`${variable}: ${(err as Error).message}`);
    }
    return lastGood;
  };
}

function read(path: string): string {
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  const secret = content.replace(/[\r\n]+$/, "");
  if (secret === "") throw new Error(`${path} is empty`);
  return secret;
}
