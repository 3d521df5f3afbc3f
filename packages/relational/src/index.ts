export { isRetryableConflict, isUniqueViolation, type Db, type DbErrorListener, type QueryResult } from "./port.js";
export { openPostgresDb, type PostgresOptions } from "./adapters/postgres-db.js";
export { migrate, type Migration } from "./migrate.js";
export * from "./sqlite/index.js";
export { openConfiguredStorage, postgresStorage, sqliteStorage, type DatabaseTarget, type Storage } from "./storage.js";
