import {
  DamagedStoreError,
  damagedStoreHint,
  type StoreOperation,
  StoreUnavailableError,
  storeOperationError,
} from "./store-errors";

/**
 * Turns an error of better-sqlite3 into the store error a user and the engine can act on; any
 * other error (a caller's bug, a UserError already) is returned unchanged.
 */
export function explainSqliteFailure(error: unknown, file: string, operation: StoreOperation): unknown {
  if (!isSqliteError(error)) return error;
  const code = error.code;
  // Another process holds the write lock longer than the busy timeout: it will let go.
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new StoreUnavailableError(file, `the file is locked by another process (${code})`, error);
  }
  const missingTable = /^no such (table|column): (.+)$/.exec(error.message);
  if (missingTable) {
    return new DamagedStoreError(
      file,
      [`${missingTable[1]} ${missingTable[2]} is missing`],
      damagedStoreHint("sqlite", file),
    );
  }
  const { reason, hint } = sqliteReason(code, error.message, file);
  return storeOperationError(file, operation, reason, hint, error);
}

function sqliteReason(code: string, message: string, file: string): { reason: string; hint: string } {
  if (code === "SQLITE_FULL") {
    return {
      reason: "disk full (SQLITE_FULL)",
      hint: `free space on the file system that holds ${file} (df -h shows it), then run again; the store keeps what it held before`,
    };
  }
  if (code.startsWith("SQLITE_IOERR")) {
    return {
      reason: `I/O error (${code})`,
      hint: `check the disk and file system that hold ${file} (dmesg shows device errors); the store keeps what it held before`,
    };
  }
  if (code.startsWith("SQLITE_READONLY")) {
    return {
      reason: `the file is read-only (${code})`,
      hint: `make ${file}, its -wal and -shm files and their folder writable by this user`,
    };
  }
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
    return { reason: `the file is damaged (${code})`, hint: damagedStoreHint("sqlite", file) };
  }
  return {
    reason: `${message} (${code})`,
    hint: `check ${file}: that it is a Flow state store on a healthy, writable disk`,
  };
}

/**
 * better-sqlite3's error, known by its shape: its native part throws instances of the SqliteError
 * class of whichever copy of the module loaded it first, whose prototype chain ends in that copy's
 * realm's Error, so instanceof fails for any other copy or realm (jest gives each test file both).
 */
export function isSqliteError(error: unknown): error is Error & { code: string } {
  if (typeof error !== "object" || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === "SqliteError" && typeof code === "string";
}
