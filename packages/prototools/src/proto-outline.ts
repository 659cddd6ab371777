import { ProtoSyntaxError, type ProtoToken, type SourcePosition, tokenizeProto } from "./proto-tokenizer";

export interface ProtoImport extends SourcePosition {
  path: string;
  modifier?: "public" | "weak";
}

export interface ProtoDefinition extends SourcePosition {
  kind: "message" | "enum" | "service" | "extend";
  name: string;
}

/**
 * The top-level statements of a .proto file, with positions: what the convention rules and the
 * breaking-change gate need to know, and all that can be known when imports do not resolve.
 */
export interface ProtoOutline {
  syntax?: SourcePosition & { value: string };
  edition?: SourcePosition & { value: string };
  package?: SourcePosition & { name: string };
  imports: ProtoImport[];
  definitions: ProtoDefinition[];
}

const TOP_LEVEL = "syntax, edition, package, import, option, message, enum, service or extend";

/**
 * Reads the top-level structure of protobuf source: statements, and blocks balanced by braces.
 * Throws ProtoSyntaxError with a position when the source is not protobuf at that level; the
 * contents of blocks are checked by the real compiler (buf), not here.
 */
export function parseProtoOutline(text: string): ProtoOutline {
  const tokens = tokenizeProto(text);
  const outline: ProtoOutline = { imports: [], definitions: [] };
  let index = 0;

  const peek = (): ProtoToken | undefined => tokens[index];
  const endPosition = (): SourcePosition => {
    const lines = text.split("\n");
    return { line: lines.length, col: (lines.at(-1)?.length ?? 0) + 1 };
  };
  const fail = (message: string, at: SourcePosition | undefined = peek()): never => {
    const where = at ?? endPosition();
    throw new ProtoSyntaxError(message, where.line, where.col);
  };
  const describe = (token: ProtoToken | undefined): string => (token ? `"${token.text}"` : "end of file");
  const expectSymbol = (symbol: string, context: string): ProtoToken => {
    const token = peek();
    if (token?.kind !== "symbol" || token.text !== symbol) {
      fail(`expected "${symbol}" ${context}, found ${describe(token)}`);
    }
    index++;
    return token as ProtoToken;
  };
  /** A string, adjacent literals joined as protoc joins them (`"pro" "to3"` is "proto3"). */
  const expectString = (context: string): ProtoToken => {
    const token = peek();
    if (token?.kind !== "string") fail(`expected a quoted string ${context}, found ${describe(token)}`);
    index++;
    const joined = { ...(token as ProtoToken) };
    while (peek()?.kind === "string") {
      const next = peek() as ProtoToken;
      joined.text += ` ${next.text}`;
      joined.value += next.value;
      index++;
    }
    return joined;
  };
  const fullIdent = (context: string): string => {
    const first = peek();
    if (first?.kind !== "ident") fail(`expected a name ${context}, found ${describe(first)}`);
    index++;
    let name = first?.text ?? "";
    while (peek()?.text === "." && tokens[index + 1]?.kind === "ident") {
      name += `.${tokens[index + 1]?.text}`;
      index += 2;
    }
    return name;
  };
  /** Skips to the `;` ending a statement, stepping over `{...}` aggregate values. */
  const skipStatement = (start: ProtoToken): void => {
    let depth = 0;
    for (;;) {
      const token = peek();
      if (!token) fail(`statement starting here has no ";"`, start);
      index++;
      if (token?.text === "{" && token.kind === "symbol") depth++;
      else if (token?.text === "}" && token.kind === "symbol") {
        if (depth === 0) fail(`unexpected "}"`, token);
        depth--;
      } else if (token?.text === ";" && token.kind === "symbol" && depth === 0) return;
    }
  };
  /** Skips a `{ ... }` block whose `{` is the next token. */
  const skipBlock = (owner: ProtoToken): void => {
    const open = expectSymbol("{", `after ${owner.text}`);
    let depth = 1;
    while (depth > 0) {
      const token = peek();
      if (!token) fail(`"{" opened here is never closed`, open);
      index++;
      if (token?.kind !== "symbol") continue;
      if (token.text === "{") depth++;
      else if (token.text === "}") depth--;
    }
  };

  while (index < tokens.length) {
    const token = peek() as ProtoToken;
    if (token.kind === "symbol" && token.text === ";") {
      index++;
      continue;
    }
    if (token.kind !== "ident") fail(`unexpected ${describe(token)}: expected ${TOP_LEVEL}`);
    index++;
    switch (token.text) {
      case "syntax":
      case "edition": {
        expectSymbol("=", `after ${token.text}`);
        const value = expectString(`after ${token.text} =`);
        expectSymbol(";", `after ${token.text} = ${value.text}`);
        if (outline.syntax || outline.edition) fail(`second ${token.text} statement`, token);
        if (outline.package || outline.imports.length > 0 || outline.definitions.length > 0) {
          fail(`the ${token.text} statement must come first`, token);
        }
        outline[token.text] = { value: value.value, line: token.line, col: token.col };
        break;
      }
      case "package": {
        const name = fullIdent("after package");
        expectSymbol(";", `after package ${name}`);
        if (outline.package) fail("second package statement", token);
        outline.package = { name, line: token.line, col: token.col };
        break;
      }
      case "import": {
        let modifier: ProtoImport["modifier"];
        const next = peek();
        if (next?.kind === "ident" && (next.text === "public" || next.text === "weak")) {
          modifier = next.text;
          index++;
        }
        const path = expectString("after import");
        expectSymbol(";", `after import ${path.text}`);
        outline.imports.push({
          path: path.value,
          line: token.line,
          col: token.col,
          ...(modifier ? { modifier } : {}),
        });
        break;
      }
      case "option":
        skipStatement(token);
        break;
      case "message":
      case "enum":
      case "service":
      case "extend": {
        const name = fullIdent(`after ${token.text}`);
        skipBlock(token);
        outline.definitions.push({ kind: token.text, name, line: token.line, col: token.col });
        break;
      }
      default:
        fail(`unexpected "${token.text}": expected ${TOP_LEVEL}`, token);
    }
  }
  return outline;
}
