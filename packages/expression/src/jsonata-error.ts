/** What JSONata puts on the errors it throws, at compile and at evaluation time. */
interface JsonataErrorShape {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

/** Where a syntax error is (line, column, JSONata's position) and what JSONata expected, in one line. */
export function describeSyntaxError(text: string, error: unknown): string {
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
