import { readFileSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls, rootCertificates } from "node:tls";
import { type ConfigIssue, errorIssue } from "@flow/sdk";
import type { HttpConsumerConfig } from "./http-consumer-config";

const REACH_TIMEOUT_MS = 3000;

/**
 * Checks what the schema cannot (a template for format template, a readable caFile) and, in
 * validate-only, reaches the URL's host: a TCP connection, and for https a TLS handshake that checks the
 * server's certificate (with caFile). A name that does not resolve, a refused connection, a
 * timeout or an untrusted certificate is reported at /url; an unreadable caFile at /caFile.
 * Nothing is sent: a request could be taken as an event.
 */
export async function validateHttpConsumer(
  config: HttpConsumerConfig,
  validateOnly: boolean,
): Promise<ConfigIssue[]> {
  if (config.format === "template" && config.template === undefined)
    return [
      errorIssue("/template", 'format "template" needs a template: the JSON body to make of each event'),
    ];
  let ca: string[] | undefined;
  if (config.caFile !== undefined) {
    try {
      ca = [...rootCertificates, readFileSync(config.caFile, "utf8")];
    } catch (error) {
      return [
        errorIssue(
          "/caFile",
          `cannot read ${config.caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        ),
      ];
    }
  }
  // At a stream's start a server that is down must make retryable answers, not a failed start.
  if (!validateOnly) return [];
  const url = new URL(config.url);
  const https = url.protocol === "https:";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (https ? 443 : 80));
  const problem = await new Promise<string | undefined>((resolve) => {
    const socket: Socket = https
      ? connectTls({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ca })
      : connectTcp({ host, port });
    const done = (message: string | undefined): void => {
      socket.destroy();
      resolve(message);
    };
    socket.setTimeout(REACH_TIMEOUT_MS, () => done(`no connection within ${REACH_TIMEOUT_MS} ms`));
    socket.once(https ? "secureConnect" : "connect", () => done(undefined));
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN")
        return done(`cannot resolve ${host} (${error.code})`);
      done(`${error.code ? `${error.code} ` : ""}${error.message}`);
    });
  });
  return problem === undefined ? [] : [errorIssue("/url", `cannot reach ${url.host}: ${problem}`)];
}
