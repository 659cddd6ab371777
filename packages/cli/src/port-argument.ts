import { InvalidArgumentError } from "commander";

/** commander argParser for a TCP port: `--metrics-port abc` is a usage error (exit 2), not a crash later. */
export function parsePortArgument(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535)
    throw new InvalidArgumentError("expected a port number from 0 to 65535 (0: any free port).");
  return port;
}
