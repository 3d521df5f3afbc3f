export { createThrowawayDatabase, type ThrowawayDatabase } from "./postgres.js";
