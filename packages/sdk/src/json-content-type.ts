/**
 * True when a datacontenttype says JSON: application/json, text/json or any `+json` suffix, with or
 * without parameters. An absent content type counts as JSON, as the CloudEvents JSON format assumes.
 */
export function isJsonContentType(contentType: string): boolean {
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return (
    mediaType === "" ||
    mediaType === "application/json" ||
    mediaType === "text/json" ||
    mediaType.endsWith("+json")
  );
}
