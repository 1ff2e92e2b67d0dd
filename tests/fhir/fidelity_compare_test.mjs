// The fidelity comparator must fail: planted differences between a resource and its DuckDB row
// (the values @duckdb/node-api returns), and between a loaded file and the server's answer, are
// each reported with their path and kind, and equal values of every kind pass.
// Run directly (`node fidelity_compare_test.mjs`); exits 77, CTest's skip, without tests/duckdb's
// npm packages.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

if (!existsSync(new URL('../duckdb/node_modules/@duckdb/node-api', import.meta.url))) {
  console.log('SKIP: tests/duckdb/node_modules is missing; run scripts/install-deps');
  process.exit(77);
}
const { DuckDBDecimalValue, DuckDBListValue, DuckDBStructValue, DuckDBTimestampTZValue } =
  await import('../duckdb/delta_table.mjs');
const {
  Comparator,
  JsonNumber,
  compareWithServer,
  compareWithSource,
  expectedFromSource,
  instantMicros,
  jsonDiff,
  numericKey,
  parseJson,
} = await import('./fidelity_compare.mjs');
const { loadedSources } = await import('./fidelity_sources.mjs');

const struct = (entries) => new DuckDBStructValue(entries);
const list = (items) => new DuckDBListValue(items);
const tz = (micros) => new DuckDBTimestampTZValue(micros);
const component = (valueInteger) =>
  struct({ code: struct({ text: 'a', coding: null }), valueInteger, valueString: null });

function check(serverText, row) {
  const c = new Comparator();
  c.compareFields(parseJson(serverText), row, '');
  return c;
}

function kinds(c) {
  return c.mismatches.map((m) => `${m.kind} ${m.path}`);
}

const SERVER = `{"resourceType":"Observation","id":"o1","valueQuantity":{"value":1.50,"unit":"mg"},
  "component":[{"code":{"text":"a"},"valueInteger":9007199254740993}],
  "meta":{"lastUpdated":"2020-01-02T03:04:05.678+01:00"},"effectiveDateTime":"2020-01",
  "contained":[{"resourceType":"Patient","id":"p","active":true}],
  "_status":{"extension":[{"url":"u"}]}}`;

function goodRow() {
  return {
    resourceType: 'Observation',
    id: 'o1',
    valueQuantity: struct({ value: '1.50', unit: 'mg', system: null }),
    component: list([
      component(9007199254740993n),
    ]),
    meta: struct({ lastUpdated: tz(instantMicros('2020-01-02T02:04:05.678Z')), versionId: null }),
    effectiveDateTime: '2020-01',
    contained: list(['{"resourceType":"Patient","id":"p","active":true}']),
    _status: struct({ extension: list([struct({ url: 'u', valueString: null })]) }),
    subject: null,
  };
}

test('equal values of every kind pass', () => {
  const c = check(SERVER, goodRow());
  assert.deepEqual(c.mismatches, []);
  assert.equal(c.stats.typed, 2); // the long and the instant
  assert.ok(c.stats.absent >= 6);
});

test('a decimal whose text changed is reported even when the value is equal', () => {
  const row = goodRow();
  row.valueQuantity = struct({ value: '1.5', unit: 'mg', system: null });
  assert.deepEqual(kinds(check(SERVER, row)), ['number text valueQuantity.value']);
});

test('a long off by one beyond 2^53 is reported', () => {
  const row = goodRow();
  row.component = list([
    component(9007199254740992n),
  ]);
  assert.deepEqual(kinds(check(SERVER, row)), ['value component[0].valueInteger']);
});

test('an instant one microsecond off is reported', () => {
  const row = goodRow();
  const lastUpdated = tz(instantMicros('2020-01-02T02:04:05.678001Z'));
  row.meta = struct({ lastUpdated, versionId: null });
  assert.deepEqual(kinds(check(SERVER, row)), ['value meta.lastUpdated']);
});

test('a lost value, an invented value and a key without a column are reported', () => {
  const row = goodRow();
  row.effectiveDateTime = null;
  row.subject = struct({ reference: 'Patient/x' });
  delete row._status;
  assert.deepEqual(kinds(check(SERVER, row)).sort(), [
    'invented subject',
    'lost effectiveDateTime',
    'no column _status',
  ]);
});

test('JSON text that differs inside is reported at the inner path', () => {
  const row = goodRow();
  row.contained = list(['{"resourceType":"Patient","id":"p","active":false}']);
  assert.deepEqual(kinds(check(SERVER, row)), ['json text contained[0].active']);
});

test('a list of another length is reported', () => {
  const row = goodRow();
  row.contained = list([]);
  assert.deepEqual(kinds(check(SERVER, row)), ['length contained']);
});

test('an empty object may land as a null struct; other values may not', () => {
  const c = check('{"a":{},"b":[]}', { a: null, b: null });
  assert.deepEqual(kinds(c), ['lost b']);
  assert.equal(c.stats.emptyObjectAsNull, 1);
});

test('decimal columns compare by value', () => {
  const ok = check('{"v":1.50}', { v: new DuckDBDecimalValue(150n, 3, 2) });
  assert.deepEqual(ok.mismatches, []);
  const bad = check('{"v":1.51}', { v: new DuckDBDecimalValue(150n, 3, 2) });
  assert.deepEqual(kinds(bad), ['value v']);
});

test('parseJson keeps number literals, escapes and __proto__ keys', () => {
  const v = parseJson('{"n":[1.0,-2e3],"s":"a\\u00e9\\"","__proto__":{"x":1}}');
  assert.equal(v.n[0].text, '1.0');
  assert.equal(v.n[1].text, '-2e3');
  assert.equal(v.s, 'aé"');
  assert.equal(v.__proto__.x.text, '1'); // eslint-disable-line no-proto
  assert.throws(() => parseJson('{"a":1,}'), SyntaxError);
  assert.throws(() => parseJson('[1] x'), SyntaxError);
});

test('helpers: numericKey, instantMicros, jsonDiff', () => {
  assert.equal(numericKey('1.50'), numericKey('15e-1'));
  assert.notEqual(numericKey('1.5'), numericKey('1.51'));
  assert.equal(numericKey('-0.0'), '0');
  assert.equal(instantMicros('1970-01-01T00:00:00.000001Z'), 1n);
  assert.equal(instantMicros('1970-01-01T01:00:00+01:00'), 0n);
  assert.equal(instantMicros('1969-12-31T23:59:59.9999999Z'), -1n);
  assert.equal(instantMicros('2020-01-01'), null);
  assert.deepEqual(jsonDiff(parseJson('{"a":[1]}'), parseJson('{"a":[1.0]}')), {
    path: 'a[0]',
    message: 'number 1 vs 1.0',
  });
  assert.equal(jsonDiff(parseJson('{"a":1,"b":2}'), parseJson('{"b":2,"a":1}')), null);
  assert.ok(new JsonNumber('1') instanceof JsonNumber);
});

// A file's Observation, the server's answer for it (`served`, text) and the row that landed.
const COLUMNS = { cursor: 'last_updated', raw: 'raw_json' };
const FILE =
  '{"resourceType":"Observation","id":"d","valueQuantity":{"value":66.899999999999991},' +
  '"note":[],"contained":[{"resourceType":"Patient","id":"p",' +
  '"extension":[{"url":"u","valueDecimal":1.00}]}]}';
const LAST_UPDATED = '2020-01-01T00:00:00Z';

function servedFor(fileText) {
  const meta = `"meta":{"versionId":"1","lastUpdated":"${LAST_UPDATED}"}`;
  return fileText.replace('"id":"d",', `"id":"d",${meta},`);
}

function rowFor(servedText) {
  const served = parseJson(servedText);
  const value = served.valueQuantity.value.text;
  return {
    resourceType: 'Observation',
    id: 'd',
    meta: struct({ versionId: '1', lastUpdated: tz(instantMicros(LAST_UPDATED)) }),
    valueQuantity: struct({ value, unit: null }),
    note: list([]),
    contained: list(served.contained.map(jsonText)),
    last_updated: tz(instantMicros(LAST_UPDATED)),
    raw_json: servedText,
  };
}

// Writes a parsed value as JSON with numbers as their literal text.
function jsonText(v) {
  if (v instanceof JsonNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${jsonText(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function againstFile(fileText, servedText, row = rowFor(servedText)) {
  const server = new Comparator();
  compareWithServer(server, COLUMNS, parseJson(servedText), servedText, row);
  const file = new Comparator({ source: 'file' });
  compareWithSource(file, COLUMNS, parseJson(fileText), parseJson(servedText), row);
  return { server, file };
}

test('a file landed as it is passes against the server and against the file', () => {
  const { server, file } = againstFile(FILE, servedFor(FILE));
  assert.deepEqual(server.mismatches, []);
  assert.deepEqual(file.mismatches, []);
  assert.equal(file.stats.decimals, 2); // 66.899999999999991 as text, 1.00 inside JSON text
  assert.equal(file.stats.rewritable, 2);
  assert.equal(file.stats.documents, 2); // the server's answer and the raw JSON column
});

test('a decimal the server rewrote is reported against the file, not against the server', () => {
  for (const [sent, rewritten, kind] of [
    ['1.00', '1', 'number text'], // the same value, another text
    ['66.899999999999991', '66.89999999999999', 'value'], // another decimal, the same double
  ]) {
    const fileText = FILE.replace('66.899999999999991', sent);
    const served = servedFor(fileText).replace(`"value":${sent}`, `"value":${rewritten}`);
    const { server, file } = againstFile(fileText, served);
    assert.deepEqual(server.mismatches, []); // the server's answer alone cannot see it
    assert.deepEqual(kinds(file), [
      'server vs file valueQuantity.value',
      'raw json vs file valueQuantity.value',
      `${kind} valueQuantity.value`,
    ]);
    assert.match(file.mismatches[2].message, new RegExp(`^the file has the number ${sent}; `));
  }
});

test('a decimal rewritten inside a JSON-text column is reported at its path', () => {
  const served = servedFor(FILE);
  const row = rowFor(served);
  row.contained = list([jsonText(parseJson(served).contained[0]).replace('1.00', '1')]);
  const { server, file } = againstFile(FILE, served, row);
  assert.deepEqual(kinds(server), ['json text contained[0].extension[0].valueDecimal']);
  assert.deepEqual(kinds(file), ['json text contained[0].extension[0].valueDecimal']);
});

test('an empty array the server dropped is reported against the file', () => {
  const served = servedFor(FILE).replace('"note":[],', '');
  const row = rowFor(served);
  row.note = null;
  const { server, file } = againstFile(FILE, served, row);
  assert.deepEqual(server.mismatches, []);
  assert.deepEqual(kinds(file), ['server vs file note', 'raw json vs file note', 'lost note']);
});

test('expectedFromSource takes from the server only the meta the file lacks', () => {
  const served = parseJson('{"id":"x","meta":{"versionId":"7","lastUpdated":"2021-01-01"}}');
  const none = expectedFromSource(parseJson('{"id":"x"}'), served);
  assert.equal(jsonText(none), '{"id":"x","meta":{"versionId":"7","lastUpdated":"2021-01-01"}}');
  const file = parseJson('{"id":"x","meta":{"lastUpdated":"2015-01-01"}}');
  const own = expectedFromSource(file, served);
  assert.equal(jsonText(own), '{"id":"x","meta":{"lastUpdated":"2015-01-01","versionId":"7"}}');
});

test('loadedSources: standalone files, then Bundle entries, then loaded files; first wins', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fidelity-sources-'));
  try {
    const write = (name, value) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      writeFileSync(path.join(dir, name), text);
    };
    write('Patient-a.json', '{"resourceType":"Patient","id":"a","multipleBirthInteger":1}');
    write('Bundle-b.json', {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', id: 'a', gender: 'other' } },
        { resource: { resourceType: 'Patient', id: 'b' } },
        { resource: { resourceType: 'Patient' } },
      ],
    });
    write('Bundle-doc.json', {
      resourceType: 'Bundle',
      type: 'document',
      entry: [{ resource: { resourceType: 'Patient', id: 'c' } }],
    });
    const extra = path.join(dir, 'extra.ndjson');
    write(
      'extra.ndjson',
      '{"resourceType":"Patient","id":"c","birthDate":"2000"}\n\n' +
        '{"resourceType":"Patient","id":"b","gender":"male"}\n',
    );
    const wanted = new Set(['Patient/a', 'Patient/b', 'Patient/c', 'Patient/missing']);
    const sources = loadedSources({ examplesDir: dir, loadFiles: [extra], wanted });
    assert.deepEqual([...sources.keys()].sort(), ['Patient/a', 'Patient/b', 'Patient/c']);
    assert.equal(sources.get('Patient/a').origin, 'Patient-a.json');
    assert.equal(sources.get('Patient/a').resource.multipleBirthInteger.text, '1');
    assert.equal(sources.get('Patient/b').origin, 'Bundle-b.json entry[1]');
    // A document's entries do not load.
    assert.equal(sources.get('Patient/c').origin, 'extra.ndjson:1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
