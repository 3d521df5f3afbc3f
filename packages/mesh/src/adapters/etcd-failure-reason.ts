/**
 * grpc-js tells why a connection to etcd failed (a certificate that does
 * not verify, a client certificate etcd wants, a refused port) only to the
 * calls waiting when that attempt failed. Calls made afterwards on a channel
 * sharing the failed connection read "No connection established. Last
 * error: null", which says nothing. This remembers the last reason seen,
 * from every failed attempt, so each error can carry it; a success forgets
 * it, so a later outage is not blamed on an old cause. TLS failures, which
 * grpc-js words in OpenSSL's terms, also get a hint naming the variables.
 */
export class FailureReasons {
  #last: string | undefined;

  /** Records the reason an attempt failed, when grpc-js gave one. */
  note(err: unknown): void {
    const reason = lastErrorOf(err);
    if (reason !== undefined && reason !== "null") this.#last = reason;
  }

  forget(): void {
    this.#last = undefined;
  }

  /** `err`, or an error (caused by `err`) saying the known reason and what to check. */
  explain(err: unknown): unknown {
    this.note(err);
    if (!(err instanceof Error)) return err;
    let message = err.message;
    if (this.#last !== undefined && lastErrorOf(err) === "null") message = message.replace("Last error: null", `Last error: ${this.#last}`);
    const hint = TLS_HINTS.find(([pattern]) => pattern.test(message))?.[1];
    if (hint !== undefined) message = `${message.trimEnd()}; ${hint}`;
    return message === err.message ? err : new Error(message, { cause: err });
  }
}

const TLS_HINTS: readonly (readonly [RegExp, string])[] = [
  [
    /unable to verify|self[- ]signed certificate|unable to get (local )?issuer|certificate has expired|does not match certificate|altnames/i,
    "etcd's certificate did not verify: ETCD_CA_FILE must hold the CA that signed it, and it must name the endpoint's host",
  ],
  [
    /alert bad certificate|certificate required|alert unknown ca|alert certificate unknown|alert handshake failure/i,
    "etcd refused the TLS handshake: it wants a client certificate from a CA it trusts (ETCD_CERT_FILE and ETCD_KEY_FILE)",
  ],
  [/wrong version number|packet length too long|http\/1\.1 request/i, "the endpoint does not speak TLS: use http:// for it, or enable TLS on etcd"],
];

function lastErrorOf(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  return /Last error: (.*?)\. Resolution note:/s.exec(err.message)?.[1];
}
