export { SqliteConnection, type SqliteParams, type SqliteRow } from "./connection.js";
export { isSqliteUniqueViolation, SqliteEngine, SqliteError, type Procedures, type SqliteOptions } from "./engine.js";
