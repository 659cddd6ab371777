import { splitCommandLine } from "./split-command-line";

describe("splitCommandLine", () => {
  it("splits on whitespace", () => {
    expect(splitCommandLine("  node  services/enrich.js\t--fast ")).toEqual([
      "node",
      "services/enrich.js",
      "--fast",
    ]);
  });

  it("groups quoted words and keeps empty quoted arguments", () => {
    expect(splitCommandLine(`python3 -c "print('hi there')" '' x"y z"`)).toEqual([
      "python3",
      "-c",
      "print('hi there')",
      "",
      "xy z",
    ]);
  });

  it("gives undefined for an unterminated quote and nothing for blank input", () => {
    expect(splitCommandLine(`node "svc.js`)).toBeUndefined();
    expect(splitCommandLine("   ")).toEqual([]);
  });
});
