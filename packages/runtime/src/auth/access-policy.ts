import { ServerReflection } from "@parley/contracts/grpc/reflection/v1/reflection";
import type { Role } from "./principals.js";

/** Who may call a method, and whether the caller acts for an end user. */
export interface MethodRule {
  /** Roles allowed to call; "public" means no service credential is needed at all. */
  readonly roles: readonly Role[] | "public";
  /**
   * "required": the call must carry the acting user (parley-user-id), and only
   * callers with this rule may set it; "optional": it may. Absent: a call
   * that names a user is refused, so nobody acts for a user where the
   * method does not expect one.
   */
  readonly actingUser?: "required" | "optional";
}

/** The rules of one service: a rule for each method (by its proto name), or a default for all. */
export interface ServiceRules {
  /** The `aud` a service token must carry to reach this service, such as "chat" (or one of several). */
  readonly audience: string | readonly string[];
  readonly methods?: Readonly<Record<string, MethodRule>>;
  readonly otherwise?: MethodRule;
}

/**
 * A server's access policy: rules by fully-qualified service name. It is
 * default-deny: a service or method without a rule is refused (only the
 * standard health service is open, for probes; server reflection gets the
 * rule of `withReflection`).
 */
export type AccessPolicy = ReadonlyMap<string, ServiceRules>;

export function accessPolicy(...entries: (readonly [string, ServiceRules])[]): AccessPolicy {
  return new Map(entries);
}

/** The policies of several services on one server (the embedded mode's internal port). */
export function mergePolicies(...policies: AccessPolicy[]): AccessPolicy {
  const merged = new Map<string, ServiceRules>();
  for (const policy of policies) for (const [service, rules] of policy) merged.set(service, rules);
  return merged;
}

/**
 * Who may use server reflection (grpc.reflection.v1: service and method
 * names, message shapes) on an internal server: operators, for buf curl and
 * grpcurl. Services and apps build from the contracts in proto/ and need
 * none of it; they get nothing they would not otherwise have, so the rule is
 * least privilege rather than secrecy.
 */
export const REFLECTION_ROLES: readonly Role[] = ["operator"];

/**
 * `policy` with the rule for server reflection: REFLECTION_ROLES, with a
 * token for any service the policy covers (on `npm start`'s internal port,
 * which serves several, a token for any of them), unless the policy has a
 * rule of its own for it.
 */
export function withReflection(policy: AccessPolicy): AccessPolicy {
  if (policy.has(ServerReflection.typeName)) return policy;
  const audiences = [...new Set([...policy.values()].flatMap((rules) => rules.audience))];
  if (audiences.length === 0) return policy;
  const audience = audiences.length === 1 ? audiences[0]! : audiences;
  return mergePolicies(policy, accessPolicy([ServerReflection.typeName, { audience, otherwise: { roles: REFLECTION_ROLES } }]));
}

export function ruleFor(policy: AccessPolicy, service: string, method: string): { rule: MethodRule; audience: string | readonly string[] } | undefined {
  const rules = policy.get(service);
  const rule = rules?.methods?.[method] ?? rules?.otherwise;
  return rules === undefined || rule === undefined ? undefined : { rule, audience: rules.audience };
}
