import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

/** A service's signing key with its id (the first 16 bytes of the SHA-256 of its public key, base64url). */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Service keys are Ed25519: small, fast to verify (a token check costs tens
 * of microseconds), and without parameters to get wrong. Keys are PEM files
 * (PKCS#8 private, SPKI public), what `openssl genpkey -algorithm ed25519`
 * and every secrets manager produce.
 */
export function parsePrivateKey(pem: string | Buffer): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error("is not a PEM private key");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`must be an Ed25519 key, not ${privateKey.asymmetricKeyType ?? "a symmetric key"}`);
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({ kid: keyId(publicKey), privateKey, publicKey });
}

export function parsePublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error("is not a PEM public key");
  }
  if (key.type !== "public") throw new Error("must be a public key, not a private one");
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`must be an Ed25519 key, not ${key.asymmetricKeyType}`);
  return key;
}

export function keyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest().subarray(0, 16).toString("base64url");
}

/** A fresh key pair, for the in-process components of `npm start` and for tests and tooling. */
export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return Object.freeze({ kid: keyId(publicKey), privateKey, publicKey });
}

export function publicKeyPem(key: SigningKey): string {
  return key.publicKey.export({ type: "spki", format: "pem" }).toString();
}

export function privateKeyPem(key: SigningKey): string {
  return key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}
