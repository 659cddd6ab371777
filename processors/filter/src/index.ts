export { type FilterConfig, filterConfigSchema } from "./filter-config";
export { type FilterState, filterProcessor } from "./filter-processor";
