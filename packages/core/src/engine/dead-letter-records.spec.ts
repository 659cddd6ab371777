import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "@flow/errors";
import { createEvent } from "@flow/sdk";
import { DeadLetterFile } from "./dead-letter-file";
import { readDeadLetters } from "./dead-letter-records";

describe("readDeadLetters", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flow-dead-letters-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads back what the writer wrote, with the event's JSON text verbatim", () => {
    const path = join(dir, "dead.jsonl");
    const file = new DeadLetterFile(path, "orders", "run-1");
    const big = createEvent({
      id: "e-1",
      source: "urn:test",
      type: "order.created",
      datacontenttype: "application/json",
      data: Buffer.from('{"amount":12345678901234567890,"note":"a \\"quoted\\" ,\\"event\\": text"}'),
    });
    file.write([
      { stage: "enrich", reason: 'bad "event": {x}', event: big },
      { stage: "db", reason: "constraint", event: createEvent({ id: "e-2", source: "s", type: "t" }) },
    ]);
    file.close();

    const records = readDeadLetters(path);
    expect(
      records.map(({ line, pipeline, runId, stage, reason, eventId, eventType }) => ({
        line,
        pipeline,
        runId,
        stage,
        reason,
        eventId,
        eventType,
      })),
    ).toEqual([
      {
        line: 1,
        pipeline: "orders",
        runId: "run-1",
        stage: "enrich",
        reason: 'bad "event": {x}',
        eventId: "e-1",
        eventType: "order.created",
      },
      {
        line: 2,
        pipeline: "orders",
        runId: "run-1",
        stage: "db",
        reason: "constraint",
        eventId: "e-2",
        eventType: "t",
      },
    ]);
    // The payload's big integer survives as written (JSON.parse would round it).
    expect(records[0]?.eventJson).toContain('"amount":12345678901234567890');
    expect(JSON.parse(records[0]?.eventJson ?? "").id).toBe("e-1");
  });

  it("has no records for a missing file, and names file:line for a damaged one", () => {
    expect(readDeadLetters(join(dir, "none.jsonl"))).toEqual([]);
    const path = join(dir, "bad.jsonl");
    appendFileSync(
      path,
      '{"at":"x","pipeline":"p","runId":"r","stage":"s","reason":"r","event":{"id":"1"}}\n\n{"at": oops\n',
    );
    expect(() => readDeadLetters(path)).toThrow(UserError);
    expect(() => readDeadLetters(path)).toThrow(`${path}:3: not a dead-letter line (invalid JSON`);
    appendFileSync(
      join(dir, "noevent.jsonl"),
      '{"at":"x","pipeline":"p","runId":"r","stage":"s","reason":"r"}\n',
    );
    expect(() => readDeadLetters(join(dir, "noevent.jsonl"))).toThrow(
      /:1: not a dead-letter line \(no "event" object\)/,
    );
  });
});
