/** A position in a .proto file, 1-based like compiler messages. */
export interface SourcePosition {
  line: number;
  col: number;
}

export interface ProtoToken extends SourcePosition {
  kind: "ident" | "string" | "number" | "symbol";
  /** The token as written (for strings: with quotes). */
  text: string;
  /** For strings: the unescaped value; otherwise the text. */
  value: string;
}

/** A .proto file that cannot be read as protobuf source, with where. */
export class ProtoSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
    this.name = "ProtoSyntaxError";
  }
}

const SYMBOLS = new Set([";", "{", "}", "[", "]", "(", ")", "<", ">", "=", ",", ".", ":", "-", "+", "/"]);
const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "0": "\0",
};

/**
 * Splits protobuf source into tokens with their positions, skipping whitespace and comments.
 * Enough of the language to find statements and balance blocks; buf does the full compile.
 */
export function tokenizeProto(text: string): ProtoToken[] {
  const tokens: ProtoToken[] = [];
  let index = 0;
  let line = 1;
  let col = 1;

  const advance = (count: number): void => {
    for (let step = 0; step < count; step++) {
      if (text[index] === "\n") {
        line++;
        col = 1;
      } else {
        col++;
      }
      index++;
    }
  };

  while (index < text.length) {
    const char = text[index] ?? "";
    const next = text[index + 1];
    if (/\s/.test(char)) {
      advance(1);
    } else if (char === "/" && next === "/") {
      while (index < text.length && text[index] !== "\n") advance(1);
    } else if (char === "/" && next === "*") {
      const start = { line, col };
      const end = text.indexOf("*/", index + 2);
      if (end < 0) throw new ProtoSyntaxError("unterminated /* comment", start.line, start.col);
      advance(end + 2 - index);
    } else if (char === '"' || char === "'") {
      const start = { line, col };
      const from = index;
      let value = "";
      advance(1);
      for (;;) {
        const current = text[index];
        if (current === undefined || current === "\n") {
          throw new ProtoSyntaxError("unterminated string", start.line, start.col);
        }
        if (current === char) break;
        if (current === "\\") {
          const escaped = text[index + 1] ?? "";
          value += ESCAPES[escaped] ?? escaped;
          advance(2);
        } else {
          value += current;
          advance(1);
        }
      }
      advance(1);
      tokens.push({ kind: "string", text: text.slice(from, index), value, ...start });
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(index, index + 256)) ?? [char];
      tokens.push({ kind: "ident", text: match[0], value: match[0], line, col });
      advance(match[0].length);
    } else if (/[0-9]/.test(char) || (char === "." && /[0-9]/.test(next ?? ""))) {
      const match = /^(?:0[xX][0-9A-Fa-f]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)/.exec(
        text.slice(index, index + 256),
      ) ?? [char];
      tokens.push({ kind: "number", text: match[0], value: match[0], line, col });
      advance(match[0].length);
    } else if (SYMBOLS.has(char)) {
      tokens.push({ kind: "symbol", text: char, value: char, line, col });
      advance(1);
    } else {
      throw new ProtoSyntaxError(`unexpected character ${JSON.stringify(char)}`, line, col);
    }
  }
  return tokens;
}
