import type { KeyObject } from "node:crypto";
import { z } from "zod";
import type { Logger } from "../logger.js";
import { WatchedFile } from "../watched-file.js";
import { keyId, parsePublicKey, type SigningKey } from "./keys.js";
import { parsePrincipal, PRINCIPAL_RULE, type Principal } from "./principals.js";

export interface TrustedKey {
  readonly kid: string;
  readonly principal: Principal;
  readonly key: KeyObject;
}

/**
 * The trust file (SERVICE_TRUST_FILE) lists the public keys this process
 * accepts service tokens from, and whom each key identifies:
 *
 *   { "keys": [ { "principal": "chat", "publicKey": "-----BEGIN PUBLIC KEY-----\n..." } ] }
 *
 * A principal may have several keys at once: that is how keys rotate with
 * no downtime (add the new key everywhere, switch the signer, remove the old).
 */
const trustFileSchema = z.object({
  keys: z.array(
    z.object({
      principal: z.string(),
      publicKey: z.string(),
      /** Free text for operators (who, when, which rotation); ignored. */
      comment: z.string().optional(),
    }),
  ),
});

export function parseTrustFile(content: Buffer | string): Map<string, TrustedKey> {
  let json: unknown;
  try {
    json = JSON.parse(content.toString());
  } catch {
    throw new Error("is not JSON");
  }
  const parsed = trustFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`must be {"keys": [{"principal": ..., "publicKey": ...}]}: ${parsed.error.issues[0]?.message ?? ""}`);
  const keys = new Map<string, TrustedKey>();
  parsed.data.keys.forEach((entry, index) => {
    const principal = parsePrincipal(entry.principal);
    if (principal === undefined) throw new Error(`keys[${index}].principal "${entry.principal}" must be ${PRINCIPAL_RULE}`);
    let key: KeyObject;
    try {
      key = parsePublicKey(entry.publicKey);
    } catch (err) {
      throw new Error(`keys[${index}].publicKey ${(err as Error).message}`);
    }
    const kid = keyId(key);
    const known = keys.get(kid);
    if (known !== undefined && known.principal.name !== principal.name) {
      throw new Error(`keys[${index}] is the key of ${known.principal.name} already; one key identifies one principal`);
    }
    keys.set(kid, Object.freeze({ kid, principal, key }));
  });
  return keys;
}

/**
 * The keys this process trusts: those of the trust file (reloaded when it
 * changes) and those of its own in-process components, whose private halves
 * never leave the process.
 */
export class TrustStore {
  readonly #file: WatchedFile<Map<string, TrustedKey>> | undefined;
  readonly #local = new Map<string, TrustedKey>();
  readonly #listeners = new Set<() => void>();

  private constructor(file: WatchedFile<Map<string, TrustedKey>> | undefined) {
    this.#file = file;
    file?.onChange(() => this.#changed());
  }

  /** Throws, naming the file and the problem, when it is missing or malformed. */
  static fromFile(path: string, logger: Logger, reloadMs: number): TrustStore {
    return new TrustStore(new WatchedFile(path, parseTrustFile, logger, reloadMs));
  }

  static empty(): TrustStore {
    return new TrustStore(undefined);
  }

  /** Trusts a key held by this process (an in-process component's). */
  trustLocal(key: SigningKey, principal: Principal): void {
    this.#local.set(key.kid, Object.freeze({ kid: key.kid, principal, key: key.publicKey }));
    this.#changed();
  }

  lookup(kid: string): TrustedKey | undefined {
    return this.#local.get(kid) ?? this.#file?.value.get(kid);
  }

  get size(): number {
    return this.#local.size + (this.#file?.value.size ?? 0);
  }

  /** Called after the set of trusted keys changed (a key may have been removed). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads the trust file now rather than at the next poll. */
  reload(): boolean {
    return this.#file?.reload() ?? true;
  }

  close(): void {
    this.#file?.close();
    this.#listeners.clear();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
