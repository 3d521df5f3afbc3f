export { createThrowawayDatabase, type ThrowawayDatabase } from "./postgres.js";
export { openTestDb, openTestStorage, type TestStorageKind } from "./databases.js";
export { startEtcd, testEtcdUrl, uniqueEtcdPrefix, type EtcdSecurity, type PrivateEtcd } from "./etcd.js";
export { issueCertificate, writeCertificates, writeServiceKeys, type Certificates, type ServiceKeys } from "./credentials.js";
export { testCredentials, TEST_PRINCIPALS, type TestCredentials } from "./planes.js";
export { freePorts } from "./ports.js";
export { startPostgres, type PrivatePostgres, type PrivatePostgresOptions } from "./private-postgres.js";
export { until, type UntilOptions } from "./until.js";
export { FakeClock } from "./fake-clock.js";
