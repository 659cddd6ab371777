import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram } from "./program";

// docs/cli.md documents every command and flag: each `### \`flow <command> …\`` section has a
// table whose first column names the flags. This keeps the page and the program the same.

const REFERENCE = join(__dirname, "..", "..", "..", "docs", "cli.md");

/** Documented flags (their long names, `--json`), by command path (`checkpoints reset`). */
function documentedFlags(): Map<string, Set<string>> {
  const text = readFileSync(REFERENCE, "utf8");
  const sections = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of text.split("\n")) {
    const heading = /^#{2,4} `flow((?: [a-z][a-z-]*)*)(?: [<[].*)?`$/.exec(line);
    if (heading) {
      current = new Set();
      sections.set((heading[1] ?? "").trim(), current);
      continue;
    }
    if (/^#{1,4} /.test(line)) current = undefined;
    const cell = /^\| `([^`]+)` +\|/.exec(line)?.[1];
    if (current && cell) for (const flag of cell.match(/--[a-z][a-z-]*/g) ?? []) current.add(flag);
  }
  return sections;
}

/** What the program has: every command that does something (not a group), with its flags. */
function programFlags(program: Command): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>([["", new Set(program.options.map((o) => o.long ?? ""))]]);
  const walk = (command: Command, path: string[]): void => {
    for (const sub of command.commands) {
      const full = [...path, sub.name()];
      if (sub.commands.length === 0)
        found.set(full.join(" "), new Set(sub.options.map((option) => option.long ?? option.flags)));
      walk(sub, full);
    }
  };
  walk(program, []);
  return found;
}

describe("docs/cli.md", () => {
  const documented = documentedFlags();
  const actual = programFlags(buildProgram());

  it("has a section for every command", () => {
    const missing = [...actual.keys()].filter((command) => !documented.has(command));
    expect(missing).toEqual([]);
  });

  it.each([...actual.keys()].map((command) => [command || "(flow itself)", command]))(
    "documents exactly the flags of %s",
    (_label, command) => {
      const has = [...(actual.get(command as string) ?? [])].sort();
      const says = [...(documented.get(command as string) ?? [])].sort();
      expect({ command, flags: says }).toEqual({ command, flags: has });
    },
  );

  it("documents no command the program does not have", () => {
    expect([...documented.keys()].filter((command) => !actual.has(command))).toEqual([]);
  });
});
