/**
 * A URL with its password replaced by `***`, for messages and logs: the user name and everything
 * else stay, so the reader still sees which server and which account. Text that is not a URL is
 * returned as it is (it has no password part to find).
 */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
