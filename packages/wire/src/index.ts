/**
 * @parley/wire: the client WebSocket protocol, shared by the SDK
 * (`@parley/client`) and the gateway. Depends only on the contracts.
 */
export * from "./protocol.js";
export * from "./replies.js";
export { binaryEncoder, type BinaryEncoderOptions } from "./binary-encoder.js";
