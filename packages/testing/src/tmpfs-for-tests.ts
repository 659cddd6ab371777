import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MachineRequirement, withMachineRequirement } from "./machine-requirement";

/** A tmpfs a test mounted, and how to take it away again. */
export interface MountedTmpfs {
  readonly dir: string;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) on a new, uniquely named folder. */
export function mountTmpfs(bytes: number): MountedTmpfs {
  const dir = mkdtempSync(join(tmpdir(), "flow-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmdirSync(dir);
    throw new Error(`cannot mount a tmpfs on ${dir}: ${commandOutput(error)}`);
  }
  let mounted = true;
  return {
    dir,
    unmount() {
      if (!mounted) return;
      // Lazy: a file a failing test left open must not keep the mount (and the folder) behind.
      execFileSync("umount", ["--lazy", dir], { stdio: "pipe" });
      rmdirSync(dir);
      mounted = false;
    },
  };
}

/**
 * Fills the file system holding `dir` with one file, so that nothing is left to allocate: the next
 * write that needs a new block fails with ENOSPC (after a short write when it starts inside a
 * block a file already holds). It writes until the disk refuses even one more byte, so a process
 * writing to the same disk meanwhile cannot make it fail. Deleting the returned file frees the
 * space again.
 */
export function fillFileSystem(dir: string): string {
  const filler = join(dir, `filler-${process.pid}-${Date.now()}`);
  const fd = openSync(filler, "w");
  try {
    for (let chunk = 1024 * 1024; chunk >= 1; ) {
      try {
        writeSync(fd, Buffer.alloc(chunk));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
        chunk = Math.floor(chunk / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
  const left = statfsSync(dir).bavail;
  if (left !== 0) throw new Error(`fillFileSystem: ${dir} still has ${left} free blocks`);
  return filler;
}

let probed: MachineRequirement | undefined;

/**
 * Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN, as in CI): probed once by
 * mounting and unmounting a tiny one. Synchronous, because jest decides which tests exist while
 * loading the file.
 */
export function tmpfsForTests(): MachineRequirement {
  if (probed) return probed;
  if (process.getuid?.() !== 0) {
    probed = { available: false, reason: "the tests do not run as root" };
    return probed;
  }
  try {
    mountTmpfs(64 * 1024).unmount();
    probed = { available: true };
  } catch (error) {
    probed = { available: false, reason: (error as Error).message };
  }
  return probed;
}

/** describe() whose tests run only where a tmpfs can be mounted; skipped loudly elsewhere, failing under CI=true. */
export function describeWithTmpfs(name: string, body: () => void): void {
  describe(name, () =>
    withMachineRequirement("mounting a tmpfs", tmpfsForTests(), "run the tests as root (as CI does)", body),
  );
}

function commandOutput(error: unknown): string {
  const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
  return stderr || (error as Error).message;
}
