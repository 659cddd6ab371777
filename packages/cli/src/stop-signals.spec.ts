import { EventEmitter } from "node:events";
import { EXIT } from "./exit-codes";
import { SAME_STOP_WITHIN_MS, type StopNotice, StopSignals } from "./stop-signals";

/** StopSignals fed from an emitter standing in for the process, on a clock the test moves. */
function harness() {
  const source = new EventEmitter();
  let now = 1_000_000;
  const exits: number[] = [];
  const reports: string[] = [];
  const signals = new StopSignals({
    source,
    now: () => now,
    exit: (code) => exits.push(code),
    report: (line) => reports.push(line),
  }).install();
  return {
    signals,
    exits,
    reports,
    send: (signal: NodeJS.Signals, afterMs = 0) => {
      now += afterMs;
      source.emit(signal, signal);
    },
  };
}

describe("StopSignals", () => {
  it("takes a signal and its copy to the process group (timeout, Ctrl-C) as one stop", () => {
    const { signals, send, exits } = harness();
    const notices: StopNotice[] = [];
    signals.listen((notice) => notices.push(notice));
    send("SIGTERM");
    send("SIGTERM", 3);
    send("SIGINT", SAME_STOP_WITHIN_MS - 10);
    expect(notices).toEqual([
      { kind: "stop", signal: "SIGTERM" },
      { kind: "repeated", signal: "SIGTERM", afterMs: 3 },
      { kind: "repeated", signal: "SIGINT", afterMs: SAME_STOP_WITHIN_MS - 7 },
    ]);
    expect(exits).toEqual([]);
  });

  it("exits at once on a signal that comes a while after the first", () => {
    const { signals, send, exits } = harness();
    const notices: StopNotice[] = [];
    signals.listen((notice) => notices.push(notice));
    send("SIGINT");
    send("SIGINT", SAME_STOP_WITHIN_MS);
    expect(notices.map((notice) => notice.kind)).toEqual(["stop", "exit-now"]);
    expect(exits).toEqual([EXIT.interrupted]);
  });

  it("exits cleanly when nothing that drains is listening yet (a signal while Flow starts)", () => {
    const { signals, send, exits, reports } = harness();
    send("SIGINT");
    expect(signals.requested).toBe(true);
    expect(exits).toEqual([EXIT.interrupted]);
    expect(reports).toEqual(["stopped by SIGINT (nothing had started that needs draining)"]);
  });

  it("stops telling a listener once it is released", () => {
    const { signals, send, exits } = harness();
    const notices: StopNotice[] = [];
    const release = signals.listen((notice) => notices.push(notice));
    release();
    send("SIGTERM");
    expect(notices).toEqual([]);
    expect(exits).toEqual([EXIT.interrupted]);
  });
});
