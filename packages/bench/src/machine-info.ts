import * as os from "node:os";

// Printed once per invocation: figures are only comparable on the same kind of machine.
export interface MachineInfo {
  cpu_model: string;
  cores: number;
  memory_gb: number;
  node: string;
  platform: string;
  /** 1, 5 and 15-minute load averages when the run started: on a shared machine, the noise to expect. */
  load_average: number[];
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model.trim() ?? "unknown",
    // availableParallelism respects cgroup/affinity limits where cpus() lists the host's.
    cores: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    load_average: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}
