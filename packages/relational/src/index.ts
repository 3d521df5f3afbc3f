export { isRetryableConflict, isUniqueViolation, type Db, type QueryResult } from "./port.js";
export { openPgliteDb } from "./adapters/pglite-db.js";
export { openPostgresDb, type PostgresOptions } from "./adapters/postgres-db.js";
export { migrate, type Migration } from "./migrate.js";
export { openConfiguredDb } from "./open.js";
export * from "./sqlite/index.js";
export { openConfiguredStorage, postgresStorage, sqliteStorage, type Storage } from "./storage.js";
