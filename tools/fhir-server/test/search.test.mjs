// Search: paging with next links, _lastUpdated filters, _sort rules applied in order.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { followPages, request, startServer } from '../testing.mjs';

const ids = (entries) => entries.map((e) => e.resource.id);

describe('search', () => {
  let server;
  let base;
  const sameInstant = '2021-03-04T05:06:07.089Z';
  // 45 Observations sharing one lastUpdated, created in an order unlike their ids.
  const observationIds = Array.from({ length: 45 }, (_, i) => `obs-${String((i * 17) % 45).padStart(3, '0')}`);
  // Encounters with lastUpdated values of several precisions and time zones; e-z is the earliest.
  const encounters = [
    ['e-d', '2020-01-02T00:00:00.123Z'],
    ['e-b', '2020-01-01T00:00:00Z'],
    ['e-e', '2020-01-03T00:00:00Z'],
    ['e-a', '2020-01-01T00:00:00Z'],
    ['e-z', '2020-01-01T01:30:00+02:00'],
    ['e-c', '2020-01-01T00:00:00.500Z'],
  ];

  const create = async (resource) => {
    const { status, body } = await request(`${base}/${resource.resourceType}`, { method: 'POST', body: resource });
    assert.equal(status, 201, JSON.stringify(body));
    return body;
  };

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    for (const id of observationIds) {
      const meta = { lastUpdated: sameInstant };
      await create({ resourceType: 'Observation', id, meta, status: 'final', code: { text: id } });
    }
    for (const [id, lastUpdated] of encounters) {
      const meta = { lastUpdated };
      await create({ resourceType: 'Encounter', id, meta, status: 'finished', class: { code: 'AMB' } });
    }
  });
  after(() => server?.stop());

  test('POST keeps a client-supplied id and meta.lastUpdated', async () => {
    const { body } = await request(`${base}/Observation/obs-007`);
    assert.equal(body.id, 'obs-007');
    assert.equal(body.meta.lastUpdated, sameInstant);
  });

  test('next links visit every match exactly once', async () => {
    const { pages, entries } = await followPages(`${base}/Observation?_count=10`);
    assert.equal(pages.length, 5);
    assert.deepEqual(pages.map((p) => p.entry.length), [10, 10, 10, 10, 5]);
    assert.ok(pages.every((p) => p.total === 45 && p.type === 'searchset'));
    assert.deepEqual(ids(entries), observationIds); // unsorted: creation order
    assert.equal(pages[0].link[0].relation, 'self');
    assert.equal(pages[0].link[0].url, `${base}/Observation?_count=10`);
    assert.equal(pages[0].link[1].url, `${base}/Observation?_count=10&_offset=10`);
    assert.equal(pages[4].link.length, 1, 'no next link on the last page');
    assert.equal(entries[0].fullUrl, `${base}/Observation/${observationIds[0]}`);
    assert.deepEqual(entries[0].search, { mode: 'match' });
  });

  test('paging through one shared lastUpdated in _sort=_lastUpdated,_id order, filter kept', async () => {
    const url = `${base}/Observation?_lastUpdated=ge${sameInstant}&_sort=_lastUpdated,_id&_count=7`;
    const { pages, entries } = await followPages(url);
    assert.equal(pages.length, 7);
    assert.deepEqual(ids(entries), [...observationIds].sort());
    assert.equal(
      pages[0].link[1].url,
      `${base}/Observation?_lastUpdated=ge${sameInstant}&_sort=_lastUpdated,_id&_count=7&_offset=7`
    );
  });

  test('without _count a page holds 20; _count above 1000 is cut to 1000', async () => {
    const first = await request(`${base}/Observation`);
    assert.equal(first.body.entry.length, 20);
    assert.equal(first.body.link[1].url, `${base}/Observation?_offset=20&_count=20`);

    const entry = Array.from({ length: 1001 }, (_, i) => ({
      resource: { resourceType: 'Basic', code: { text: `b${i}` } },
      request: { method: 'POST', url: 'Basic' },
    }));
    const batch = await request(base, { method: 'POST', body: { resourceType: 'Bundle', type: 'batch', entry } });
    assert.equal(batch.status, 200);
    const big = await request(`${base}/Basic?_count=5000`);
    assert.equal(big.body.total, 1001);
    assert.equal(big.body.entry.length, 1000);
    assert.equal(big.body.link[1].url, `${base}/Basic?_count=1000&_offset=1000`);
    const rest = await request(big.body.link[1].url);
    assert.equal(rest.body.entry.length, 1);
  });

  test('_count=0 gives the total alone, with no next link', async () => {
    const { body } = await request(`${base}/Observation?_count=0`);
    assert.equal(body.total, 45);
    assert.equal(body.entry, undefined);
    assert.equal(body.link.length, 1);
  });

  test('_sort applies its rules in order: _lastUpdated first, _id among equal instants', async () => {
    const sorted = async (sort) => ids((await request(`${base}/Encounter?_sort=${sort}`)).body.entry);
    assert.deepEqual(await sorted('_lastUpdated,_id'), ['e-z', 'e-a', 'e-b', 'e-c', 'e-d', 'e-e']);
    assert.deepEqual(await sorted('-_lastUpdated,_id'), ['e-e', 'e-d', 'e-c', 'e-a', 'e-b', 'e-z']);
    assert.deepEqual(await sorted('_lastUpdated,-_id'), ['e-z', 'e-b', 'e-a', 'e-c', 'e-d', 'e-e']);
    assert.deepEqual(await sorted('_id'), ['e-a', 'e-b', 'e-c', 'e-d', 'e-e', 'e-z']);
    const unsorted = ids((await request(`${base}/Encounter`)).body.entry);
    assert.deepEqual(unsorted, encounters.map(([id]) => id));
  });

  test('_lastUpdated prefixes compare instants, each value covering its own precision', async () => {
    const matching = async (query) =>
      ids((await request(`${base}/Encounter?${query}&_sort=_lastUpdated,_id`)).body.entry ?? []);
    assert.deepEqual(await matching('_lastUpdated=ge2020-01-01T00:00:00Z'), ['e-a', 'e-b', 'e-c', 'e-d', 'e-e']);
    // e-c (00:00:00.500) lies inside the second 00:00:00Z names, so it is not greater than it...
    assert.deepEqual(await matching('_lastUpdated=gt2020-01-01T00:00:00Z'), ['e-d', 'e-e']);
    // ...while e-a and e-b (00:00:00Z, a whole second) reach beyond the millisecond 00:00:00.000Z.
    assert.deepEqual(await matching('_lastUpdated=gt2020-01-01T00:00:00.000Z'), ['e-a', 'e-b', 'e-c', 'e-d', 'e-e']);
    assert.deepEqual(await matching('_lastUpdated=gt2020-01-01T00:00:00.999Z'), ['e-d', 'e-e']);
    assert.deepEqual(await matching('_lastUpdated=le2020-01-01T00:00:00.500Z'), ['e-z', 'e-a', 'e-b', 'e-c']);
    assert.deepEqual(await matching('_lastUpdated=lt2020-01-01T00:00:00.500Z'), ['e-z', 'e-a', 'e-b']);
    assert.deepEqual(
      await matching('_lastUpdated=ge2020-01-01T00:00:00Z&_lastUpdated=le2020-01-02T00:00:00.123Z'),
      ['e-a', 'e-b', 'e-c', 'e-d']
    );
    assert.deepEqual(await matching('_lastUpdated=ge2020-01-02'), ['e-d', 'e-e']);
    assert.deepEqual(await matching('_lastUpdated=2020-01-01'), ['e-a', 'e-b', 'e-c']);
    assert.deepEqual(await matching('_lastUpdated=eq2020-01-01T00:00:00Z'), ['e-a', 'e-b', 'e-c']);
    assert.deepEqual(await matching('_lastUpdated=2020-01-02T00:00:00.123Z'), ['e-d']);
    assert.deepEqual(await matching(`_lastUpdated=${encodeURIComponent('ge2019-12-31T23:30:00+00:00')}`), [
      'e-z', 'e-a', 'e-b', 'e-c', 'e-d', 'e-e',
    ]);
  });

  test('POST _search with a form body pages like GET, links in GET form', async () => {
    const { status, body } = await request(`${base}/Encounter/_search`, {
      method: 'POST',
      body: '_sort=-_lastUpdated,_id&_count=2',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(status, 200);
    assert.deepEqual(ids(body.entry), ['e-e', 'e-d']);
    assert.equal(body.link[1].url, `${base}/Encounter?_sort=-_lastUpdated,_id&_count=2&_offset=2`);
  });
});
