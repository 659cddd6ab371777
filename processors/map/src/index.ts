export { type MapConfig, mapConfigSchema } from "./map-config";
export { type MapState, mapProcessor } from "./map-processor";
