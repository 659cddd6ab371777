import { LinkConnection } from "./link-connection";
import { fakeEndpoint, fakeStreams, settle, silentLogger } from "./test-support/fake-link-stream";

/** A connection whose requests and answers are strings, and a record of what it told its link. */
function connection(major?: number) {
  const streams = fakeStreams<string, string>();
  const endpoint = fakeEndpoint(major);
  const told: string[] = [];
  const link = { held: 0, inFlight: 0, starts: 0 };
  const opened = new LinkConnection<string, string>(
    {
      stageId: "sink",
      endpoint,
      openStream: streams,
      logger: silentLogger,
      startMessage: () => `start ${++link.starts}`,
    },
    {
      held: () => link.held,
      inFlight: () => link.inFlight,
      onResponse: (response) => told.push(`answer ${response}`),
      onBroken: (reason) => told.push(`broken: ${reason} (usable: ${opened.usable})`),
      onRecovered: () => told.push(`recovered (usable: ${opened.usable})`),
      onFatal: (error) => told.push(`fatal: ${error.message}`),
    },
  );
  return { opened, streams, endpoint, told, link };
}

describe("LinkConnection", () => {
  it("opens each stream at the negotiated major with a start message, and sends only while usable", () => {
    const { opened, streams } = connection(2);
    expect(opened.usable).toBe(false);
    opened.send("lost");
    opened.open();
    opened.send("batch 1");
    expect(streams.majors).toEqual([2]);
    expect(streams.last().written).toEqual(["start 1", "batch 1"]);
    expect(opened.usable).toBe(true);
  });

  it("on a break drops the stream, recovers the endpoint and opens a new one; the old stream is not listened to", async () => {
    const { opened, streams, endpoint, told } = connection();
    opened.open();
    const first = streams.last();
    first.fail("connection reset");
    // A second report of the same break is not a second break.
    first.finish();
    opened.send("while recovering");
    expect(told).toEqual(["broken: stream failed: connection reset (usable: false)"]);
    expect(first.cancelled).toBe(true);
    await settle();
    expect(endpoint.recoveries).toEqual(["stream failed: connection reset"]);
    expect(told[1]).toBe("recovered (usable: true)");
    expect(streams.streams).toHaveLength(2);
    expect(streams.last().written).toEqual(["start 2"]);
    first.reply("late");
    streams.last().reply("fresh");
    expect(told.slice(2)).toEqual(["answer fresh"]);
  });

  it("fails the run when the endpoint cannot be recovered", async () => {
    const { opened, streams, endpoint, told } = connection();
    endpoint.refuse = new Error("restart limit spent");
    opened.open();
    streams.last().finish();
    await settle();
    expect(told).toEqual([
      "broken: the service ended the stream (usable: false)",
      "fatal: restart limit spent",
    ]);
  });

  it("closes by half-closing once the link holds nothing, and is done when the service ends the stream", async () => {
    const { opened, streams, told, link } = connection();
    opened.open();
    link.held = 1;
    let done = false;
    const closed = opened.close().then(() => {
      done = true;
    });
    expect(streams.last().ended).toBe(false);
    link.held = 0;
    opened.settleIfClosing();
    expect(streams.last().ended).toBe(true);
    streams.last().finish();
    await closed;
    expect(done).toBe(true);
    expect(told).toEqual([]);
  });

  it("takes the service ending the stream while the link holds batches for a break", async () => {
    const { opened, streams, told, link } = connection();
    opened.open();
    link.held = 1;
    void opened.close();
    streams.last().finish();
    expect(told).toEqual(["broken: the service ended the stream (usable: false)"]);
    await settle();
    expect(told[1]).toBe("recovered (usable: true)");
  });

  it("restarts with a fresh stream, unless it is recovering or no stream is open", async () => {
    const { opened, streams } = connection();
    opened.restart();
    expect(streams.streams).toHaveLength(0);
    opened.open();
    const first = streams.last();
    opened.restart();
    expect(first.cancelled).toBe(true);
    expect(streams.streams).toHaveLength(2);
    streams.last().fail("gone");
    opened.restart();
    expect(streams.streams).toHaveLength(2);
    await settle();
    expect(streams.streams).toHaveLength(3);
    opened.abort();
    opened.restart();
    expect(streams.streams).toHaveLength(3);
  });

  it("suspended, hears nothing and sends nothing until restart; a recovery meanwhile opens no stream unless restarted", async () => {
    const { opened, streams, told } = connection();
    opened.open();
    const first = streams.last();
    opened.suspend();
    expect(first.cancelled).toBe(true);
    expect(opened.usable).toBe(false);
    first.reply("late");
    opened.send("batch");
    expect(first.written).toEqual(["start 1"]);
    opened.restart();
    expect(streams.streams).toHaveLength(2);
    expect(streams.last().written).toEqual(["start 2"]);

    // Breaking, then suspended while its endpoint recovers: the restart opens the stream, once.
    streams.last().fail("gone");
    opened.suspend();
    await opened.recovered();
    expect(streams.streams).toHaveLength(2);
    opened.restart();
    expect(streams.streams).toHaveLength(3);

    // Restarted while its recovery still runs: the recovery opens the stream when it ends.
    streams.last().fail("gone again");
    opened.suspend();
    opened.restart();
    await opened.recovered();
    expect(streams.streams).toHaveLength(4);
    // Only that last recovery told the link it recovered; no late answer was heard.
    expect(told.filter((line) => line.startsWith("answer") || line.startsWith("recovered"))).toEqual([
      "recovered (usable: true)",
    ]);
  });
});
