import { type ChildProcess, spawn } from "node:child_process";
import * as readline from "node:readline";
import { signalChild, trackChild } from "../live-children";
import { type Announcement, parseAnnouncement } from "./process-announcement";

// Every process a scenario spawns belongs to a group that is torn down in a `finally`, and is also
// tracked in live-children so it is killed when the harness itself exits or is interrupted: a failed
// or aborted benchmark never leaves servers behind holding ports and CPU.
const STDERR_TAIL_BYTES = 4096;
const TERMINATE_GRACE_MS = 2000;

export class SpawnedProcess {
  private readonly waiters: Array<(announcement: Announcement) => boolean> = [];
  private readonly backlog: Announcement[] = [];
  private stderrTail = "";
  readonly exited: Promise<number | null>;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    if (child.stdout) {
      readline.createInterface({ input: child.stdout }).on("line", (line) => this.onLine(line));
    }
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.once("error", () => resolve(null));
    });
  }

  /** Resolves with the next announcement of that kind, or rejects if the process exits or time runs out. */
  waitFor<E extends Announcement["event"]>(
    event: E,
    timeoutMs: number,
  ): Promise<Extract<Announcement, { event: E }>> {
    type Wanted = Extract<Announcement, { event: E }>;
    const queued = this.backlog.findIndex((announcement) => announcement.event === event);
    if (queued >= 0) return Promise.resolve(this.backlog.splice(queued, 1)[0] as Wanted);
    return new Promise<Wanted>((resolve, reject) => {
      let settled = false;
      const finish = (action: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        action();
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`${this.label}: no "${event}" within ${timeoutMs} ms${this.stderrSuffix()}`)),
          ),
        timeoutMs,
      );
      this.waiters.push((announcement) => {
        if (announcement.event !== event) return false;
        finish(() => resolve(announcement as Wanted));
        return true;
      });
      void this.exited.then((code) =>
        // Let buffered stdout lines be delivered first: a process may announce and exit at once.
        setImmediate(() =>
          finish(() =>
            reject(new Error(`${this.label} exited (code ${code}) before "${event}"${this.stderrSuffix()}`)),
          ),
        ),
      );
    });
  }

  private onLine(line: string): void {
    const announcement = parseAnnouncement(line);
    if (announcement === undefined) return;
    const index = this.waiters.findIndex((accept) => accept(announcement));
    if (index >= 0) this.waiters.splice(index, 1);
    else this.backlog.push(announcement);
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.trim();
    return tail === "" ? "" : `; stderr: ${tail}`;
  }
}

export class ChildProcessGroup {
  private readonly processes = new Set<SpawnedProcess>();

  /** Starts `node script ...args` with stdout piped for announcements. */
  spawnNode(script: string, args: readonly string[], label: string): SpawnedProcess {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    trackChild(child, false);
    const spawned = new SpawnedProcess(label, child);
    this.processes.add(spawned);
    void spawned.exited.then(() => this.processes.delete(spawned));
    return spawned;
  }

  /** SIGTERM, then SIGKILL whatever is still alive after a grace period. */
  async terminateAll(): Promise<void> {
    const alive = [...this.processes];
    for (const spawned of alive) signalChild(spawned.child, false, "SIGTERM");
    await Promise.all(
      alive.map(async (spawned) => {
        const timer = setTimeout(() => signalChild(spawned.child, false, "SIGKILL"), TERMINATE_GRACE_MS);
        await spawned.exited;
        clearTimeout(timer);
      }),
    );
  }
}
