import { type ConfigIssue, errorIssue } from "@flow/sdk";
import jsonata from "jsonata";

export type CompiledExpression = jsonata.Expression;

export interface ExpressionLimits {
  /** Longest evaluation of one event, in milliseconds. */
  timeoutMs: number;
  /** Deepest nesting of function calls (runaway recursion). */
  maxDepth?: number;
}

/** Deep enough for any sensible expression, shallow enough to stop runaway recursion early. */
const DEFAULT_MAX_DEPTH = 500;

/**
 * Compiles a JSONata expression. JSONata is a query language with no access to the process: no
 * `eval`, no I/O, no globals; a time and depth limit stops an expression that would not end. A
 * syntax error becomes a configuration issue at `configPath` saying where it is (line, column and
 * JSONata's character position) and what JSONata expected.
 */
export function compileExpression(
  text: string,
  configPath: string,
  limits: ExpressionLimits,
): { expression: CompiledExpression; issues: [] } | { expression?: undefined; issues: ConfigIssue[] } {
  try {
    const expression = jsonata(text, {
      timeout: limits.timeoutMs,
      stack: limits.maxDepth ?? DEFAULT_MAX_DEPTH,
    });
    return { expression, issues: [] };
  } catch (error) {
    return { issues: [errorIssue(configPath, describeSyntaxError(text, error))] };
  }
}

/** Like compileExpression, for a configuration that already passed validation. */
export function mustCompile(text: string, configPath: string, limits: ExpressionLimits): CompiledExpression {
  const { expression, issues } = compileExpression(text, configPath, limits);
  if (!expression) throw new Error(issues.map((issue) => issue.message).join("; "));
  return expression;
}

interface JsonataErrorShape {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

function describeSyntaxError(text: string, error: unknown): string {
  const { code, position, token, message } = error as JsonataErrorShape;
  if (typeof position !== "number") return `invalid JSONata expression: ${message ?? String(error)}`;
  // JSONata reports the position just after the offending token; point at the token itself.
  const start =
    token && token !== "(end)" ? Math.max(0, position - token.length) : Math.min(position, text.length);
  const before = text.slice(0, start).split("\n");
  const line = before.length;
  const column = (before.at(-1)?.length ?? 0) + 1;
  return `JSONata syntax error at line ${line}, column ${column} (position ${position}): ${message ?? "invalid expression"}${code ? ` [${code}]` : ""}`;
}

/** Why an evaluation failed, in one line: JSONata's message, its error code and position. */
export function describeEvaluationError(error: unknown): string {
  const { code, position, message } = error as JsonataErrorShape;
  const where = typeof position === "number" && position > 0 ? ` at position ${position}` : "";
  return `${message ?? String(error)}${code ? ` [${code}${where}]` : ""}`;
}

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

/** JSONata represents its lambdas and bound native functions as tagged objects. */
export function isJsonataFunction(value: unknown): boolean {
  if (typeof value === "function") return true;
  if (typeof value !== "object" || value === null) return false;
  const tagged = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
  return tagged._jsonata_lambda === true || tagged._jsonata_function === true;
}
