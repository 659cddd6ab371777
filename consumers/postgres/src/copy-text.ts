import type { SqlValue } from "@flow/sql-rows";

/**
 * Rows in COPY's text format (https://www.postgresql.org/docs/current/sql-copy.html): a tab
 * between columns, a newline after each row, `\N` for NULL, backslash escapes for backslash, tab,
 * newline and carriage return, bytea as `\\x` and hex. A value is written as the same text an
 * INSERT parameter would send (booleans as true/false), so both paths store the same value.
 */
export function copyText(rows: readonly (readonly SqlValue[])[]): string {
  let out = "";
  for (const values of rows) {
    out += values.map(copyField).join("\t");
    out += "\n";
  }
  return out;
}

function copyField(value: SqlValue): string {
  if (value === null) return "\\N";
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString("hex")}`;
  if (typeof value !== "string") return String(value);
  return value.replace(/[\\\t\n\r]/g, (char) => ESCAPES[char] as string);
}

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
