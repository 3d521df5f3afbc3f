export { createThrowawayDatabase, type ThrowawayDatabase } from "./postgres.js";
export { openTestDb, type TestDbKind } from "./databases.js";
export { startEtcd, testEtcdUrl, uniqueEtcdPrefix, type PrivateEtcd } from "./etcd.js";
export { freePorts } from "./ports.js";
