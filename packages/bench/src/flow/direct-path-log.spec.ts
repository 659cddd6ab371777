import { DirectPathLog } from "./direct-path-log";

// Lines as `flow run` writes them (pino JSON on stderr), cut into chunks anywhere.
const STARTED =
  '{"level":30,"time":1796188774600,"pid":1,"stage":"rec","contract":"consumer_service v2","msg":"service started"}';
const DIRECT =
  '{"level":30,"time":1796188774628,"pid":1,"runId":"r","edges":["gen -> identity","identity -> count"],"msg":"direct data path"}';
const NONE =
  '{"level":30,"time":1796188774628,"pid":1,"runId":"r","edges":[],"msg":"direct data path: no edge can use it"}';
const OFF =
  '{"level":30,"time":1796188776187,"pid":1,"runId":"r","msg":"direct data path off: every batch goes through Core"}';

function read(text: string, chunkSize: number): DirectPathLog {
  const log = new DirectPathLog();
  for (let at = 0; at < text.length; at += chunkSize) log.add(text.slice(at, at + chunkSize));
  return log;
}

describe("the direct data path line of Core's log", () => {
  it.each([1, 7, 10_000])("finds the direct edges in chunks of %i characters", (chunkSize) => {
    expect(read(`${STARTED}\n${DIRECT}\n${STARTED}\n`, chunkSize).edges).toEqual([
      "gen -> identity",
      "identity -> count",
    ]);
  });

  it("reads no edge when none can use it and when the switch is off", () => {
    expect(read(`${STARTED}\n${NONE}\n`, 10).edges).toEqual([]);
    expect(read(`${OFF}\n`, 10).edges).toEqual([]);
  });

  it("has nothing to say before the line is complete, or when Core never wrote it", () => {
    expect(read(`${STARTED}\n${DIRECT.slice(0, -1)}`, 10).edges).toBeUndefined();
    expect(read(`${STARTED}\nnot json: direct data path\n`, 10).edges).toBeUndefined();
  });

  it("keeps the first line it found", () => {
    expect(read(`${DIRECT}\n${OFF}\n`, 10).edges).toHaveLength(2);
  });
});
