import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { HttpSourceConfig } from "./http-source-config";
import { RejectedRequest } from "./rejected-request";

/**
 * Whether a request may deliver events: its bearer token and its body's HMAC signature, when the
 * configuration asks for them. Both compare in constant time (of digests of equal length), so the
 * answer's timing tells a prober nothing of the secret. Throws RejectedRequest(401).
 */
export function checkAuthentication(
  headers: IncomingHttpHeaders,
  body: Buffer,
  config: HttpSourceConfig,
): void {
  if (config.bearerToken !== undefined) checkBearer(headers.authorization, config.bearerToken);
  if (config.signature !== undefined) checkSignature(headers, body, config.signature);
}

/** Only the bearer token: checked before the body is read, so a stranger's upload is not taken in. */
export function checkBearer(authorization: string | undefined, token: string): void {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match || !sameSecret(match[1] ?? "", token))
    throw new RejectedRequest(401, "missing or wrong bearer token (Authorization: Bearer <token>)", {
      "www-authenticate": 'Bearer realm="flow-source-http"',
    });
}

function checkSignature(
  headers: IncomingHttpHeaders,
  body: Buffer,
  signature: NonNullable<HttpSourceConfig["signature"]>,
): void {
  const name = signature.header.toLowerCase();
  const raw = headers[name];
  const given = Array.isArray(raw) ? raw[0] : raw;
  if (given === undefined)
    throw new RejectedRequest(
      401,
      `missing ${signature.header} header (${signature.algorithm}=<hex HMAC of the body>)`,
    );
  const expected = `${signature.algorithm}=${createHmac(signature.algorithm, signature.secret).update(body).digest("hex")}`;
  if (!sameSecret(given.trim().toLowerCase(), expected))
    throw new RejectedRequest(401, `the ${signature.header} signature does not match the body`);
}

/** Constant-time equality of two strings of any lengths. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}
