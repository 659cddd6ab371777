/**
 * `${NAME}` and `${NAME:-default}` in pipeline string values, the way shells and compose files
 * spell them, so secrets and per-host paths stay out of the file. `$${` writes a literal `${`.
 */

/** Where variables come from; `process.env` unless a caller (a test, an embedding) supplies its own. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface InterpolationProblem {
  /** Which unescaped `${` in the string this is, counting from 0 (to find it again in the YAML source). */
  occurrence: number;
  message: string;
  hint: string;
}

export interface InterpolationResult {
  value: string;
  problems: InterpolationProblem[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(:-([\s\S]*))?$/;

export function interpolateEnvironment(text: string, environment: Environment): InterpolationResult {
  let value = "";
  const problems: InterpolationProblem[] = [];
  let occurrence = 0;
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      value += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      value += text[i];
      i += 1;
      continue;
    }
    const close = text.indexOf("}", i + 2);
    if (close < 0) {
      problems.push({
        occurrence,
        message: `found an unterminated "\${" in ${JSON.stringify(text)}, expected \${NAME} or \${NAME:-default}`,
        hint: 'close it with "}", or write "$${" for a literal "${"',
      });
      value += text.slice(i);
      break;
    }
    const inner = text.slice(i + 2, close);
    const match = REFERENCE.exec(inner);
    if (!match) {
      problems.push({
        occurrence,
        message: `found "\${${inner}}", expected \${NAME} or \${NAME:-default} with NAME made of letters, digits and _`,
        hint: 'write "$${" for a literal "${"',
      });
      value += text.slice(i, close + 1);
    } else {
      const name = match[1] as string;
      const fallback = match[3];
      const set = environment[name];
      // Like the shell's ":-": an empty variable also takes the default.
      if (fallback !== undefined && (set === undefined || set === "")) value += fallback;
      else if (set !== undefined) value += set;
      else {
        problems.push({
          occurrence,
          message: `environment variable ${name} is not set, expected it to be set since \${${name}} has no default`,
          hint: `set it (export ${name}=...) or give a default: \${${name}:-value}`,
        });
        value += text.slice(i, close + 1);
      }
    }
    occurrence += 1;
    i = close + 1;
  }
  return { value, problems };
}

/** The offset of the n-th unescaped `${` in a text, counted the same way as above; -1 if absent. */
export function offsetOfReference(text: string, occurrence: number): number {
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith("$${", i)) {
      i += 2;
      continue;
    }
    if (text.startsWith("${", i)) {
      if (seen === occurrence) return i;
      seen += 1;
    }
  }
  return -1;
}

const CORE_NULL = /^(null|Null|NULL|~)$/;
const CORE_BOOLEAN = /^(true|True|TRUE|false|False|FALSE)$/;
const CORE_INTEGER = /^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;
const CORE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * What an unquoted (plain) YAML scalar means once its variables are filled in, by the YAML 1.2
 * core schema: `batch: { maxSize: ${BATCH:-100} }` gives the number 100, while a quoted
 * `"${BATCH:-100}"` stays the string "100".
 */
export function resolvePlainScalar(text: string): string | number | boolean | null {
  if (CORE_NULL.test(text)) return null;
  if (CORE_BOOLEAN.test(text)) return text.toLowerCase() === "true";
  if (CORE_INTEGER.test(text)) {
    if (text.startsWith("0o")) return Number.parseInt(text.slice(2), 8);
    return Number(text);
  }
  if (CORE_FLOAT.test(text)) return Number(text);
  return text;
}
