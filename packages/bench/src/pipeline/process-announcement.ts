// How the pipeline's processes talk to the harness: one JSON object per stdout line. Ports are
// chosen by the OS (port 0), so a process must say which one it got before anything can connect.

export interface ListeningAnnouncement {
  event: "listening";
  port: number;
}

/** The middle process's result: the relay is timed inside it, so process start-up is not counted. */
export interface RelayedAnnouncement {
  event: "relayed";
  batches: number;
  elapsed_ns: number;
  /** Date.now() at the ReadStart and at the last ack: the timed window, for the CPU it took. */
  started_at_ms: number;
  ended_at_ms: number;
  /** The most batches that were sent by the source and not yet acknowledged by the sink. */
  max_in_flight: number;
}

/** The sink's count for one Write stream, so the harness can check nothing was lost. */
export interface StreamClosedAnnouncement {
  event: "stream-closed";
  received_events: number;
  received_batches: number;
}

export type Announcement = ListeningAnnouncement | RelayedAnnouncement | StreamClosedAnnouncement;

export function announce(message: Announcement): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export function parseAnnouncement(line: string): Announcement | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as { event?: unknown }).event === "string"
    ) {
      return value as Announcement;
    }
  } catch {
    // Not ours: a stray log line. The harness only waits for well-formed announcements.
  }
  return undefined;
}
