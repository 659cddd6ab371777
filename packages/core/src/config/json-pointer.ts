import { UserError } from "@flow/errors";

/**
 * Splits an RFC 6901 JSON Pointer ("/columns/2", "/a~1b") into its unescaped segments.
 * Services and ajv both report config issues this way.
 */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "" || pointer === "#") return [];
  const body = pointer.startsWith("#") ? decodeURIComponent(pointer.slice(1)) : pointer;
  if (!body.startsWith("/")) {
    throw new UserError(`invalid JSON Pointer "${pointer}": expected "" or a path starting with "/"`);
  }
  return body
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function formatJsonPointer(segments: readonly (string | number)[]): string {
  return segments.map((segment) => `/${String(segment).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}
