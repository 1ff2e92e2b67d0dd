// Reads Parquet files with DuckDB (an independent implementation of the format) and prints every
// row as one line of JSON, in the form lakeflow's ColumnBatch::row_json uses, so tests can compare
// what DuckDB reads with what lakeflow wrote:
//   integers and floats as JSON numbers, decimals as quoted text with their scale ("-12.340"),
//   dates "YYYY-MM-DD", timestamps "YYYY-MM-DDTHH:MM:SS.ffffff" (+ "Z" for instants), binary as
//   base64, JSON (variant) columns as their JSON text, maps as objects (non-string keys as the
//   string of their JSON), structs as objects, lists as arrays, nulls as null.
//
// Usage: node read_parquet.mjs [--describe] FILE [FILE...]
//   --describe  prints `name<TAB>DuckDB type` (as DESCRIBE shows it) for each column instead.
// Several files are read as one table (DuckDB's read_parquet over a list).
import {
  DuckDBInstance,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBArrayValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
} from '@duckdb/node-api';

function pad(n, width) {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + s.padStart(width, '0');
}

// Proleptic Gregorian calendar date for days since 1970-01-01.
function civilFromDays(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  let y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y += 1;
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

const MICROS_PER_DAY = 86400000000n;

function timestampText(micros, utc) {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const r = Number(rest);
  const seconds = Math.floor(r / 1e6);
  const frac = r % 1e6;
  const hh = pad(Math.floor(seconds / 3600), 2);
  const mm = pad(Math.floor(seconds / 60) % 60, 2);
  const ss = pad(seconds % 60, 2);
  return `${civilFromDays(Number(days))}T${hh}:${mm}:${ss}.${pad(frac, 6)}${utc ? 'Z' : ''}`;
}

function decimalText(unscaled, scale) {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return (negative ? '-' : '') + digits;
}

// Python's repr() of a float: shortest round-trip digits, positional for exponents in [-4, 16).
function pythonFloat(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let out;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out = `0.${'0'.repeat(-exp - 1)}${digits}`;
    } else if (digits.length <= exp + 1) {
      out = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
    } else {
      out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp), 2)}`;
  }
  return (negative ? '-' : '') + out;
}

function base64(bytes) {
  return Buffer.from(bytes).toString('base64');
}

// `type` is a typeTree() node. Values of DuckDB's JSON type (VARCHAR with alias JSON, what
// DuckDB makes of Parquet's JSON logical type) are JSON text and are written as they are.
function valueJson(value, type) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    return type.name === 'FLOAT' || type.name === 'DOUBLE' ? pythonFloat(value) : String(value);
  }
  if (typeof value === 'string') return type.alias === 'JSON' ? value : JSON.stringify(value);
  if (value instanceof DuckDBDecimalValue) return JSON.stringify(decimalText(value.value, value.scale));
  if (value instanceof DuckDBDateValue) return JSON.stringify(civilFromDays(value.days));
  if (value instanceof DuckDBTimestampTZValue) return JSON.stringify(timestampText(value.micros, true));
  if (value instanceof DuckDBTimestampValue) return JSON.stringify(timestampText(value.micros, false));
  if (value instanceof DuckDBBlobValue) return JSON.stringify(base64(value.bytes));
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) {
    return `[${value.items.map((v) => valueJson(v, type.valueType)).join(',')}]`;
  }
  if (value instanceof DuckDBStructValue) {
    const parts = type.entryNames.map(
      (name, i) => `${JSON.stringify(name)}:${valueJson(value.entries[name], type.entryTypes[i])}`,
    );
    return `{${parts.join(',')}}`;
  }
  if (value instanceof DuckDBMapValue) {
    const parts = value.entries.map(({ key, value: v }) => {
      const keyText = valueJson(key, type.keyType);
      const quotedKey = keyText.startsWith('"') ? keyText : JSON.stringify(keyText);
      return `${quotedKey}:${valueJson(v, type.valueType)}`;
    });
    return `{${parts.join(',')}}`;
  }
  throw new Error(`read_parquet.mjs: no JSON form for ${value.constructor.name} (${type.name})`);
}

// The parts of a DuckDB type the printer needs, as a plain tree.
function typeTree(type) {
  const node = { name: type.toString(), alias: type.alias };
  if (type.entryNames !== undefined && type.entryTypes !== undefined) {
    node.entryNames = type.entryNames;
    node.entryTypes = type.entryTypes.map(typeTree);
  } else if (type.keyType !== undefined && type.valueType !== undefined) {
    node.keyType = typeTree(type.keyType);
    node.valueType = typeTree(type.valueType);
  } else if (type.valueType !== undefined) {
    node.valueType = typeTree(type.valueType);
  }
  return node;
}

async function main() {
  const args = process.argv.slice(2);
  const describe = args[0] === '--describe';
  const files = describe ? args.slice(1) : args;
  if (files.length === 0) {
    console.error('usage: node read_parquet.mjs [--describe] FILE [FILE...]');
    process.exit(2);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const list = files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
  // By name: files written before the table's schema grew lack the newer columns (null).
  const query = `SELECT * FROM read_parquet([${list}], union_by_name = true)`;
  const lines = [];
  if (describe) {
    const described = await connection.runAndReadAll(`DESCRIBE ${query}`);
    for (const row of described.getRowObjectsJson()) lines.push(`${row.column_name}\t${row.column_type}`);
  } else {
    const reader = await connection.runAndReadAll(query);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    const trees = types.map(typeTree);
    for (const row of reader.getRows()) {
      const parts = row.map((v, i) => `${JSON.stringify(names[i])}:${valueJson(v, trees[i])}`);
      lines.push(`{${parts.join(',')}}`);
    }
  }
  process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  connection.closeSync();
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
