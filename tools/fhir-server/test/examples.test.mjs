// Loading: HL7's R4 examples (--load-examples) and the user's files (--load).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JsonNumber, parseExact, toJsonText } from '../exact-json.mjs';
import { SKIPPED_EXAMPLE_TYPES } from '../load.mjs';
import { request, startServer } from '../testing.mjs';

const examplesDir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const example = (file) => JSON.parse(readFileSync(join(examplesDir, file), 'utf8'));

function* numbersIn(tree) {
  if (tree instanceof JsonNumber) yield tree;
  const children = tree instanceof Map ? tree.values() : Array.isArray(tree) ? tree : [];
  for (const child of children) yield* numbersIn(child);
}

describe('--load-examples', () => {
  let server;
  before(async () => {
    server = await startServer(['--load-examples']);
  });
  after(() => server?.stop());

  test('loads 890 resources of 121 types with no failure', () => {
    const stderr = server.stderr();
    assert.match(stderr, /^loaded 890 resources of 121 types in \d+ ms \(0 failed; skipped /m);
    assert.ok(!stderr.includes('load failed'), stderr);
  });

  test('the totals of all type searches add up to the loaded count', async () => {
    const { body } = await request(`${server.baseUrl}/metadata`);
    let total = 0;
    let nonEmpty = 0;
    for (const { type } of body.rest[0].resource) {
      const search = await request(`${server.baseUrl}/${type}?_count=0`);
      total += search.body.total;
      nonEmpty += search.body.total > 0 ? 1 : 0;
    }
    assert.equal(total, 890);
    assert.equal(nonEmpty, 121);
  });

  test('conformance, terminology and wrapper types are not loaded', async () => {
    const skipped = ['StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter', 'Bundle', 'OperationOutcome'];
    for (const type of skipped) {
      const { body } = await request(`${server.baseUrl}/${type}?_count=0`);
      assert.equal(body.total, 0, type);
    }
  });

  test('a standalone example is served as published, with meta added only where absent', async () => {
    const { body } = await request(`${server.baseUrl}/Patient/ch-example`);
    assert.deepEqual(body, example('Patient-ch-example.json')); // has versionId and lastUpdated
    const glossy = await request(`${server.baseUrl}/Patient/glossy`);
    assert.equal(glossy.body.meta.lastUpdated, '2014-11-13T11:41:00+11:00');
    assert.equal(glossy.body.meta.versionId, '1');
    const plain = await request(`${server.baseUrl}/Patient/example`);
    const { meta, ...rest } = plain.body;
    assert.deepEqual(rest, example('Patient-example.json'));
    assert.equal(meta.versionId, '1');
    assert.match(meta.lastUpdated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('every standalone example is served with the text of every value in its file', async () => {
    const files = readdirSync(examplesDir)
      .filter((f) => /^[A-Z][A-Za-z]*-.+\.json$/.test(f))
      .filter((f) => !SKIPPED_EXAMPLE_TYPES.has(f.slice(0, f.indexOf('-'))));
    let numbers = 0;
    let rewritten = 0; // numbers JSON.parse would change
    for (const file of files) {
      const sent = parseExact(readFileSync(join(examplesDir, file), 'utf8'));
      const path = `${sent.get('resourceType')}/${sent.get('id')}`;
      const response = await fetch(`${server.baseUrl}/${path}`);
      assert.equal(response.status, 200, path);
      const served = parseExact(await response.text());
      // Only the meta the file lacks is the server's.
      const meta = served.get('meta');
      if (!sent.has('meta')) served.delete('meta');
      for (const key of ['versionId', 'lastUpdated']) {
        if (!sent.get('meta')?.has(key)) meta.delete(key);
      }
      assert.equal(toJsonText(served), toJsonText(sent), file);
      for (const n of numbersIn(sent)) {
        numbers += 1;
        rewritten += JSON.stringify(n.value) === n.text ? 0 : 1;
      }
    }
    assert.equal(files.length, 662);
    assert.ok(rewritten >= 200, `${rewritten} of ${numbers} numbers are not JSON.parse's`);
  });

  test('resources without lastUpdated share one load instant', async () => {
    const a = await request(`${server.baseUrl}/Patient/example`);
    const b = await request(`${server.baseUrl}/Observation/example`);
    assert.equal(a.body.meta.lastUpdated, b.body.meta.lastUpdated);
    const same = await request(`${server.baseUrl}/Observation?_lastUpdated=${a.body.meta.lastUpdated}&_count=0`);
    assert.ok(same.body.total > 20, `${same.body.total} Observations share the load instant`);
  });

  test('entries of collection Bundles load; a standalone example wins over an entry', async () => {
    // Practitioner/13 exists only inside Bundle-3ad0687e-...-fcc2bf897809 (a collection).
    const bundle = example('Bundle-3ad0687e-f477-468c-afd5-fcc2bf897809.json');
    const entry = bundle.entry.find((e) => e.resource.id === '13').resource;
    const { status, body } = await request(`${server.baseUrl}/Practitioner/13`);
    assert.equal(status, 200);
    assert.deepEqual(body, { ...entry, meta: { ...entry.meta, versionId: '1' } });
    // Bundle-micro holds a ServiceRequest with the id of a standalone file; the file's version wins.
    const micro = example('Bundle-micro.json').entry.map((e) => e.resource);
    for (const resource of micro) {
      const file = join(examplesDir, `${resource.resourceType}-${resource.id}.json`);
      let standalone;
      try {
        standalone = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        continue;
      }
      const served = await request(`${server.baseUrl}/${resource.resourceType}/${resource.id}`);
      const { meta: _, ...servedRest } = served.body;
      const { meta: __, ...fileRest } = standalone;
      assert.deepEqual(servedRest, fileRest, `${resource.resourceType}/${resource.id}`);
    }
  });
});

describe('--load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-load-'));
  let server;
  before(async () => {
    writeFileSync(
      join(dir, 'a.ndjson'),
      [
        JSON.stringify({ resourceType: 'Patient', id: 'n1', meta: { lastUpdated: '2022-02-02T02:02:02Z' } }),
        '',
        '{"resourceType": "Patient", "id": ',
        JSON.stringify({ resourceType: 'Patient', id: 'n2' }),
        JSON.stringify({ resourceType: 'Patient', id: 'n1' }),
        JSON.stringify({ resourceType: 'Starship', id: 's1' }),
        JSON.stringify({ resourceType: 'Patient', id: 'bad id!' }),
      ].join('\n')
    );
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { resource: { resourceType: 'Group', id: 'g1', type: 'person', actual: true } },
          { resource: { resourceType: 'Group' } },
        ],
      })
    );
    server = await startServer(['--load', dir]);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('loads NDJSON lines and Bundle entries, reports each failure with its reason', async () => {
    const stderr = server.stderr();
    assert.match(
      stderr,
      /^loaded 3 resources of 2 types in \d+ ms \(3 failed; skipped 1 duplicate Type\/id, 1 Bundle entry without resource id\)$/m
    );
    assert.match(stderr, /^load failed: .*a\.ndjson:3: invalid JSON: /m);
    assert.match(stderr, /^load failed: .*a\.ndjson:6: 'Starship' is not an R4 resource type$/m);
    assert.match(stderr, /^load failed: .*a\.ndjson:7: id "bad id!" is not a FHIR id/m);
    const n1 = await request(`${server.baseUrl}/Patient/n1`);
    assert.equal(n1.body.meta.lastUpdated, '2022-02-02T02:02:02Z');
    assert.equal((await request(`${server.baseUrl}/Group/g1`)).status, 200);
    assert.equal((await request(`${server.baseUrl}/Patient?_count=0`)).body.total, 2);
  });
});
