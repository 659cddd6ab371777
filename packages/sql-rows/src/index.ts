export {
  BatchNotCommitted,
  commitBatch,
  type SqlErrorKind,
  type SqlErrorReader,
  type SqlSession,
} from "./batch-transaction";
export {
  EVENT_COLUMNS,
  type EventColumn,
  eventColumnValues,
  microsecondTime,
  type SqlValue,
} from "./event-columns";
export { columnExpression, EventRows, type RefusedEvent, type SqlRow } from "./event-rows";
export { serverName } from "./server-name";
export { SqlBatchWriter } from "./sql-batch-writer";
export {
  configPointer,
  type MappedColumn,
  type RowShape,
  rowShape,
  SQL_IDENTIFIER_PATTERN,
  SQL_TABLE_PATTERN,
  SQL_TYPE_PATTERN,
  type SqlTableConfig,
  sqlTableConfigProperties,
  sqlTimeoutConfigProperties,
  tableParts,
} from "./sql-table-config";
export { type ExistingTable, tableConfigIssues, tableShapeIssues } from "./table-issues";
