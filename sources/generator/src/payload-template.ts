/** What a placeholder of the payload template (or the subject) is replaced with for one event. */
export interface PlaceholderValues {
  seq: bigint;
  id: string;
  stage: string;
  /** RFC 3339 */
  time: string;
}

export const DEFAULT_TEMPLATE = { seq: "{{seq}}" };

type Part = string | ((values: PlaceholderValues) => string);
type PlaceholderName = keyof PlaceholderValues;

// In JSON, `"{{seq}}"` (a whole string) becomes a bare number; anywhere else a placeholder is text.
const JSON_PLACEHOLDER = /"\{\{seq\}\}"|\{\{(seq|id|stage|time)\}\}/g;
const TEXT_PLACEHOLDER = /\{\{(seq|id|stage|time)\}\}/g;

/**
 * A payload template compiled once: its JSON text is split around the placeholders, so rendering an
 * event is a string join rather than a walk of the template - the generator is also a load tool.
 */
export class PayloadTemplate {
  private readonly parts: Part[];
  /** The placeholders the template holds: the generator computes only these (formatting a time is not free). */
  readonly uses = new Set<PlaceholderName>();
  /** "x" * size, sliced for each event's padding instead of building a new run of "x". */
  private readonly padding: string;

  constructor(
    template: unknown,
    private readonly size?: number,
  ) {
    this.parts = compile(JSON.stringify(template), true, this.uses);
    this.padding = "x".repeat(size ?? 0);
  }

  render(values: PlaceholderValues): Buffer {
    const json = join(this.parts, values);
    if (this.size === undefined) return Buffer.from(json, "utf8");
    return Buffer.from(pad(json, this.size, this.padding), "utf8");
  }
}

/** A plain-text template (the subject): placeholders are replaced verbatim. */
export class TextTemplate {
  private readonly parts: Part[];
  readonly uses = new Set<PlaceholderName>();

  constructor(text: string) {
    this.parts = compile(text, false, this.uses);
  }

  render(values: PlaceholderValues): string {
    return join(this.parts, values);
  }
}

function compile(text: string, json: boolean, uses: Set<PlaceholderName>): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(json ? JSON_PLACEHOLDER : TEXT_PLACEHOLDER)) {
    const index = match.index ?? 0;
    if (index > last) parts.push(text.slice(last, index));
    const whole = match[0];
    if (whole.startsWith('"')) {
      uses.add("seq");
      parts.push((values) => values.seq.toString());
    } else {
      uses.add(match[1] as PlaceholderName);
      parts.push(placeholder(match[1] as PlaceholderName, json));
    }
    last = index + whole.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function placeholder(name: PlaceholderName, json: boolean): (values: PlaceholderValues) => string {
  // Inside a JSON string the value must be escaped; the stage id is the only one that may need it.
  const escapeText = json ? (text: string) => JSON.stringify(text).slice(1, -1) : (text: string) => text;
  switch (name) {
    case "seq":
      return (values) => values.seq.toString();
    case "id":
      return (values) => escapeText(values.id);
    case "stage":
      return (values) => escapeText(values.stage);
    case "time":
      return (values) => values.time;
  }
}

function join(parts: Part[], values: PlaceholderValues): string {
  let out = "";
  for (const part of parts) out += typeof part === "string" ? part : part(values);
  return out;
}

/**
 * Adds a "pad" member to a JSON object text so that its UTF-8 length is `size`, when it fits;
 * `padding` is at least `size` characters of "x".
 */
function pad(json: string, size: number, padding: string): string {
  const length = Buffer.byteLength(json, "utf8");
  const empty = json === "{}";
  const overhead = empty ? '"pad":""'.length : ',"pad":""'.length;
  const fill = size - length - overhead;
  if (fill < 0 || !json.endsWith("}")) return json;
  return `${json.slice(0, -1)}${empty ? "" : ","}"pad":"${padding.slice(0, fill)}"}`;
}
