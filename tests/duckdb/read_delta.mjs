// Reads a Delta table without lakeflow's code: resolves the table's active files by replaying
// `_delta_log` (the newest checkpoint, read with DuckDB's read_parquet, then the later JSON
// commits), then prints every row of those files with read_parquet.mjs (one JSON line per row).
//
// Usage: node read_delta.mjs [--json-only] [--files] TABLE_DIR
//   --json-only  ignores checkpoints and replays every JSON commit from version 0.
//   --files      prints the active files' paths (one per line) instead of the rows.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const COMMIT = /^(\d{20})\.json$/;
const CHECKPOINT = /^(\d{20})\.checkpoint(\.\d+\.\d+)?\.parquet$/;

// A SQL string literal.
export function sqlString(s) {
  return `'${s.replaceAll("'", "''")}'`;
}

// A path in an add/remove action is a URI reference relative to the table directory.
function resolvePath(table, p) {
  if (p.startsWith('file:')) return fileURLToPath(p);
  const decoded = decodeURIComponent(p);
  return path.isAbsolute(decoded) ? decoded : path.join(table, decoded);
}

// The add and remove paths of a checkpoint (all of its parts), in that order of application:
// a checkpoint holds only live adds and tombstones, so both are applied as a set.
async function readCheckpoint(files) {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const list = files.map(sqlString).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT "add".path AS a, "remove".path AS r FROM read_parquet([${list}])`,
    );
    const adds = [];
    const removes = [];
    for (const [a, r] of reader.getRows()) {
      if (a !== null && a !== undefined) adds.push(a);
      if (r !== null && r !== undefined) removes.push(r);
    }
    return { adds, removes };
  } finally {
    connection.closeSync();
  }
}

// The absolute paths of the table's active data files, sorted. Exported for tests that read
// tables in-process (tests/fhir/fidelity.mjs).
export async function activeFiles(table, jsonOnly = false) {
  const logDir = path.join(table, '_delta_log');
  const names = readdirSync(logDir);
  const commits = new Map();
  const checkpoints = new Map();
  for (const name of names) {
    let m = COMMIT.exec(name);
    if (m) commits.set(BigInt(m[1]), name);
    m = CHECKPOINT.exec(name);
    if (m) {
      const v = BigInt(m[1]);
      if (!checkpoints.has(v)) checkpoints.set(v, []);
      checkpoints.get(v).push(path.join(logDir, name));
    }
  }
  if (commits.size === 0 && checkpoints.size === 0) {
    throw new Error(`read_delta.mjs: ${logDir} holds no commits`);
  }
  const live = new Set();
  let start = 0n;
  if (!jsonOnly) {
    const versions = [...checkpoints.keys()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    for (const v of versions) {
      try {
        const { adds, removes } = await readCheckpoint(checkpoints.get(v));
        for (const p of adds) live.add(p);
        for (const p of removes) live.delete(p);
        start = v + 1n;
        break;
      } catch (e) {
        console.error(`read_delta.mjs: skipping unreadable checkpoint ${v}: ${e.message}`);
      }
    }
  }
  const versions = [...commits.keys()].filter((v) => v >= start).sort((a, b) => (a < b ? -1 : 1));
  let expected = start;
  for (const v of versions) {
    if (v !== expected) throw new Error(`read_delta.mjs: commit ${expected} is missing`);
    expected = v + 1n;
    const text = readFileSync(path.join(logDir, commits.get(v)), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const action = JSON.parse(line);
      if (action.add) live.add(action.add.path);
      if (action.remove) live.delete(action.remove.path);
    }
  }
  return [...live].map((p) => resolvePath(table, p)).sort();
}

async function main() {
  let args = process.argv.slice(2);
  const jsonOnly = args.includes('--json-only');
  const listFiles = args.includes('--files');
  args = args.filter((a) => a !== '--json-only' && a !== '--files');
  if (args.length !== 1) {
    console.error('usage: node read_delta.mjs [--json-only] [--files] TABLE_DIR');
    process.exit(2);
  }
  const files = await activeFiles(args[0], jsonOnly);
  if (listFiles) {
    process.stdout.write(files.map((f) => `${f}\n`).join(''));
    return;
  }
  if (files.length === 0) return;
  const reader = path.join(path.dirname(fileURLToPath(import.meta.url)), 'read_parquet.mjs');
  const out = execFileSync(process.execPath, [reader, ...files], {
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(out);
}

// Run as a script only (importing this module must not read the command line).
const script = process.argv[1];
if (script !== undefined && realpathSync(script) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
