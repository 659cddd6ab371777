import type { FamilyName } from "@flow/sdk/internal";
import type { StageSettings } from "./pipeline-model";

/** Flow's built-in stage settings; the schema's `default` annotations repeat them (a test keeps both equal). */
export const BUILT_IN_STAGE_SETTINGS: Readonly<StageSettings> = Object.freeze({
  // 64 MiB: what Flow's own services accept, so the default never dead-letters what they take.
  batch: { maxSize: 100, maxBytes: 64 * 1024 * 1024, lingerMs: 5 },
  inFlight: 8,
  retry: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 5000 },
  timeouts: { handshakeMs: 10000, callMs: 10000, ackMs: 30000 },
  restart: { maxRestarts: 5, initialDelayMs: 200, maxDelayMs: 5000 },
});

/**
 * A source's commit interval when the file sets none (`commitIntervalMs`, sources only): state
 * stores are slow at one write per small batch. The run applies it, not the loader, so a source's
 * settings hold the key only when the file wrote it (the runner may be given another run-wide value).
 */
export const DEFAULT_COMMIT_INTERVAL_MS = 100;

export const DEFAULT_DEAD_LETTER_PATH = ".flow/dead-letters.jsonl";
/** How long a run waits for an unreachable state store before it stops (state.unreachableLimitMs). */
export const DEFAULT_STATE_UNREACHABLE_LIMIT_MS = 300_000;

/** What a file may write for settings: any field may be left out. */
export interface PartialStageSettings {
  batch?: Partial<StageSettings["batch"]>;
  inFlight?: number;
  retry?: Partial<StageSettings["retry"]>;
  timeouts?: Partial<StageSettings["timeouts"]>;
  restart?: Partial<StageSettings["restart"]>;
  contractMajor?: number;
  commitIntervalMs?: number;
}

/** Field by field: `batch: { maxSize: 500 }` keeps the linger it would have had. */
export function mergeStageSettings(
  base: StageSettings,
  override: PartialStageSettings | undefined,
): StageSettings {
  return {
    batch: { ...base.batch, ...override?.batch },
    inFlight: override?.inFlight ?? base.inFlight,
    retry: { ...base.retry, ...override?.retry },
    timeouts: { ...base.timeouts, ...override?.timeouts },
    restart: { ...base.restart, ...override?.restart },
    // Only when set somewhere: a stage without one has no such key (settings compare deeply).
    ...whenSet("contractMajor", override?.contractMajor ?? base.contractMajor),
    ...whenSet("commitIntervalMs", override?.commitIntervalMs ?? base.commitIntervalMs),
  };
}

/**
 * The settings a stage of `family` runs with: a processor or consumer keeps no commit interval its
 * defaults gave it (it commits nothing), so changing it reloads only the sources.
 */
export function settingsOfFamily(family: FamilyName, settings: StageSettings): StageSettings {
  if (family === "source" || settings.commitIntervalMs === undefined) return settings;
  const { commitIntervalMs: _unused, ...rest } = settings;
  return rest;
}

function whenSet<Key extends "contractMajor" | "commitIntervalMs">(
  key: Key,
  value: number | undefined,
): Partial<Record<Key, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<Key, number>);
}
