import { join } from "node:path";
import { readPackageVersion, type SourceDefinition } from "@flow/sdk";
import { confirmCommitted, readChanges } from "./cdc-mode";
import { type PostgresSourceConfig, postgresSourceConfigSchema } from "./postgres-source-config";
import { validatePostgresSource } from "./postgres-source-validation";
import { readTableRows } from "./query-mode";

export const postgresSource: SourceDefinition<PostgresSourceConfig> = {
  name: "flow-source-postgres",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Reads PostgreSQL: a table incrementally by its cursor columns (query), or its changes by logical replication with the slot advanced only after Core commits (cdc)",
  configSchema: postgresSourceConfigSchema,
  producedEventTypes: [
    "postgres.row",
    "postgres.insert",
    "postgres.update",
    "postgres.delete",
    "postgres.truncate",
  ],
  features: { checkpointing: true, ordering: "total" },

  validate(config, context) {
    return validatePostgresSource(config, context);
  },

  read(config, context) {
    return config.mode === "cdc" ? readChanges(config, context) : readTableRows(config, context);
  },

  onCommit(position, config) {
    // Query mode lets nothing go upstream: its checkpoint alone says where to resume.
    if (config.mode === "cdc") confirmCommitted(position);
  },
};
