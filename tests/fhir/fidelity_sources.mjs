// The files the local FHIR server loaded, read here without the server's code, so the fidelity
// test can compare what landed with the files themselves and not only with the server's answer.
//
// Which file holds a resource follows the loading rule tools/fhir-server/README.md states: HL7's
// standalone `<Type>-<id>.json` examples first, in sorted file order; then the entries of its
// batch, collection, searchset and transaction Bundles, in sorted file order; then the `--load`
// files in the order given. The first Type/id wins.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseJson } from './fidelity_compare.mjs';

const EXAMPLE_FILE = /^([A-Z][A-Za-z]*)-.+\.json$/;
const UNPACKED_BUNDLE_TYPES = new Set(['batch', 'collection', 'searchset', 'transaction']);

// `Type/id` → {resource (parsed by parseJson: numbers as their text), origin (file, entry)} for
// every key in `wanted` (a Set of `Type/id`) found in HL7's examples (`examplesDir`) or in
// `loadFiles` (NDJSON, one resource per line). Keys found nowhere are absent.
export function loadedSources({ examplesDir, loadFiles = [], wanted }) {
  const sources = new Map();
  const types = new Set([...wanted].map((key) => key.slice(0, key.indexOf('/'))));
  const add = (resource, origin) => {
    const key = `${resource?.resourceType}/${resource?.id}`;
    if (wanted.has(key) && !sources.has(key)) sources.set(key, { resource, origin });
  };
  const files = readdirSync(examplesDir).filter((f) => EXAMPLE_FILE.test(f)).sort();
  const read = (file) => readFileSync(path.join(examplesDir, file), 'utf8');
  for (const file of files) {
    const type = EXAMPLE_FILE.exec(file)[1];
    if (type !== 'Bundle' && types.has(type)) add(parseJson(read(file)), file);
  }
  for (const file of files.filter((f) => f.startsWith('Bundle-'))) {
    const text = read(file);
    // Most Bundle bytes are definitions; parse only Bundles naming a wanted type.
    const names = [...text.matchAll(/"resourceType"\s*:\s*"([A-Za-z]+)"/g)].map((m) => m[1]);
    if (!names.some((name) => types.has(name))) continue;
    const bundle = parseJson(text);
    if (!UNPACKED_BUNDLE_TYPES.has(bundle.type)) continue;
    (bundle.entry ?? []).forEach((entry, i) => add(entry.resource, `${file} entry[${i}]`));
  }
  for (const file of loadFiles) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim()) add(parseJson(line), `${path.basename(file)}:${i + 1}`);
      });
  }
  return sources;
}
