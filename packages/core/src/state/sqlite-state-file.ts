import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { UserError } from "@flow/errors";
import { DamagedStoreError, damagedStoreHint } from "./store-errors";

// statfs(2) f_type of the kernel's pseudo file systems: their "files" are views of the kernel, not
// storage. SQLite on one of them never gets a working lock or a stable size and spins without end.
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x1cd1, "devpts"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0xcafe4a11, "bpf"],
  [0x62656570, "configfs"],
  [0x6165676c, "pstore"],
  [0xde5e81e4, "efivarfs"],
  [0x19800202, "mqueue"],
  [0x65735543, "fusectl"],
  [0x42494e4d, "binfmt_misc"],
  [0xf97cff8c, "selinuxfs"],
  [0x6e736673, "nsfs"],
]);

/**
 * Checks a `sqlite:` state path before anything opens it, and says whether the file exists.
 * Refused with a UserError: a path on a kernel pseudo file system (/proc, /sys, ...) or under /dev,
 * anything that is not a regular file (a device, a FIFO, a folder), and an existing empty file:
 * Flow never leaves a state file empty (see createStateFile), so one of 0 bytes was truncated, and
 * taking it for a new store would silently reset every checkpoint.
 */
export function inspectStateFile(file: string): "exists" | "missing" {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw cannotOpenStateFile(file, error);
  }
  const existing = stat ? file : nearestExistingAncestor(file);
  refusePseudoFileSystem(file, existing);
  if (!stat) {
    if (!fs.statSync(existing).isDirectory()) {
      throw cannotOpenStateFile(file, `${existing} is ${fileKind(fs.statSync(existing))}, not a folder`);
    }
    return "missing";
  }
  if (!stat.isFile()) throw cannotOpenStateFile(file, `it is ${fileKind(stat)}, not a regular file`);
  if (stat.size === 0) {
    throw new DamagedStoreError(
      file,
      ["the file is empty (0 bytes); Flow never leaves a state file empty, so it was truncated"],
      damagedStoreHint("sqlite", file),
    );
  }
  return "exists";
}

/**
 * Creates a new state file whole: `initialize` builds it under a temporary name beside `file`,
 * and a hard link publishes it, so no process ever sees a half-made (or empty) store at `file`.
 * When another process publishes first, its file wins and this one is dropped.
 */
export function createStateFile(file: string, initialize: (tempFile: string) => void): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.new`;
  try {
    initialize(temp);
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return;
      // File systems without hard links: rename is atomic too, only not exclusive, so a second
      // process creating the same file in the same instant could replace the first one's (still empty) store.
      if (
        (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS") &&
        !fs.existsSync(file)
      ) {
        fs.renameSync(temp, file);
        return;
      }
      throw error;
    }
  } finally {
    for (const leftover of [temp, `${temp}-wal`, `${temp}-shm`, `${temp}-journal`])
      fs.rmSync(leftover, { force: true });
  }
}

export function cannotOpenStateFile(file: string, cause: unknown): UserError {
  const message =
    typeof cause === "object" && cause !== null ? (cause as { message?: unknown }).message : cause;
  const reason = typeof message === "string" ? message : String(cause);
  return new UserError(`cannot open the SQLite state store at ${file}: ${reason}`, {
    hint: "choose a sqlite: path to a regular file in a writable folder on a disk (e.g. sqlite:.flow/state.db), or fix that one",
  });
}

function nearestExistingAncestor(file: string): string {
  let dir = path.dirname(file);
  for (;;) {
    try {
      fs.statSync(dir);
      return dir;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return dir;
      dir = parent;
    }
  }
}

function refusePseudoFileSystem(file: string, existing: string): void {
  const real = fs.realpathSync(existing);
  const type = PSEUDO_FILE_SYSTEMS.get(fs.statfsSync(real).type);
  if (type)
    throw cannotOpenStateFile(file, `${real} is on the kernel's ${type} file system, which holds no files`);
  // devtmpfs reports the same type as tmpfs, so /dev is known by its name; /dev/shm is a real tmpfs.
  if (
    (real === "/dev" || real.startsWith("/dev/")) &&
    !(real === "/dev/shm" || real.startsWith("/dev/shm/"))
  ) {
    throw cannotOpenStateFile(file, `${real} is in /dev, the folder of device files`);
  }
}

function fileKind(stat: fs.Stats): string {
  if (stat.isDirectory()) return "a folder";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isFIFO()) return "a named pipe (FIFO)";
  if (stat.isSocket()) return "a socket";
  return "a regular file";
}
