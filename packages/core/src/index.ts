export * from "./clients/service-clients";
export * from "./config";
export * from "./discovery/service-endpoint";
export * from "./discovery/workspace-packages";
export * from "./engine";
export * from "./negotiation/negotiate";
export * from "./registry";
export * from "./state";
