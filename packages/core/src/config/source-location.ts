import type { LineCounter } from "yaml";

/** A place in a pipeline file, 1-based like editors and compilers print it. */
export interface SourceLocation {
  /** The file as the user named it (relative paths stay relative, so messages stay short). */
  file: string;
  line: number;
  column: number;
}

/** `file:line:col`, the prefix every pipeline problem starts with (editors and terminals link it). */
export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

export function locationAtOffset(file: string, lineCounter: LineCounter, offset: number): SourceLocation {
  const { line, col } = lineCounter.linePos(offset);
  return { file, line, column: col };
}

/** Orders locations as they appear in the file, so problems read top to bottom. */
export function compareLocations(a: SourceLocation, b: SourceLocation): number {
  return a.line - b.line || a.column - b.column;
}
