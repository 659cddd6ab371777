import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * `buf curl` (from the @bufbuild/buf package, or `buf` on PATH) is the kit's reflection client:
 * it builds descriptors from what a server serves with protoc's own rules, as grpcurl, Go and C++
 * tools do, so a service it can describe and call is usable by the ecosystem's tools. A
 * JavaScript reflection client would not do: protobuf-es accepts descriptors protoc refuses.
 */
export function bufProgram(): string {
  try {
    const bin = join(dirname(require.resolve("@bufbuild/buf/package.json")), "bin", "buf");
    if (existsSync(bin)) return bin;
  } catch {
    // not installed beside the kit: try PATH
  }
  return "buf";
}

export interface BufCurlResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** `buf curl` against a gRPC target (`host:port`, `unix:<path>`, `dns:///host:port`, `ipv4:a,b`). */
export function bufCurl(
  target: string,
  args: string[],
  path = "",
  timeoutMs = 20_000,
): Promise<BufCurlResult> {
  const { url, unixSocket } = urlOf(target, path);
  const argv = [
    "curl",
    "--protocol",
    "grpc",
    "--http2-prior-knowledge",
    ...(unixSocket ? ["--unix-socket", unixSocket] : []),
    ...args,
    url,
  ];
  return new Promise((resolve) => {
    execFile(
      bufProgram(),
      argv,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const missing = (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
        resolve({
          ok: error === null,
          stdout,
          stderr: missing
            ? "buf is not installed (install the @bufbuild/buf package, or put buf on PATH)"
            : stderr.trim(),
        });
      },
    );
  });
}

function urlOf(target: string, path: string): { url: string; unixSocket?: string } {
  if (target.startsWith("unix:")) return { url: `http://localhost/${path}`, unixSocket: target.slice(5) };
  const address = target
    .replace(/^dns:\/\/\//, "")
    .replace(/^ipv4:/, "")
    .split(",")[0];
  return { url: `http://${address}/${path}` };
}
