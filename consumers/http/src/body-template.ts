import { cloudEventJsonLine, type FlowEvent } from "@flow/sdk";

const WHOLE = /^\{\{\s*([A-Za-z0-9_.]+)\s*\}\}$/;
const INSIDE = /\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g;

/**
 * A request body made from a template and an event. The event is seen as in the CloudEvents JSON
 * format (attributes and extensions by name; `data` parsed when it is JSON, `data_base64` when it
 * is not), so `{{data.order.id}}` reaches into a JSON payload. A string that is one placeholder
 * becomes the value itself (a number stays a number; null when absent); placeholders inside a
 * longer string become their text.
 */
export function renderTemplate(template: unknown, event: FlowEvent): string {
  const view = JSON.parse(cloudEventJsonLine(event)) as Record<string, unknown>;
  return JSON.stringify(render(template, view));
}

function render(node: unknown, view: Record<string, unknown>): unknown {
  if (typeof node === "string") {
    const whole = WHOLE.exec(node);
    if (whole) return lookup(view, whole[1] as string) ?? null;
    return node.replace(INSIDE, (_, path: string) => text(lookup(view, path)));
  }
  if (Array.isArray(node)) return node.map((item) => render(item, view));
  if (typeof node === "object" && node !== null)
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, render(value, view)]));
  return node;
}

function lookup(view: unknown, path: string): unknown {
  let current = view;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
