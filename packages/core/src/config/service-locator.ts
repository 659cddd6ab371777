import type { ServiceLocator } from "./pipeline-model";
import { splitCommandLine } from "./split-command-line";

export const SERVICE_LOCATOR_FIELDS = ["use", "command", "address", "dns", "registry"] as const;
export type ServiceLocatorField = (typeof SERVICE_LOCATOR_FIELDS)[number];

export interface LocatorProblem {
  field: ServiceLocatorField;
  message: string;
  hint?: string;
}

export interface LocatorResolution {
  /** Set when the stage names exactly one locator and it is usable. */
  locator?: ServiceLocator;
  /** What the schema cannot see (port ranges, quoting in a command string), for every locator field written. */
  problems: LocatorProblem[];
}

/**
 * Turns a stage's `use` / `command` / `address` / `dns` / `registry` into the typed locator
 * discovery works from. Values of the wrong shape are left to the schema, which reports them.
 * Commands run from the pipeline file's folder, so relative program paths mean what they say in the file.
 */
export function resolveServiceLocator(fields: Record<string, unknown>, baseDir: string): LocatorResolution {
  const present = SERVICE_LOCATOR_FIELDS.filter((field) => fields[field] !== undefined);
  const problems: LocatorProblem[] = [];
  const locators: ServiceLocator[] = [];
  for (const field of present) {
    const result = resolveField(field, fields[field], baseDir);
    if (result && "message" in result) problems.push(result);
    else if (result) locators.push(result);
  }
  return present.length === 1 && locators.length === 1 ? { locator: locators[0], problems } : { problems };
}

function resolveField(
  field: ServiceLocatorField,
  value: unknown,
  baseDir: string,
): ServiceLocator | LocatorProblem | undefined {
  switch (field) {
    case "command":
      return resolveCommand(value, baseDir);
    case "address":
    case "dns": {
      if (typeof value !== "string") return undefined;
      if (field === "address" && value.startsWith("unix:")) return { kind: "address", address: value };
      // A value without a numeric port fails the schema's pattern, reported there already.
      const match = /^(.+):([0-9]{1,5})$/.exec(value);
      if (!match) return undefined;
      const port = Number(match[2]);
      if (port < 1 || port > 65535) {
        return {
          field,
          message: `found ${JSON.stringify(value)}, expected ${field === "dns" ? "name" : "host"}:port with a port from 1 to 65535`,
        };
      }
      if (field === "address") return { kind: "address", address: value };
      return { kind: "dns", host: match[1] as string, port, address: value };
    }
    case "use":
      return typeof value === "string" ? { kind: "use", packageName: value } : undefined;
    case "registry":
      return typeof value === "string" ? { kind: "registry", name: value } : undefined;
  }
}

function resolveCommand(value: unknown, baseDir: string): ServiceLocator | LocatorProblem | undefined {
  let argv: string[] | undefined;
  // Empty strings and lists fail the schema's minLength / minItems, reported there already.
  if (value === "" || (Array.isArray(value) && value.length === 0)) return undefined;
  if (typeof value === "string") {
    argv = splitCommandLine(value);
    if (!argv) {
      return {
        field: "command",
        message: `found ${JSON.stringify(value)} with an unterminated quote, expected matching quotes`,
        hint: 'or write the arguments as a list: command: ["node", "svc.js"]',
      };
    }
  } else if (Array.isArray(value) && value.every((arg) => typeof arg === "string")) {
    argv = value as string[];
  } else return undefined;
  if (argv.length === 0 || argv[0] === "") {
    return {
      field: "command",
      message: "found no program to run, expected the program first, then its arguments",
      hint: 'e.g. command: ["node", "services/enrich.js"]',
    };
  }
  return { kind: "command", argv, cwd: baseDir };
}
