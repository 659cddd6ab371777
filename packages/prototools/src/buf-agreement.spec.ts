import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { checkBreaking } from "./breaking-check";
import { runBuf } from "./buf-cli";
import { authoredContracts } from "./contract-catalog";
import { ReleaseLedger } from "./release-ledger";
import { TempRepo } from "./test-support/temp-repo";

// `flow proto breaking` must agree with plain `buf breaking` (FILE rules, the whole proto root
// against the release commit's) on single-change mutations of every contract of this repository:
// the same verdict and the same rules for the contract's file.
const REPO = join(__dirname, "..", "..", "..");

/** One single-change mutation of a contract file: undefined when the file has nothing to apply it to. */
type Mutation = { kind: string; apply: (text: string) => string | undefined };

interface FieldLine {
  index: number;
  label: string;
  type: string;
  name: string;
  number: string;
  rest: string;
}

/** Field lines outside oneofs and enums (deleting a oneof's only field would not compile). */
function plainFields(lines: string[]): FieldLine[] {
  const stack: string[] = [];
  const fields: FieldLine[] = [];
  lines.forEach((line, index) => {
    const open = /^\s*(message|enum|oneof|service)\s+\w+\s*\{\s*$/.exec(line);
    if (open) {
      stack.push(open[1] as string);
      return;
    }
    if (/^\s*}\s*$/.test(line)) {
      stack.pop();
      return;
    }
    if (stack.at(-1) !== "message") return;
    const field = /^(\s+)(repeated |optional )?([A-Za-z_][\w.]*) ([a-z_][a-z0-9_]*) = (\d+)(.*);\s*$/.exec(
      line,
    );
    if (!field || field[3] === "reserved") return;
    fields.push({
      index,
      label: field[2] ?? "",
      type: field[3] as string,
      name: field[4] as string,
      number: field[5] as string,
      rest: field[6] ?? "",
    });
  });
  return fields;
}

const SCALAR_SWAP: Record<string, string> = {
  string: "bytes",
  bytes: "string",
  uint32: "uint64",
  uint64: "int64",
  int32: "int64",
  int64: "uint64",
  bool: "uint32",
};

const editLine = (
  text: string,
  pick: (lines: string[]) => number | undefined,
  change: (line: string) => string | null,
) => {
  const lines = text.split("\n");
  const index = pick(lines);
  if (index === undefined || index < 0) return undefined;
  const changed = change(lines[index] as string);
  if (changed === null) lines.splice(index, 1);
  else lines[index] = changed;
  return lines.join("\n");
};
const firstField = (filter: (field: FieldLine) => boolean) => (lines: string[]) =>
  plainFields(lines).find(filter)?.index;
const firstMatching = (pattern: RegExp) => (lines: string[]) => {
  const index = lines.findIndex((line) => pattern.test(line));
  return index < 0 ? undefined : index;
};

const MUTATIONS: Mutation[] = [
  {
    kind: "delete a field",
    apply: (t) =>
      editLine(
        t,
        firstField(() => true),
        () => null,
      ),
  },
  {
    kind: "renumber a field",
    apply: (t) =>
      editLine(
        t,
        firstField(() => true),
        (line) => line.replace(/= \d+/, "= 4999"),
      ),
  },
  {
    kind: "change a scalar type",
    apply: (t) =>
      editLine(
        t,
        firstField((f) => f.type in SCALAR_SWAP),
        (line) =>
          line.replace(
            /([A-Za-z_][\w.]*) ([a-z_][a-z0-9_]*) =/,
            (_, type: string, name: string) => `${SCALAR_SWAP[type]} ${name} =`,
          ),
      ),
  },
  {
    kind: "rename a field",
    apply: (t) =>
      editLine(
        t,
        firstField(() => true),
        (line) => line.replace(/ ([a-z_][a-z0-9_]*) = (\d+)/, " $1_renamed = $2"),
      ),
  },
  {
    kind: "make a field repeated",
    apply: (t) =>
      editLine(
        t,
        firstField((f) => f.label === "" && f.rest === ""),
        (line) => line.replace(/^(\s+)/, "$1repeated "),
      ),
  },
  {
    kind: "change a JSON name",
    apply: (t) =>
      editLine(
        t,
        firstField((f) => f.rest === ""),
        (line) => line.replace(/;\s*$/, ' [json_name = "flowMutation"];'),
      ),
  },
  {
    kind: "delete an enum value",
    apply: (t) => editLine(t, firstMatching(/^\s+[A-Z][A-Z0-9_]* = [1-9]\d*;/), () => null),
  },
  {
    kind: "rename an enum value",
    apply: (t) =>
      editLine(t, firstMatching(/^\s+[A-Z][A-Z0-9_]* = [1-9]\d*;/), (line) =>
        line.replace(/([A-Z][A-Z0-9_]*) =/, "$1_RENAMED ="),
      ),
  },
  {
    kind: "rename an rpc",
    apply: (t) =>
      editLine(t, firstMatching(/^\s+rpc \w+\(/), (line) => line.replace(/rpc (\w+)\(/, "rpc $1Renamed(")),
  },
  {
    kind: "flip client streaming",
    apply: (t) =>
      editLine(t, firstMatching(/^\s+rpc \w+\(/), (line) =>
        line.includes("(stream ")
          ? line.replace("(stream ", "(")
          : line.replace(/rpc (\w+)\(/, "rpc $1(stream "),
      ),
  },
  {
    kind: "add a field",
    apply: (t) =>
      editLine(
        t,
        firstField(() => true),
        (line) => `${line}\n  string flow_mutation_added = 4998;`,
      ),
  },
  {
    kind: "add an enum value",
    apply: (t) =>
      editLine(
        t,
        firstMatching(/^\s+[A-Z][A-Z0-9_]* = 0;/),
        (line) => `${line}\n  FLOW_MUTATION_ADDED_VALUE = 4997;`,
      ),
  },
  { kind: "add a message", apply: (t) => `${t}\nmessage FlowMutationAdded {\n  string id = 1;\n}\n` },
  {
    kind: "edit a comment",
    apply: (t) => editLine(t, firstMatching(/^\s*\/\/ /), (line) => `${line} (reworded)`),
  },
];

describe("flow proto breaking agrees with buf breaking (FILE) on single-change mutations of every contract", () => {
  let temp: TempRepo;
  let ledger: ReleaseLedger;
  let released: string;
  beforeAll(() => {
    temp = TempRepo.cloneWorkingTree(REPO);
    ledger = ReleaseLedger.read(temp.root);
    released = mkdtempSync(join(tmpdir(), "flow-released-"));
  });
  afterAll(() => {
    temp?.remove();
    if (released) rmSync(released, { recursive: true, force: true });
  });

  /** The proto root at the release commit, extracted once per release (plain buf's other side). */
  const releasedRoot = (commit: string, root: string): string => {
    const dest = join(released, commit.slice(0, 12), root.replace(/\//g, "+"));
    if (!existsSync(dest)) {
      mkdirSync(dest, { recursive: true });
      const archive = execFileSync("git", ["archive", commit, "--", root], {
        cwd: temp.root,
        maxBuffer: 64 << 20,
      });
      execFileSync("tar", ["-x", "-C", dest], { input: archive });
    }
    return join(dest, root);
  };

  const contracts = () =>
    authoredContracts(temp.repo, ledger).filter((folder) => ledger.latestInMajor(folder.name, folder.major));

  it("covers every released major of every contract", () => {
    const released = new Set(
      ledger.all().map((release) => `${release.name} v${release.version.split(".")[0]}`),
    );
    expect(
      contracts()
        .map((folder) => `${folder.name} v${folder.major}`)
        .sort(),
    ).toEqual([...released].sort());
  });

  it.each(MUTATIONS.map((mutation) => [mutation.kind, mutation] as const))("%s", (_kind, mutation) => {
    const disagreements: string[] = [];
    let compared = 0;
    for (const folder of contracts()) {
      const release = ledger.latestInMajor(folder.name, folder.major);
      if (!release) continue;
      for (const file of folder.files) {
        const original = temp.read(file);
        const mutated = mutation.apply(original);
        if (mutated === undefined || mutated === original) continue;
        temp.write(file, mutated);
        try {
          const relative = posix.relative(folder.root, file);
          const buf = runBuf(
            [
              "breaking",
              join(temp.root, folder.root),
              "--against",
              releasedRoot(release.commit, folder.root),
            ],
            temp.root,
            {
              against: true,
            },
          );
          if (buf.diagnostics.some((diagnostic) => diagnostic.type === "COMPILE")) continue; // not a valid mutation here
          if (buf.status !== 0 && buf.diagnostics.length === 0)
            throw new Error(`buf failed: ${buf.otherOutput.join(" ")}`);
          const bufRules = [
            ...new Set(
              buf.diagnostics
                .filter((d) => d.path?.endsWith(relative) || d.message.includes(`"${relative}"`))
                .map((d) => d.type),
            ),
          ].sort();
          const flowRules = [
            ...new Set(
              checkBreaking(temp.repo, ledger, [folder.path]).flatMap((c) =>
                c.changes.filter((change) => change.file === file).map((change) => change.rule),
              ),
            ),
          ].sort();
          compared++;
          if (bufRules.join(",") !== flowRules.join(",")) {
            disagreements.push(`${file}: buf [${bufRules.join(", ")}], flow [${flowRules.join(", ")}]`);
          }
        } finally {
          temp.write(file, original);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(compared).toBeGreaterThan(0);
  });
});
