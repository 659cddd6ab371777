/**
 * The source text of each member of a JSON object, by name, for text JSON.parse has accepted.
 * Re-serialising a parsed value loses digits (12345678901234567890 comes back as
 * 12345678901234567000), so a structured CloudEvent's `data` is passed on as it was written.
 */
export function topLevelJsonTexts(json: string): Map<string, string> {
  const texts = new Map<string, string>();
  let depth = 0;
  let name: string | undefined;
  let valueStart = -1;
  let lastString = "";
  let index = 0;
  const endValue = (end: number): void => {
    if (name !== undefined && valueStart >= 0) texts.set(name, json.slice(valueStart, end).trim());
    name = undefined;
    valueStart = -1;
  };
  while (index < json.length) {
    const char = json[index] as string;
    if (char === '"') {
      const start = index;
      index += 1;
      while (index < json.length && json[index] !== '"') index += json[index] === "\\" ? 2 : 1;
      lastString = json.slice(start, index + 1);
    } else if (char === "{" || char === "[") {
      depth += 1;
    } else if (char === "}" || char === "]") {
      if (depth === 1) endValue(index);
      depth -= 1;
    } else if (depth === 1 && char === ":") {
      name = JSON.parse(lastString) as string;
      valueStart = index + 1;
    } else if (depth === 1 && char === ",") {
      endValue(index);
    }
    index += 1;
  }
  return texts;
}
