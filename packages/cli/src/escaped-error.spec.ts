import { UserError } from "@flow/errors";
import { reportEscapedError } from "./escaped-error";
import { EXIT } from "./exit-codes";

function report(error: unknown): { code: number; text: string } {
  let text = "";
  const code = reportEscapedError(error, (chunk) => {
    text += chunk;
  });
  return { code, text };
}

describe("reportEscapedError: whatever escapes a command is one clear line, never a stack", () => {
  it("prints a user error with its hint and its own exit code", () => {
    expect(report(new UserError("bad thing", { hint: "do this", exitCode: 2 }))).toEqual({
      code: 2,
      text: "error: bad thing\n  hint: do this\n",
    });
  });

  it("takes an error with a system or database code for the environment failing (exit 1)", () => {
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    expect(report(full)).toEqual({
      code: EXIT.findings,
      text: "error: ENOSPC: no space left on device, write\n",
    });
    const sqlite = Object.assign(new Error("no such table: runs"), { code: "SQLITE_ERROR" });
    expect(report(sqlite)).toEqual({
      code: EXIT.findings,
      text: "error: no such table: runs (SQLITE_ERROR)\n",
    });
  });

  it("calls anything else a bug (exit 70), on one line, and says how to get the stack", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')\n    at somewhere");
    const { code, text } = report(bug);
    expect(code).toBe(EXIT.internal);
    expect(text.split("\n")[0]).toBe(
      "error: internal error: Cannot read properties of undefined (reading 'x')",
    );
    expect(text).toMatch(/hint: this is a bug in Flow; run again with FLOW_DEBUG=1/);
    expect(text).not.toMatch(/\n\s+at /);
    const nodeBug = Object.assign(new Error("bad argument"), { code: "ERR_INVALID_ARG_TYPE" });
    expect(report(nodeBug).code).toBe(EXIT.internal);
  });
});
