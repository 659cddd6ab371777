export * from "./config";
export * from "./state";
export * from "./clients/health-client";
export * from "./clients/service-clients";
export * from "./discovery/service-endpoint";
export * from "./discovery/workspace-packages";
export * from "./engine";
export * from "./negotiation/negotiate";
