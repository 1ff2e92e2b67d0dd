// Loading resources into the repository at startup: HL7's R4 examples and the user's JSON/NDJSON.
//
// Loading is deterministic: files are read in sorted order, Bundle entries in their order, and when
// two sources hold the same Type/id the first one read wins (the others count as duplicates). Each
// loaded resource keeps its id and meta; one without meta.lastUpdated gets the load's single start
// instant, one without meta.versionId gets "1", so a loaded set is many resources sharing one
// lastUpdated, as after a bulk load. The repository keeps each resource's JSON as the file has it
// (numbers with their text, empty values; see TestRepository.receiving).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseExact } from './exact-json.mjs';
import { instantMillis } from './repository.mjs';

// Example types not loaded: conformance and terminology resources (they describe the standard, not
// data) and infrastructure wrappers (Bundle is unpacked instead, see below).
export const SKIPPED_EXAMPLE_TYPES = new Set([
  'CapabilityStatement', 'CodeSystem', 'CompartmentDefinition', 'ConceptMap', 'ExampleScenario',
  'GraphDefinition', 'ImplementationGuide', 'MessageDefinition', 'NamingSystem',
  'OperationDefinition', 'SearchParameter', 'StructureDefinition', 'StructureMap',
  'TerminologyCapabilities', 'TestReport', 'TestScript', 'ValueSet',
  'Bundle', 'OperationOutcome', 'Parameters',
]);

// Bundle types whose entries are loaded as resources of their own. Documents and messages are
// wholes whose parts are not meant to stand alone; responses and histories echo other data.
const UNPACKED_BUNDLE_TYPES = new Set(['batch', 'collection', 'searchset', 'transaction']);

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export class Loader {
  #repo;
  #supportedTypes;
  #loadTime;
  #seen = new Set();

  // counts: resources loaded per type; skipped: count per reason; failures: {source, reason}.
  counts = new Map();
  skipped = new Map();
  failures = [];

  constructor(repo, supportedTypes, loadTime = new Date().toISOString()) {
    this.#repo = repo;
    this.#supportedTypes = supportedTypes;
    this.#loadTime = loadTime;
  }

  get total() {
    let n = 0;
    for (const count of this.counts.values()) {
      n += count;
    }
    return n;
  }

  // HL7's examples package: every `<Type>-<id>.json` file of a type not in SKIPPED_EXAMPLE_TYPES,
  // then the entries of its Bundle examples of the UNPACKED_BUNDLE_TYPES, so a standalone example
  // wins over a Bundle entry with the same Type/id.
  async loadExamples(dir) {
    const files = readdirSync(dir).filter((f) => /^[A-Z][A-Za-z]*-.+\.json$/.test(f)).sort();
    const bundles = [];
    for (const file of files) {
      const type = file.slice(0, file.indexOf('-'));
      if (type !== 'Bundle' && SKIPPED_EXAMPLE_TYPES.has(type)) {
        this.#skip('excluded type');
        continue;
      }
      const text = this.#read(join(dir, file), file);
      if (type === 'Bundle' && text !== undefined && !mentionsLoadableType(text)) {
        // Most Bundle bytes are definitions (StructureDefinition, ValueSet, ...); not parsing
        // those saves a second of startup. A quoted "resourceType" inside a JSON string is escaped,
        // so this sees only real resources.
        this.#skip('Bundle of excluded types only');
        continue;
      }
      const parsed = text === undefined ? undefined : this.#parseText(text, file);
      if (parsed?.value.resourceType === 'Bundle') {
        bundles.push({ file, bundle: parsed });
      } else if (parsed) {
        await this.#add(parsed, file, SKIPPED_EXAMPLE_TYPES);
      }
    }
    for (const { file, bundle } of bundles) {
      await this.#addBundleEntries(bundle, file, SKIPPED_EXAMPLE_TYPES);
    }
  }

  // A `.json` file (one resource, or a Bundle whose entries are loaded), an `.ndjson` file (one
  // resource per line), or a directory searched recursively for both, in sorted path order.
  async loadPath(path) {
    const files = statSync(path).isDirectory()
      ? listDataFiles(path).map((f) => join(path, f))
      : [path];
    for (const file of files) {
      const source = relative(process.cwd(), file) || basename(file);
      if (file.endsWith('.ndjson')) {
        const lines = readFileSync(file, 'utf8').split('\n');
        for (let i = 0; i < lines.length; i++) {
          if (lines[i].trim()) {
            const parsed = this.#parseText(lines[i], `${source}:${i + 1}`);
            if (parsed) {
              await this.#add(parsed, `${source}:${i + 1}`, new Set());
            }
          }
        }
        continue;
      }
      const parsed = this.#parse(file, source);
      const { resourceType, type } = parsed?.value ?? {};
      if (resourceType === 'Bundle' && UNPACKED_BUNDLE_TYPES.has(type)) {
        await this.#addBundleEntries(parsed, source, new Set());
      } else if (parsed) {
        await this.#add(parsed, source, new Set());
      }
    }
  }

  // `bundle` is {value, tree} (see #parseText).
  async #addBundleEntries(bundle, source, skippedTypes) {
    if (!UNPACKED_BUNDLE_TYPES.has(bundle.value.type)) {
      this.#skip('Bundle of a type not unpacked');
      return;
    }
    const entries = bundle.value.entry ?? [];
    const entryTrees = bundle.tree.get('entry');
    for (let i = 0; i < entries.length; i++) {
      const resource = entries[i].resource;
      if (!resource?.id) {
        this.#skip('Bundle entry without resource id');
      } else {
        const tree = entryTrees[i].get('resource');
        await this.#add({ value: resource, tree }, `${source} entry[${i}]`, skippedTypes);
      }
    }
  }

  // `parsed` is {value, tree} (see #parseText).
  async #add(parsed, source, skippedTypes) {
    const resource = parsed.value;
    const type = resource.resourceType;
    if (typeof type !== 'string' || !this.#supportedTypes.has(type)) {
      this.#fail(source, `'${type}' is not an R4 resource type`);
      return;
    }
    if (skippedTypes.has(type)) {
      this.#skip('excluded type');
      return;
    }
    if (typeof resource.id !== 'string' || !ID_PATTERN.test(resource.id)) {
      const id = JSON.stringify(resource.id);
      this.#fail(source, `id ${id} is not a FHIR id ([A-Za-z0-9-.]{1,64})`);
      return;
    }
    const key = `${type}/${resource.id}`;
    if (this.#seen.has(key)) {
      this.#skip('duplicate Type/id');
      return;
    }
    const meta = { ...resource.meta };
    if (meta.lastUpdated !== undefined && Number.isNaN(instantMillis(meta.lastUpdated))) {
      this.#fail(source, `meta.lastUpdated ${JSON.stringify(meta.lastUpdated)} is not an instant`);
      return;
    }
    meta.lastUpdated ??= this.#loadTime;
    meta.versionId ??= '1';
    try {
      await this.#repo.receiving({ resources: [{ resource, tree: parsed.tree }] }, () =>
        this.#repo.createResource({ ...resource, meta })
      );
    } catch (err) {
      this.#fail(source, err.message);
      return;
    }
    this.#seen.add(key);
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }

  #read(path, source) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      this.#fail(source, err.message);
      return undefined;
    }
  }

  #parse(path, source) {
    const text = this.#read(path, source);
    return text === undefined ? undefined : this.#parseText(text, source);
  }

  // {value: the JSON object as JSON.parse reads it, tree: the same with its text (parseExact)}, or
  // undefined after recording why not.
  #parseText(text, source) {
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        return { value, tree: parseExact(text) };
      }
      this.#fail(source, 'not a JSON object');
    } catch (err) {
      this.#fail(source, `invalid JSON: ${err.message}`);
    }
    return undefined;
  }

  #skip(reason) {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }

  #fail(source, reason) {
    this.failures.push({ source, reason });
  }
}

// Relative paths of the .json and .ndjson files under dir, sorted.
function listDataFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.json') || f.endsWith('.ndjson'))
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

function mentionsLoadableType(text) {
  for (const match of text.matchAll(/"resourceType"\s*:\s*"([A-Za-z]+)"/g)) {
    if (!SKIPPED_EXAMPLE_TYPES.has(match[1])) {
      return true;
    }
  }
  return false;
}
