import { isJsonataFunction } from "./jsonata-function";

/**
 * JSONata's own truthiness ($boolean): false for nothing, false, "", 0, empty arrays and objects and
 * functions; an array is true when any member is.
 */
export function jsonataBoolean(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some(jsonataBoolean);
  switch (typeof value) {
    case "boolean":
      return value;
    case "string":
      return value.length > 0;
    case "number":
      return value !== 0;
    case "object":
      return !isJsonataFunction(value) && Object.keys(value).length > 0;
    default:
      return false;
  }
}
