import { telltaleLine } from "./spawned-service";

describe("the stderr line a failed start is reported with", () => {
  it("is Node's error, not its closing version banner", () => {
    const node = [
      "node:internal/modules/cjs/loader:1210",
      "  throw err;",
      "  ^",
      "",
      "Error: Cannot find module '/srv/missing.js'",
      "    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)",
      "    at node:internal/main/run_main_module:28:49 {",
      "  code: 'MODULE_NOT_FOUND',",
      "  requireStack: []",
      "}",
      "",
      "Node.js v20.20.2",
    ];
    expect(telltaleLine(node)).toBe("Error: Cannot find module '/srv/missing.js'");
  });

  it("is Python's exception line, and otherwise the last line with something in it", () => {
    const python = [
      "Traceback (most recent call last):",
      '  File "svc.py", line 1, in <module>',
      "ModuleNotFoundError: No module named 'grpc'",
    ];
    expect(telltaleLine(python)).toBe("ModuleNotFoundError: No module named 'grpc'");
    expect(telltaleLine(["config file /etc/x not found", ""])).toBe("config file /etc/x not found");
    expect(telltaleLine([])).toBeUndefined();
  });
});
