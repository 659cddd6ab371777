/**
 * Whether an expression's result is a function rather than data. JSONata represents its lambdas and
 * bound native functions as tagged objects, which JSON.stringify would turn into `{}`.
 */
export function isJsonataFunction(value: unknown): boolean {
  if (typeof value === "function") return true;
  if (typeof value !== "object" || value === null) return false;
  const tagged = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
  return tagged._jsonata_lambda === true || tagged._jsonata_function === true;
}
