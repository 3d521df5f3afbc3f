export { startAccount, type RunningAccount } from "./wiring.js";
export { Accounts } from "./domain/accounts.js";
export { loadAccountConfig, accountEnv, type AccountConfig } from "./config.js";
export { mapAccountError } from "./errors.js";
export { accountMigrations } from "./adapters/migrations.js";
export { SqlAccountStore } from "./adapters/sql-account-store.js";
export { SqliteAccountStore } from "./adapters/sqlite/sqlite-account-store.js";
export { accountAccess } from "./access.js";
