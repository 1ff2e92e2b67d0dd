// The HTTP layer: ready line, CapabilityStatement, errors as OperationOutcomes, shutdown.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, startServer } from '../testing.mjs';

describe('server', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  test('prints exactly one ready line naming the /fhir base on 127.0.0.1', () => {
    assert.match(server.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/fhir$/);
    assert.equal(server.stdout(), `FHIR server ready at ${server.baseUrl}\n`);
  });

  test('metadata is an R4 CapabilityStatement listing every R4 resource type', async () => {
    const { status, headers, body } = await request(`${server.baseUrl}/metadata`);
    assert.equal(status, 200);
    assert.equal(headers.get('content-type'), 'application/fhir+json; charset=utf-8');
    assert.equal(body.resourceType, 'CapabilityStatement');
    assert.equal(body.fhirVersion, '4.0.1');
    assert.equal(body.kind, 'instance');
    assert.equal(body.implementation.url, server.baseUrl);
    const rest = body.rest[0];
    assert.equal(rest.mode, 'server');
    assert.equal(rest.security, undefined);
    const types = rest.resource.map((r) => r.type);
    assert.equal(types.length, 146); // R4 4.0.1's concrete resource types
    assert.deepEqual(types, [...types].sort());
    for (const type of ['Patient', 'Observation', 'MedicinalProduct', 'Binary', 'ValueSet']) {
      assert.ok(types.includes(type), type);
    }
    assert.ok(!types.includes('SubscriptionStatus'), 'a type R4 does not have');
    const patient = rest.resource.find((r) => r.type === 'Patient');
    assert.deepEqual(
      patient.interaction.map((i) => i.code),
      ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type']
    );
    const lastUpdated = patient.searchParam.find((p) => p.name === '_lastUpdated');
    assert.deepEqual(lastUpdated, { name: '_lastUpdated', type: 'date' });
    assert.deepEqual(rest.interaction, [{ code: 'batch' }, { code: 'transaction' }]);
  });

  test('an unknown resource type is 404 with an OperationOutcome', async () => {
    const { status, body } = await request(`${server.baseUrl}/Spaceship?_count=1`);
    assert.equal(status, 404);
    assert.equal(body.resourceType, 'OperationOutcome');
    assert.equal(body.issue[0].details.text, "unknown resource type 'Spaceship'");
  });

  test('an unknown id is 404, a path outside the base is 404', async () => {
    const missing = await request(`${server.baseUrl}/Patient/does-not-exist`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.issue[0].code, 'not-found');
    const outside = await request(`${server.origin}/Patient`);
    assert.equal(outside.status, 404);
    assert.equal(outside.body.resourceType, 'OperationOutcome');
  });

  test('bad search parameters are 400', async () => {
    for (const [query, text] of [
      ['_count=-1', "_count must be a non-negative integer, got '-1'"],
      ['_count=ten', "_count must be a non-negative integer, got 'ten'"],
      ['_offset=1.5', "_offset must be a non-negative integer, got '1.5'"],
      ['_lastUpdated=yesterday', 'Invalid format for date search parameter: yesterday'],
      ['shoe-size=42', "Unknown search parameter 'shoe-size' for Patient"],
      ['_sort=shoe-size', "Unknown search parameter 'shoe-size' for Patient"],
      ['general-practitioner.name=Smith', "Unknown search parameter 'general-practitioner.name' for Patient"],
    ]) {
      const { status, body } = await request(`${server.baseUrl}/Patient?${query}`);
      assert.equal(status, 400, query);
      assert.equal(body.resourceType, 'OperationOutcome', query);
      assert.equal(body.issue[0].details.text, text, query);
    }
    const quantity = await request(`${server.baseUrl}/Observation?value-quantity=5`);
    assert.equal(quantity.status, 400);
    assert.equal(
      quantity.body.issue[0].details.text,
      "Search parameter 'value-quantity' has type quantity, which this server cannot match"
    );
    const missing = await request(`${server.baseUrl}/Observation?value-quantity:missing=true`);
    assert.equal(missing.status, 200);
  });

  test('bodies: JSON and FHIR JSON accepted, other types 415, broken JSON 400', async () => {
    const patient = { resourceType: 'Patient', name: [{ family: 'Body' }] };
    for (const type of ['application/fhir+json', 'application/json; charset=utf-8']) {
      const { status, body } = await request(`${server.baseUrl}/Patient`, {
        method: 'POST',
        body: patient,
        headers: { 'Content-Type': type },
      });
      assert.equal(status, 201, type);
      assert.equal(body.name[0].family, 'Body');
    }
    const xml = await request(`${server.baseUrl}/Patient`, {
      method: 'POST',
      body: '<Patient/>',
      headers: { 'Content-Type': 'application/fhir+xml' },
    });
    assert.equal(xml.status, 415);
    const broken = await request(`${server.baseUrl}/Patient`, { method: 'POST', body: '{"resourceType":' });
    assert.equal(broken.status, 400);
    assert.match(broken.body.issue[0].details.text, /^the body is not valid JSON/);
    const wrongType = await request(`${server.baseUrl}/Patient`, { method: 'POST', body: { resourceType: 'Group' } });
    assert.equal(wrongType.status, 400);
  });

  test('create answers 201 with Location, ETag and Last-Modified; read returns the resource', async () => {
    const created = await request(`${server.baseUrl}/Observation`, {
      method: 'POST',
      body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } },
    });
    assert.equal(created.status, 201);
    const { id, meta } = created.body;
    assert.equal(created.headers.get('location'), `${server.baseUrl}/Observation/${id}/_history/${meta.versionId}`);
    assert.equal(created.headers.get('etag'), `W/"${meta.versionId}"`);
    assert.equal(created.headers.get('last-modified'), new Date(meta.lastUpdated).toUTCString());
    const read = await request(`${server.baseUrl}/Observation/${id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, created.body);
  });

  test('a transaction Bundle posted to the base creates its entries', async () => {
    const { status, body } = await request(server.baseUrl, {
      method: 'POST',
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: { resourceType: 'Device', status: 'active' }, request: { method: 'POST', url: 'Device' } },
          { resource: { resourceType: 'Device', status: 'inactive' }, request: { method: 'POST', url: 'Device' } },
        ],
      },
    });
    assert.equal(status, 200);
    assert.equal(body.type, 'transaction-response');
    assert.deepEqual(body.entry.map((e) => e.response.status), ['201', '201']);
    const search = await request(`${server.baseUrl}/Device`);
    assert.equal(search.body.total, 2);
  });

  test('bad flags exit 2 with usage on stderr', async () => {
    await assert.rejects(startServer(['--bogus']), /server exited \(2\).*unknown option '--bogus'/is);
    await assert.rejects(startServer(['--auth', 'bearer']), /server exited \(2\).*--auth bearer needs --token/s);
  });

  test('stdin closing ends the server with status 0', async () => {
    const { code } = await server.stop();
    assert.equal(code, 0);
  });
});

describe('--no-type-history', () => {
  let server;
  before(async () => {
    server = await startServer(['--no-type-history']);
  });
  after(() => server?.stop());

  test('the CapabilityStatement omits history-type and the route is 404 not-supported', async () => {
    const { body } = await request(`${server.baseUrl}/metadata`);
    const patient = body.rest[0].resource.find((r) => r.type === 'Patient');
    assert.ok(!patient.interaction.some((i) => i.code === 'history-type'));
    assert.ok(patient.interaction.some((i) => i.code === 'history-instance'));
    const history = await request(`${server.baseUrl}/Patient/_history`);
    assert.equal(history.status, 404);
    assert.equal(history.body.issue[0].code, 'not-supported');
  });

  test('SIGTERM ends the server with status 0', async () => {
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    assert.equal(code, 0);
  });
});
