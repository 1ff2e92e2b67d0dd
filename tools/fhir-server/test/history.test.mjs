// Writes and history: create, update, delete; type-level history with DELETE entries and _since.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { followPages, request, startServer } from '../testing.mjs';

const summary = (entries) => entries.map((e) => `${e.request.method} ${e.request.url}`);

describe('history', () => {
  let server;
  let base;
  const written = {};
  let deleteWindow;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    const write = async (method, path, body) => {
      const response = await request(`${base}/${path}`, { method, body });
      assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.text}`);
      return response.body;
    };
    written.old = await write('POST', 'Patient', {
      resourceType: 'Patient', id: 'old', meta: { lastUpdated: '2015-01-01T00:00:00Z' }, gender: 'other',
    });
    written.p1 = await write('POST', 'Patient', { resourceType: 'Patient', id: 'p1', gender: 'female' });
    written.p2 = await write('POST', 'Patient', { resourceType: 'Patient', id: 'p2', gender: 'male' });
    written.p1v2 = await write('PUT', 'Patient/p1', { resourceType: 'Patient', id: 'p1', gender: 'unknown' });
    const before = new Date().toISOString();
    await write('DELETE', 'Patient/p2');
    deleteWindow = [before, new Date().toISOString()];
    written.p4 = await write('PUT', 'Patient/p4', { resourceType: 'Patient', id: 'p4' });
    await write('POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'other type' } });
  });
  after(() => server?.stop());

  test('type history lists every version and delete, oldest first', async () => {
    const { status, body } = await request(`${base}/Patient/_history`);
    assert.equal(status, 200);
    assert.equal(body.type, 'history');
    assert.equal(body.total, 6);
    assert.deepEqual(summary(body.entry), [
      'POST Patient', // old: its client-supplied lastUpdated (2015) is its time
      'POST Patient',
      'POST Patient',
      'PUT Patient/p1',
      'DELETE Patient/p2',
      'PUT Patient/p4',
    ]);
    const [old, p1, p2, p1v2, del, p4] = body.entry;
    assert.deepEqual(old.resource, written.old);
    assert.deepEqual(p1.resource, written.p1);
    assert.deepEqual(p2.resource, written.p2);
    assert.deepEqual(p1v2.resource, written.p1v2);
    assert.deepEqual(p4.resource, written.p4);
    assert.equal(p1.fullUrl, `${base}/Patient/p1`);
    assert.deepEqual(p1.response, {
      status: '201 Created',
      etag: `W/"${written.p1.meta.versionId}"`,
      lastModified: written.p1.meta.lastUpdated,
    });
    assert.equal(p1v2.response.status, '200 OK');
    assert.equal(old.response.lastModified, '2015-01-01T00:00:00Z');

    assert.equal(del.resource, undefined);
    assert.equal(del.fullUrl, `${base}/Patient/p2`);
    assert.equal(del.response.status, '200 OK');
    const deletedAt = del.response.lastModified;
    assert.ok(deleteWindow[0] <= deletedAt && deletedAt <= deleteWindow[1], `${deletedAt} in ${deleteWindow}`);
  });

  test('_since keeps the changes at or after the instant', async () => {
    const since = written.p1v2.meta.lastUpdated;
    const { body } = await request(`${base}/Patient/_history?_since=${since}`);
    assert.deepEqual(summary(body.entry), ['PUT Patient/p1', 'DELETE Patient/p2', 'PUT Patient/p4']);
    assert.equal(body.link[0].url, `${base}/Patient/_history?_since=${since}`);

    const recent = await request(`${base}/Patient/_history?_since=2016-01-01T00:00:00Z`);
    assert.equal(recent.body.total, 5);
    const future = await request(`${base}/Patient/_history?_since=2999-01-01T00:00:00Z`);
    assert.equal(future.body.total, 0);
    assert.equal(future.body.entry, undefined);
  });

  test('type history pages with _count and next links', async () => {
    const { pages, entries } = await followPages(`${base}/Patient/_history?_count=4`);
    assert.deepEqual(pages.map((p) => p.entry.length), [4, 2]);
    assert.equal(pages[0].link[1].url, `${base}/Patient/_history?_count=4&_offset=4`);
    const all = await request(`${base}/Patient/_history`);
    assert.deepEqual(entries, all.body.entry);
  });

  test('type history refuses other parameters and a malformed _since', async () => {
    const at = await request(`${base}/Patient/_history?_at=2020`);
    assert.equal(at.status, 400);
    assert.equal(at.body.issue[0].details.text, "history parameter '_at' is not supported");
    const since = await request(`${base}/Patient/_history?_since=last-tuesday`);
    assert.equal(since.status, 400);
    assert.equal(since.body.issue[0].details.text, "_since must be a FHIR instant, got 'last-tuesday'");
  });

  test('each type has its own history', async () => {
    const { body } = await request(`${base}/Observation/_history`);
    assert.deepEqual(summary(body.entry), ['POST Observation']);
  });

  test('a deleted resource reads as 410 Gone and is gone from search', async () => {
    const read = await request(`${base}/Patient/p2`);
    assert.equal(read.status, 410);
    const search = await request(`${base}/Patient?_id=p2`);
    assert.equal(search.body.total, 0);
  });

  test('instance history survives the delete, newest first, same answer every time', async () => {
    for (let i = 0; i < 2; i++) {
      const { status, body } = await request(`${base}/Patient/p2/_history`);
      assert.equal(status, 200);
      assert.deepEqual(summary(body.entry), ['DELETE Patient/p2', 'POST Patient']);
    }
    const p1 = await request(`${base}/Patient/p1/_history`);
    assert.deepEqual(summary(p1.body.entry), ['PUT Patient/p1', 'POST Patient']);
    const paged = await request(`${base}/Patient/p1/_history?_count=1`);
    assert.deepEqual(summary(paged.body.entry), ['PUT Patient/p1']);
    assert.equal(paged.body.link[1].url, `${base}/Patient/p1/_history?_count=1&_offset=1`);
    const never = await request(`${base}/Patient/never/_history`);
    assert.equal(never.status, 404);
  });

  test('an update takes the server time, not the client lastUpdated', async () => {
    const { body } = await request(`${base}/Patient/p1`, {
      method: 'PUT',
      body: { resourceType: 'Patient', id: 'p1', meta: { lastUpdated: '2001-01-01T00:00:00Z' } },
    });
    assert.notEqual(body.meta.lastUpdated, '2001-01-01T00:00:00Z');
    assert.ok(body.meta.lastUpdated > written.p1v2.meta.lastUpdated);
  });

  test('POST with the id of a live resource is 409; of a deleted one creates it again', async () => {
    const live = await request(`${base}/Patient`, { method: 'POST', body: { resourceType: 'Patient', id: 'p1' } });
    assert.equal(live.status, 409);
    assert.equal(live.body.issue[0].details.text, 'Patient/p1 already exists; update it with PUT');
    const again = await request(`${base}/Patient`, { method: 'POST', body: { resourceType: 'Patient', id: 'p2' } });
    assert.equal(again.status, 201);
    const read = await request(`${base}/Patient/p2`);
    assert.equal(read.status, 200);
  });
});
