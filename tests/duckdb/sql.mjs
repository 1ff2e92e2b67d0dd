// Runs SQL with DuckDB over the Delta tables lakeflow landed, without lakeflow's code: every table
// under ROOT (ROOT/<catalog>/<schema>/<table>/_delta_log) becomes a view named after the table,
// over its active Parquet files as the Delta log lists them (read_delta.mjs). Prints each
// statement's result as an aligned text table.
//
// Usage: node sql.mjs ROOT "SELECT ..." ["SELECT ..." ...]
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { activeFiles, sqlString } from './read_delta.mjs';

function subdirectories(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(dir, entry.name))
    .sort();
}

// Table directories at depth 3 below root.
function deltaTables(root) {
  const tables = [];
  for (const catalog of subdirectories(root)) {
    for (const schema of subdirectories(catalog)) {
      for (const table of subdirectories(schema)) {
        if (existsSync(path.join(table, '_delta_log'))) tables.push(table);
      }
    }
  }
  return tables;
}

function text(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  return String(value);
}

function printTable(columns, rows) {
  const cells = rows.map((row) => row.map(text));
  const widths = columns.map((name, i) =>
    Math.min(60, Math.max(name.length, ...cells.map((row) => row[i].length))),
  );
  const cut = (s, width) => (s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width));
  console.log(columns.map((name, i) => cut(name, widths[i])).join('  '));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of cells) console.log(row.map((cell, i) => cut(cell, widths[i])).join('  '));
  console.log(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
}

async function main() {
  const [root, ...statements] = process.argv.slice(2);
  if (!root || statements.length === 0) {
    console.error('usage: node sql.mjs ROOT "SELECT ..." ["SELECT ..." ...]');
    process.exit(2);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  for (const table of deltaTables(root)) {
    const files = await activeFiles(table);
    if (files.length === 0) continue;
    const name = path.basename(table).replaceAll('"', '""');
    await connection.run(
      `CREATE OR REPLACE VIEW "${name}" AS SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}])`,
    );
  }
  for (const statement of statements) {
    console.log(`\n${statement}`);
    const reader = await connection.runAndReadAll(statement);
    printTable(reader.columnNames(), reader.getRows());
  }
  connection.closeSync();
}

main().catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
