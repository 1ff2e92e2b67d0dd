// exact-json.mjs: parsing that keeps number text and key order, writing it back, JSON Patch.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  JsonNumber,
  JsonText,
  MAX_NESTING,
  applyJsonPatch,
  parseExact,
  sameJson,
  toJsonText,
  treeOf,
} from '../exact-json.mjs';

const roundTrip = (text) => toJsonText(parseExact(text));

describe('parseExact and toJsonText', () => {
  test('numbers keep their literal text, through any nesting', () => {
    for (const literal of [
      '1.00', '-0', '0.0', '1e309', '-1e309', '1E-22', '-1.000000000000000000E+245',
      '66.899999999999991', '9007199254740993', '18446744073709551616', '1e-400', '0',
    ]) {
      assert.equal(roundTrip(literal), literal);
      assert.equal(roundTrip(`{"a":[{"b":${literal}}]}`), `{"a":[{"b":${literal}}]}`);
    }
    const n = parseExact('9007199254740993');
    assert.ok(n instanceof JsonNumber);
    assert.equal(n.value, 9007199254740992); // what JSON.parse makes of it
  });

  test('empty arrays and objects, null, "" and key order are kept; whitespace is not', () => {
    const text = '{ "z": [], "a": {}, "1": null, "m": "", "b": [ {}, [], null ], "t": true, "f": false }';
    assert.equal(roundTrip(text), '{"z":[],"a":{},"1":null,"m":"","b":[{},[],null],"t":true,"f":false}');
    // JSON.parse would move the integer-like key "1" first.
    assert.equal(JSON.stringify(JSON.parse(text)).slice(0, 5), '{"1":');
  });

  test('strings are decoded and written with JSON.stringify escaping', () => {
    const tree = parseExact('{"s":"a\\u00e9\\/\\"\\n\\ud800","__proto__":1,"k":1,"k":2}');
    assert.equal(tree.get('s'), 'aé/"\n\ud800');
    assert.equal(toJsonText(tree), '{"s":"aé/\\"\\n\\ud800","__proto__":1,"k":2}');
  });

  test('text JSON.parse refuses is refused', () => {
    for (const bad of [
      '', '{', '[1,]', '{"a":1,}', '01', '1.', '.5', '+1', '1e', '-', 'tru', 'nul', '"a', '"\\x"',
      '"\t"', '[1] x', '{a:1}', "'a'", 'NaN', 'Infinity',
    ]) {
      assert.throws(() => JSON.parse(bad), SyntaxError, `JSON.parse(${bad})`);
      assert.throws(() => parseExact(bad), SyntaxError, bad);
    }
  });

  test('nesting deeper than MAX_NESTING is a RangeError', () => {
    const nested = (n) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    assert.equal(roundTrip(nested(MAX_NESTING)), nested(MAX_NESTING));
    assert.throws(() => parseExact(nested(MAX_NESTING + 1)), RangeError);
  });

  test('toJsonText writes plain values as JSON.stringify does, and JsonText verbatim', () => {
    const plain = { a: 1.5, b: [undefined, null, 'x'], c: undefined, d: { e: true }, f: new Date(0) };
    assert.equal(toJsonText(plain), JSON.stringify(plain));
    assert.equal(toJsonText({ r: new JsonText('{"v":1.00}'), n: 2 }), '{"r":{"v":1.00},"n":2}');
  });

  test('treeOf and sameJson', () => {
    assert.equal(toJsonText(treeOf({ a: [1.5, { b: null }] })), '{"a":[1.5,{"b":null}]}');
    assert.ok(sameJson(parseExact('{"a":[1.0,2]}'), parseExact('{"a":[1,2.00]}')));
    assert.ok(!sameJson(parseExact('{"a":1}'), parseExact('{"a":"1"}')));
    assert.ok(!sameJson(parseExact('{"a":1}'), parseExact('{"a":1,"b":1}')));
  });
});

describe('applyJsonPatch', () => {
  const patch = (docText, opsText) => toJsonText(applyJsonPatch(parseExact(docText), parseExact(opsText)));

  test('add, remove, replace, move, copy keep untouched number text and key order', () => {
    const doc = '{"a":1.00,"b":[1.10,2.20],"c":{"d":-0}}';
    assert.equal(patch(doc, '[{"op":"add","path":"/b/1","value":1.50}]'), '{"a":1.00,"b":[1.10,1.50,2.20],"c":{"d":-0}}');
    assert.equal(patch(doc, '[{"op":"add","path":"/b/-","value":3.0}]'), '{"a":1.00,"b":[1.10,2.20,3.0],"c":{"d":-0}}');
    assert.equal(patch(doc, '[{"op":"add","path":"/e","value":{}}]'), '{"a":1.00,"b":[1.10,2.20],"c":{"d":-0},"e":{}}');
    assert.equal(patch(doc, '[{"op":"remove","path":"/b/0"}]'), '{"a":1.00,"b":[2.20],"c":{"d":-0}}');
    assert.equal(patch(doc, '[{"op":"replace","path":"/a","value":2.50}]'), '{"a":2.50,"b":[1.10,2.20],"c":{"d":-0}}');
    assert.equal(patch(doc, '[{"op":"move","from":"/a","path":"/c/a"}]'), '{"b":[1.10,2.20],"c":{"d":-0,"a":1.00}}');
    assert.equal(patch(doc, '[{"op":"copy","from":"/b","path":"/f"}]'), '{"a":1.00,"b":[1.10,2.20],"c":{"d":-0},"f":[1.10,2.20]}');
    assert.equal(patch(doc, '[{"op":"replace","path":"","value":[]}]'), '[]');
    assert.equal(patch('{"a/b":{"~":1}}', '[{"op":"replace","path":"/a~1b/~0","value":2}]'), '{"a/b":{"~":2}}');
  });

  test('test compares values (1 equals 1.00); a failed or impossible operation throws', () => {
    const doc = '{"a":1.00,"b":[1]}';
    assert.equal(patch(doc, '[{"op":"test","path":"/a","value":1}]'), doc);
    for (const ops of [
      '[{"op":"test","path":"/a","value":2}]',
      '[{"op":"remove","path":"/x"}]',
      '[{"op":"replace","path":"/b/1","value":1}]',
      '[{"op":"add","path":"/b/2","value":1}]',
      '[{"op":"add","path":"/b/01","value":1}]',
      '[{"op":"add","path":"/x/y","value":1}]',
      '[{"op":"add","path":"a","value":1}]',
      '[{"op":"add","path":"/a"}]',
      '[{"op":"shrink","path":"/a"}]',
      '{"op":"remove","path":"/a"}',
    ]) {
      assert.throws(() => patch(doc, ops), Error, ops);
    }
  });
});
