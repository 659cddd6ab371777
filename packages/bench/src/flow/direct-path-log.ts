// Which edges of a run went direct, as Core says once at the start of `flow run` (a JSON log line
// on stderr: "direct data path" with its `edges`, "direct data path: no edge can use it", or
// "direct data path off: every batch goes through Core"). A scenario that compares the direct path
// with Core's own checks it, so a silent fall-back cannot make one figure of two look like both.

const MESSAGE = "direct data path";

/** Reads Core's stderr as it comes, chunk by chunk, until the direct data path line has passed. */
export class DirectPathLog {
  private pending = "";
  private found: string[] | undefined;

  /** The edges ("gen -> identity") Core made direct: [] when none or the switch is off; undefined before the line. */
  get edges(): string[] | undefined {
    return this.found;
  }

  add(chunk: string): void {
    if (this.found !== undefined) return;
    const lines = (this.pending + chunk).split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) {
      this.found = directEdgesOf(line);
      if (this.found !== undefined) {
        this.pending = "";
        return;
      }
    }
  }
}

function directEdgesOf(line: string): string[] | undefined {
  if (!line.includes(MESSAGE)) return undefined;
  let entry: { msg?: unknown; edges?: unknown };
  try {
    entry = JSON.parse(line) as { msg?: unknown; edges?: unknown };
  } catch {
    return undefined;
  }
  if (typeof entry.msg !== "string" || !entry.msg.startsWith(MESSAGE)) return undefined;
  return Array.isArray(entry.edges) ? entry.edges.map(String) : [];
}
