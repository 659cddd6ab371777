import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

describe("flow dead-letters: list what a pipeline gave up on, export it, replay it", () => {
  const dir = tempDir("dead-letters");
  afterAll(() => dir.remove());

  it("lists them by stage and reason, exports their events, and a file source replays them", async () => {
    const kept = join(dir.path, "kept.txt");
    const main = dir.file(
      "main.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: tenths }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 50 }
processors:
  - id: picky
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: 'data.seq % 10 = 0 ? $error("a tenth") : true' }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [picky]
    config: { path: ${JSON.stringify(kept)} }
`,
    );
    // 5 of 50 events dead-lettered and no deadLetters.allow: the run says so with exit 3.
    expect((await runFlow(["run", main], { cwd: dir.path })).code).toBe(3);
    expect(readFileSync(kept, "utf8").trim().split("\n")).toHaveLength(45);

    const listed = await runFlow(["dead-letters", "list", main, "--limit", "2"], { cwd: dir.path });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^5 dead letter\(s\) in \.flow\/dead-letters\.jsonl$/m);
    expect(listed.stdout).toMatch(/^ +5 {2}picky: filter expression failed: .*a tenth/m);
    expect(listed.stdout).toMatch(
      /^latest 2:\n.* picky {2}gen-40 \(flow\.generator\.event\).*\n.* picky {2}gen-50 /m,
    );

    const json = await runFlow(["dead-letters", "list", main, "--json", "--stage", "picky"], {
      cwd: dir.path,
    });
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.event.id)).toEqual(["gen-10", "gen-20", "gen-30", "gen-40", "gen-50"]);
    expect(lines[0]).toMatchObject({ pipeline: "tenths", stage: "picky", event: { data: { seq: 10 } } });
    const otherStage = await runFlow(["dead-letters", "list", main, "--stage", "rec"], { cwd: dir.path });
    expect(otherStage.stdout).toMatch(/^no dead letters in /);

    const exported = await runFlow(["dead-letters", "export", main, "replay.jsonl"], { cwd: dir.path });
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^wrote 5 event\(s\) to replay\.jsonl$/m);
    const again = await runFlow(["dead-letters", "export", main, "replay.jsonl"], { cwd: dir.path });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/error: replay\.jsonl already exists\n {2}hint: .*--force/);

    const replayed = join(dir.path, "replayed.txt");
    const replay = dir.file(
      "replay.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: replay }
sources:
  - id: dead
    command: [node, ${JSON.stringify(serviceMain("@flow/source-file"))}]
    config: { path: replay.jsonl, format: cloudevents }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [dead]
    config: { path: ${JSON.stringify(replayed)} }
`,
    );
    expect((await runFlow(["run", replay], { cwd: dir.path })).code).toBe(0);
    expect(readFileSync(replayed, "utf8").trim().split("\n")).toEqual([
      "gen-10",
      "gen-20",
      "gen-30",
      "gen-40",
      "gen-50",
    ]);
  });

  it("says where a damaged dead-letter file is damaged", async () => {
    const file = dir.file(
      "damaged.yaml",
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: damaged }
deadLetters: { path: damaged.jsonl }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [gen]
    config: { path: out.txt }
`,
    );
    dir.file("damaged.jsonl", "this is not JSON\n");
    const listed = await runFlow(["dead-letters", "list", file], { cwd: dir.path });
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(/error: .*damaged\.jsonl:1: not a dead-letter line \(invalid JSON/);
    expect(listed.stderr).not.toMatch(/\n\s+at /);
  });
});
