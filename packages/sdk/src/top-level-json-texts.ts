/** One member of a JSON object (with its name) or one element of a JSON array, as written. */
export interface TopLevelJsonText {
  name?: string;
  text: string;
}

/**
 * The source text of each top-level member of a JSON object, or each element of a JSON array, in
 * order, for text JSON.parse has accepted (this only finds where values lie). Re-serialising a
 * parsed value loses digits - JSON.parse keeps numbers as doubles, so 12345678901234567890 would
 * come back as 12345678901234567000, and 12.50 as 12.5 - so a CloudEvent's `data` is passed on as
 * it was written.
 */
export function topLevelJsonTexts(json: string): TopLevelJsonText[] {
  const parts: TopLevelJsonText[] = [];
  let depth = 0;
  let inArray = false;
  let name: string | undefined;
  let start = -1;
  let lastString = "";
  const endPart = (end: number): void => {
    const text = start < 0 ? "" : json.slice(start, end).trim();
    if (text !== "") parts.push(inArray ? { text } : { name, text });
    name = undefined;
    start = inArray ? end + 1 : -1;
  };
  for (let index = 0; index < json.length; index += 1) {
    const char = json[index];
    if (char === '"') {
      const from = index;
      index += 1;
      while (index < json.length && json[index] !== '"') index += json[index] === "\\" ? 2 : 1;
      lastString = json.slice(from, index + 1);
    } else if (char === "{" || char === "[") {
      if (depth === 0) {
        inArray = char === "[";
        start = inArray ? index + 1 : -1;
      }
      depth += 1;
    } else if (char === "}" || char === "]") {
      if (depth === 1) endPart(index);
      depth -= 1;
    } else if (depth === 1 && char === ",") {
      endPart(index);
    } else if (depth === 1 && char === ":" && !inArray) {
      name = JSON.parse(lastString) as string;
      start = index + 1;
    }
  }
  return parts;
}

/** The source text of each top-level member of a JSON object, by name (a repeated name keeps its last value, as JSON.parse does). */
export function jsonMemberTexts(json: string): Map<string, string> {
  const members = new Map<string, string>();
  for (const { name, text } of topLevelJsonTexts(json)) if (name !== undefined) members.set(name, text);
  return members;
}
