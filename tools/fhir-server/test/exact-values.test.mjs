// Values as sent: every read, search, history and write answer carries a resource's numbers with
// the text the client sent and the empty values it sent, while search matches as before.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JsonText, parseExact, toJsonText } from '../exact-json.mjs';
import { request, startServer } from '../testing.mjs';

// A resource's text as served, without the meta the server sets (compact; numbers as sent).
function withoutMeta(tree) {
  tree.delete('meta');
  return toJsonText(tree);
}

// The texts of a Bundle's entry resources, in order, without meta.
function entryTexts(bundleText) {
  return (parseExact(bundleText).get('entry') ?? []).map((e) => withoutMeta(e.get('resource')));
}

// Numbers JSON.parse changes, values Medplum drops, keys in an order JSON.parse changes.
const SENT =
  '{"resourceType":"Observation","id":"exact","status":"final","code":{"text":"exact"},' +
  '"valueQuantity":{"value":1.00,"unit":"mg"},' +
  '"component":[{"code":{},"valueInteger":9007199254740993},{"valueQuantity":{"value":-0}},' +
  '{"valueQuantity":{"value":1e309}},{"valueQuantity":{"value":66.899999999999991}}],' +
  '"note":[],"extension":[{}],"_status":null,"interpretation":[{"text":""},{"text":"a"}],' +
  '"referenceRange":[{"low":{"value":1E-22},"high":{"value":-1.000000000000000000E+245}}]}';

describe('values as sent', () => {
  let server;
  let base;
  const send = async (method, path, text, contentType = 'application/fhir+json') => {
    const response = await fetch(`${base}/${path}`, {
      method,
      body: text,
      headers: text === undefined ? {} : { 'Content-Type': contentType },
    });
    return { status: response.status, text: await response.text() };
  };
  let created;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    created = await send('POST', 'Observation', SENT);
  });
  after(() => server?.stop());

  test('create answers the resource as sent, id and meta set by the server first', () => {
    assert.equal(created.status, 201);
    assert.match(created.text, /^\{"resourceType":"Observation","id":"exact","meta":\{"versionId":/);
    assert.equal(withoutMeta(parseExact(created.text)), SENT);
  });

  test('read, vread, search, instance and type history serve the same text', async () => {
    const meta = JSON.parse(created.text).meta;
    const read = await send('GET', 'Observation/exact');
    assert.equal(read.text, created.text);
    const vread = await send('GET', `Observation/exact/_history/${meta.versionId}`);
    assert.equal(vread.text, created.text);
    for (const path of [
      'Observation?code:text=exact', // matched on Medplum's values
      'Observation?_lastUpdated=' + encodeURIComponent(meta.lastUpdated),
      'Observation/exact/_history',
      'Observation/_history',
    ]) {
      const { status, text } = await send('GET', path);
      assert.equal(status, 200, path);
      assert.deepEqual(entryTexts(text), [SENT], path);
      assert.ok(text.includes(created.text), `${path}: the stored text is copied into the Bundle`);
    }
  });

  test('PUT replaces the text; the earlier version keeps its own', async () => {
    const v1 = JSON.parse(created.text).meta.versionId;
    const next = '{"resourceType":"Observation","id":"exact2","status":"final","code":{"text":"two"},"valueQuantity":{"value":3.000}}';
    await send('POST', 'Observation', next);
    const replaced = next.replace('3.000', '4.10').replace('"text":"two"', '"text":"two","note":[]');
    const put = await send('PUT', 'Observation/exact2', replaced);
    assert.equal(put.status, 200);
    assert.equal(withoutMeta(parseExact(put.text)), replaced);
    assert.equal(withoutMeta(parseExact((await send('GET', 'Observation/exact2')).text)), replaced);
    const history = await send('GET', 'Observation/exact2/_history');
    assert.deepEqual(entryTexts(history.text), [replaced, next]);
    assert.equal((await send('GET', `Observation/exact/_history/${v1}`)).text, created.text);
  });

  test('PATCH keeps untouched values as sent and takes new ones with the patch text', async () => {
    const patch =
      '[{"op":"test","path":"/valueQuantity/value","value":1},' + // 1 equals 1.00
      '{"op":"replace","path":"/status","value":"amended"},' +
      '{"op":"remove","path":"/component/0"},' + // later items move up, keeping their text
      '{"op":"add","path":"/valueQuantity/comparator","value":"<"},' +
      '{"op":"add","path":"/component/-","value":{"valueQuantity":{"value":2.50}}}]';
    const patched = await send('PATCH', 'Observation/exact', patch, 'application/json-patch+json');
    assert.equal(patched.status, 200, patched.text);
    const expected = SENT.replace('"status":"final"', '"status":"amended"')
      .replace('"unit":"mg"', '"unit":"mg","comparator":"<"')
      .replace('{"code":{},"valueInteger":9007199254740993},', '')
      .replace('{"value":66.899999999999991}}]', '{"value":66.899999999999991}},{"valueQuantity":{"value":2.50}}]');
    assert.equal(withoutMeta(parseExact(patched.text)), expected);
    assert.equal((await send('GET', 'Observation/exact')).text, patched.text);
    const failed = await send('PATCH', 'Observation/exact', '[{"op":"test","path":"/status","value":"final"}]', 'application/json-patch+json');
    assert.equal(failed.status, 400);
    assert.equal((await send('GET', 'Observation/exact')).text, patched.text);
  });

  test('a batch stores each entry as sent, with references the server resolved', async () => {
    const patientUrn = 'urn:uuid:11111111-2222-3333-4444-555555555555';
    const batch = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { fullUrl: patientUrn, resource: { resourceType: 'Patient', name: [{ family: 'Batch' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'batch' }, valueQuantity: new JsonText('{"value":7.10}'), subject: { reference: patientUrn } }, request: { method: 'POST', url: 'Observation' } },
        { resource: { resourceType: 'Observation', id: 'batch-put', status: 'final', code: { text: 'batch' }, valueQuantity: new JsonText('{"value":8.20,"unit":"g"}') }, request: { method: 'PUT', url: 'Observation/batch-put' } },
      ],
    };
    const { status, text } = await send('POST', '', toJsonText(batch));
    assert.equal(status, 200, text);
    const answer = parseExact(text);
    const [patient, observation, put] = answer.get('entry').map((e) => e.get('resource'));
    const patientId = patient.get('id');
    assert.equal(withoutMeta(observation).replace(/"id":"[^"]+",/, ''),
      `{"resourceType":"Observation","status":"final","code":{"text":"batch"},"valueQuantity":{"value":7.10},"subject":{"reference":"Patient/${patientId}"}}`);
    assert.equal(withoutMeta(put), '{"resourceType":"Observation","id":"batch-put","status":"final","code":{"text":"batch"},"valueQuantity":{"value":8.20,"unit":"g"}}');
    const search = await send('GET', 'Observation?code:text=batch&_sort=_id');
    assert.ok(search.text.includes('"valueQuantity":{"value":7.10}'));
    assert.ok(search.text.includes('"valueQuantity":{"value":8.20,"unit":"g"}'));
  });

  test('a deleted resource keeps its versions as sent in history', async () => {
    await send('POST', 'Observation', '{"resourceType":"Observation","id":"gone","status":"final","code":{"text":"gone"},"valueQuantity":{"value":5.0}}');
    assert.equal((await send('DELETE', 'Observation/gone')).status, 200);
    const history = await send('GET', 'Observation/gone/_history');
    assert.equal(parseExact(history.text).get('entry').length, 2);
    assert.ok(history.text.includes('"valueQuantity":{"value":5.0}'));
  });

  test('a body nested deeper than 2000 levels is a 400', async () => {
    const deep = `{"resourceType":"Basic","code":{"text":"deep"},"extension":[{"url":"u","x":${'['.repeat(2001)}1${']'.repeat(2001)}}]}`;
    const { status, body } = await request(`${base}/Basic`, { method: 'POST', body: deep });
    assert.equal(status, 400);
    assert.match(body.issue[0].details.text, /nested deeper than 2000 levels/);
  });
});
