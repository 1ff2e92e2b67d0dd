// Reads Delta tables in-process with DuckDB, for tests that compare many tables without starting a
// process per table: the active files come from read_delta.mjs (the same log replay, no lakeflow
// code), the rows from one DuckDB read_parquet over them, as the values @duckdb/node-api returns
// (strings, booleans, numbers, bigints, DuckDB*Value objects). Also re-exports those value classes,
// so a test outside this directory needs no DuckDB install of its own.
import { DuckDBInstance } from '@duckdb/node-api';
import { activeFiles, sqlString } from './read_delta.mjs';

export {
  DuckDBArrayValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
} from '@duckdb/node-api';
export { activeFiles };

// Reads tables with `connections` DuckDB connections of one instance: up to that many read() calls
// run at once, so reads of several tables overlap. `threads` sets DuckDB's thread count (default:
// DuckDB's, one per core); a test reading many small files gains more from connections.
export class DeltaTableReader {
  static async open({ connections = 1, threads } = {}) {
    const reader = new DeltaTableReader();
    const config = threads === undefined ? {} : { threads: String(threads) };
    reader.instance = await DuckDBInstance.create(':memory:', config);
    reader.idle = [];
    for (let i = 0; i < connections; i += 1) reader.idle.push(await reader.instance.connect());
    // Every file is read once; caching their contents would only hold memory (GBs over many
    // wide tables).
    await reader.idle[0].run('SET enable_external_file_cache = false');
    reader.all = [...reader.idle];
    reader.waiting = [];
    return reader;
  }

  // {files, columns: [{name, type (DuckDB's type text)}], rows: [{column: value}]} of the table at
  // `tableDir` (its active files; no rows and no columns when it has none).
  async read(tableDir) {
    const files = await activeFiles(tableDir);
    if (files.length === 0) return { files, columns: [], rows: [] };
    const connection =
      this.idle.pop() ?? (await new Promise((resolve) => this.waiting.push(resolve)));
    try {
      // By name: files written before the table's schema grew lack the newer columns (null).
      const result = await connection.runAndReadAll(
        `SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`,
      );
      const names = result.columnNames();
      const types = result.columnTypes();
      const rows = result.getRows().map((values) => {
        const row = Object.create(null);
        names.forEach((name, i) => {
          row[name] = values[i];
        });
        return row;
      });
      const columns = names.map((name, i) => ({ name, type: types[i].toString() }));
      return { files, columns, rows };
    } finally {
      const next = this.waiting.shift();
      if (next) next(connection);
      else this.idle.push(connection);
    }
  }

  close() {
    for (const connection of this.all) connection.closeSync();
  }
}
