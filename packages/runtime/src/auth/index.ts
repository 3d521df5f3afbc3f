export { accessPolicy, mergePolicies, REFLECTION_ROLES, withReflection, type AccessPolicy, type MethodRule, type ServiceRules } from "./access-policy.js";
export { serviceTokenInterceptor } from "./client-auth.js";
export { internalPlaneEnv, internalPlaneSettings, openInternalPlane, type InternalPlane, type InternalPlaneSettings } from "./internal-plane.js";
export { generateSigningKey, keyId, parsePrivateKey, privateKeyPem, publicKeyPem, type SigningKey } from "./keys.js";
export {
  actingUserKey,
  callerKey,
  CLIENT_ADDRESS_HEADER,
  clientAddressKey,
  DEVICE_HEADER,
  parsePrincipal,
  ROLES,
  SERVICE_TOKEN_HEADER,
  USER_HEADER,
  type ActingUser,
  type Principal,
  type Role,
} from "./principals.js";
export { inProcessCaller, serviceAuthInterceptor } from "./server-auth.js";
export { ServiceTokenSigner, ServiceTokenVerifier } from "./service-tokens.js";
export { parseTrustFile, TrustStore } from "./trust-store.js";
export { inProcessTransport, type InProcessOptions } from "./in-process.js";
export { audited } from "./audit.js";
