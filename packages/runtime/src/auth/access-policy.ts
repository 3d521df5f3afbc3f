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
  /** The `aud` a service token must carry to reach this service, such as "chat". */
  readonly audience: string;
  readonly methods?: Readonly<Record<string, MethodRule>>;
  readonly otherwise?: MethodRule;
}

/**
 * A server's access policy: rules by fully-qualified service name. It is
 * default-deny: a service or method without a rule is refused (only the
 * standard health service is open, for probes).
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

export function ruleFor(policy: AccessPolicy, service: string, method: string): { rule: MethodRule; audience: string } | undefined {
  const rules = policy.get(service);
  const rule = rules?.methods?.[method] ?? rules?.otherwise;
  return rules === undefined || rule === undefined ? undefined : { rule, audience: rules.audience };
}
