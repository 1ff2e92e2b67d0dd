// The fidelity comparator must fail: planted differences between a resource and its DuckDB row
// (the values @duckdb/node-api returns) are each reported with their path and kind, and equal
// values of every kind pass.
// Run directly (`node fidelity_compare_test.mjs`); exits 77, CTest's skip, without tests/duckdb's
// npm packages.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

if (!existsSync(new URL('../duckdb/node_modules/@duckdb/node-api', import.meta.url))) {
  console.log('SKIP: tests/duckdb/node_modules is missing; run scripts/install-deps');
  process.exit(77);
}
const { DuckDBDecimalValue, DuckDBListValue, DuckDBStructValue, DuckDBTimestampTZValue } =
  await import('../duckdb/delta_table.mjs');
const { Comparator, JsonNumber, instantMicros, jsonDiff, numericKey, parseJson } = await import(
  './fidelity_compare.mjs'
);

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
