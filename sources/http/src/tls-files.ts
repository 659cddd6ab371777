import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { type ConfigIssue, errorIssue } from "@flow/sdk";
import type { HttpSourceConfig } from "./http-source-config";

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads and checks the certificate and key files: each must exist and parse as PEM, and the key
 * must belong to the certificate. Returns the material, or the problems at their config keys.
 */
export function readTlsFiles(tls: NonNullable<HttpSourceConfig["tls"]>): {
  material?: TlsMaterial;
  issues: ConfigIssue[];
} {
  const issues: ConfigIssue[] = [];
  const read = (file: string, pointer: string): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch (error) {
      issues.push(
        errorIssue(
          pointer,
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        ),
      );
      return undefined;
    }
  };
  const cert = read(tls.certFile, "/tls/certFile");
  const key = read(tls.keyFile, "/tls/keyFile");
  if (cert) {
    try {
      new X509Certificate(cert);
    } catch (error) {
      issues.push(
        errorIssue("/tls/certFile", `${tls.certFile} is not a PEM certificate: ${(error as Error).message}`),
      );
    }
  }
  if (key) {
    try {
      createPrivateKey(key);
    } catch (error) {
      issues.push(
        errorIssue("/tls/keyFile", `${tls.keyFile} is not a PEM private key: ${(error as Error).message}`),
      );
    }
  }
  if (issues.length > 0 || !cert || !key) return { issues };
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    return {
      issues: [
        errorIssue(
          "/tls/keyFile",
          `${tls.keyFile} does not go with ${tls.certFile}: ${(error as Error).message}`,
        ),
      ],
    };
  }
  return { material: { cert, key }, issues };
}
