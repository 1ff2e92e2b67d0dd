#!/usr/bin/env node
// Derives bench/observation_schema.json (PySpark StructType JSON) from HL7's official FHIR R4
// Observation examples, reproducibly: the same examples always give byte-identical output.
//
//   node bench/infer-schema.js [EXAMPLES_DIR] > bench/observation_schema.json
//
// EXAMPLES_DIR defaults to bench/node_modules/hl7.fhir.r4.examples (installed by `npm ci` in
// bench/). Every `Observation-*.json` whose resourceType is Observation is read, in sorted file
// name order (the order bench/gen_fhir_observations.py uses). No dependencies beyond node.
//
// Rules (every field nullable, every array containsNull = true):
//   object  -> struct: the union of keys seen at that path, fields in order of first appearance.
//   array   -> array of the merged type of all elements seen at that path (any example).
//   integer literal (no '.', no exponent) -> long, when every value at the path is one and fits.
//   other numbers -> decimal(38,18) when every value at the path fits it exactly, else double.
//   true/false -> boolean; string -> string; a path that only ever holds null or [] -> string.
//   FHIR `instant` elements -> timestamp: Meta.lastUpdated (`meta.lastUpdated` of the resource and
//     of its contained resources) and Observation.issued (`issued`). They are declared, not
//     inferred: no R4 Observation example carries meta.lastUpdated, yet the workload generator
//     stamps one on every record, so the declared paths are added when the examples lack them.
//   Conflicts merge to the type that holds both: a single value and an array merge into an array
//     of both (the converter wraps a single value when containsNull is true); anything else that
//     disagrees (object vs string, number vs boolean, ...) becomes string, which the converter
//     fills with the value's JSON text.
//
// Why decimal(38,18) and double. FHIR `decimal` values are exact decimal numbers, so a Spark
// decimal is the faithful type: decimal(38,18) is the widest precision Spark has, split so that
// every value with at most 20 integer digits and 18 fractional digits is held exactly -- all
// measurements in the examples, and every value the workload generator writes (3 fractional
// digits). A fixed scale is used instead of the largest scale seen because the workload replaces
// valueQuantity.value with new values; a scale fitted to the examples could reject them.
// One path does not fit any decimal: Observation-decimal.json is a precision test whose
// component[].valueQuantity.value holds 1E-22, 1000000000000000000, 1.000000000000000000E-245 and
// -1.000000000000000000E+245 (263 digits apart; Spark decimals stop at 38). For such a path the
// script picks double, the only Spark numeric type whose range holds them. The workload is
// generated through Python floats, so every number it contains is a double already and double
// holds it exactly; only the textual precision of the original examples (1.00 vs 1.0) is lost,
// which no fixed-scale decimal keeps either.
'use strict';

const fs = require('fs');
const path = require('path');

// ---- A JSON reader that keeps number literals as text (JSON.parse would round them) ----------

class JsonReader {
  constructor(text, file) {
    this.s = text;
    this.i = 0;
    this.file = file;
  }
  fail(what) {
    throw new Error(`${this.file}: ${what} at offset ${this.i}`);
  }
  ws() {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i])) this.i++;
  }
  document() {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail('trailing characters');
    return v;
  }
  // Values: null, true/false, {num: 'text'}, string, array, {obj: [[key, value], ...]}.
  value() {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      const entries = [];
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return {obj: entries};
      }
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail('expected a key');
        const key = this.string();
        this.ws();
        if (this.s[this.i] !== ':') this.fail('expected a colon');
        this.i++;
        entries.push([key, this.value()]);
        this.ws();
        if (this.s[this.i] === ',') {
          this.i++;
        } else if (this.s[this.i] === '}') {
          this.i++;
          return {obj: entries};
        } else {
          this.fail('expected a comma or }');
        }
      }
    }
    if (c === '[') {
      this.i++;
      const items = [];
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return items;
      }
      for (;;) {
        items.push(this.value());
        this.ws();
        if (this.s[this.i] === ',') {
          this.i++;
        } else if (this.s[this.i] === ']') {
          this.i++;
          return items;
        } else {
          this.fail('expected a comma or ]');
        }
      }
    }
    if (c === '"') return this.string();
    for (const [word, v] of [['null', null], ['true', true], ['false', false]]) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    const m =
        /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('unexpected character');
    this.i += m[0].length;
    return {num: m[0]};
  }
  string() {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"')
      this.i += this.s[this.i] === '\\' ? 2 : 1;
    if (this.i >= this.s.length) this.fail('unterminated string');
    this.i++;
    return JSON.parse(this.s.slice(start, this.i));
  }
}

// ---- Number literal facts ----------------------------------------------------------------------

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const DECIMAL_PRECISION = 38;
const DECIMAL_SCALE = 18;

function numberFacts(text) {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  const isIntegerLiteral = m[3] === undefined && m[4] === undefined;
  let fitsLong = false;
  if (isIntegerLiteral) {
    const v = BigInt(text);
    fitsLong = v >= INT64_MIN && v <= INT64_MAX;
  }
  // The value is digits * 10^exp with `digits` an integer without leading or trailing zeros.
  let digits = (m[2] + (m[3] || '')).replace(/^0+/, '');
  let exp = -(m[3] || '').length + Number(m[4] || 0);
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  digits = trimmed;
  let fitsDecimal = true;
  if (digits.length > 0) {
    const fractionDigits = Math.max(0, -exp);
    const integerDigits = Math.max(0, digits.length + exp);
    fitsDecimal =
        fractionDigits <= DECIMAL_SCALE && integerDigits <= DECIMAL_PRECISION - DECIMAL_SCALE;
  }
  return {isIntegerLiteral, fitsLong, fitsDecimal};
}

// ---- Inferred types ----------------------------------------------------------------------------
// {kind: 'null'} | {kind: 'boolean'} | {kind: 'string'} | {kind: 'number', integer, fitsLong,
// fitsDecimal} | {kind: 'array', element} | {kind: 'struct', fields: Map(name -> type)}

function typeOf(v) {
  if (v === null) return {kind: 'null'};
  if (v === true || v === false) return {kind: 'boolean'};
  if (typeof v === 'string') return {kind: 'string'};
  if (Array.isArray(v)) {
    return {kind: 'array', element: v.reduce((t, item) => merge(t, typeOf(item)), {kind: 'null'})};
  }
  if (v.num !== undefined) {
    const f = numberFacts(v.num);
    return {
      kind: 'number',
      integer: f.isIntegerLiteral,
      fitsLong: f.fitsLong,
      fitsDecimal: f.fitsDecimal
    };
  }
  const fields = new Map();
  for (const [key, value] of v.obj) {
    // A repeated key: the converter keeps the last value, so the types merge.
    fields.set(key, fields.has(key) ? merge(fields.get(key), typeOf(value)) : typeOf(value));
  }
  return {kind: 'struct', fields};
}

function merge(a, b) {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind === 'array' && b.kind === 'array')
    return {kind: 'array', element: merge(a.element, b.element)};
  if (a.kind === 'array') return {kind: 'array', element: merge(a.element, b)};
  if (b.kind === 'array') return {kind: 'array', element: merge(a, b.element)};
  if (a.kind !== b.kind) return {kind: 'string'};
  if (a.kind === 'number') {
    return {
      kind: 'number',
      integer: a.integer && b.integer,
      fitsLong: a.fitsLong && b.fitsLong,
      fitsDecimal: a.fitsDecimal && b.fitsDecimal,
    };
  }
  if (a.kind === 'struct') {
    const fields = new Map(a.fields);  // a's keys keep their first-appearance order
    for (const [key, t] of b.fields)
      fields.set(key, fields.has(key) ? merge(fields.get(key), t) : t);
    return {kind: 'struct', fields};
  }
  return a;
}

// Forces the FHIR instant elements to timestamp, adding them where the examples lack them.
function declareInstant(struct, dottedPath) {
  const [head, ...rest] = dottedPath.split('.');
  if (rest.length === 0) {
    const t = struct.fields.get(head);
    if (t && t.kind !== 'null' && t.kind !== 'string') {
      throw new Error(`instant field '${dottedPath}' holds ${t.kind} values in the examples`);
    }
    struct.fields.set(head, {kind: 'timestamp'});
    return;
  }
  let child = struct.fields.get(head);
  if (!child || child.kind === 'null') {
    child = {kind: 'struct', fields: new Map()};
    struct.fields.set(head, child);
  }
  if (child.kind === 'array') child = child.element;
  if (child.kind !== 'struct') throw new Error(`'${head}' is not an object in the examples`);
  declareInstant(child, rest.join('.'));
}

// ---- PySpark JSON ------------------------------------------------------------------------------

function sparkType(t) {
  switch (t.kind) {
    case 'null':
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'timestamp';
    case 'number':
      if (t.integer && t.fitsLong) return 'long';
      return t.fitsDecimal ? `decimal(${DECIMAL_PRECISION},${DECIMAL_SCALE})` : 'double';
    case 'array':
      return {containsNull: true, elementType: sparkType(t.element), type: 'array'};
    case 'struct': {
      const fields = [];
      for (const [name, ft] of t.fields) {
        fields.push({metadata: {}, name, nullable: true, type: sparkType(ft)});
      }
      return {fields, type: 'struct'};
    }
  }
  throw new Error(`no Spark type for ${t.kind}`);
}

function main() {
  let dir = process.argv[2] || path.join(__dirname, 'node_modules', 'hl7.fhir.r4.examples');
  // npm unpacks the package's files at the top level; other tools keep its `package/` folder.
  if (fs.existsSync(path.join(dir, 'package'))) dir = path.join(dir, 'package');
  const files = fs.readdirSync(dir).filter((f) => /^Observation-.*\.json$/.test(f)).sort();
  let schema = {kind: 'struct', fields: new Map()};
  let used = 0;
  for (const f of files) {
    const doc = new JsonReader(fs.readFileSync(path.join(dir, f), 'utf8'), f).document();
    const resourceType = doc && doc.obj && doc.obj.find(([k]) => k === 'resourceType');
    if (!resourceType || resourceType[1] !== 'Observation') {
      process.stderr.write(`infer-schema: skipping ${f} (not an Observation)\n`);
      continue;
    }
    schema = merge(schema, typeOf(doc));
    used++;
  }
  if (used === 0) {
    process.stderr.write(
        `infer-schema: no Observation-*.json examples in ${dir}; run npm ci in bench/\n`);
    process.exit(1);
  }
  declareInstant(schema, 'meta.lastUpdated');
  declareInstant(schema, 'issued');
  const contained = schema.fields.get('contained');
  if (contained && contained.kind === 'array' && contained.element.kind === 'struct' &&
      contained.element.fields.has('meta')) {
    declareInstant(contained.element, 'meta.lastUpdated');
  }
  process.stdout.write(JSON.stringify(sparkType(schema), null, 2) + '\n');
  process.stderr.write(
      `infer-schema: ${used} Observation examples, ${schema.fields.size} top-level fields\n`);
}

main();
