export { renderTemplate } from "./body-template";
export * from "./http-consumer";
export * from "./http-consumer-config";
