import { ConfigError, env, secretFromFile, type EnvValues } from "@parley/runtime";
import { z } from "zod";
import type { CassandraSettings } from "./adapters/store/cassandra/cql.js";

/** The variables that choose and configure chat's message store. */
export const messageStoreEnv = {
  /** sql: Postgres with DATABASE_URL, else the embedded SQLite; cassandra: the cluster below (needs CHAT_DELIVERY_BUS=kafka). */
  CHAT_MESSAGE_STORE: env.oneOf(["sql", "cassandra"], "sql"),
  /** Comma-separated host or host:port of Cassandra nodes (9042 by default); required with CHAT_MESSAGE_STORE=cassandra. */
  CASSANDRA_CONTACT_POINTS: z
    .string()
    .transform((value, ctx) => {
      const points = value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      if (points.length === 0 || !points.every(isHostMaybePort)) {
        ctx.addIssue({ code: "custom", message: "must be comma-separated host or host:port (port 1-65535), such as cassandra-0,cassandra-1:9042" });
        return z.NEVER;
      }
      return points;
    })
    .optional(),
  /** The data center chat runs in (the driver sends queries to its nodes); required with cassandra. */
  CASSANDRA_LOCAL_DATACENTER: cqlName("a data center", 1, 100, "[A-Za-z0-9_.-]").optional(),
  CASSANDRA_KEYSPACE: cqlName("a keyspace", 1, 48, "[a-z0-9_]").default("parley"),
  /** Replicas in the local data center, used only when chat creates the keyspace. */
  CASSANDRA_REPLICATION_FACTOR: env.int(1, 15, 3),
  CASSANDRA_USERNAME: env.optionalString(),
  /** A file holding the password (read at each new connection, so it can rotate); needs CASSANDRA_USERNAME. */
  CASSANDRA_PASSWORD_FILE: env.optionalString(),
};

export type MessageStoreSettings = { kind: "sql" } | ({ kind: "cassandra" } & CassandraSettings);

type Values = EnvValues<typeof messageStoreEnv> & { readonly CHAT_DELIVERY_BUS: string };

/**
 * The store settings; throws ConfigError listing every problem. Cassandra
 * needs the Kafka bus: the Postgres delivery outbox that hands an entry on
 * when its chat process died has no Cassandra form, and the Kafka log is the
 * hand-off between chat processes instead (docs/architecture.md).
 */
export function messageStoreSettings(v: Values): MessageStoreSettings {
  if (v.CHAT_MESSAGE_STORE === "sql") return Object.freeze({ kind: "sql" });
  const problems: string[] = [];
  if (v.CASSANDRA_CONTACT_POINTS === undefined) problems.push("CASSANDRA_CONTACT_POINTS: is required when CHAT_MESSAGE_STORE is cassandra");
  if (v.CASSANDRA_LOCAL_DATACENTER === undefined) problems.push("CASSANDRA_LOCAL_DATACENTER: is required when CHAT_MESSAGE_STORE is cassandra");
  if (v.CHAT_DELIVERY_BUS !== "kafka") {
    problems.push(
      "CHAT_MESSAGE_STORE: cassandra needs CHAT_DELIVERY_BUS=kafka (the delivery outbox exists only on the SQL store; with Cassandra the Kafka log hands entries on)",
    );
  }
  if ((v.CASSANDRA_USERNAME === undefined) !== (v.CASSANDRA_PASSWORD_FILE === undefined)) {
    problems.push(
      v.CASSANDRA_USERNAME === undefined ? "CASSANDRA_PASSWORD_FILE: needs CASSANDRA_USERNAME" : "CASSANDRA_USERNAME: needs CASSANDRA_PASSWORD_FILE",
    );
  }
  if (problems.length > 0 || v.CASSANDRA_CONTACT_POINTS === undefined || v.CASSANDRA_LOCAL_DATACENTER === undefined) throw new ConfigError(problems);
  return Object.freeze({
    kind: "cassandra",
    contactPoints: Object.freeze(v.CASSANDRA_CONTACT_POINTS),
    localDataCenter: v.CASSANDRA_LOCAL_DATACENTER,
    keyspace: v.CASSANDRA_KEYSPACE,
    replicationFactor: v.CASSANDRA_REPLICATION_FACTOR,
    ...(v.CASSANDRA_USERNAME !== undefined && v.CASSANDRA_PASSWORD_FILE !== undefined
      ? { username: v.CASSANDRA_USERNAME, password: secretFromFile("CASSANDRA_PASSWORD_FILE", v.CASSANDRA_PASSWORD_FILE) }
      : {}),
  });
}

/** Keyspace and data center names go into CQL text (schema.ts), so only these characters are allowed. */
function cqlName(what: string, min: number, max: number, characters: string) {
  const allowed = characters === "[a-z0-9_]" ? "lower-case letters, digits or _" : "letters, digits, _, . or -";
  return z.string().regex(new RegExp(`^${characters}{${min},${max}}$`), { error: `must be ${what} name of ${min} to ${max} ${allowed}` });
}

function isHostMaybePort(value: string): boolean {
  const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?$/.exec(value);
  if (match === null) return false;
  if (match[1]!.startsWith("[") && match[2] === undefined) return false;
  return match[2] === undefined || (Number(match[2]) >= 1 && Number(match[2]) <= 65535);
}
