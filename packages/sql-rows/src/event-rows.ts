import {
  type CompiledExpression,
  compileExpression,
  describeEvaluationError,
  eventView,
  isJsonataFunction,
} from "@flow/expression";
import type { FlowEvent } from "@flow/sdk";
import { EVENT_COLUMNS, eventColumnValues, type SqlValue } from "./event-columns";
import { configPointer, type RowShape, rowShape, type SqlTableConfig } from "./sql-table-config";

/** One event's row: its values in the order of RowShape.columns. */
export interface SqlRow {
  eventId: string;
  values: SqlValue[];
}

/** An event that can never become a row (or that the database refused), and why. */
export interface RefusedEvent {
  eventId: string;
  reason: string;
}

/** The expression of a mapped column, whichever form the configuration gave it in. */
export function columnExpression(column: string | { expression: string }): string {
  return typeof column === "string" ? column : column.expression;
}

/**
 * Turns events into rows: the fixed event columns, or each configured column's expression
 * evaluated on the event (JSON for objects and arrays, NULL for nothing). Events whose expression
 * fails are refused with the reason; events that repeat a key within the batch become one row
 * (the first for onConflict nothing, the last for update, as the database would keep).
 */
export class EventRows {
  readonly shape: RowShape;
  private readonly expressions: CompiledExpression[] | undefined;
  private readonly keyIndexes: number[];

  constructor(private readonly config: SqlTableConfig) {
    this.shape = rowShape(config, EVENT_COLUMNS);
    this.expressions = config.columns
      ? Object.entries(config.columns).map(([name, column]) => {
          const compiled = compileExpression(
            columnExpression(column),
            configPointer("columns", name),
            config,
          );
          if (!compiled.expression) throw new Error(compiled.issues.map((issue) => issue.message).join("; "));
          return compiled.expression;
        })
      : undefined;
    this.keyIndexes = this.shape.key.map((name) => this.shape.columns.indexOf(name));
  }

  async build(events: FlowEvent[]): Promise<{ rows: SqlRow[]; refused: RefusedEvent[] }> {
    const refused: RefusedEvent[] = [];
    const byKey = new Map<string, SqlRow>();
    for (const event of events) {
      let values: SqlValue[];
      try {
        values = this.expressions ? await this.mapped(event, this.expressions) : eventColumnValues(event);
      } catch (error) {
        refused.push({ eventId: event.id, reason: (error as Error).message });
        continue;
      }
      const key = JSON.stringify(this.keyIndexes.map((index) => keyText(values[index] ?? null)));
      if (this.config.onConflict === "update") byKey.delete(key);
      if (!byKey.has(key)) byKey.set(key, { eventId: event.id, values });
    }
    return { rows: [...byKey.values()], refused };
  }

  private async mapped(event: FlowEvent, expressions: CompiledExpression[]): Promise<SqlValue[]> {
    const view = eventView(event);
    const values: SqlValue[] = [];
    for (const [index, expression] of expressions.entries()) {
      const column = this.shape.columns[index] as string;
      let result: unknown;
      try {
        result = await expression.evaluate(view);
      } catch (error) {
        throw new Error(`column ${column}: ${describeEvaluationError(error)}`);
      }
      values.push(sqlValue(column, result));
    }
    return values;
  }
}

function sqlValue(column: string, result: unknown): SqlValue {
  if (result === undefined || result === null) return null;
  if (typeof result === "string" || typeof result === "boolean") return result;
  if (typeof result === "number") {
    if (!Number.isFinite(result))
      throw new Error(`column ${column}: ${result} is not a number SQL can store`);
    return result;
  }
  if (isJsonataFunction(result))
    throw new Error(`column ${column}: the expression gives a function, not a value`);
  return JSON.stringify(result);
}

function keyText(value: SqlValue): string | number | boolean | null {
  return Buffer.isBuffer(value) ? value.toString("base64") : value;
}
