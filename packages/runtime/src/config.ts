import { z } from "zod";

/**
 * Configuration comes only from environment variables, read once at start by
 * each process's composition root. Every variable is validated; all problems
 * are reported together, one line per variable, so an operator fixes them in
 * one go.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Log levels pino accepts, for LOG_LEVEL. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** A map from environment variable name to the schema that parses it. */
export type EnvSchema = Record<string, z.ZodType<unknown, string | undefined>>;

export type EnvValues<S extends EnvSchema> = { readonly [K in keyof S]: z.output<S[K]> };

/**
 * Parses the variables named in `schema`; throws ConfigError listing every
 * bad one. A bad value is quoted back so the operator sees the typo, except
 * a secret's (see `env.secret`), which is never repeated: the message goes to
 * logs and terminals. Credentials inside a quoted URL are masked too.
 */
export function loadEnv<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): EnvValues<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, parser] of Object.entries(schema)) {
    const raw = env[name] === "" ? undefined : env[name];
    const result = parser.safeParse(raw);
    if (result.success) {
      values[name] = result.data;
    } else {
      const why = result.error.issues.map((issue) => issue.message).join("; ");
      if (raw === undefined) problems.push(`${name}: ${why}`);
      else if (isSecret(name, parser)) problems.push(`${name}: ${why} (the value is secret and not shown)`);
      else problems.push(`${name}: ${why} (got "${redactUrlCredentials(raw)}")`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as EnvValues<S>;
}

/** Schemas marked with env.secret(). */
const secretSchemas = new WeakSet<z.ZodType>();

/**
 * Names that hold a secret whatever their schema says: a safety net for a
 * variable added without env.secret(). A false positive only hides a value
 * from an error message.
 */
const SECRET_NAME = /(SECRET|PASSWORD|PRIVATE_KEY|_TOKEN|CREDENTIALS?|_JSON|_CALLERS)$/;

function isSecret(name: string, parser: z.ZodType<unknown, string | undefined>): boolean {
  return secretSchemas.has(parser) || SECRET_NAME.test(name);
}

/**
 * Masks the credentials of every URL in `text`, for values quoted in
 * messages: scheme://user:password@host becomes scheme://user:***@host, a
 * lone user (often a token) becomes ***, and password-like query parameters
 * (?password=..., as libpq and node-postgres accept) become ***.
 */
export function redactUrlCredentials(text: string): string {
  return text
    .replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#]*)@/g, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
    })
    .replace(/([?&](?:password|passwd|pwd|pass|token|secret|key|sslpassword)=)[^&#\s]*/gi, "$1***");
}

/** Helpers for the usual kinds of variables, each with a message that says what is allowed. */
export const env = {
  /**
   * Marks a variable as secret (a password, a key, a URL that may carry
   * credentials): a bad value is reported without repeating it.
   */
  secret<T extends z.ZodType<unknown, string | undefined>>(schema: T): T {
    secretSchemas.add(schema);
    return schema;
  },
  string(fallback?: string) {
    return fallback === undefined ? z.string({ error: "is required" }) : z.string().default(fallback);
  },
  optionalString() {
    return z.string().optional();
  },
  int(min: number, max: number, fallback?: number) {
    const parser = z
      .string({ error: "is required" })
      .regex(/^-?\d+$/, { error: `must be a whole number from ${min} to ${max}` })
      .transform(Number)
      .refine((n) => n >= min && n <= max, { error: `must be a whole number from ${min} to ${max}` });
    return fallback === undefined ? parser : parser.default(fallback);
  },
  port(fallback?: number) {
    return env.int(0, 65535, fallback);
  },
  bool(fallback: boolean) {
    return z
      .enum(["true", "false", "1", "0"], { error: 'must be "true" or "false"' })
      .transform((v) => v === "true" || v === "1")
      .default(fallback);
  },
  oneOf<T extends readonly [string, ...string[]]>(choices: T, fallback: T[number]) {
    return z.enum(choices, { error: `must be one of ${choices.join(", ")}` }).default(fallback);
  },
  /** host:port or a URL; returned as a base URL such as http://127.0.0.1:7001. */
  address(fallback?: string) {
    const parser = z.string({ error: "is required" }).transform((v, ctx) => {
      const url = toBaseUrl(v);
      if (url === undefined) {
        ctx.addIssue({ code: "custom", message: "must be host:port or an http:// URL" });
        return z.NEVER;
      }
      return url;
    });
    return fallback === undefined ? parser : parser.default(fallback);
  },
  optionalAddress() {
    return env.address().optional();
  },
  /** A Postgres connection URL; secret, as it may carry the password. */
  postgresUrl() {
    return env.secret(
      z
        .string()
        .refine((v) => /^postgres(ql)?:\/\//.test(v), { error: "must be a postgres:// URL" })
        .optional(),
    );
  },
};

function toBaseUrl(value: string): string | undefined {
  if (/^https?:\/\//.test(value)) {
    try {
      const url = new URL(value);
      return `${url.protocol}//${url.host}`;
    } catch {
      return undefined;
    }
  }
  const hostPort = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value);
  if (hostPort === null || Number(hostPort[2]) > 65535) return undefined;
  return `http://${value}`;
}

/** Variables every Parley process reads. */
export const commonEnv = {
  LOG_LEVEL: env.oneOf(LOG_LEVELS, "info"),
  /** How long a graceful shutdown lets in-flight work finish before cutting it. */
  SHUTDOWN_GRACE_MS: env.int(0, 120_000, 10_000),
  /** How often the readiness checks (database, etcd, upstreams) run, in the background: /readyz answers from the last round. */
  READINESS_INTERVAL_MS: env.int(100, 600_000, 5_000),
  /** How long one readiness check may take before its dependency counts as unreachable; at most the interval. */
  READINESS_TIMEOUT_MS: env.int(10, 60_000, 2_000),
};
