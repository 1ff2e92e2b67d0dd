// JSON that keeps what JSON.parse loses: the text of every number and the order of every key.
//
// parseExact reads JSON text into a tree of
//   objects  -> Map (key order as received; of a repeated key the last value wins at the first
//               key's position, as JSON.parse does it),
//   arrays   -> Array,
//   numbers  -> JsonNumber holding the literal text (`1.00`, `-0`, `1e309`, `9007199254740993`),
//   strings, true, false, null -> themselves.
// toJsonText writes such a tree, or plain JavaScript values, as compact JSON: a JsonNumber as its
// text, a JsonText (JSON written elsewhere) verbatim, everything else as JSON.stringify would.
// So toJsonText(parseExact(text)) is `text` without insignificant whitespace and with strings in
// JSON.stringify's escaping. A tree's numbers are never written from a double.
//
// applyJsonPatch applies JSON Patch (RFC 6902) operations to such a tree.

// A JSON number as its literal text.
export class JsonNumber {
  constructor(text) {
    this.text = text;
  }

  // The value as a double (what JSON.parse makes of the literal).
  get value() {
    return Number(this.text);
  }
}

// A JSON value already written as text; toJsonText copies it verbatim.
export class JsonText {
  constructor(text) {
    this.text = text;
  }
}

const LITERALS = [['true', true], ['false', false], ['null', null]];

// The deepest nesting of arrays and objects parseExact reads. Medplum's own recursion fails at
// about 3,000 levels; below this bound every recursive walk of a tree is safe.
export const MAX_NESTING = 2000;

// The tree of JSON `text` (see above). Throws SyntaxError naming the offset for text JSON.parse
// would refuse too, RangeError for text nested deeper than MAX_NESTING.
export function parseExact(text) {
  let i = 0;
  let depth = 0;
  const fail = (what) => {
    throw new SyntaxError(`${what} at offset ${i}`);
  };
  const skipSpace = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      i += 1;
    }
  };
  const string = () => {
    const start = i; // at the opening quote
    let escaped = false;
    for (i += 1; ; i += 1) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i += 1;
      } else if (c < 0x20 || Number.isNaN(c)) {
        fail(Number.isNaN(c) ? 'unterminated string' : 'control character in a string');
      }
    }
    i += 1;
    if (!escaped) return text.slice(start + 1, i - 1);
    try {
      return JSON.parse(text.slice(start, i)); // decodes (and checks) every escape
    } catch {
      i = start;
      return fail('invalid escape in a string');
    }
  };
  const nest = () => {
    depth += 1;
    if (depth > MAX_NESTING) {
      throw new RangeError(`nested deeper than ${MAX_NESTING} levels at offset ${i}`);
    }
  };
  const value = () => {
    skipSpace();
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      nest();
      i += 1;
      const object = new Map();
      skipSpace();
      if (text.charCodeAt(i) === 0x7d) {
        i += 1;
        depth -= 1;
        return object;
      }
      for (;;) {
        skipSpace();
        if (text.charCodeAt(i) !== 0x22) fail('expected a key');
        const key = string();
        skipSpace();
        if (text.charCodeAt(i) !== 0x3a) fail("expected ':'");
        i += 1;
        object.set(key, value());
        skipSpace();
        const next = text.charCodeAt(i);
        i += 1;
        if (next === 0x7d) {
          depth -= 1;
          return object;
        }
        if (next !== 0x2c) {
          i -= 1;
          fail("expected ',' or '}'");
        }
      }
    }
    if (c === 0x5b /* [ */) {
      nest();
      i += 1;
      const array = [];
      skipSpace();
      if (text.charCodeAt(i) === 0x5d) {
        i += 1;
        depth -= 1;
        return array;
      }
      for (;;) {
        array.push(value());
        skipSpace();
        const next = text.charCodeAt(i);
        i += 1;
        if (next === 0x5d) {
          depth -= 1;
          return array;
        }
        if (next !== 0x2c) {
          i -= 1;
          fail("expected ',' or ']'");
        }
      }
    }
    if (c === 0x22) return string();
    if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      for (const [word, literal] of LITERALS) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return literal;
        }
      }
      fail('unexpected character');
    }
    return number();
  };
  // RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  const isDigit = (k) => {
    const d = text.charCodeAt(k);
    return d >= 0x30 && d <= 0x39;
  };
  const digits = () => {
    const start = i;
    while (isDigit(i)) i += 1;
    if (i === start) fail(i < text.length ? 'unexpected character' : 'unexpected end');
  };
  const number = () => {
    const start = i;
    if (text.charCodeAt(i) === 0x2d /* - */) i += 1;
    if (text.charCodeAt(i) === 0x30 /* 0 */) {
      i += 1;
    } else {
      digits();
    }
    if (text.charCodeAt(i) === 0x2e /* . */) {
      i += 1;
      digits();
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45 /* e E */) {
      i += 1;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i += 1;
      digits();
    }
    return new JsonNumber(text.slice(start, i));
  };
  const result = value();
  skipSpace();
  if (i !== text.length) fail('text after the value');
  return result;
}

// Compact JSON text of a tree, a plain JavaScript value or a mix of both (see above). Like
// JSON.stringify, an undefined member is left out and an undefined array item is `null`.
export function toJsonText(value) {
  if (value instanceof JsonNumber || value instanceof JsonText) return value.text;
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : toJsonText(v))).join(',')}]`;
  }
  if (value instanceof Map) return members(value);
  if (value !== null && typeof value === 'object' && typeof value.toJSON !== 'function') {
    return members(Object.entries(value));
  }
  return JSON.stringify(value) ?? 'null';
}

function members(entries) {
  const parts = [];
  for (const [key, v] of entries) {
    if (v !== undefined) parts.push(`${JSON.stringify(key)}:${toJsonText(v)}`);
  }
  return `{${parts.join(',')}}`;
}

// The tree of a plain JavaScript value (as JSON.parse returns it): objects become Maps, numbers
// JsonNumbers with JSON.stringify's text.
export function treeOf(value) {
  if (Array.isArray(value)) return value.map(treeOf);
  if (typeof value === 'number') return new JsonNumber(JSON.stringify(value));
  if (value !== null && typeof value === 'object') {
    return new Map(Object.entries(value).map(([k, v]) => [k, treeOf(v)]));
  }
  return value;
}

// Whether two trees hold the same JSON value; numbers are equal when their values are (RFC 6902's
// rule for `test`: `1.0` equals `1`).
export function sameJson(a, b) {
  if (a instanceof JsonNumber || b instanceof JsonNumber) {
    return a instanceof JsonNumber && b instanceof JsonNumber && a.value === b.value;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((v, k) => sameJson(v, b[k]))
    );
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [key, v] of a) {
      if (!b.has(key) || !sameJson(v, b.get(key))) return false;
    }
    return true;
  }
  return a === b;
}

// `document` (a tree) with the JSON Patch `operations` (a tree: an array of Maps with `op`,
// `path`, `from`, `value`) applied in order, RFC 6902; the document is changed in place and
// returned (a patch of the root path returns the new root). Throws an Error naming the operation
// when one cannot be applied.
export function applyJsonPatch(document, operations) {
  if (!Array.isArray(operations)) throw new Error('a JSON Patch is an array of operations');
  let root = document;
  operations.forEach((operation, n) => {
    const field = (name) => (operation instanceof Map ? operation.get(name) : undefined);
    const op = field('op');
    const where = `operation ${n} (${op})`;
    const pointer = (name) => {
      const text = field(name);
      if (typeof text !== 'string' || (text !== '' && !text.startsWith('/'))) {
        throw new Error(`${where}: '${name}' is not a JSON pointer`);
      }
      return text === '' ? [] : text.slice(1).split('/').map(unescapePointer);
    };
    const path = pointer('path');
    switch (op) {
      case 'add':
        root = add(root, path, copyTree(field('value')), where);
        break;
      case 'remove':
        root = remove(root, path, where).root;
        break;
      case 'replace':
        root = replace(root, path, copyTree(field('value')), where);
        break;
      case 'move': {
        const from = pointer('from');
        const moved = remove(root, from, where);
        root = add(moved.root, path, moved.value, where);
        break;
      }
      case 'copy':
        root = add(root, path, copyTree(resolve(root, pointer('from'), where)), where);
        break;
      case 'test':
        if (!sameJson(resolve(root, path, where), field('value'))) {
          throw new Error(`${where}: the value at ${field('path')} differs`);
        }
        break;
      default:
        throw new Error(`${where}: unknown operation`);
    }
  });
  return root;
}

function unescapePointer(token) {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

function copyTree(value) {
  if (value === undefined) throw new Error("an operation needs a 'value'");
  if (Array.isArray(value)) return value.map(copyTree);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, copyTree(v)]));
  return value; // JsonNumber is never changed in place
}

function arrayIndex(array, token, where, forAdd) {
  if (forAdd && token === '-') return array.length;
  const index = /^(?:0|[1-9]\d*)$/.test(token) ? Number(token) : NaN;
  if (!(index <= array.length - (forAdd ? 0 : 1))) {
    throw new Error(`${where}: no array index '${token}'`);
  }
  return index;
}

// The container holding the last token of `path`.
function parentOf(root, path, where) {
  return resolve(root, path.slice(0, -1), where);
}

function resolve(root, path, where) {
  let node = root;
  for (const token of path) {
    if (Array.isArray(node)) {
      node = node[arrayIndex(node, token, where, false)];
    } else if (node instanceof Map && node.has(token)) {
      node = node.get(token);
    } else {
      throw new Error(`${where}: nothing at /${path.join('/')}`);
    }
  }
  return node;
}

function add(root, path, value, where) {
  if (!path.length) return value;
  const parent = parentOf(root, path, where);
  const token = path.at(-1);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(parent, token, where, true), 0, value);
  } else if (parent instanceof Map) {
    parent.set(token, value);
  } else {
    throw new Error(`${where}: /${path.slice(0, -1).join('/')} is not a container`);
  }
  return root;
}

// Replaces the value at `path` where it is: a replaced member keeps its place among the keys.
function replace(root, path, value, where) {
  resolve(root, path, where); // must exist
  if (!path.length) return value;
  const parent = parentOf(root, path, where);
  const token = path.at(-1);
  if (Array.isArray(parent)) {
    parent[arrayIndex(parent, token, where, false)] = value;
  } else {
    parent.set(token, value);
  }
  return root;
}

function remove(root, path, where) {
  if (!path.length) return { root: undefined, value: root };
  const parent = parentOf(root, path, where);
  const token = path.at(-1);
  if (Array.isArray(parent)) {
    const [value] = parent.splice(arrayIndex(parent, token, where, false), 1);
    return { root, value };
  }
  if (parent instanceof Map && parent.has(token)) {
    const value = parent.get(token);
    parent.delete(token);
    return { root, value };
  }
  throw new Error(`${where}: nothing at /${path.join('/')}`);
}
