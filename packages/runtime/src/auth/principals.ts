import { createContextKey } from "@connectrpc/connect";

/**
 * Who may call the internal plane. A principal is a role, optionally with a
 * name after a colon: `chat`, `gateway`, `operator:alice`, `app:billing`.
 * Access rules are written per role; the full principal goes to the logs,
 * so an operator's or an app's calls can be told apart.
 */
export const ROLES = ["gateway", "account", "chat", "presence", "idgen", "notify", "discovery", "operator", "app"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** As written in the trust file and in the token's `iss`, such as `operator:alice`. */
  readonly name: string;
  readonly role: Role;
}

const PRINCIPAL = /^([a-z]+)(?::([a-z0-9][a-z0-9._-]{0,62}))?$/;

/** Parses `role` or `role:name`; undefined when it is neither. */
export function parsePrincipal(name: string): Principal | undefined {
  const match = PRINCIPAL.exec(name);
  if (match === null || !(ROLES as readonly string[]).includes(match[1]!)) return undefined;
  return Object.freeze({ name, role: match[1] as Role });
}

export const PRINCIPAL_RULE = `a role (${ROLES.join(", ")}), optionally followed by ":" and a name of up to 63 of a-z 0-9 . _ -`;

/** The acting user of a call, asserted by a caller allowed to act for users (the gateway). */
export interface ActingUser {
  readonly userId: bigint;
  /** 0 when the call is not made for one device. */
  readonly deviceId: bigint;
}

/** The authenticated service (or in-process component) that made the call. */
export const callerKey = createContextKey<Principal | undefined>(undefined, { description: "parley caller" });
/** Set only from an authenticated caller whose rule lets it act for users. */
export const actingUserKey = createContextKey<ActingUser | undefined>(undefined, { description: "parley acting user" });
/** The end user's network address as the gateway saw it; same trust rule as the acting user. */
export const clientAddressKey = createContextKey<string | undefined>(undefined, { description: "parley client address" });

/** Request headers that carry the acting user and the client's address from the gateway. */
export const USER_HEADER = "parley-user-id";
export const DEVICE_HEADER = "parley-device-id";
export const CLIENT_ADDRESS_HEADER = "parley-client-address";
/** The caller's service token (not `authorization`, which carries the end user's token through). */
export const SERVICE_TOKEN_HEADER = "parley-service-token";
