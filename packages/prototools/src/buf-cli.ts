import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { PNPM_CLI, UserError } from "@flow/errors";

/** One message buf printed with `--error-format=json`. */
export interface BufDiagnostic {
  /** As buf printed it (relative to buf's working folder); absent for file-less findings. */
  path?: string;
  line: number;
  col: number;
  /** The rule (`FIELD_NO_DELETE`) or `COMPILE`. */
  type: string;
  message: string;
}

export interface BufRun {
  status: number;
  diagnostics: BufDiagnostic[];
  /** Lines buf printed that were not diagnostics (`Failure: ...`). */
  otherOutput: string[];
}

// buf's own module configuration, passed inline so that whatever buf.yaml or buf.work.yaml a
// repository keeps (for its own `buf lint`) cannot change what these commands compile or compare.
const INLINE_CONFIG = JSON.stringify({ version: "v1", breaking: { use: ["FILE"] } });

let cachedExecutable: { command: string; prefix: string[] } | undefined;

/**
 * The buf executable: $FLOW_BUF, else the platform binary shipped inside the @bufbuild/buf npm
 * package (skipping its node wrapper saves a process per call), else that wrapper.
 */
export function bufExecutable(): { command: string; prefix: string[] } {
  cachedExecutable ??= locateBuf();
  return cachedExecutable;
}

function locateBuf(): { command: string; prefix: string[] } {
  if (process.env.FLOW_BUF) return { command: process.env.FLOW_BUF, prefix: [] };
  let wrapper: string;
  try {
    wrapper = require.resolve("@bufbuild/buf/bin/buf");
  } catch {
    throw new UserError("buf is not installed (npm package @bufbuild/buf)", {
      hint: `run ${PNPM_CLI} install, or set FLOW_BUF to a buf executable`,
    });
  }
  const arch = process.arch === "arm64" && process.platform === "linux" ? "aarch64" : process.arch;
  const binary = process.platform === "win32" ? "buf.exe" : "buf";
  try {
    const platformPackage = require.resolve(`@bufbuild/buf-${process.platform}-${arch}/package.json`, {
      paths: [dirname(dirname(wrapper))],
    });
    const candidate = join(dirname(platformPackage), "bin", binary);
    if (existsSync(candidate)) return { command: candidate, prefix: [] };
  } catch {
    // fall through to the wrapper, which knows more platforms
  }
  return { command: process.execPath, prefix: [wrapper] };
}

/** Runs buf in `cwd` with `--error-format=json` and the inline configuration appended. */
export function runBuf(args: readonly string[], cwd: string, options: { against?: boolean } = {}): BufRun {
  const { command, prefix } = bufExecutable();
  const configArgs = [
    "--config",
    INLINE_CONFIG,
    ...(options.against ? ["--against-config", INLINE_CONFIG] : []),
  ];
  const result = spawnSync(command, [...prefix, ...args, ...configArgs, "--error-format=json"], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    throw new UserError(`could not run buf: ${result.error.message}`, {
      hint: "set FLOW_BUF to a buf executable",
    });
  }
  const diagnostics: BufDiagnostic[] = [];
  const otherOutput: string[] = [];
  for (const line of `${result.stdout}\n${result.stderr}`.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const diagnostic = parseDiagnostic(trimmed);
    if (diagnostic) diagnostics.push(diagnostic);
    else otherOutput.push(trimmed);
  }
  return { status: result.status ?? 1, diagnostics, otherOutput };
}

function parseDiagnostic(line: string): BufDiagnostic | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const data = JSON.parse(line) as Record<string, unknown>;
    if (typeof data.message !== "string") return undefined;
    return {
      ...(typeof data.path === "string" ? { path: data.path } : {}),
      line: typeof data.start_line === "number" ? data.start_line : 1,
      col: typeof data.start_column === "number" ? data.start_column : 1,
      type: typeof data.type === "string" ? data.type : "COMPILE",
      message: data.message,
    };
  } catch {
    return undefined;
  }
}
