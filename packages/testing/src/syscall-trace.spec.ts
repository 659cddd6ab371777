import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesOf, dataBeforeReply, fdOf, readSyscallTrace, syncsBeforeReplies } from "./syscall-trace";

// What strace -f -qq -xx writes when a worker thread syncs while the main thread writes the socket.
const TRACE = [
  '100 write(21, "\\x69\\x64\\x2d\\x31\\x0a", 5) = 5',
  "101 fdatasync(21 <unfinished ...>",
  '100 writev(19, [{iov_base="\\x00\\x00", iov_len=2}, {iov_base="\\x50\\x49\\x4e\\x47", iov_len=4}], 2) = 6',
  "101 <... fdatasync resumed>) = 0",
  '100 writev(19, [{iov_base="\\x41", iov_len=1}, {iov_base="\\x43\\x4b", iov_len=2}], 2) = 3',
  "+++ exited with 0 +++",
].join("\n");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-syscall-trace-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function trace(text: string): string {
  const file = join(dir, `trace-${Math.random().toString(16).slice(2)}.txt`);
  writeFileSync(file, text);
  return file;
}

it("reads calls in order, joining an unfinished call with its return", () => {
  const calls = readSyscallTrace(trace(TRACE));
  expect(calls.map((call) => [call.pid, call.name, call.entered, call.returned, call.result])).toEqual([
    [100, "write", 0, 0, "5"],
    [101, "fdatasync", 1, 3, "0"],
    [100, "writev", 2, 2, "6"],
    [100, "writev", 4, 4, "3"],
  ]);
  expect(calls.map(fdOf)).toEqual([21, 21, 19, 19]);
  const [write, , , ack] = calls;
  expect(write && bytesOf(write).toString()).toBe("id-1\n");
  // The iovecs of a writev are one run of bytes, so a message split across them is still found.
  expect(ack && bytesOf(ack).toString()).toBe("ACK");
});

it("counts a sync as before a reply only when it returned before the reply was written", () => {
  const calls = readSyscallTrace(trace(TRACE));
  // PING went out while the sync was still running; ACK after it returned.
  expect(dataBeforeReply(calls, Buffer.from("id-1"), Buffer.from("PING")).syncsBetween).toEqual([]);
  expect(
    syncsBeforeReplies(calls, [
      { data: Buffer.from("id-1"), reply: Buffer.from("ACK") },
      { data: Buffer.from("id-2"), reply: Buffer.from("ACK") },
    ]),
  ).toEqual([
    { item: 0, dataWritten: true, replyWritten: true, syncsBetween: 1 },
    { item: 1, dataWritten: false, replyWritten: true, syncsBetween: 0 },
  ]);
});
