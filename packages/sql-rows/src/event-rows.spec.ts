import { createEvent, timestampFromRfc3339 } from "@flow/sdk";
import { EventRows } from "./event-rows";
import type { SqlTableConfig } from "./sql-table-config";

const config = (more: Partial<SqlTableConfig> = {}): SqlTableConfig => ({
  table: "t",
  createTable: false,
  key: ["id"],
  onConflict: "nothing",
  timeoutMs: 1000,
  ...more,
});

describe("EventRows", () => {
  it("makes the fixed columns of an event, time cut to microseconds and the other attributes as CloudEvents JSON", async () => {
    const rows = new EventRows(config());
    expect(rows.shape).toEqual({
      columns: ["id", "type", "source", "time", "attributes", "data", "data_binary"],
      key: ["id"],
      updated: [],
    });
    const { rows: built } = await rows.build([
      createEvent({
        id: "e",
        source: "/s",
        type: "t",
        subject: "sub",
        time: timestampFromRfc3339("2026-01-02T03:04:05.123456999Z"),
        extensions: { n: { value: { $case: "integerValue", value: 7 } } },
        data: { a: 1 },
      }),
      createEvent({ id: "text", source: "/s", type: "t", datacontenttype: "text/csv", data: "a,b" }),
      createEvent({
        id: "not-json",
        source: "/s",
        type: "t",
        datacontenttype: "application/json",
        data: "{",
      }),
    ]);
    expect(built).toEqual([
      {
        eventId: "e",
        values: [
          "e",
          "t",
          "/s",
          "2026-01-02T03:04:05.123456Z",
          '{"specversion":"1.0","subject":"sub","datacontenttype":"application/json","n":7}',
          '{"a":1}',
          null,
        ],
      },
      expect.objectContaining({ eventId: "text", values: expect.arrayContaining(['"a,b"', null]) }),
      expect.objectContaining({
        values: ["not-json", "t", "/s", null, expect.any(String), null, Buffer.from("{")],
      }),
    ]);
  });

  it("evaluates each mapped column, JSON for objects, NULL for nothing, and refuses an event whose expression fails", async () => {
    const rows = new EventRows(
      config({
        columns: { k: "data.k", obj: "data.o", missing: "data.nope", n: { expression: "$number(data.n)" } },
        key: ["k"],
        onConflict: "update",
      }),
    );
    expect(rows.shape).toEqual({
      columns: ["k", "obj", "missing", "n"],
      key: ["k"],
      updated: ["obj", "missing", "n"],
    });
    const { rows: built, refused } = await rows.build([
      createEvent({ id: "1", source: "/s", type: "t", data: { k: "a", o: { x: [1] }, n: "2" } }),
      createEvent({ id: "2", source: "/s", type: "t", data: { k: "b", n: "two" } }),
      createEvent({ id: "3", source: "/s", type: "t", datacontenttype: "text/plain", data: "x" }),
    ]);
    expect(built).toEqual([{ eventId: "1", values: ["a", '{"x":[1]}', null, 2] }]);
    expect(refused).toEqual([
      {
        eventId: "2",
        reason: expect.stringMatching(/^column n: Unable to cast value to a number: "two" \[D3030/),
      },
      { eventId: "3", reason: "column k: the payload is text/plain, not JSON" },
    ]);
  });

  it("makes one row of the events that repeat a key in a batch: the first to keep, the last to update", async () => {
    const events = ["1", "2", "3"].map((id) =>
      createEvent({ id, source: "/s", type: "t", data: { k: id === "2" ? "other" : "same" } }),
    );
    const columns = { k: "data.k", id: "id" };
    const kept = await new EventRows(config({ columns, key: ["k"] })).build(events);
    expect(kept.rows.map((row) => row.eventId)).toEqual(["1", "2"]);
    const updated = await new EventRows(config({ columns, key: ["k"], onConflict: "update" })).build(events);
    expect(updated.rows.map((row) => row.eventId)).toEqual(["2", "3"]);
  });
});
