import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type MachineRequirement, withMachineRequirement } from "./machine-requirement";

/**
 * One system call of a process traced with strace. `entered` and `returned` are positions in the
 * trace: strace sees every call's entry and return in the order they happen across all threads,
 * so `a.returned < b.entered` means `a` had finished before `b` began (what a test of "synced
 * before acknowledged" needs), whichever threads made them.
 */
export interface TracedCall {
  pid: number;
  name: string;
  /** The arguments as strace printed them (buffers in \xNN form, see spawnTraced). */
  args: string;
  /** The return value as printed ("0", "-1 ENOSPC (No space left on device)"); undefined if the trace ended inside the call. */
  result?: string;
  entered: number;
  returned: number;
}

/**
 * Starts `command args` under `strace -f`, which writes every listed system call of the process
 * and its threads to `traceFile`, buffers as hexadecimal bytes. The child's stdio is piped.
 */
export function spawnTraced(
  command: string,
  args: string[],
  options: { syscalls: string[]; traceFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): ChildProcess {
  const strace = ["-f", "-qq", "-xx", "-s", "1048576", "-o", options.traceFile];
  return spawn("strace", [...strace, "-e", `trace=${options.syscalls.join(",")}`, "--", command, ...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

const COMPLETE = /^(\d+)\s+(\w+)\((.*)\)\s+=\s+(.*)$/;
const UNFINISHED = /^(\d+)\s+(\w+)\((.*) <unfinished \.\.\.>$/;
const RESUMED = /^(\d+)\s+<\.\.\. (\w+) resumed>.*\)\s+=\s+(.*)$/;

/** The calls of a trace written by spawnTraced, in the order they were entered. */
export function readSyscallTrace(traceFile: string): TracedCall[] {
  const calls: TracedCall[] = [];
  const open = new Map<number, TracedCall>();
  readFileSync(traceFile, "utf8")
    .split("\n")
    .forEach((line, position) => {
      const complete = COMPLETE.exec(line);
      if (complete) {
        const [, pid, name = "", args = "", result] = complete;
        calls.push({ pid: Number(pid), name, args, result, entered: position, returned: position });
        return;
      }
      const unfinished = UNFINISHED.exec(line);
      if (unfinished) {
        const [, pid, name = "", args = ""] = unfinished;
        const call = { pid: Number(pid), name, args, entered: position, returned: Number.POSITIVE_INFINITY };
        calls.push(call);
        open.set(call.pid, call);
        return;
      }
      const resumed = RESUMED.exec(line);
      if (resumed) {
        const call = open.get(Number(resumed[1]));
        if (!call || call.name !== resumed[2]) return;
        call.result = resumed[3];
        call.returned = position;
        open.delete(call.pid);
      }
    });
  return calls;
}

/** The file descriptor a call names first (write, fdatasync, sendmsg...). */
export function fdOf(call: TracedCall): number {
  return Number.parseInt(call.args, 10);
}

/** The bytes of every buffer in a call's arguments (a write's data, all of a writev's iovecs), in order. */
export function bytesOf(call: TracedCall): Buffer {
  const buffers = [...call.args.matchAll(/"((?:\\x[0-9a-f]{2})*)"/g)].map((match) =>
    Buffer.from((match[1] ?? "").replace(/\\x/g, ""), "hex"),
  );
  return Buffer.concat(buffers);
}

let probed: MachineRequirement | undefined;

/** Whether strace can trace a child process here (ptrace may be forbidden in a container). */
export function straceForTests(): MachineRequirement {
  if (probed) return probed;
  try {
    execFileSync("strace", ["-f", "-qq", "-o", "/dev/null", "-e", "trace=write", "--", "true"], {
      stdio: "pipe",
      timeout: 10_000,
    });
    probed = { available: true };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    probed = { available: false, reason: stderr || (error as Error).message };
  }
  return probed;
}

/** describe() whose tests run only where strace can trace; skipped loudly elsewhere, failing under CI=true. */
export function describeWithStrace(name: string, body: () => void): void {
  describe(name, () =>
    withMachineRequirement(
      "strace",
      straceForTests(),
      "install strace and allow ptrace (e.g. run the container with CAP_SYS_PTRACE)",
      body,
    ),
  );
}

const WRITES = new Set(["write", "writev", "pwrite64", "pwritev", "pwritev2", "sendmsg", "sendto"]);
const SYNCS = new Set(["fsync", "fdatasync"]);

/** The system calls a durability trace needs: every way to write bytes, and both syncs. */
export const WRITE_AND_SYNC_SYSCALLS = [...WRITES, ...SYNCS];

/** What a trace shows of one piece of data that was written and then acknowledged. */
export interface DataBeforeReply {
  /** The first write whose bytes hold `data`. */
  dataWrite?: TracedCall;
  /** The first write whose bytes hold `reply` (the acknowledgement going out on the socket). */
  replyWrite?: TracedCall;
  /** The successful syncs of dataWrite's descriptor entered after it returned and returned before replyWrite was entered. */
  syncsBetween: TracedCall[];
}

/** Finds, in a trace, the write of `data`, the write of `reply`, and the syncs of the data's file in between. */
export function dataBeforeReply(calls: TracedCall[], data: Buffer, reply: Buffer): DataBeforeReply {
  const writes = calls.filter((call) => WRITES.has(call.name));
  const dataWrite = writes.find((call) => bytesOf(call).includes(data));
  const replyWrite = writes.find((call) => bytesOf(call).includes(reply));
  if (!dataWrite || !replyWrite) return { dataWrite, replyWrite, syncsBetween: [] };
  const fd = fdOf(dataWrite);
  const syncsBetween = calls.filter(
    (call) =>
      SYNCS.has(call.name) &&
      fdOf(call) === fd &&
      call.result === "0" &&
      call.entered > dataWrite.returned &&
      call.returned < replyWrite.entered,
  );
  return { dataWrite, replyWrite, syncsBetween };
}

/** One step of syncsBeforeReplies: what the trace shows for the item at `item`. */
export interface SyncBeforeReply {
  item: number;
  dataWritten: boolean;
  replyWritten: boolean;
  /** How many successful syncs of the data's file finished after its write and before the reply began. */
  syncsBetween: number;
}

/**
 * For items that were each written (`data`, e.g. an event id) and then acknowledged (`reply`, the
 * acknowledgement's bytes on the wire): what dataBeforeReply finds for each, as plain values a test
 * compares at once, e.g. with `{ dataWritten: true, replyWritten: true, syncsBetween: 1 }` for every item.
 */
export function syncsBeforeReplies(
  calls: TracedCall[],
  items: { data: Uint8Array; reply: Uint8Array }[],
): SyncBeforeReply[] {
  return items.map(({ data, reply }, item) => {
    const seen = dataBeforeReply(calls, Buffer.from(data), Buffer.from(reply));
    return {
      item,
      dataWritten: seen.dataWrite !== undefined,
      replyWritten: seen.replyWrite !== undefined,
      syncsBetween: seen.syncsBetween.length,
    };
  });
}

/** A protobuf message as gRPC frames it on the wire (uncompressed): flag byte, 4-byte length, bytes. */
export function grpcMessageFrame(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}
