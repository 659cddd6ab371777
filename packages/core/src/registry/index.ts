export { listRegistryServices } from "./registry-client";
export { descriptorFromJson, descriptorToJson } from "./registry-messages";
export { RegistryServer, type RegistryServerOptions } from "./registry-server";
export {
  DEFAULT_MAX_TTL_SECONDS,
  type RegistryServiceOptions,
  registryServiceHandlers,
} from "./registry-service";
