export { gatewayRoutes, gatewayServiceNames, type GatewayUpstreams } from "./server.js";
export { loadGatewayConfig, gatewayEnv, type GatewayConfig } from "./config.js";
export { forwardUnary } from "./forward.js";
