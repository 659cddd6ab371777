import { createScanner, SyntaxKind } from "jsonc-parser";

/**
 * The source text of each top-level member of a JSON object, by name (a repeated name keeps its
 * last value, as JSON.parse does). A parsed-and-reserialised value loses digits: JSON.parse keeps
 * numbers as doubles, so 12345678901234567890 would come back as 12345678901234567000, and 12.50
 * as 12.5. The text must already be valid JSON (it was parsed): this only finds where values lie.
 */
export function jsonMemberTexts(text: string): Map<string, string> {
  const members = new Map<string, string>();
  const scanner = createScanner(text, true);
  let depth = 0;
  let name: string | undefined;
  let awaitingValue = false;
  let valueStart = 0;
  let lastTokenEnd = 0;
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    if (depth === 1) {
      if (token === SyntaxKind.CommaToken || token === SyntaxKind.CloseBraceToken) {
        if (name !== undefined) members.set(name, text.slice(valueStart, lastTokenEnd));
        name = undefined;
      } else if (token === SyntaxKind.ColonToken) {
        awaitingValue = true;
      } else if (awaitingValue) {
        awaitingValue = false;
        valueStart = scanner.getTokenOffset();
      } else if (token === SyntaxKind.StringLiteral) {
        name = scanner.getTokenValue();
      }
    }
    if (token === SyntaxKind.OpenBraceToken || token === SyntaxKind.OpenBracketToken) depth += 1;
    else if (token === SyntaxKind.CloseBraceToken || token === SyntaxKind.CloseBracketToken) depth -= 1;
    lastTokenEnd = scanner.getTokenOffset() + scanner.getTokenLength();
  }
  return members;
}
