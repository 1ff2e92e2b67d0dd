// The in-memory FHIR store: Medplum's MemoryRepository with the corrections a test server needs.
//
//  1. Searches are paged with a default and a maximum `_count` (Medplum returns every match when
//     `_count` is absent) and rejected with 400 when they name an unknown search or sort parameter
//     or one of a type Medplum cannot match (number, quantity, composite, special): Medplum would
//     silently match nothing. A date `eq` matches its exact millisecond too.
//  2. `_sort` rules apply lexicographically: the first rule decides, later rules break its ties.
//     Medplum applies them as successive stable sorts, so its last rule dominates. Dates compare as
//     instants (time zones and precision normalized), numbers as numbers, the rest as
//     text by UTF-16 code unit (no locale rules, unlike Medplum's localeCompare).
//  3. Every write is recorded in a change log (creates, updates and deletes, with their time),
//     which serves type-level and instance-level history. Medplum forgets deletes, and its own
//     instance history reverses its stored list in place, so its order alternates between calls.
//  4. A read of a deleted resource is 410 Gone; a POST reusing the id of a live resource is 409
//     (Medplum keeps a client-supplied id on create, and would silently replace the resource).
//  5. Every version keeps the JSON text it is served as (storedText), written from what the client
//     sent (see servedText): Medplum parses with JSON.parse, so it holds `1.00` as 1 and
//     `9007199254740993` as 9007199254740992, and it drops empty arrays, `{}`, "" and null.
//     Writes pass what was sent with receiving(); PATCH applies the patch to the stored text too.
//
// Everything else (matching search filters, storage, versions, batch entries) is Medplum's.

import { AsyncLocalStorage } from 'node:async_hooks';
import {
  DEFAULT_MAX_SEARCH_COUNT,
  DEFAULT_SEARCH_COUNT,
  OperationOutcomeError,
  Operator,
  badRequest,
  conflict,
  gone,
  evalFhirPath,
  globalSchema,
  notFound,
  parseFhirPath,
  toPeriod,
} from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import {
  JsonNumber,
  applyJsonPatch,
  parseExact,
  toJsonText,
  treeOf,
} from './exact-json.mjs';

// The search parameter types Medplum's in-memory matcher evaluates; it fails every other filter.
const MATCHED_PARAMETER_TYPES = new Set(['date', 'reference', 'string', 'token', 'uri']);

export const DEFAULT_COUNT = DEFAULT_SEARCH_COUNT; // 20
export const MAX_COUNT = DEFAULT_MAX_SEARCH_COUNT; // 1000

// The page a search or history request asks for: `_offset` (default 0) and `_count` (default 20,
// capped at 1000). Throws a 400 OperationOutcomeError when either is not a non-negative integer.
export function pageWindow(count, offset) {
  const asked = count === undefined ? DEFAULT_COUNT : nonNegativeInteger('_count', count);
  return {
    count: Math.min(asked, MAX_COUNT),
    offset: offset === undefined ? 0 : nonNegativeInteger('_offset', offset),
  };
}

function nonNegativeInteger(name, value) {
  const text = String(value);
  if (!/^\d{1,9}$/.test(text)) {
    throw new OperationOutcomeError(
      badRequest(`${name} must be a non-negative integer, got '${text}'`)
    );
  }
  return Number(text);
}

// Milliseconds since the epoch of a FHIR instant or dateTime (a partial date counts from its
// start), or NaN when the text is not one.
export function instantMillis(text) {
  const period = typeof text === 'string' ? toPeriod(text) : undefined;
  return period ? Date.parse(period.start) : NaN;
}

// What the request being handled sent (see TestRepository.receiving), for the writes it causes.
const sent = new AsyncLocalStorage();

export class TestRepository extends MemoryRepository {
  // versionKey -> the JSON text served for that version.
  #texts = new Map();
  // One entry per write, in the order the writes happened:
  // {seq, method: 'POST'|'PUT'|'DELETE', resourceType, id, time (ISO text), millis, resource?}.
  #changes = [];
  // The HTTP method the next createResource call records. MemoryRepository.updateResource stores
  // the new version by calling createResource synchronously, so updateResource sets this around it.
  #writeMethod = 'POST';
  // `Type/id` -> the method of its latest change, for every resource ever written.
  #latest = new Map();

  async createResource(resource, options) {
    const method = this.#writeMethod;
    this.#writeMethod = 'POST';
    const latest = resource.id && this.#latest.get(`${resource.resourceType}/${resource.id}`);
    if (method === 'POST' && latest && latest !== 'DELETE') {
      throw new OperationOutcomeError(
        conflict(`${resource.resourceType}/${resource.id} already exists; update it with PUT`)
      );
    }
    const stored = await super.createResource(resource, options);
    this.#texts.set(versionKey(stored), servedText(stored, this.#takeSent(resource)));
    this.#record(method, stored.resourceType, stored.id, stored.meta.lastUpdated, stored);
    return stored;
  }

  // Runs `write`, a call that makes Medplum create, update or patch resources, knowing what the
  // client sent, so each stored version keeps the client's text (see servedText). `resources`
  // lists what the request carries, each {resource, tree}: the plain object handed to Medplum
  // (which may assign its id, as a batch does) and its tree (exact-json.mjs). A write takes the
  // one resource of a single-resource request, or in a batch the entry of its type and id. `patch`
  // is the tree of a JSON Patch body. Concurrent requests each see their own.
  receiving({ resources = [], patch }, write) {
    const candidates = resources.map((r) => ({ ...r, taken: false }));
    return sent.run({ candidates, patch }, write);
  }

  // The JSON text of a resource version this repository returned (from a read, search, history
  // or write), or undefined for any other value.
  storedText(resource) {
    const key = versionKey(resource);
    return key === undefined ? undefined : this.#texts.get(key);
  }

  // The tree the client sent for `resource` (about to be created), or undefined.
  #takeSent(resource) {
    const candidates = sent.getStore()?.candidates ?? [];
    const match = candidates.find(
      (c) =>
        !c.taken &&
        c.resource?.resourceType === resource.resourceType &&
        (candidates.length === 1 || c.resource.id === resource.id)
    );
    if (!match) return undefined;
    match.taken = true;
    return match.tree;
  }

  // Medplum applies the patch to its parsed copy; the same operations applied to the stored text
  // (with the patch's own number text when the request body was the patch) are what was sent for
  // the new version, so untouched values keep their text.
  async patchResource(resourceType, id, patch) {
    const current = await this.readResource(resourceType, id); // 404 or 410 as for a read
    let tree;
    try {
      const operations = sent.getStore()?.patch ?? treeOf(patch);
      tree = applyJsonPatch(parseExact(this.storedText(current)), operations);
    } catch {
      tree = undefined; // Medplum reports what is wrong with the patch
    }
    return this.receiving({ resources: [{ resource: current, tree }] }, () =>
      super.patchResource(resourceType, id, patch)
    );
  }

  updateResource(resource, options) {
    this.#writeMethod = 'PUT';
    try {
      return super.updateResource(resource, options);
    } finally {
      this.#writeMethod = 'POST';
    }
  }

  async deleteResource(resourceType, id) {
    await super.deleteResource(resourceType, id);
    this.#record('DELETE', resourceType, id, new Date().toISOString(), undefined);
  }

  async readResource(resourceType, id) {
    try {
      return await super.readResource(resourceType, id);
    } catch (err) {
      if (this.#latest.get(`${resourceType}/${id}`) === 'DELETE') {
        throw new OperationOutcomeError(gone);
      }
      throw err;
    }
  }

  async search(searchRequest) {
    const { sortRules, offset, count, ...matching } = searchRequest;
    const window = pageWindow(count, offset);
    const comparator = sortComparator(searchRequest.resourceType, sortRules ?? []);
    matching.filters = matching.filters?.flatMap((filter) => {
      const param = searchParameter(searchRequest.resourceType, filter.code);
      const presence = filter.operator === Operator.MISSING || filter.operator === Operator.PRESENT;
      if (!presence && !MATCHED_PARAMETER_TYPES.has(param.type)) {
        const why = `has type ${param.type}, which this server cannot match`;
        throw new OperationOutcomeError(badRequest(`Search parameter '${filter.code}' ${why}`));
      }
      // Medplum tests `eq` as an overlap with strict bounds, so `_lastUpdated=<exact millisecond>`
      // never matches a resource stamped that millisecond; ge + le is the same overlap, inclusive.
      if (param.type === 'date' && filter.operator === Operator.EQUALS) {
        return [
          { ...filter, operator: Operator.GREATER_THAN_OR_EQUALS },
          { ...filter, operator: Operator.LESS_THAN_OR_EQUALS },
        ];
      }
      return [filter];
    });
    const all = await super.search(matching);
    const entries = all.entry ?? [];
    if (comparator) {
      entries.sort(comparator);
    }
    const page = entries.slice(window.offset, window.offset + window.count);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      total: all.total,
      ...(page.length ? { entry: page } : undefined),
    };
  }

  // Instance history, newest change first. Available after a delete; 404 for an id never written.
  async readHistory(resourceType, id, options) {
    if (!this.#latest.has(`${resourceType}/${id}`)) {
      throw new OperationOutcomeError(notFound);
    }
    const changes = this.#changes.filter((c) => c.resourceType === resourceType && c.id === id);
    changes.reverse();
    const { count, offset } = pageWindow(options?.limit, options?.offset);
    return {
      resourceType: 'Bundle',
      type: 'history',
      total: changes.length,
      entry: changes.slice(offset, offset + count).map(historyEntry),
    };
  }

  // The changes to one resource type at or after `sinceMillis`, oldest first (ties in write order),
  // as Bundle history entries without fullUrl (the caller knows the base URL).
  typeHistory(resourceType, sinceMillis) {
    return this.#changes
      .filter((c) => c.resourceType === resourceType && c.millis >= sinceMillis)
      .sort((a, b) => a.millis - b.millis || a.seq - b.seq)
      .map(historyEntry);
  }

  clear() {
    super.clear();
    this.#texts.clear();
    this.#changes = [];
    this.#latest.clear();
  }

  #record(method, resourceType, id, time, resource) {
    this.#latest.set(`${resourceType}/${id}`, method);
    this.#changes.push({
      seq: this.#changes.length,
      method,
      resourceType,
      id,
      time,
      millis: instantMillis(time),
      resource: resource && structuredClone(resource),
    });
  }
}

// The key of a stored version: versionIds alone may repeat when clients supply them.
function versionKey(resource) {
  const { resourceType, id, meta } = resource ?? {};
  if (typeof resourceType !== 'string' || typeof id !== 'string') return undefined;
  if (typeof meta?.versionId !== 'string') return undefined;
  return `${resourceType}/${id}/${meta.versionId}/${meta.lastUpdated}`;
}

// The JSON text served for a version Medplum stored (`stored`, plain JSON values) given the tree
// the client sent for it (`received`, or undefined). The values are Medplum's, which search
// matched; they are written with the client's text wherever they are the client's values:
//   - a number keeps its literal when JSON.parse reads the literal as the stored double (`1.00`,
//     `66.899999999999991`, `-0`, `9007199254740993`);
//   - what Medplum holds as nothing is written as sent, in its place: null, "", [] and {} (FHIR
//     forbids them, but they were sent), a number beyond a double (`1e309`, which Medplum holds
//     as null and drops on the next write), and arrays and objects of nothing else;
//   - keys in the client's order.
// What the server sets (id, meta.versionId, meta.lastUpdated, a batch's resolved references) is
// Medplum's; an id or meta the client did not send follows resourceType and id.
export function servedText(stored, received) {
  return servedValue(stored, received, true);
}

function servedValue(stored, received, top = false) {
  if (received === undefined || typeof stored === 'string' || typeof stored === 'boolean') {
    return JSON.stringify(stored);
  }
  if (stored === null || stored === undefined) {
    return heldAsNothing(received) ? toJsonText(received) : 'null';
  }
  if (typeof stored === 'number') {
    const same = received instanceof JsonNumber && received.value === stored;
    return same ? received.text : JSON.stringify(stored);
  }
  if (Array.isArray(stored)) {
    const items = Array.isArray(received) ? received : [];
    let text = '[';
    for (let k = 0; k < stored.length; k++) {
      text += (k ? ',' : '') + servedValue(stored[k], items[k]);
    }
    return `${text}]`;
  }
  if (typeof stored !== 'object' || !(received instanceof Map)) {
    return JSON.stringify(stored);
  }
  // The client's keys in the client's order; stored keys the client did not send last, or at the
  // resource's top level right after resourceType and id.
  const members = [];
  let matched = 0; // members that are stored keys
  let after = 0; // where the stored keys the client did not send go
  for (const [key, value] of received) {
    let text;
    if (Object.hasOwn(stored, key)) {
      text = servedValue(stored[key], value);
      matched += 1;
    } else if (heldAsNothing(value)) {
      text = toJsonText(value);
    } else {
      continue;
    }
    members.push(`${JSON.stringify(key)}:${text}`);
    if (top && (key === 'resourceType' || key === 'id')) after = members.length;
  }
  if (matched < keyCount(stored)) {
    const added = Object.keys(stored)
      .filter((key) => !received.has(key))
      .map((key) => `${JSON.stringify(key)}:${JSON.stringify(stored[key])}`);
    members.splice(top ? after : members.length, 0, ...added);
  }
  return `{${members.join(',')}}`;
}

function keyCount(object) {
  let n = 0;
  for (const key in object) {
    if (Object.hasOwn(object, key)) n += 1;
  }
  return n;
}

// Whether Medplum keeps nothing of a value sent (a tree): its stringify removes null, "" and
// arrays and objects of nothing else, and JSON.parse reads `1e309` as Infinity, stored as null.
function heldAsNothing(value) {
  if (value === null || value === '') return true;
  if (value instanceof JsonNumber) return !Number.isFinite(value.value);
  if (Array.isArray(value)) return value.every(heldAsNothing);
  if (value instanceof Map) return [...value.values()].every(heldAsNothing);
  return false;
}

function historyEntry(change) {
  const reference = `${change.resourceType}/${change.id}`;
  if (change.method === 'DELETE') {
    return {
      request: { method: 'DELETE', url: reference },
      response: { status: '200 OK', lastModified: change.time },
    };
  }
  return {
    resource: change.resource,
    request: change.method === 'POST'
      ? { method: 'POST', url: change.resourceType }
      : { method: 'PUT', url: reference },
    response: {
      status: change.method === 'POST' ? '201 Created' : '200 OK',
      etag: `W/"${change.resource.meta.versionId}"`,
      lastModified: change.time,
    },
  };
}

function searchParameter(resourceType, code) {
  const param = globalSchema.types[resourceType]?.searchParams?.[code];
  if (!param) {
    throw new OperationOutcomeError(
      badRequest(`Unknown search parameter '${code}' for ${resourceType}`)
    );
  }
  return param;
}

// A comparator applying the sort rules in order, or undefined when there are none. Resources
// without a value for a rule's parameter sort after those with one, in either direction.
function sortComparator(resourceType, sortRules) {
  if (!sortRules.length) {
    return undefined;
  }
  const keys = sortRules.map((rule) => {
    const param = searchParameter(resourceType, rule.code);
    const expression = parseFhirPath(param.expression); // once, not per resource
    return { param, expression, descending: Boolean(rule.descending), cache: new Map() };
  });
  return (a, b) => {
    for (const key of keys) {
      const ka = sortKey(key, a.resource);
      const kb = sortKey(key, b.resource);
      if (ka === undefined || kb === undefined) {
        if (ka !== kb) {
          return ka === undefined ? 1 : -1;
        }
        continue;
      }
      const order = ka < kb ? -1 : ka > kb ? 1 : 0;
      if (order) {
        return key.descending ? -order : order;
      }
    }
    return 0;
  };
}

// The value a resource sorts by: the smallest of its values for an ascending rule, the largest for
// a descending one. A date becomes the UTC instant it starts at, to the millisecond, as text that
// compares chronologically (`2012-06-03T23:45:32Z` is `2012-06-03T23:45:32.000Z`); a number stays a
// number; anything else is compared as text by UTF-16 code unit.
function sortKey(key, resource) {
  if (key.cache.has(resource)) {
    return key.cache.get(resource);
  }
  const values = [];
  for (const value of evalFhirPath(key.expression, resource)) {
    if (key.param.type === 'date') {
      const period = toPeriod(value);
      const instant = period?.start ?? period?.end;
      if (instant) {
        values.push(instant);
      }
    } else if (key.param.type === 'number' && typeof value === 'number') {
      values.push(value);
    } else if (value !== undefined && value !== null) {
      values.push(typeof value === 'object' ? JSON.stringify(value) : String(value));
    }
  }
  values.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const result = values.length ? (key.descending ? values.at(-1) : values[0]) : undefined;
  key.cache.set(resource, result);
  return result;
}
