import type { ConnectRouter, Interceptor, Transport } from "@connectrpc/connect";
import { directTransport } from "../direct-transport.js";
import { createLogger, type Logger } from "../logger.js";
import type { AccessPolicy } from "./access-policy.js";
import { parsePrincipal, type Role } from "./principals.js";
import { inProcessCaller, serviceAuthInterceptor } from "./server-auth.js";

export interface InProcessOptions {
  /** The callee's access policy: it holds in one process exactly as over the network. */
  policy: AccessPolicy;
  /** Who is calling. */
  caller: Role;
  /** The callee's other server interceptors (its error mapping), after the guard. */
  interceptors?: Interceptor[];
  /** Where refused calls are logged. */
  logger?: Logger;
}

/**
 * A transport into another component of the same process (`npm start`,
 * tests): no network and no credentials, since nothing outside the process
 * can reach it, but the caller is known and the callee's policy applies.
 * Messages pass by reference (directTransport): nothing is serialised.
 */
export function inProcessTransport(routes: (router: ConnectRouter) => void, options: InProcessOptions): Transport {
  const guard = serviceAuthInterceptor({ policy: options.policy, verifier: undefined, trust: undefined, logger: options.logger ?? quiet });
  const interceptors = [inProcessCaller(parsePrincipal(options.caller)!), guard, ...(options.interceptors ?? [])];
  return directTransport(routes, interceptors);
}

const quiet = createLogger("in-process", "warn");
