import { type ConfigIssue, errorIssue } from "@flow/sdk";
import jsonata from "jsonata";
import { describeSyntaxError } from "./jsonata-error";

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
