import { UserError } from "@flow/errors";
import type { ServiceLocator } from "./pipeline-model";
import { splitCommandLine } from "./split-command-line";

/**
 * The service a command line names (`flow describe`, `flow conform`): `--command "<program>"`,
 * `dns:host:port`, `registry:name`, `host:port`, else a package name (`use:`).
 */
export function locatorFromArgument(
  service: string | undefined,
  command: string | undefined,
  cwd: string,
): ServiceLocator {
  if (command) {
    const argv = splitCommandLine(command);
    if (!argv || argv.length === 0)
      throw new UserError(`--command "${command}" is not a command line (check its quotes)`);
    return { kind: "command", argv, cwd };
  }
  if (!service)
    throw new UserError(
      'name a service: a package, host:port, dns:host:port, registry:name, or --command "<program>"',
    );
  if (service.startsWith("dns:")) {
    const address = service.slice(4);
    const [host = "", port = "0"] = address.split(/:(?=\d+$)/);
    return { kind: "dns", host, port: Number(port), address };
  }
  if (service.startsWith("registry:")) return { kind: "registry", name: service.slice(9) };
  if (/^[^@/\s]+:\d+$/.test(service)) return { kind: "address", address: service };
  return { kind: "use", packageName: service };
}
