export { gatewayRoutes, gatewayServiceNames, type GatewayUpstreams } from "./server.js";
export { startGateway, type RunningGateway, type GatewayUpstreamTransports } from "./wiring.js";
export { loadGatewayConfig, gatewayEnv, type GatewayConfig } from "./config.js";
export { forwardUnary } from "./forward.js";
export { deliverAccess } from "./access.js";
export { SOCKET_CLOSE_WAIT_MS } from "./ws/websocket.js";
export { WEB_APP_PATH } from "./web-app.js";
