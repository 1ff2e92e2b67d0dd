#!/usr/bin/env node
// FHIR fidelity: every resource the local FHIR server holds, landed by `lakeflow run` into Delta
// tables and read back by DuckDB, equals the JSON the server returned and the file it was loaded
// from, field by field, numbers by their text.
//
//   1. starts tools/fhir-server with HL7's R4 examples and fidelity_values.ndjson (port 0; stopped
//      at the end, also on failure). fidelity_values.ndjson holds what HL7's examples lack: empty
//      arrays, `{}`, "" and null, `-0`, `2^53+1` (a decimal and an integer), `2^63-1`, exponent
//      forms, decimals whose double prints otherwise. Numbers the connector cannot parse yet
//      (`1e309`, integers from 2^64) stay out until it can; they fail the whole page today;
//   2. reads every resource of every type the CapabilityStatement offers, directly over HTTP
//      (GET [base]/[type]?_count=1000, following Bundle next links), keeping the response text;
//      and reads the file each came from (fidelity_sources.mjs: the server's loading rule,
//      without its code);
//   3. writes a connections file and a pipeline spec with every type that has resources into a
//      temporary directory and runs `lakeflow run` (records that do not convert are quarantined,
//      so every conversion error is listed, then counted as a failure). A type whose
//      CapabilityStatement entry lists no `_lastUpdated` search (Medplum's Binary) lands as the
//      connector's snapshot table;
//   4. reads every landed table with DuckDB (tests/duckdb, no lakeflow code);
//   5. compares each row with its resource (fidelity_compare.mjs): every key the server sent, at
//      every level, has an equal value; no column holds a value the server did not send; the
//      raw JSON column is the resource as sent (byte for byte) and the cursor column is the
//      resource's meta.lastUpdated;
//   6. compares each row, the server's answer and the raw JSON column with the resource as its
//      file holds it (plus the meta.versionId and meta.lastUpdated the server sets where the file
//      has none): so a number rewritten or an empty value dropped anywhere between the file and
//      the table is a mismatch, by the server too;
//   7. runs the spec again: nothing new lands (every table keeps its data files; 0 rows inserted,
//      updated, deleted or quarantined).
// Prints a summary; exits 1 on any mismatch or failure, 77 (CTest's skip) when node_modules of the
// server or of tests/duckdb are not installed.
//
// Usage: node fidelity.mjs --lakeflow PATH [--keep DIR] [--types A,B] [--exclude A,B]
//                          [--max-report N]
//   --keep DIR      work in DIR (created; kept afterwards) instead of a removed temporary directory
//   --types         only these resource types, --exclude: not these (for debugging; the test
//                   registered with CTest uses neither)
//   --max-report N  mismatches printed one by one (default 40; all are counted and grouped)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.join(REPO, 'tools/fhir-server/server.mjs');
const EXAMPLES = path.join(REPO, 'tools/fhir-server/node_modules/hl7.fhir.r4.examples');
// Values HL7's examples lack, loaded beside them (see the header).
const VALUES_FILE = fileURLToPath(new URL('./fidelity_values.ndjson', import.meta.url));
const SCHEMA_HEADER = path.join(REPO, 'sources/fhir/schema/fhir_schema.h');
const READY = 'FHIR server ready at ';
const SKIP = 77;
const DESTINATION_SCHEMA = 'fhir';

// An expected kind of failure: reported by its message alone, without a stack.
function failure(message) {
  const error = new Error(message);
  error.fidelity = true;
  return error;
}

function fail(message) {
  throw failure(message);
}

function seconds(since) {
  return (performance.now() - since) / 1000;
}

// The connector's added column names, as the schema header declares them.
function connectorColumns() {
  const header = readFileSync(SCHEMA_HEADER, 'utf8');
  const constant = (name) => {
    const m = new RegExp(`${name}\\s*=\\s*"([^"]+)"`).exec(header);
    if (!m) fail(`${SCHEMA_HEADER} declares no ${name}`);
    return m[1];
  };
  return { cursor: constant('kLastUpdatedColumn'), raw: constant('kRawJsonColumn') };
}

// Starts the server; resolves to {baseUrl, stop(), output()}.
function startServer(workDir) {
  const child = spawn(
    process.execPath,
    [SERVER, '--port', '0', '--load-examples', '--load', VALUES_FILE, '--exit-on-stdin-close'],
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: workDir },
  );
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const stop = () => {
    if (exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.end();
      child.kill('SIGTERM');
    });
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(failure(`the FHIR server did not start within 120 s:\n${stderr}`));
    }, 120000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(failure(`cannot start the FHIR server: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      reject(failure(`the FHIR server exited (${signal ?? code}) before it was ready:\n${stderr}`));
    });
    child.stdout.on('data', (d) => {
      stdout += d;
      const at = stdout.indexOf(READY);
      const end = at < 0 ? -1 : stdout.indexOf('\n', at);
      if (end < 0) return;
      clearTimeout(timer);
      resolve({ baseUrl: stdout.slice(at + READY.length, end).trim(), stop, output: () => stderr });
    });
  });
}

async function getText(url) {
  const response = await fetch(url, { headers: { Accept: 'application/fhir+json' } });
  const text = await response.text();
  if (!response.ok) fail(`GET ${url}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

// Every resource of `type`: [{resource (parsed, numbers as literals), text (as sent)}].
async function fetchType(baseUrl, type, parseJson) {
  const resources = [];
  const seen = new Set();
  let url = `${baseUrl}/${type}?_count=1000`;
  let total;
  for (let pages = 0; url; pages += 1) {
    if (pages > 1000) fail(`${type}: more than 1000 pages; the next links do not end`);
    const text = await getText(url);
    const spans = new WeakMap();
    const bundle = parseJson(text, spans);
    if (bundle.resourceType !== 'Bundle') fail(`GET ${url} returned a ${bundle.resourceType}`);
    if (bundle.total !== undefined) total = Number(bundle.total.text);
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource;
      if (resource?.resourceType !== type || typeof resource.id !== 'string') {
        fail(`GET ${url}: an entry is not a ${type} with an id`);
      }
      if (seen.has(resource.id)) fail(`${type}/${resource.id} came twice in the search results`);
      seen.add(resource.id);
      const [start, end] = spans.get(resource);
      resources.push({ resource, text: text.slice(start, end) });
    }
    url = (bundle.link ?? []).find((l) => l.relation === 'next')?.url;
  }
  if (total !== undefined && total !== resources.length) {
    fail(`${type}: Bundle.total is ${total} but the pages held ${resources.length} resources`);
  }
  return resources;
}

// Every resource of every type the server offers search on: {offered (count), byType: type →
// resources, unreadable: type → count}. `unreadable` stays empty: types without `_lastUpdated`
// search (Medplum: Binary) are the connector's snapshot tables and land like the others.
async function fetchAll(baseUrl, only, parseJson) {
  const capability = JSON.parse(await getText(`${baseUrl}/metadata`));
  const types = capability.rest
    .filter((r) => r.mode === 'server')
    .flatMap((rest) =>
      (rest.resource ?? []).map((r) => {
        return r;
      }),
    )
    .filter((r) => (r.interaction ?? []).some((i) => i.code === 'search-type'))
    .map((r) => r.type)
    .filter((t) => only === undefined || only.has(t))
    .sort();
  if (only !== undefined) {
    const missing = [...only].filter((t) => !types.includes(t));
    if (missing.length) fail(`the server offers no search for ${missing.join(', ')}`);
  }
  const byType = new Map();
  const queue = [...types];
  const worker = async () => {
    while (queue.length) {
      const type = queue.shift();
      const resources = await fetchType(baseUrl, type, parseJson);
      if (resources.length) byType.set(type, resources);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const unreadable = new Map();
  return {
    offered: types.length,
    byType: new Map([...byType].sort(([a], [b]) => (a < b ? -1 : 1))),
    unreadable,
  };
}

// Runs `lakeflow run --json SPEC`; resolves to the parsed summary. A nonzero exit (a failed
// table) adds a problem naming it and the end of what lakeflow printed; the summary still says
// which tables failed and why. No summary at all (a crash) fails the test at once.
function runLakeflow(lakeflow, spec, label, problems) {
  return new Promise((resolve, reject) => {
    const child = spawn(lakeflow, ['run', spec, '--json', '--on-bad-record', 'quarantine'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: path.dirname(spec),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', (e) => reject(failure(`cannot run ${lakeflow}: ${e.message}`)));
    child.once('close', (code, signal) => {
      const tail = stderr.split('\n').filter((l) => l.trim() !== '').slice(-5).join('\n    ');
      let summary;
      try {
        summary = JSON.parse(stdout);
      } catch (e) {
        reject(
          failure(
            `${label}: lakeflow run exited with ${signal ?? code} and no JSON summary ` +
              `(${e.message})\n--- stdout\n${stdout.slice(-4000)}\n` +
              `--- stderr\n${stderr.slice(-8000)}`,
          ),
        );
        return;
      }
      if (code !== 0) {
        problems.push(`${label}: lakeflow run exited with ${signal ?? code}:\n    ${tail}`);
      }
      resolve(summary);
    });
  });
}

// The quarantined records' reasons, for the report.
async function quarantineReasons(reader, table, workDir) {
  if (!table.quarantine_path) return [];
  const { rows } = await reader.read(path.resolve(workDir, table.quarantine_path));
  return rows.map((r) => r.reason);
}

// Generic form of a mismatch path, for grouping: list indices dropped.
function pathPattern(p) {
  return p.replace(/\[\d+\]/g, '[]');
}

async function main() {
  const { values } = parseArgs({
    options: {
      lakeflow: { type: 'string' },
      keep: { type: 'string' },
      types: { type: 'string' },
      exclude: { type: 'string' },
      'max-report': { type: 'string', default: '40' },
    },
  });
  if (!values.lakeflow) {
    console.error(
      'usage: node fidelity.mjs --lakeflow PATH [--keep DIR] [--types A,B] [--exclude A,B] ' +
        '[--max-report N]',
    );
    process.exit(2);
  }
  const lakeflow = path.resolve(values.lakeflow);
  const maxReport = Number(values['max-report']);
  const list = (text) => (text ? new Set(text.split(',').map((t) => t.trim())) : undefined);
  const only = list(values.types);
  const excluded = list(values.exclude) ?? new Set();
  for (const [dir, what] of [
    ['tools/fhir-server/node_modules/@medplum/fhir-router', 'tools/fhir-server'],
    ['tests/duckdb/node_modules/@duckdb/node-api', 'tests/duckdb'],
  ]) {
    if (!existsSync(path.join(REPO, dir))) {
      console.log(
        `SKIP: ${what}/node_modules is missing; run scripts/install-deps (npm ci in ${what})`,
      );
      process.exit(SKIP);
    }
  }
  if (!existsSync(lakeflow)) fail(`no lakeflow binary at ${lakeflow}; build the lakeflow target`);
  const { parseJson, Comparator, compareWithServer, compareWithSource } = await import(
    './fidelity_compare.mjs'
  );
  const { loadedSources } = await import('./fidelity_sources.mjs');
  const { DeltaTableReader, activeFiles } = await import('../duckdb/delta_table.mjs');
  const columns = connectorColumns();

  const started = performance.now();
  const times = {};
  const workDir = values.keep
    ? path.resolve(values.keep)
    : mkdtempSync(path.join(os.tmpdir(), 'lakeflow-fhir-fidelity-'));
  mkdirSync(workDir, { recursive: true });
  let server;
  let reader;
  try {
    let t = performance.now();
    server = await startServer(workDir);
    times.server = seconds(t);

    t = performance.now();
    const { offered, byType, unreadable } = await fetchAll(server.baseUrl, only, parseJson);
    for (const type of excluded) byType.delete(type);
    times.fetch = seconds(t);
    const resourceCount = [...byType.values()].reduce((n, list) => n + list.length, 0);
    if (resourceCount === 0) fail('the server holds no resources; was --load-examples honoured?');
    t = performance.now();
    const wanted = new Set();
    for (const [type, list] of byType) list.forEach((r) => wanted.add(`${type}/${r.resource.id}`));
    const sources = loadedSources({ examplesDir: EXAMPLES, loadFiles: [VALUES_FILE], wanted });
    times.sources = seconds(t);

    // 3. The spec: one table per type that has resources.
    writeFileSync(
      path.join(workDir, 'connections.json'),
      JSON.stringify(
        { fhir_local: { connector: 'fhir', options: { base_url: server.baseUrl } } },
        null,
        2,
      ),
    );
    const spec = path.join(workDir, 'fhir_pipeline.json');
    writeFileSync(
      spec,
      JSON.stringify(
        {
          connection_name: 'fhir_local',
          connections_file: 'connections.json',
          destination_root: 'lakehouse',
          objects: [...byType.keys()].map((type) => ({
            table: { source_table: type, destination_schema: DESTINATION_SCHEMA },
          })),
        },
        null,
        2,
      ),
    );

    t = performance.now();
    const problems = []; // failures other than field mismatches
    const summary = await runLakeflow(lakeflow, spec, 'first run', problems);
    times.run = seconds(t);

    // Reads start now, two at a time (DuckDB works on its own threads), and are compared in order.
    reader = await DeltaTableReader.open({ connections: 2, threads: 1 });
    const tableDir = (type) => path.join(workDir, 'lakehouse', 'main', DESTINATION_SCHEMA, type);
    const reads = new Map();
    for (const type of byType.keys()) {
      const dir = tableDir(type);
      const exists = existsSync(path.join(dir, '_delta_log'));
      reads.set(type, exists ? reader.read(dir).catch((error) => ({ error })) : undefined);
    }
    const summaryByTable = new Map(summary.map((s) => [s.source_table, s]));
    for (const type of byType.keys()) {
      const s = summaryByTable.get(type);
      if (!s) {
        problems.push(`${type}: not in the run summary`);
        continue;
      }
      if (s.error) problems.push(`${type}: table failed: ${s.error}`);
      if (s.quarantined) {
        const reasons = await quarantineReasons(reader, s, workDir);
        problems.push(
          `${type}: ${s.quarantined} records quarantined (conversion errors):\n` +
            reasons.map((r) => `      ${r}`).join('\n'),
        );
      }
      const expected = byType.get(type).length;
      if (s.inserted !== expected) {
        problems.push(
          `${type}: the first run inserted ${s.inserted} rows; the server holds ${expected}`,
        );
      }
    }

    // 4, 5 + 6. Read back and compare.
    t = performance.now();
    const comparator = new Comparator(); // the server's answer vs the row
    const fileComparator = new Comparator({ source: 'file' }); // vs the server's answer and the row
    const where = []; // parallel to comparator.mismatches: {type, id}
    const fileWhere = []; // parallel to fileComparator.mismatches: {type, id, origin}
    const tableFiles = new Map(); // type → active files after the first run
    let rawIdentical = 0;
    const note = (type, id) => {
      while (where.length < comparator.mismatches.length) where.push({ type, id });
    };
    const noteFile = (type, id, origin) => {
      while (fileWhere.length < fileComparator.mismatches.length) {
        fileWhere.push({ type, id, origin });
      }
    };
    for (const [type, resources] of byType) {
      const table = await reads.get(type);
      reads.delete(type); // rows of wide tables are large: let them go once compared
      if (table === undefined) {
        problems.push(`${type}: no Delta table at ${tableDir(type)}`);
        continue;
      }
      if (table.error) {
        problems.push(`${type}: DuckDB cannot read the table: ${table.error.message}`);
        continue;
      }
      const { files, columns: cols, rows } = table;
      tableFiles.set(type, files);
      const names = new Set(cols.map((c) => c.name));
      for (const name of [columns.cursor, columns.raw, 'id']) {
        if (!names.has(name)) problems.push(`${type}: the table has no column ${name}`);
      }
      const rowsById = new Map();
      for (const row of rows) {
        if (rowsById.has(row.id)) problems.push(`${type}/${row.id}: landed twice`);
        rowsById.set(row.id, row);
      }
      const serverIds = new Set(resources.map((r) => r.resource.id));
      for (const id of rowsById.keys()) {
        if (!serverIds.has(id)) {
          problems.push(`${type}/${id}: landed but the server does not hold it`);
        }
      }
      for (const { resource, text } of resources) {
        const row = rowsById.get(resource.id);
        if (!row) {
          problems.push(`${type}/${resource.id}: the server holds it but it did not land`);
          continue;
        }
        if (compareWithServer(comparator, columns, resource, text, row)) rawIdentical += 1;
        note(type, resource.id);
        const source = sources.get(`${type}/${resource.id}`);
        if (!source) {
          problems.push(`${type}/${resource.id}: landed, but no loaded file holds it`);
          continue;
        }
        compareWithSource(fileComparator, columns, source.resource, resource, row);
        noteFile(type, resource.id, source.origin);
      }
    }
    times.compare = seconds(t);

    // 7. The rerun lands nothing.
    t = performance.now();
    const rerun = await runLakeflow(lakeflow, spec, 'second run', problems);
    times.rerun = seconds(t);
    let rerunRecords = 0;
    for (const s of rerun) {
      rerunRecords += s.records;
      const changed = ['inserted', 'updated', 'deleted', 'quarantined'].filter((k) => s[k] !== 0);
      if (s.error) problems.push(`second run: ${s.source_table} failed: ${s.error}`);
      if (changed.length) {
        problems.push(
          `second run: ${s.source_table} ` +
            `${changed.map((k) => `${k} ${s[k]}`).join(', ')} (expected 0)`,
        );
      }
      // Same active files: the same rows, nothing rewritten.
      const before = tableFiles.get(s.source_table);
      if (!before) continue;
      const after = await activeFiles(tableDir(s.source_table));
      if (after.join('\n') !== before.join('\n')) {
        problems.push(
          `second run: ${s.source_table} has other data files than after the first run`,
        );
      }
    }

    // Report.
    const mismatches = [
      ...comparator.mismatches.map((m, i) => ({ ...m, ...where[i] })),
      ...fileComparator.mismatches.map((m, i) => ({
        ...m,
        ...fileWhere[i],
        kind: m.kind.endsWith('vs file') ? m.kind : `${m.kind} (row vs file)`,
        message: `${m.message} [${fileWhere[i].origin}]`,
      })),
    ];
    const st = comparator.stats;
    const counts = (x) =>
      `${x.typed + x.text + x.jsonText} values compared (${x.typed} typed, ${x.text} as text, ` +
      `${x.jsonText} inside JSON-text columns; ${x.decimals} numbers by their text, ` +
      `${x.rewritable} of them ones JSON.parse would rewrite)`;
    const fst = fileComparator.stats;
    console.log(
      `FHIR fidelity: ${byType.size} types with resources (of ${offered} offered), ` +
        `${resourceCount} resources\n` +
        `  the rows against the server's answers: ${counts(st)}, ` +
        `${st.absent} absent fields checked null, ` +
        `${rawIdentical}/${resourceCount} ${columns.raw} byte-identical; ` +
        `cursor column ${columns.cursor}\n` +
        `  the rows against the loaded files (${sources.size} resources; HL7's examples and ` +
        `${path.basename(VALUES_FILE)}): ${counts(fst)}; ` +
        `the server's answers and ${columns.raw} against the files: ${fst.documents} documents, ` +
        `${fst.documentNumbers} numbers by their text`,
    );
    if (unreadable.size) {
      console.log(
        `  not landed: ` +
          `${[...unreadable].map(([type, n]) => `${type} (${n} resources)`).join(', ')}` +
          ': the CapabilityStatement offers no _lastUpdated search on them',
      );
    }
    if (st.emptyObjectAsNull || st.fractionCut) {
      console.log(
        `  documented conversions: ${st.emptyObjectAsNull} empty objects landed as null structs, ` +
          `${st.fractionCut} instants with more than 6 fraction digits cut to microseconds`,
      );
    }
    console.log(
      `  second run: ${rerun.length} tables, ${rerunRecords} records read, nothing landed` +
        `${problems.some((p) => p.startsWith('second run')) ? ' — NOT SO, see below' : ''}`,
    );
    console.log(
      `  time: server start ${times.server.toFixed(1)} s, fetch ${times.fetch.toFixed(1)} s, ` +
        `reading the files ${times.sources.toFixed(1)} s, ` +
        `lakeflow run ${times.run.toFixed(1)} s, ` +
        `DuckDB read + compare ${times.compare.toFixed(1)} s, ` +
        `rerun ${times.rerun.toFixed(1)} s, total ${seconds(started).toFixed(1)} s`,
    );
    if (mismatches.length) {
      console.log(`\n${mismatches.length} MISMATCHES, grouped (count, kind, path, first example):`);
      const groups = new Map();
      for (const m of mismatches) {
        const key = `${m.kind}\t${m.type}.${pathPattern(m.path)}`;
        if (!groups.has(key)) groups.set(key, { count: 0, first: m });
        groups.get(key).count += 1;
      }
      for (const [key, { count, first }] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
        const [kind, p] = key.split('\t');
        const example = `${first.type}/${first.id}: ${first.message}`;
        console.log(`  ${String(count).padStart(5)}  ${kind}  ${p}  (${example})`);
      }
      console.log(`\nfirst ${Math.min(maxReport, mismatches.length)} mismatches:`);
      for (const m of mismatches.slice(0, maxReport)) {
        console.log(`  ${m.type}/${m.id} ${m.path}: [${m.kind}] ${m.message}`);
      }
    }
    if (problems.length) {
      console.log(`\n${problems.length} FAILURES:`);
      for (const p of problems) console.log(`  ${p}`);
    }
    if (mismatches.length || problems.length) {
      if (values.keep) console.log(`\nwork directory kept: ${workDir}`);
      process.exitCode = 1;
    } else {
      console.log('PASS: every resource landed exactly as its file has it and the server sent it');
    }
  } catch (e) {
    const log = server?.output().trim();
    if (log) e.message += `\n--- the FHIR server's output (end)\n${log.slice(-3000)}`;
    throw e;
  } finally {
    reader?.close();
    await server?.stop();
    if (!values.keep) rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  const stack = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  const frames = e.fidelity ? '' : `\n${stack.join('\n')}`;
  console.error(`FAIL: ${e.message}${frames}`);
  process.exitCode = 1;
});
