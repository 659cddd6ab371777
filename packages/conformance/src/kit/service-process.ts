import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** What the kit saw of a spawned service's handshake line. */
export interface HandshakeObservation {
  /** The first stdout line starting with `flow-handshake|`, if any arrived. */
  line?: string;
  /** It arrived within the handshake timeout. */
  inTime: boolean;
  /** It arrived only once the process was told to stop: the service did not flush stdout. */
  atExit: boolean;
  /** How the process ended before its handshake, when it did. */
  exitedEarly?: string;
  stderrTail: string[];
}

const STDERR_TAIL_LINES = 10;

/**
 * A service process the kit started as Flow Core starts one: its own process group, stdin a pipe
 * (the lifeline), FLOW_SPAWNED=1, stdout read for the handshake line.
 */
export class ServiceProcess {
  private readonly stderr: string[] = [];
  private handshakeLine: string | undefined;
  private readonly lineWaiters = new Set<(line: string) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly argv: string[],
  ) {
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.once("error", () => undefined);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      this.stderr.push(line);
      if (this.stderr.length > STDERR_TAIL_LINES) this.stderr.shift();
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (this.handshakeLine !== undefined || !line.startsWith("flow-handshake|")) return;
      this.handshakeLine = line;
      for (const waiter of this.lineWaiters) waiter(line);
    });
  }

  static spawn(argv: string[], cwd: string, env: Record<string, string>): ServiceProcess {
    const [program = "", ...args] = argv;
    const child = spawn(program, args, {
      cwd,
      env: { ...process.env, ...env, FLOW_SPAWNED: "1" },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    return new ServiceProcess(child, argv);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stderrTail(): string[] {
    return [...this.stderr];
  }

  /**
   * Waits for the handshake line. When none comes in time, stops the process the gentle ways
   * (stdin closed, then SIGTERM), so a line held in an unflushed stdout buffer still comes out
   * at exit: that tells "not flushed" apart from "never printed".
   */
  async awaitHandshake(timeoutMs: number): Promise<HandshakeObservation> {
    const early = await this.raceLine(timeoutMs);
    if (early.line !== undefined)
      return { line: early.line, inTime: true, atExit: false, stderrTail: this.stderrTail };
    if (early.exit)
      return {
        inTime: false,
        atExit: false,
        exitedEarly: early.exit.signal ?? `code ${early.exit.code}`,
        stderrTail: this.stderrTail,
      };
    this.closeStdin();
    if (!(await this.exitsWithin(3000))) {
      this.signal("SIGTERM");
      if (!(await this.exitsWithin(3000))) await this.kill();
    }
    // Let readline hand over whatever the exit flushed.
    await new Promise((resolve) => setImmediate(resolve));
    return {
      line: this.handshakeLine,
      inTime: false,
      atExit: this.handshakeLine !== undefined,
      stderrTail: this.stderrTail,
    };
  }

  private raceLine(
    timeoutMs: number,
  ): Promise<{ line?: string; exit?: { code: number | null; signal: NodeJS.Signals | null } }> {
    if (this.handshakeLine !== undefined) return Promise.resolve({ line: this.handshakeLine });
    return new Promise((resolve) => {
      const timer = setTimeout(() => done({}), timeoutMs);
      const onLine = (line: string): void => done({ line });
      const done = (result: {
        line?: string;
        exit?: { code: number | null; signal: NodeJS.Signals | null };
      }): void => {
        clearTimeout(timer);
        this.lineWaiters.delete(onLine);
        resolve(result);
      };
      this.lineWaiters.add(onLine);
      this.exited.then((exit) =>
        done(this.handshakeLine !== undefined ? { line: this.handshakeLine } : { exit }),
      );
    });
  }

  closeStdin(): void {
    this.child.stdin?.end();
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves true once the process has exited, false if it still runs after `ms`. */
  async exitsWithin(ms: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** SIGKILL to the process and its group (what a crash does); resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        this.child.kill("SIGKILL");
      }
    }
    await this.exited;
  }
}
