// --fault-rate / --fault-seed: a seeded share of GETs fails as 429, 503, reset or truncated body.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, startServer } from '../testing.mjs';

// What one GET of `url` ends in: the status of a complete response, 'reset' when no response
// arrived, 'truncated' when the body was cut short.
async function outcome(url) {
  let response;
  try {
    response = await fetch(url);
  } catch {
    return 'reset';
  }
  try {
    await response.text();
  } catch {
    return 'truncated';
  }
  return String(response.status);
}

async function outcomes(baseUrl, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(await outcome(`${baseUrl}/Patient?_count=1`));
  }
  return out;
}

describe('fault injection', () => {
  const servers = [];
  const start = async (args) => {
    const server = await startServer(args);
    servers.push(server);
    return server;
  };
  after(() => Promise.all(servers.map((s) => s.stop())));

  test('at rate 1 every GET fails in one of four ways; /metadata and writes never do', async () => {
    const server = await start(['--fault-rate', '1', '--fault-seed', '7']);
    const seen = await outcomes(server.baseUrl, 40);
    assert.deepEqual(new Set(seen), new Set(['429', '503', 'reset', 'truncated']));
    for (let i = 0; i < 5; i++) {
      assert.equal((await request(`${server.baseUrl}/metadata`)).status, 200);
    }
    const created = await request(`${server.baseUrl}/Patient`, {
      method: 'POST',
      body: { resourceType: 'Patient', id: 'p1' },
    });
    assert.equal(created.status, 201);
  });

  test('the same seed fails the same requests the same way; another seed differs', async () => {
    const run = async (seed) =>
      outcomes((await start(['--fault-rate', '0.5', '--fault-seed', seed])).baseUrl, 30);
    const first = await run('42');
    const again = await run('42');
    const other = await run('43');
    assert.deepEqual(again, first);
    assert.notDeepEqual(other, first);
    const failed = first.filter((o) => o !== '200').length;
    assert.ok(failed > 5 && failed < 25, `${failed} of 30 failed at rate 0.5`);
  });

  test('rate 0 (the default) injects nothing', async () => {
    const server = await start([]);
    assert.deepEqual(new Set(await outcomes(server.baseUrl, 10)), new Set(['200']));
  });

  test('bad fault flags exit with status 2', async () => {
    const bad = [['--fault-rate', '1.5'], ['--fault-rate', 'half'], ['--fault-seed', '-1']];
    for (const args of bad) {
      await assert.rejects(startServer(args), /fault-(rate|seed)/, args.join(' '));
    }
  });
});
