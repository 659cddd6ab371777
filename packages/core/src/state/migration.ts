import { UserError } from "@flow/errors";

/**
 * One step of a store's schema. Steps are applied in version order, each once, and recorded in the
 * store's `schema_migrations` table; a shipped step is never edited, a change is a new step.
 */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** The steps a store still needs, after refusing a store written by a newer Flow. */
export function pendingMigrations(
  migrations: readonly Migration[],
  appliedVersion: number,
  location: string,
): Migration[] {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (appliedVersion > latest) {
    throw new UserError(
      `the state store at ${location} has schema version ${appliedVersion}, newer than this Flow knows (${latest})`,
      { hint: "upgrade Flow, or point the pipeline's state store at another location" },
    );
  }
  return migrations.filter((m) => m.version > appliedVersion).sort((a, b) => a.version - b.version);
}
