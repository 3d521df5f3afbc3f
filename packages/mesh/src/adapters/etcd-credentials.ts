import { readFileSync } from "node:fs";
import { createSecureContext, getCACertificates } from "node:tls";
import {
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  EtcdRoleNotGrantedError,
  EtcdUserNotFoundError,
  GRPCUnauthenticatedError,
  type IOptions,
} from "etcd3";

/**
 * How a process proves itself to etcd and checks that it talks to the real
 * etcd: TLS with a verified server certificate (and a client certificate
 * for --client-cert-auth), and etcd's user/password authentication.
 * Built from ETCD_CA_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME and
 * ETCD_PASSWORD(_FILE) (config.ts); docs/security.md says what to grant.
 */
export interface EtcdTls {
  /** CA bundle (PEM) etcd's certificate must chain to; undefined: the system's CAs. */
  readonly caFile: string | undefined;
  /** Certificate and key this process presents; etcd with --client-cert-auth refuses clients without one. */
  readonly client: { readonly certFile: string; readonly keyFile: string } | undefined;
}

export interface EtcdAuth {
  readonly username: string;
  /** Returns the password; called at each sign-in, so a rotated password file is picked up (secretFromFile). */
  readonly password: () => string;
}

/**
 * The etcd3 client options for `settings`: files are read (and checked)
 * now, the password too, so a bad one stops the start naming its variable.
 * The certificate files are not reloaded: a new CA or client certificate
 * takes a (rolling) restart. The password is read again at each sign-in.
 */
export function etcdCredentials(settings: { readonly tls?: EtcdTls; readonly auth?: EtcdAuth }): Pick<IOptions, "credentials" | "auth"> {
  const options: Pick<IOptions, "credentials" | "auth"> = {};
  if (settings.tls) options.credentials = tlsCredentials(settings.tls);
  if (settings.auth) {
    const { username, password } = settings.auth;
    password(); // fails now, naming the variable, if the file cannot be read
    // A getter: etcd3 reads auth.password each time it signs in (at start and
    // when etcd says the token expired), so a rotated file is used then.
    options.auth = {
      username,
      get password() {
        return password();
      },
    };
  }
  return options;
}

function tlsCredentials(tls: EtcdTls): NonNullable<IOptions["credentials"]> {
  // grpc-js verifies etcd's certificate and host name against these roots;
  // without ETCD_CA_FILE they are the ones Node trusts by default.
  const rootCertificate = tls.caFile === undefined ? Buffer.from(getCACertificates("default").join("\n")) : pem("ETCD_CA_FILE", tls.caFile);
  usable("ETCD_CA_FILE", { ca: rootCertificate });
  if (tls.client === undefined) return { rootCertificate };
  const certChain = pem("ETCD_CERT_FILE", tls.client.certFile);
  const privateKey = pem("ETCD_KEY_FILE", tls.client.keyFile);
  usable("ETCD_CERT_FILE and ETCD_KEY_FILE", { cert: certChain, key: privateKey });
  return { rootCertificate, certChain, privateKey };
}

/** Fails now, naming the variables, for what OpenSSL would refuse at the first connection (a key that is not the certificate's...). */
function usable(variables: string, options: { ca?: Buffer; cert?: Buffer; key?: Buffer }): void {
  try {
    createSecureContext(options);
  } catch (err) {
    throw new Error(`${variables}: not usable for TLS to etcd (${(err as Error).message})`);
  }
}

function pem(variable: string, path: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  if (!content.includes("-----BEGIN ")) throw new Error(`${variable}: ${path} holds no PEM data`);
  return content;
}

/**
 * Whether etcd answered but refused who this process is: a wrong password,
 * an unknown user, or a role that does not cover the key prefix. Retrying
 * does not help; fixing the credentials or the role does.
 */
export function isAccessDenied(err: unknown): boolean {
  return (
    err instanceof EtcdAuthenticationFailedError ||
    err instanceof EtcdPermissionDeniedError ||
    err instanceof EtcdUserNotFoundError ||
    err instanceof EtcdRoleNotGrantedError ||
    err instanceof GRPCUnauthenticatedError ||
    (err instanceof Error && /etcdserver: user name is empty/.test(err.message))
  );
}
