// The DuckDB side of the ingest benchmark (bench/run-ingest): converts an NDJSON file to one zstd
// Parquet file on ONE thread, with the column types given by a Spark schema (the schema lakeflow
// converts with), so both do the same work:
//
//   COPY (SELECT * FROM read_json(INPUT, columns = {...}, format = 'newline_delimited'))
//     TO OUTPUT (FORMAT parquet, COMPRESSION zstd)
//
// Usage: node bench/duckdb_ingest.mjs SCHEMA_JSON INPUT OUTPUT_PARQUET
// Prints `key: value` lines: duckdb (version), seconds and cpu_seconds (the COPY alone: wall
// clock, and user + system time of this process), rows, max_rss_kb (peak RSS of this process,
// node's own ~50 MB included).
//
// DuckDB comes from tests/duckdb/ (the project's one pinned @duckdb/node-api, installed by
// scripts/install-deps), so the benchmark measures the same DuckDB the tests read back with.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { sqlString } from '../tests/duckdb/read_delta.mjs';

const require = createRequire(new URL('../tests/duckdb/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

function quoteName(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

// A Spark type (PySpark's JSON form) as a DuckDB type.
function duckType(type) {
  if (typeof type === 'string') {
    const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
    if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
    const simple = {
      string: 'VARCHAR',
      long: 'BIGINT',
      integer: 'INTEGER',
      short: 'SMALLINT',
      byte: 'TINYINT',
      double: 'DOUBLE',
      float: 'FLOAT',
      boolean: 'BOOLEAN',
      date: 'DATE',
      timestamp: 'TIMESTAMPTZ',
      timestamp_ntz: 'TIMESTAMP',
      binary: 'BLOB',
    }[type];
    if (!simple) throw new Error(`duckdb_ingest.mjs: no DuckDB type for Spark type ${type}`);
    return simple;
  }
  switch (type.type) {
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quoteName(f.name)} ${duckType(f.type)}`).join(', ')})`;
    case 'array':
      return `${duckType(type.elementType)}[]`;
    case 'map':
      return `MAP(${duckType(type.keyType)}, ${duckType(type.valueType)})`;
    default:
      throw new Error(`duckdb_ingest.mjs: no DuckDB type for Spark type ${JSON.stringify(type)}`);
  }
}

async function main() {
  const [schemaPath, input, output] = process.argv.slice(2);
  if (!output) {
    console.error('usage: node bench/duckdb_ingest.mjs SCHEMA_JSON INPUT OUTPUT_PARQUET');
    process.exit(2);
  }
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const columns = schema.fields
    .map((f) => `${sqlString(f.name)}: ${sqlString(duckType(f.type))}`)
    .join(', ');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run('SET threads = 1');
  const version = (await connection.runAndReadAll('SELECT version()')).getRows()[0][0];
  const sql =
    `COPY (SELECT * FROM read_json(${sqlString(input)}, columns = {${columns}}, ` +
    `format = 'newline_delimited')) TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd)`;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await connection.run(sql);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const rows = (
    await connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(output)})`)
  ).getRows()[0][0];
  connection.closeSync();
  console.log(`duckdb: ${version}`);
  console.log(`seconds: ${seconds.toFixed(3)}`);
  console.log(`cpu_seconds: ${((cpu.user + cpu.system) / 1e6).toFixed(3)}`);
  console.log(`rows: ${rows}`);
  console.log(`max_rss_kb: ${process.resourceUsage().maxRSS}`);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
