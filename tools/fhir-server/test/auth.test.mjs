// Auth modes: static bearer token; OAuth client credentials with a client secret (Basic and form
// post) and with SMART Backend Services JWT assertions (ES384 and RS384, signed here).

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request, startServer } from '../testing.mjs';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function jwt(header, claims, privateKey, alg) {
  const encode = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${encode({ typ: 'JWT', ...header })}.${encode(claims)}`;
  const key = alg === 'ES384' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;
  return `${input}.${sign('sha384', Buffer.from(input), key).toString('base64url')}`;
}

function assertionClaims(clientId, tokenUrl, overrides = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: clientId, sub: clientId, aud: tokenUrl, exp: now + 240, jti: randomUUID(), ...overrides };
}

async function tokenRequest(server, form, headers = {}) {
  return request(`${server.origin}/auth/token`, {
    method: 'POST',
    body: new URLSearchParams(form).toString(),
    headers: { ...FORM, ...headers },
  });
}

describe('--auth bearer', () => {
  let server;
  before(async () => {
    server = await startServer(['--auth', 'bearer', '--token', 'static-token-123', '--verbose']);
  });
  after(() => server?.stop());

  test('the configured token is accepted', async () => {
    const { status, body } = await request(`${server.baseUrl}/Patient`, { token: 'static-token-123' });
    assert.equal(status, 200);
    assert.equal(body.type, 'searchset');
  });

  test('no token and a wrong token are 401 with a Bearer challenge', async () => {
    const missing = await request(`${server.baseUrl}/Patient`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="fhir"');
    assert.equal(missing.body.resourceType, 'OperationOutcome');
    assert.equal(missing.body.issue[0].code, 'login');
    const wrong = await request(`${server.baseUrl}/Patient`, { token: 'static-token-124' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate'), /^Bearer realm="fhir", error="invalid_token"/);
    assert.ok(!wrong.text.includes('static-token'), 'no token in the answer');
  });

  test('metadata stays public and says how to authenticate', async () => {
    const { status, body } = await request(`${server.baseUrl}/metadata`);
    assert.equal(status, 200);
    assert.ok(body.rest[0].security.description.includes('Bearer'));
  });

  test('there is no token endpoint or SMART configuration', async () => {
    assert.equal((await tokenRequest(server, { grant_type: 'client_credentials' })).status, 404);
    assert.equal((await request(`${server.baseUrl}/.well-known/smart-configuration`)).status, 404);
  });

  test('--verbose logs each request without Authorization values', async () => {
    await request(`${server.baseUrl}/Patient?_count=1`, { token: 'static-token-123' });
    const { code } = await server.stop(); // the log is complete once the server is gone
    assert.equal(code, 0);
    const log = server.stderr();
    assert.match(log, /^GET \/fhir\/Patient\?_count=1 -> 200 \[\d+ entries\] \(\d+\.\d ms\)$/m);
    assert.match(log, /^GET \/fhir\/Patient -> 401 /m);
    assert.ok(!log.includes('static-token'), log);
  });
});

describe('--auth oauth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-auth-'));
  const ec = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  let server; // client secret + ES384 JWT client
  let rsaServer; // RS384 JWT client, 1-second tokens
  let tokenUrl;

  before(async () => {
    const ecPath = join(dir, 'ec.pem');
    const rsaPath = join(dir, 'rsa.pem');
    writeFileSync(ecPath, ec.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(rsaPath, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    [server, rsaServer] = await Promise.all([
      startServer([
        '--auth', 'oauth', '--client-id', 'app one', '--client-secret', 's3cret:with/odd+chars',
        '--jwt-client-id', 'backend-es', '--jwt-public-key', ecPath,
      ]),
      startServer([
        '--auth', 'oauth', '--jwt-client-id', 'backend-rs', '--jwt-public-key', rsaPath, '--token-lifetime', '1',
      ]),
    ]);
    tokenUrl = `${server.origin}/auth/token`;
  });
  after(async () => {
    await Promise.all([server?.stop(), rsaServer?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const basic = (id, secret) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  test('SMART configuration names the token endpoint and methods, without auth', async () => {
    const { status, headers, body } = await request(`${server.baseUrl}/.well-known/smart-configuration`);
    assert.equal(status, 200);
    assert.match(headers.get('content-type'), /^application\/json/);
    assert.equal(body.token_endpoint, tokenUrl);
    assert.deepEqual(body.grant_types_supported, ['client_credentials']);
    assert.deepEqual(body.token_endpoint_auth_methods_supported, [
      'client_secret_basic', 'client_secret_post', 'private_key_jwt',
    ]);
    assert.deepEqual(body.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
    assert.ok(body.scopes_supported.includes('system/*.read'));
    assert.ok(Array.isArray(body.capabilities));
  });

  test('metadata carries the SMART oauth-uris extension', async () => {
    const { body } = await request(`${server.baseUrl}/metadata`);
    const security = body.rest[0].security;
    assert.equal(security.service[0].coding[0].code, 'SMART-on-FHIR');
    const uris = security.extension.find(
      (e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris'
    );
    assert.deepEqual(uris.extension, [{ url: 'token', valueUri: tokenUrl }]);
  });

  test('client_secret_basic issues a token that opens the FHIR endpoints', async () => {
    const { status, headers, body } = await tokenRequest(
      server,
      { grant_type: 'client_credentials', scope: 'system/Patient.read' },
      { Authorization: basic('app one', 's3cret:with/odd+chars') }
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 300);
    assert.equal(body.scope, 'system/Patient.read');
    assert.match(body.access_token, /^[A-Za-z0-9_-]{43}$/);
    const search = await request(`${server.baseUrl}/Patient`, { token: body.access_token });
    assert.equal(search.status, 200);
  });

  test('client_secret_post works too; a wrong secret is invalid_client and echoes nothing', async () => {
    const good = await tokenRequest(server, {
      grant_type: 'client_credentials', client_id: 'app one', client_secret: 's3cret:with/odd+chars',
    });
    assert.equal(good.status, 200);
    const wrong = await tokenRequest(server, {
      grant_type: 'client_credentials', client_id: 'app one', client_secret: 'not-the-secret',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.ok(!wrong.text.includes('secret:with') && !wrong.text.includes('not-the-secret'));
    const wrongBasic = await tokenRequest(
      server, { grant_type: 'client_credentials' }, { Authorization: basic('app one', 'nope') }
    );
    assert.equal(wrongBasic.status, 401);
    assert.equal(wrongBasic.body.error, 'invalid_client');
  });

  test('token endpoint errors follow RFC 6749', async () => {
    const grant = await tokenRequest(server, { grant_type: 'password', client_id: 'app one', client_secret: 'x' });
    assert.equal(grant.status, 400);
    assert.equal(grant.body.error, 'unsupported_grant_type');
    const noGrant = await tokenRequest(server, { client_id: 'app one' });
    assert.equal(noGrant.body.error, 'invalid_request');
    const noClient = await tokenRequest(server, { grant_type: 'client_credentials' });
    assert.equal(noClient.status, 401);
    assert.equal(noClient.body.error, 'invalid_client');
    const json = await request(tokenUrl, { method: 'POST', body: { grant_type: 'client_credentials' } });
    assert.equal(json.status, 400);
    assert.equal(json.body.error, 'invalid_request');
  });

  test('an unissued token is 401 invalid_token', async () => {
    const { status, headers } = await request(`${server.baseUrl}/Patient`, { token: 'made-up' });
    assert.equal(status, 401);
    assert.match(headers.get('www-authenticate'), /error="invalid_token"/);
  });

  test('an ES384 JWT assertion (private_key_jwt) gets a token', async () => {
    const assertion = jwt({ alg: 'ES384', kid: 'k1' }, assertionClaims('backend-es', tokenUrl), ec.privateKey, 'ES384');
    const { status, body } = await tokenRequest(server, {
      grant_type: 'client_credentials',
      scope: 'system/*.read',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal((await request(`${server.baseUrl}/Observation`, { token: body.access_token })).status, 200);
  });

  test('bad assertions are invalid_client, each with its reason', async () => {
    const attempt = async (assertion) => {
      const { status, body } = await tokenRequest(server, {
        grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion,
      });
      assert.equal(status, 401);
      assert.equal(body.error, 'invalid_client');
      return body.error_description;
    };
    const claims = (o) => assertionClaims('backend-es', tokenUrl, o);
    const es = (c, key = ec.privateKey) => jwt({ alg: 'ES384' }, c, key, 'ES384');
    assert.match(await attempt(es(claims(), stranger.privateKey)), /signature does not verify/);
    assert.match(await attempt(es(claims({ aud: `${server.origin}/other` }))), /aud must be the token endpoint/);
    assert.match(await attempt(es(claims({ iss: 'someone-else' }))), /iss and sub must both be the client id/);
    const now = Math.floor(Date.now() / 1000);
    assert.match(await attempt(es(claims({ exp: now - 10 }))), /exp is missing or in the past/);
    assert.match(await attempt(es(claims({ exp: now + 3600 }))), /more than 300 seconds in the future/);
    assert.match(await attempt(es(claims({ jti: undefined }))), /jti is missing/);
    assert.match(await attempt(jwt({ alg: 'RS384' }, claims(), rsa.privateKey, 'RS384')), /alg must be ES384/);
    assert.match(await attempt('not.a.jwt.at.all'), /not a compact JWS/);
    const once = es(claims());
    const first = await tokenRequest(server, {
      grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: once,
    });
    assert.equal(first.status, 200);
    assert.match(await attempt(once), /jti was already used/);
  });

  test('an RS384 JWT assertion gets a token, which expires after --token-lifetime', async () => {
    const rsTokenUrl = `${rsaServer.origin}/auth/token`;
    const assertion = jwt({ alg: 'RS384' }, assertionClaims('backend-rs', rsTokenUrl), rsa.privateKey, 'RS384');
    const { status, body } = await tokenRequest(rsaServer, {
      grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion,
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.expires_in, 1);
    assert.equal(body.scope, 'system/*.read');
    assert.equal((await request(`${rsaServer.baseUrl}/Patient`, { token: body.access_token })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await request(`${rsaServer.baseUrl}/Patient`, { token: body.access_token });
    assert.equal(expired.status, 401);
    assert.match(
      expired.headers.get('www-authenticate'),
      /error="invalid_token", error_description="the bearer token has expired"/
    );
    const secret = await tokenRequest(rsaServer, {
      grant_type: 'client_credentials', client_id: 'x', client_secret: 'y',
    });
    assert.equal(secret.body.error, 'invalid_client', 'no client secret configured there');
  });
});
