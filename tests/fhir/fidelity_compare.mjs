// The comparison rules of the FHIR fidelity test (fidelity.mjs): a resource as the server sent it
// against the row DuckDB reads back from the Delta table lakeflow landed.
//
// The server's JSON is parsed with parseJson, which keeps every number as its literal text
// (JsonNumber), so a decimal the schema keeps as text is compared digit for digit, and a long is
// compared without passing through a double. DuckDB values are the ones @duckdb/node-api returns:
// strings, booleans, numbers, bigints, DuckDB*Value objects for decimals, dates, timestamps,
// structs and lists.
//
// Rules (Comparator.compare):
//   - every key the server sent has a column (at every level) holding an equal value;
//   - a column without a server key (or with a JSON null from the server) is null;
//   - a string column: equal to a string the server sent; the exact literal of a number; `true` /
//     `false` for a boolean; JSON text deep-equal to an object or array (numbers compared as text);
//   - an integer column: the same integer as the server's literal (BigInt, never a double);
//   - a decimal column: the same value (digits and exponent, trailing zeros aside);
//   - a timestamp column: the same instant, in microseconds (the literal may have any offset;
//     fraction digits beyond microseconds are cut, as the converter documents);
//   - a struct: the server sent an object; a list: an array of the same length, item by item.
// An empty object the server sent may be a null struct (the converter's documented `{}` → null):
// no key is lost. These are counted, not reported.
//
// The same rules compare a row with the resource its source file holds (expectedFromSource), and
// compareDocument compares two whole JSON documents (the server's answer, the raw JSON column)
// with the file's resource, numbers by their text.
import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBArrayValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
} from '../duckdb/delta_table.mjs';

// A JSON number as its literal text.
export class JsonNumber {
  constructor(text) {
    this.text = text;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

// Parses JSON text. Objects have no prototype (so any key, `__proto__` included, is an own
// property; the last of duplicate keys wins), numbers are JsonNumber. When `spans` (a WeakMap) is
// given, every object is mapped to its [start, end) offsets in `text`.
export function parseJson(text, spans) {
  let i = 0;
  const fail = (what) => {
    throw new SyntaxError(`invalid JSON: ${what} at offset ${i}`);
  };
  const skipSpace = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i += 1;
    }
  };
  const string = () => {
    const start = i;
    i += 1;
    let escaped = false;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in a string');
      if (c === 0x5c) {
        escaped = true;
        i += 2;
      } else {
        i += 1;
      }
    }
    if (i >= text.length) fail('unterminated string');
    i += 1;
    return escaped ? JSON.parse(text.slice(start, i)) : text.slice(start + 1, i - 1);
  };
  const literal = (word, result) => {
    if (!text.startsWith(word, i)) fail('unexpected character');
    i += word.length;
    return result;
  };
  const value = () => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      const start = i;
      i += 1;
      const object = Object.create(null);
      skipSpace();
      if (text[i] === '}') {
        i += 1;
      } else {
        for (;;) {
          skipSpace();
          if (text[i] !== '"') fail('expected a key');
          const key = string();
          skipSpace();
          if (text[i] !== ':') fail("expected ':'");
          i += 1;
          object[key] = value();
          skipSpace();
          if (text[i] === ',') {
            i += 1;
          } else if (text[i] === '}') {
            i += 1;
            break;
          } else {
            fail("expected ',' or '}'");
          }
        }
      }
      if (spans) spans.set(object, [start, i]);
      return object;
    }
    if (c === '[') {
      i += 1;
      const array = [];
      skipSpace();
      if (text[i] === ']') {
        i += 1;
        return array;
      }
      for (;;) {
        array.push(value());
        skipSpace();
        if (text[i] === ',') {
          i += 1;
        } else if (text[i] === ']') {
          i += 1;
          return array;
        } else {
          fail("expected ',' or ']'");
        }
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail('unexpected character');
    i += m[0].length;
    return new JsonNumber(m[0]);
  };
  const result = value();
  skipSpace();
  if (i !== text.length) fail('text after the value');
  return result;
}

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber);
}

function kindOf(v) {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (v instanceof JsonNumber) return 'number';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

// Compact JSON of a parsed value (numbers as their literals), cut to `max` characters.
export function preview(v, max = 80) {
  const text = (() => {
    if (v === undefined) return 'nothing';
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof JsonNumber) return v.text;
    if (Array.isArray(v)) return `[${v.map((x) => preview(x, max)).join(',')}]`;
    if (isObject(v) && Object.getPrototypeOf(v) === null) {
      return `{${Object.keys(v)
        .map((k) => `${JSON.stringify(k)}:${preview(v[k], max)}`)
        .join(',')}}`;
    }
    if (v !== null && typeof v === 'object') return `${v.constructor.name}(${String(v)})`;
    return JSON.stringify(v);
  })();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// The number of leaf values (strings, numbers, booleans, nulls) in a parsed value.
export function leafCount(v) {
  if (Array.isArray(v)) return v.reduce((n, x) => n + leafCount(x), 0);
  if (isObject(v)) return Object.keys(v).reduce((n, k) => n + leafCount(v[k]), 0);
  return 1;
}

// The numbers (JsonNumber) in a parsed value.
export function numbersIn(v) {
  if (v instanceof JsonNumber) return [v];
  if (Array.isArray(v)) return v.flatMap(numbersIn);
  if (isObject(v)) return Object.keys(v).flatMap((k) => numbersIn(v[k]));
  return [];
}

// Whether JSON.parse followed by JSON.stringify writes the number otherwise (`1.00`, `-0`,
// `66.899999999999991`, `9007199254740993`): a number only an exact path keeps.
export function rewrittenByJsonParse(number) {
  return JSON.stringify(Number(number.text)) !== number.text;
}

// The resource a source file holds (`source`, parsed) as the server is to serve it: with the
// meta.versionId and meta.lastUpdated the server sets where the file has none, taken from the
// server's answer (`served`). Everything else is the file's.
export function expectedFromSource(source, served) {
  const expected = Object.assign(Object.create(null), source);
  const meta = Object.assign(Object.create(null), source.meta ?? {});
  for (const key of ['versionId', 'lastUpdated']) {
    if (meta[key] === undefined && served.meta?.[key] !== undefined) meta[key] = served.meta[key];
  }
  if (Object.keys(meta).length) expected.meta = meta;
  return expected;
}

// The first difference between two parsed values, {path, message}, or null when they are equal:
// same keys, same array lengths and items, numbers with the same literal text.
export function jsonDiff(a, b, path = '') {
  if (a instanceof JsonNumber || b instanceof JsonNumber) {
    if (!(a instanceof JsonNumber && b instanceof JsonNumber)) {
      return { path, message: `${preview(a)} vs ${preview(b)}` };
    }
    return a.text === b.text ? null : { path, message: `number ${a.text} vs ${b.text}` };
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b))) {
      return { path, message: `${kindOf(a)} vs ${kindOf(b)}` };
    }
    if (a.length !== b.length) return { path, message: `${a.length} items vs ${b.length}` };
    for (let k = 0; k < a.length; k += 1) {
      const d = jsonDiff(a[k], b[k], `${path}[${k}]`);
      if (d) return d;
    }
    return null;
  }
  if (isObject(a) || isObject(b)) {
    if (!(isObject(a) && isObject(b))) return { path, message: `${kindOf(a)} vs ${kindOf(b)}` };
    for (const key of Object.keys(a)) {
      const sub = path ? `${path}.${key}` : key;
      if (!(key in b)) return { path: sub, message: `${preview(a[key])} vs nothing` };
      const d = jsonDiff(a[key], b[key], sub);
      if (d) return d;
    }
    for (const key of Object.keys(b)) {
      if (!(key in a)) {
        return { path: path ? `${path}.${key}` : key, message: `nothing vs ${preview(b[key])}` };
      }
    }
    return null;
  }
  return a === b ? null : { path, message: `${preview(a)} vs ${preview(b)}` };
}

// Days since 1970-01-01 of a proleptic Gregorian date.
function daysFromCivil(y, m, d) {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

// Microseconds since the epoch (BigInt) of a FHIR instant (`2015-02-07T13:28:17.239+02:00`),
// fraction digits beyond the sixth cut; null when the text is not an instant.
export function instantMicros(text) {
  const m = typeof text === 'string' ? INSTANT.exec(text) : null;
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const micros = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    offsetMinutes = sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
  }
  return (
    BigInt(daysFromCivil(y, mo, d)) * 86400000000n +
    BigInt(h * 3600 + mi * 60 + s - offsetMinutes * 60) * 1000000n +
    micros
  );
}

// A canonical form of a number literal's exact value (`-125e-2` for "-1.250"), or null when the
// text is not a finite JSON number.
export function numericKey(text) {
  const m = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  const frac = m[3] ?? '';
  let digits = (m[2] + frac).replace(/^0+/, '');
  let exponent = BigInt(m[4] ?? '0') - BigInt(frac.length);
  if (digits === '') return '0';
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += BigInt(trailing);
  return `${m[1] === '-' ? '-' : ''}${digits}e${exponent}`;
}

function decimalText(value) {
  return `${value.value}e-${value.scale}`;
}

// Compares server values with DuckDB values under the rules above, collecting mismatches
// ({path, kind, message}) and counts.
export class Comparator {
  // `source` names where the expected values come from, for the messages: `server` (what the
  // server sent) or `file` (what a loaded file holds).
  constructor({ source = 'server' } = {}) {
    this.source = source;
    this.sent = source === 'server' ? 'the server sent' : `the ${source} has`;
    this.mismatches = [];
    this.stats = {
      typed: 0, // server values compared with a typed (non-text) column
      text: 0, // server strings, numbers and booleans compared with a string column
      jsonText: 0, // leaf values inside objects/arrays compared with a column's JSON text
      absent: 0, // columns checked to be null because the server sent no such key
      emptyObjectAsNull: 0, // `{}` from the server landed as a null struct
      fractionCut: 0, // instants with more than 6 fraction digits
      decimals: 0, // numbers compared by their text: in string columns and inside JSON text
      rewritable: 0, // of those, numbers JSON.parse would rewrite (rewrittenByJsonParse)
      documents: 0, // whole documents compared (compareDocument)
      documentNumbers: 0, // numbers in them, compared by their text
    };
  }

  mismatch(path, kind, message) {
    this.mismatches.push({ path, kind, message });
  }

  // Compares a whole JSON document (`actual`, parsed) with `expected`: same keys, same items,
  // numbers with the same text. A difference is reported as `kind` at its path.
  compareDocument(expected, actual, kind) {
    this.stats.documents += 1;
    this.stats.documentNumbers += numbersIn(expected).length;
    const d = jsonDiff(expected, actual);
    if (d) this.mismatch(d.path, kind, d.message);
  }

  #countDecimals(server) {
    for (const number of numbersIn(server)) {
      this.stats.decimals += 1;
      if (rewrittenByJsonParse(number)) this.stats.rewritable += 1;
    }
  }

  // Compares every column of `entries` (a struct's or a row's {name: value}) with the server
  // object `server`; keys of `server` without a column are reported, except those in `skip`.
  compareFields(server, entries, path, skip = new Set()) {
    for (const name of Object.keys(entries)) {
      if (skip.has(name)) continue;
      this.compare(server[name], entries[name], path ? `${path}.${name}` : name);
    }
    for (const key of Object.keys(server)) {
      if (skip.has(key) || key in entries) continue;
      this.mismatch(
        path ? `${path}.${key}` : key,
        'no column',
        `${this.sent} ${preview(server[key])}; the table has no column for it`,
      );
    }
  }

  compare(server, duck, path) {
    if (duck === null || duck === undefined) {
      if (server === undefined || server === null) {
        this.stats.absent += 1;
      } else if (isObject(server) && Object.keys(server).length === 0) {
        this.stats.emptyObjectAsNull += 1;
      } else {
        this.mismatch(path, 'lost', `${this.sent} ${preview(server)}; the column is null`);
      }
      return;
    }
    if (server === undefined || server === null) {
      this.mismatch(
        path,
        'invented',
        `${this.sent} ${server === null ? 'null' : 'no such key'}; ` +
          `the column holds ${preview(duck)}`,
      );
      return;
    }
    if (typeof duck === 'string') {
      this.compareText(server, duck, path);
    } else if (duck instanceof DuckDBStructValue) {
      if (!isObject(server)) {
        this.mismatch(path, 'type', `${this.sent} ${preview(server)}; the column is a struct`);
      } else {
        this.compareFields(server, duck.entries, path);
      }
    } else if (duck instanceof DuckDBListValue || duck instanceof DuckDBArrayValue) {
      if (!Array.isArray(server)) {
        this.mismatch(path, 'type', `${this.sent} ${preview(server)}; the column is a list`);
      } else if (server.length !== duck.items.length) {
        this.mismatch(
          path,
          'length',
          `${this.sent} ${server.length} items, the column holds ${duck.items.length}`,
        );
      } else {
        server.forEach((item, k) => this.compare(item, duck.items[k], `${path}[${k}]`));
      }
    } else if (duck instanceof DuckDBMapValue) {
      if (!isObject(server)) {
        this.mismatch(path, 'type', `${this.sent} ${kindOf(server)}; the column is a map`);
      } else {
        const entries = Object.create(null);
        for (const { key, value } of duck.entries) entries[String(key)] = value;
        this.compareFields(server, entries, path);
      }
    } else {
      this.stats.typed += 1;
      const problem = this.#typedProblem(server, duck);
      if (problem) this.mismatch(path, problem.kind, problem.message);
    }
  }

  // A string column: the server's string, a number's literal, a boolean's word, or JSON text.
  compareText(server, text, path) {
    if (typeof server === 'string') {
      this.stats.text += 1;
      if (server !== text) {
        const message = `${this.sent} ${preview(server)}; the column holds ${preview(text)}`;
        this.mismatch(path, 'value', message);
      }
    } else if (server instanceof JsonNumber) {
      this.stats.text += 1;
      this.#countDecimals(server);
      if (server.text !== text) {
        const same = numericKey(server.text) === numericKey(text);
        this.mismatch(
          path,
          same ? 'number text' : 'value',
          `${this.sent} the number ${server.text}; the column holds ${preview(text)}`,
        );
      }
    } else if (typeof server === 'boolean') {
      this.stats.text += 1;
      if (String(server) !== text) {
        const message = `${this.sent} ${server}; the column holds ${preview(text)}`;
        this.mismatch(path, 'value', message);
      }
    } else {
      this.stats.jsonText += leafCount(server);
      this.#countDecimals(server);
      let parsed;
      try {
        parsed = parseJson(text);
      } catch (e) {
        this.mismatch(path, 'json text', `the column is not JSON (${e.message}): ${preview(text)}`);
        return;
      }
      const d = jsonDiff(server, parsed);
      if (d) {
        this.mismatch(
          d.path ? `${path}${d.path.startsWith('[') ? '' : '.'}${d.path}` : path,
          'json text',
          `${this.source} vs column JSON text: ${d.message}`,
        );
      }
    }
  }

  // Why a typed scalar column does not hold the server's value, or null when it does.
  #typedProblem(server, duck) {
    const sent = `${this.sent} ${preview(server)}`;
    if (typeof duck === 'boolean') {
      const message = `${sent}; the column holds ${duck}`;
      return server === duck ? null : { kind: 'value', message };
    }
    if (typeof duck === 'bigint' || typeof duck === 'number') {
      if (!(server instanceof JsonNumber)) {
        return { kind: 'type', message: `${sent}; the column holds the number ${duck}` };
      }
      const exact = typeof duck === 'bigint' || Number.isInteger(duck);
      const equal = exact
        ? numericKey(server.text) === numericKey(BigInt(duck).toString())
        : Number(server.text) === duck;
      return equal ? null : { kind: 'value', message: `${sent}; the column holds ${duck}` };
    }
    if (duck instanceof DuckDBDecimalValue) {
      if (!(server instanceof JsonNumber)) {
        return { kind: 'type', message: `${sent}; the column holds the decimal ${duck}` };
      }
      return numericKey(server.text) === numericKey(decimalText(duck))
        ? null
        : { kind: 'value', message: `${sent}; the column holds ${duck}` };
    }
    if (duck instanceof DuckDBTimestampTZValue || duck instanceof DuckDBTimestampValue) {
      const micros = instantMicros(server);
      if (micros === null) {
        return { kind: 'type', message: `${sent}, not an instant; the column holds ${duck}` };
      }
      if (/\.\d{7,}/.test(server)) this.stats.fractionCut += 1;
      return micros === duck.micros
        ? null
        : { kind: 'value', message: `${sent}; the column holds ${duck} (${duck.micros} µs)` };
    }
    if (duck instanceof DuckDBDateValue) {
      const m = typeof server === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(server) : null;
      if (!m) return { kind: 'type', message: `${sent}, not a date; the column holds ${duck}` };
      return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) === duck.days
        ? null
        : { kind: 'value', message: `${sent}; the column holds ${duck}` };
    }
    return {
      kind: 'unsupported',
      message: `no rule for a DuckDB ${duck?.constructor?.name ?? typeof duck} column (${sent})`,
    };
  }
}

// Compares a landed row with the resource as the server sent it (parsed, and its `text`): every
// field (Comparator), the raw JSON column (the text as sent) and the cursor column
// (meta.lastUpdated). `columns` names the connector's columns, {cursor, raw}. Returns whether the
// raw JSON column is byte-identical to `text`.
export function compareWithServer(comparator, columns, resource, text, row) {
  comparator.compareFields(resource, row, '', new Set([columns.cursor, columns.raw]));
  const raw = row[columns.raw];
  let identical = false;
  if (typeof raw !== 'string') {
    comparator.mismatch(columns.raw, 'raw json', `the column holds ${preview(raw)}`);
  } else if (raw === text) {
    identical = true;
  } else {
    let parsed;
    try {
      parsed = parseJson(raw);
    } catch (e) {
      comparator.mismatch(columns.raw, 'raw json', `not JSON: ${e.message}`);
    }
    const d = parsed === undefined ? null : jsonDiff(resource, parsed);
    if (d) {
      comparator.mismatch(`${columns.raw}:${d.path}`, 'raw json', `server vs column: ${d.message}`);
    } else if (parsed !== undefined) {
      const message = 'equal JSON, but not the text the server sent';
      comparator.mismatch(columns.raw, 'raw json text', message);
    }
  }
  const cursor = row[columns.cursor];
  const lastUpdated = resource.meta?.lastUpdated;
  if (cursor?.micros === undefined || instantMicros(lastUpdated) !== cursor.micros) {
    comparator.mismatch(
      columns.cursor,
      'cursor',
      `meta.lastUpdated is ${preview(lastUpdated)}; the column holds ${preview(cursor)}`,
    );
  }
  return identical;
}

// Compares the resource a loaded file holds (`source`, parsed) with the server's answer and with
// the landed row, so a value changed anywhere between the file and the table is a mismatch, even
// one the server changed before lakeflow saw it: the server's answer and the raw JSON column
// each equal the file's resource (numbers by their text, empty arrays and objects included), and
// every field of the row holds the file's value (Comparator). The meta the server sets
// where the file has none is the server's (expectedFromSource).
export function compareWithSource(comparator, columns, source, served, row) {
  const expected = expectedFromSource(source, served);
  comparator.compareDocument(expected, served, 'server vs file');
  const raw = row[columns.raw];
  let parsed;
  try {
    parsed = typeof raw === 'string' ? parseJson(raw) : undefined;
  } catch {
    parsed = undefined; // compareWithServer reports it
  }
  if (parsed !== undefined) comparator.compareDocument(expected, parsed, 'raw json vs file');
  comparator.compareFields(expected, row, '', new Set([columns.cursor, columns.raw]));
}
