import { createPrivateKey, X509Certificate } from "node:crypto";
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContextOptions } from "node:tls";
import type { Duplex } from "node:stream";
import type { Logger } from "./logger.js";
import { WatchedFile } from "./watched-file.js";

/**
 * A server certificate and key from PEM files, reloaded when either changes
 * (cert-manager and similar renew them in place). A renewed certificate is
 * taken only once its key matches, so the moment between the two files
 * being replaced keeps the old pair rather than breaking handshakes.
 */
export class ServerTls {
  readonly #cert: WatchedFile<Buffer>;
  readonly #key: WatchedFile<Buffer>;
  #current: SecureContextOptions;
  readonly #listeners = new Set<(options: SecureContextOptions) => void>();

  constructor(
    files: { certFile: string; keyFile: string },
    private readonly logger: Logger,
    reloadMs: number,
  ) {
    this.#cert = new WatchedFile(files.certFile, parseCertificates, logger, reloadMs);
    this.#key = new WatchedFile(files.keyFile, parsePrivateKeyPem, logger, reloadMs);
    this.#current = matchingPair(this.#cert.value, this.#key.value, files.certFile, files.keyFile);
    const changed = () => {
      try {
        this.#current = matchingPair(this.#cert.value, this.#key.value, files.certFile, files.keyFile);
      } catch (err) {
        this.logger.warn({ reason: (err as Error).message }, "new TLS certificate and key do not match yet; serving the previous pair");
        return;
      }
      for (const listener of this.#listeners) listener(this.#current);
    };
    this.#cert.onChange(changed);
    this.#key.onChange(changed);
  }

  /** Certificate and key for tls.createServer / setSecureContext. */
  get options(): SecureContextOptions {
    return this.#current;
  }

  onChange(listener: (options: SecureContextOptions) => void): void {
    this.#listeners.add(listener);
  }

  close(): void {
    this.#cert.close();
    this.#key.close();
    this.#listeners.clear();
  }
}

/**
 * The certificate authorities a client trusts for internal servers (a PEM
 * bundle; during a CA rotation it holds the old and the new CA). Reloaded
 * when it changes; new connections use the new bundle.
 */
export class ClientTls {
  readonly #ca: WatchedFile<Buffer>;

  /** `serverName`: checked against every server's certificate instead of the address called. */
  constructor(
    caFile: string,
    logger: Logger,
    reloadMs: number,
    private readonly serverName?: string,
  ) {
    this.#ca = new WatchedFile(caFile, parseCertificates, logger, reloadMs);
  }

  get ca(): Buffer {
    return this.#ca.value;
  }

  /**
   * Opens a TLS connection for an HTTP/2 client (`createConnection` of
   * http2.connect), verifying the server against the current bundle and
   * its name (or IP address; or the configured server name) against the certificate.
   */
  connect(authority: URL, extra: ConnectionOptions = {}): Duplex {
    const host = authority.hostname.replace(/^\[|\]$/g, "");
    return tlsConnect({
      ...extra,
      host,
      port: Number(authority.port || 443),
      ca: this.#ca.value,
      ALPNProtocols: ["h2"],
      // Node checks the certificate against servername when it is given, else against host.
      ...(this.serverName !== undefined ? { servername: this.serverName } : isIp(host) ? {} : { servername: host }),
    });
  }

  close(): void {
    this.#ca.close();
  }
}

function parseCertificates(content: Buffer): Buffer {
  const pem = content.toString();
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("holds no PEM certificate");
  try {
    new X509Certificate(pem);
  } catch {
    throw new Error("is not a valid PEM certificate");
  }
  return content;
}

function parsePrivateKeyPem(content: Buffer): Buffer {
  try {
    createPrivateKey(content);
  } catch {
    throw new Error("is not a PEM private key");
  }
  return content;
}

function matchingPair(cert: Buffer, key: Buffer, certFile: string, keyFile: string): SecureContextOptions {
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error(`${keyFile} is not the key of the certificate in ${certFile}`);
  createSecureContext({ cert, key }); // throws on anything else OpenSSL dislikes
  return { cert, key };
}

function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

/** Whether a listening host only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}
