import type { StageCounters } from "@flow/core";
import { MultiBar, type SingleBar } from "cli-progress";

/**
 * The live per-stage view of `flow run` on a terminal: events in and out, the rate, batches in
 * flight, dead letters, restarts and health, one line per stage, redrawn in place.
 */
export class ProgressDisplay {
  private readonly bars = new Map<string, SingleBar>();
  private readonly multibar: MultiBar;
  private readonly previous = new Map<string, { out: number; at: number }>();

  /**
   * Whether `stream` can show the live view: a terminal that moves its cursor. TERM=dumb (Emacs
   * shells, some CI consoles) cannot, so it gets plain log lines and no escape sequences.
   */
  static supported(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
    return stream.isTTY === true && env.TERM !== "dumb";
  }

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.multibar = new MultiBar({
      stream,
      format:
        " {stage} {family} | in {eventsIn} | out {eventsOut} | {rate}/s | in flight {inFlight} | dead {deadLetters} | restarts {restarts} | {health}",
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: false,
      fps: 5,
      autopadding: true,
    });
  }

  update(stages: readonly StageCounters[]): void {
    const width = Math.max(...stages.map((stage) => stage.stageId.length));
    const now = Date.now();
    for (const stage of stages) {
      const before = this.previous.get(stage.stageId);
      const rate =
        before && now > before.at
          ? Math.round(((stage.eventsOut - before.out) * 1000) / (now - before.at))
          : 0;
      this.previous.set(stage.stageId, { out: stage.eventsOut, at: now });
      const payload = {
        stage: stage.stageId.padEnd(width),
        family: stage.family.padEnd(9),
        eventsIn: stage.eventsIn,
        eventsOut: stage.eventsOut,
        rate,
        inFlight: stage.inFlight,
        deadLetters: stage.deadLetters,
        restarts: stage.restarts,
        health: stage.health,
      };
      const bar = this.bars.get(stage.stageId);
      if (bar) bar.update(0, payload);
      else this.bars.set(stage.stageId, this.multibar.create(1, 0, payload));
    }
  }

  /**
   * A log line above the live view. Before the first stage line exists (services starting) there
   * is no view to keep below it: the line is written at once, since cli-progress would hold it
   * until a redraw that may never come.
   */
  log(line: string): void {
    const text = line.endsWith("\n") ? line : `${line}\n`;
    if (this.bars.size === 0) this.stream.write(text);
    else this.multibar.log(text);
  }

  stop(): void {
    // One last redraw writes the log lines still waiting for one.
    if (this.bars.size > 0) this.multibar.update();
    this.multibar.stop();
  }
}
