import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBuf } from "./buf-cli";
import { writeSide } from "./contract-sides";

/** A breaking change found by buf, located below the proto root (`event/v1/event.proto`). */
export interface SideChange {
  relative: string;
  line: number;
  col: number;
  rule: string;
  message: string;
}

/** A side that does not compile: the comparison could not be made. */
export interface SideCompileError {
  side: "current" | "previous";
  /** Below the proto root, when buf named a file. */
  relative?: string;
  line: number;
  col: number;
  message: string;
}

export interface SideComparison {
  changes: SideChange[];
  compileError?: SideCompileError;
}

/**
 * Compares two sides of one contract (`<name>/v<major>`, files collected by collectSide) with
 * buf's FILE rules, each side written on its own in a scratch folder. Only changes in the contract's own files count:
 * what its imports did is the imports' own gate's business.
 */
export function compareSides(
  contractDir: string,
  current: ReadonlyMap<string, string>,
  previous: ReadonlyMap<string, string>,
): SideComparison {
  const scratch = mkdtempSync(join(tmpdir(), "flow-breaking-"));
  try {
    writeSide(join(scratch, "current"), contractDir, current);
    writeSide(join(scratch, "released"), contractDir, previous);
    const run = runBuf(["breaking", "current", "--against", "released"], scratch, { against: true });
    const compileErrors = run.diagnostics.filter((diagnostic) => diagnostic.type === "COMPILE");
    if (compileErrors.length > 0 || (run.status !== 0 && run.diagnostics.length === 0)) {
      const first = compileErrors[0];
      const relative = first?.path?.replace(/^(current|released)\//, "");
      return {
        changes: [],
        compileError: {
          side: first?.path?.startsWith("released/") ? "previous" : "current",
          ...(relative !== undefined ? { relative } : {}),
          line: first?.line ?? 1,
          col: first?.col ?? 1,
          message: first?.message ?? run.otherOutput.join(" "),
        },
      };
    }
    const changes: SideChange[] = [];
    for (const diagnostic of run.diagnostics) {
      // A deleted file has no place in the new tree; buf names it in the message.
      const relative =
        diagnostic.path?.replace(/^current\//, "") ?? /file "([^"]+)"/.exec(diagnostic.message)?.[1];
      if (relative === undefined || !relative.startsWith(`${contractDir}/`)) continue;
      changes.push({
        relative,
        line: diagnostic.line,
        col: diagnostic.col,
        rule: diagnostic.type,
        message: diagnostic.message,
      });
    }
    return { changes };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
