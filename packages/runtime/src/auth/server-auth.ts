import { Code, ConnectError, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { Health } from "@parley/contracts/grpc/health/v1/health";
import { endable } from "../endable.js";
import type { Logger } from "../logger.js";
import { ruleFor, withReflection, type AccessPolicy, type MethodRule } from "./access-policy.js";
import {
  actingUserKey,
  callerKey,
  CLIENT_ADDRESS_HEADER,
  clientAddressKey,
  DEVICE_HEADER,
  SERVICE_TOKEN_HEADER,
  USER_HEADER,
  type ActingUser,
  type Principal,
} from "./principals.js";
import type { ServiceTokenVerifier, VerifiedCaller } from "./service-tokens.js";
import type { TrustStore } from "./trust-store.js";

export interface ServerAuthOptions {
  policy: AccessPolicy;
  /** Checks network callers' tokens; undefined where only in-process callers and public methods are served. */
  verifier: ServiceTokenVerifier | undefined;
  /** Streams opened with a key that leaves the trust store are ended. */
  trust: TrustStore | undefined;
  logger: Logger;
}

/**
 * Authentication and authorization of every internal call, before any
 * handler runs: who is calling (a verified service token, or an in-process
 * component marked by `inProcessCaller`), whether that role may call this
 * method (the service's AccessPolicy; default deny), and who the acting
 * user is. The acting user and the client address come from request headers
 * only when the caller's rule allows it (the gateway on user-facing
 * methods); anyone else naming a user is refused, so reaching a port is
 * never enough to act as someone.
 */
export function serviceAuthInterceptor(options: ServerAuthOptions): Interceptor {
  const open = new Set<{ caller: VerifiedCaller; revoke: (err: ConnectError) => void }>();
  options.trust?.onChange(() => {
    for (const call of open) {
      if (options.verifier?.isTrusted(call.caller) === false) call.revoke(new ConnectError("the caller's key is no longer trusted", Code.Unauthenticated));
    }
  });

  const policy = withReflection(options.policy);
  return (next) => async (req) => {
    if (req.service.typeName === Health.typeName) return next(req);
    const method = `${req.service.typeName}/${req.method.name}`;
    const found = ruleFor(policy, req.service.typeName, req.method.name);
    if (found === undefined) throw deny(options.logger, method, undefined, `${method} is not open to any caller`);
    const { rule, audience } = found;

    let verified: VerifiedCaller | undefined;
    let caller: Principal | undefined = req.contextValues.get(callerKey);
    if (caller === undefined && rule.roles !== "public") {
      const token = req.header.get(SERVICE_TOKEN_HEADER);
      if (token === null) throw unauthenticated(options.logger, method, `a service token is required (the ${SERVICE_TOKEN_HEADER} header)`);
      if (options.verifier === undefined) throw unauthenticated(options.logger, method, "this server takes no service tokens");
      try {
        verified = await options.verifier.verify(token, audience);
      } catch (err) {
        throw unauthenticated(options.logger, method, (err as ConnectError).rawMessage);
      }
      caller = verified.principal;
      req.contextValues.set(callerKey, caller);
    }
    if (rule.roles !== "public" && !rule.roles.includes(caller!.role)) {
      throw deny(options.logger, method, caller, `${caller!.name} may not call ${method}`);
    }
    setActingUser(req.header, rule, req.contextValues, (why) => deny(options.logger, method, caller, why));

    const res = await next(req);
    if (!res.stream || verified === undefined || options.trust === undefined) return res;
    const opener = verified;
    return {
      ...res,
      message: endable(res.message, (end) => {
        const entry = { caller: opener, revoke: end };
        open.add(entry);
        return () => open.delete(entry);
      }),
    };
  };
}

/**
 * Marks calls arriving through an in-process transport as made by
 * `principal`: `npm start`'s components reach each other without the network
 * and without credentials, and the same access policy still applies.
 * Install it only on router transports, never on a network server.
 */
export function inProcessCaller(principal: Principal): Interceptor {
  return (next) => (req) => {
    req.contextValues.set(callerKey, principal);
    return next(req);
  };
}

function setActingUser(header: Headers, rule: MethodRule, values: ContextValues, deny: (why: string) => ConnectError): void {
  const user = header.get(USER_HEADER);
  const device = header.get(DEVICE_HEADER);
  const address = header.get(CLIENT_ADDRESS_HEADER);
  if (rule.actingUser === undefined) {
    if (user !== null || device !== null || address !== null)
      throw deny(`this call may not name an acting user or client (${USER_HEADER}, ${DEVICE_HEADER}, ${CLIENT_ADDRESS_HEADER})`);
    return;
  }
  if (address !== null) values.set(clientAddressKey, address.slice(0, 100));
  if (user === null) {
    if (rule.actingUser === "required")
      throw new ConnectError(`the ${USER_HEADER} header (and optionally ${DEVICE_HEADER}) must name the acting user`, Code.Unauthenticated);
    return;
  }
  if (!/^\d{1,20}$/.test(user) || (device !== null && !/^\d{1,20}$/.test(device))) {
    throw new ConnectError(`${USER_HEADER} and ${DEVICE_HEADER} must be decimal ids`, Code.InvalidArgument);
  }
  const acting: ActingUser = { userId: BigInt(user), deviceId: device === null ? 0n : BigInt(device) };
  if (acting.userId >= 2n ** 63n || acting.deviceId >= 2n ** 63n)
    throw new ConnectError(`${USER_HEADER} and ${DEVICE_HEADER} must be below 2^63`, Code.InvalidArgument);
  values.set(actingUserKey, acting);
}

function unauthenticated(logger: Logger, method: string, why: string): ConnectError {
  logger.warn({ method, reason: why }, "internal call refused: not authenticated");
  return new ConnectError(why, Code.Unauthenticated);
}

function deny(logger: Logger, method: string, caller: Principal | undefined, why: string): ConnectError {
  logger.warn({ method, caller: caller?.name, reason: why }, "internal call refused: not allowed");
  return new ConnectError(why, Code.PermissionDenied);
}
