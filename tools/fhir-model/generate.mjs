// Generates sources/fhir/schema/r4_model.json, the compact FHIR R4 type model the C++ schema
// builder (sources/fhir/schema/fhir_schema.cc) embeds, from the official R4 StructureDefinitions
// shipped in the npm package hl7.fhir.r4.examples@4.0.1.
//
//   node generate.mjs               rewrite the committed model
//   node generate.mjs --check       exit 1 if the committed model differs from what would be
//                                   generated (exit 77 when the package cannot be found, see below)
//   node generate.mjs --out F       write to F instead
//   node generate.mjs --examples D  read the package from directory D instead of this folder's
//                                   node_modules (repeatable: the first D that exists is used), so
//                                   a check can use a copy another package already installed
//
// Which definitions: the base types of FHIR R4, i.e. StructureDefinitions whose url is
// http://hl7.org/fhir/StructureDefinition/<id>, whose kind is resource, complex-type or
// primitive-type, and which are specializations (or the roots Element and Resource, which have no
// derivation). Profiles (derivation "constraint", e.g. vitalsigns, SimpleQuantity, every extension
// definition) and logical models are skipped.
//
// What is kept of each type is only what a schema needs: its kind, whether it is abstract, and its
// elements in snapshot order with their JSON name, type codes, cardinality (array or not),
// contentReference and, for backbone elements, their own elements nested inline. The output is
// deterministic: types sorted by name, elements in definition order, one element per line.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const defaultOut = resolve(here, '../../sources/fhir/schema/r4_model.json');
const packageName = 'hl7.fhir.r4.examples';
const baseUrl = 'http://hl7.org/fhir/StructureDefinition/';
const fhirTypeExtension = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const systemTypePrefix = 'http://hl7.org/fhirpath/System.';

function fail(message) {
  process.stderr.write(`generate.mjs: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { check: false, out: defaultOut, examples: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') args.check = true;
    else if (argv[i] === '--out' && i + 1 < argv.length) args.out = resolve(argv[++i]);
    else if (argv[i] === '--examples' && i + 1 < argv.length) {
      args.examples.push(resolve(argv[++i]));
    }
    else fail(`unknown argument '${argv[i]}' (accepted: --check, --out FILE, --examples DIR)`);
  }
  return args;
}

// The package's manifest path, or undefined when it is not installed where we look.
function findManifest(examples) {
  if (examples.length > 0) {
    return examples.map((d) => join(d, 'package.json')).find((m) => existsSync(m));
  }
  try {
    return createRequire(import.meta.url).resolve(`${packageName}/package.json`);
  } catch {
    return undefined;
  }
}

function packageDir(args) {
  const manifest = findManifest(args.examples);
  if (!manifest) {
    const where = args.examples.length > 0 ? args.examples.join(', ') : `${here}/node_modules`;
    const message = `${packageName} is not installed in ${where}; run 'npm ci' in ${here}`;
    if (args.check) {
      process.stdout.write(`generate.mjs: check skipped: ${message}\n`);
      process.exit(77);
    }
    fail(message);
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  if (pkg.name !== packageName || pkg.version !== '4.0.1') {
    fail(`${manifest} is ${pkg.name}@${pkg.version}, expected ${packageName}@4.0.1`);
  }
  return { dir: dirname(manifest), version: pkg.version };
}

function isBaseDefinition(sd) {
  if (sd.resourceType !== 'StructureDefinition') return false;
  if (sd.url !== baseUrl + sd.id || sd.type !== sd.id) return false;
  if (!['resource', 'complex-type', 'primitive-type'].includes(sd.kind)) return false;
  return sd.derivation === 'specialization' || (sd.derivation === undefined && !sd.baseDefinition);
}

// The FHIR type code of one ElementDefinition.type entry. Elements the definitions type with a
// FHIRPath system type (Element.id, Extension.url, Resource.id) name their FHIR type in the
// structuredefinition-fhir-type extension.
function typeCode(type, path) {
  if (!type.code.startsWith(systemTypePrefix)) return type.code;
  const ext = (type.extension ?? []).find((e) => e.url === fhirTypeExtension);
  if (!ext) fail(`${path}: system type ${type.code} without a FHIR type`);
  return ext.valueUrl;
}

// One snapshot element as the model keeps it (without its children).
function modelElement(e, typeName) {
  const last = e.path.slice(e.path.lastIndexOf('.') + 1);
  const out = {};
  if (last.endsWith('[x]')) {
    out.name = last.slice(0, -3);
    out.choice = true;
  } else {
    out.name = last;
  }
  if (e.max !== '1') out.array = true;
  if (e.contentReference) {
    const target = e.contentReference.replace(/^#/, '');
    if (!target.startsWith(`${typeName}.`)) {
      fail(`${e.path}: contentReference ${target} leaves ${typeName}`);
    }
    out.ref = target;
  } else {
    const codes = (e.type ?? []).map((t) => typeCode(t, e.path));
    if (codes.length === 0) fail(`${e.path}: no type and no contentReference`);
    if (new Set(codes).size !== codes.length) fail(`${e.path}: repeated type code`);
    if (codes.length > 1 && !out.choice) fail(`${e.path}: several types but not a choice`);
    out.types = codes;
  }
  // XML attributes (Element.id, Extension.url) cannot carry extensions: no `_name` in JSON.
  if ((e.representation ?? []).includes('xmlAttr')) out.xmlAttr = true;
  return out;
}

// The snapshot's elements as a tree: each element's children are the elements whose path extends
// its own by one segment, in snapshot order.
function elementTree(sd) {
  const root = { elements: [] };
  const byPath = new Map([[sd.type, root]]);
  for (const e of sd.snapshot.element.slice(1)) {
    if (e.sliceName) fail(`${e.id}: slices in a base definition`);
    if (e.max === '0') continue;  // prohibited (xhtml.extension)
    const parentPath = e.path.slice(0, e.path.lastIndexOf('.'));
    const parent = byPath.get(parentPath);
    if (!parent) fail(`${e.path}: parent ${parentPath} not defined before it`);
    const node = modelElement(e, sd.type);
    parent.elements ??= [];
    parent.elements.push(node);
    byPath.set(e.path, node);
  }
  return root.elements;
}

function modelType(sd) {
  const out = { kind: sd.kind };
  if (sd.abstract) out.abstract = true;
  if (sd.kind === 'primitive-type') {
    // A primitive's own elements (id, extension, value) say nothing a schema needs except whether
    // it may carry extensions at all (xhtml may not).
    const ext = sd.snapshot.element.find((e) => e.path === `${sd.type}.extension`);
    if (ext && ext.max === '0') out.extensions = false;
    return out;
  }
  out.elements = elementTree(sd);
  return out;
}

function checkReferences(types) {
  for (const [name, t] of Object.entries(types)) {
    const walk = (elements, path) => {
      for (const e of elements ?? []) {
        for (const code of e.types ?? []) {
          if (!(code in types)) fail(`${path}.${e.name}: unknown type ${code}`);
          const isBackbone = code === 'BackboneElement' || code === 'Element';
          if (isBackbone !== Boolean(e.elements)) {
            const has = e.elements ? 'with' : 'without';
            fail(`${path}.${e.name}: type ${code} ${has} nested elements`);
          }
        }
        if (e.ref && !findPath(types, e.ref)) fail(`${path}.${e.name}: unresolved ref ${e.ref}`);
        walk(e.elements, `${path}.${e.name}`);
      }
    };
    walk(t.elements, name);
  }
}

function findPath(types, path) {
  const [typeName, ...names] = path.split('.');
  let elements = types[typeName]?.elements;
  let found;
  for (const n of names) {
    found = elements?.find((e) => e.name === n && !e.choice);
    if (!found) return undefined;
    elements = found.elements;
  }
  return found;
}

// Pretty enough to diff: one element per line, nested elements indented below their parent.
function render(model) {
  const lines = ['{'];
  lines.push(`  "fhirVersion": ${JSON.stringify(model.fhirVersion)},`);
  lines.push(`  "source": ${JSON.stringify(model.source)},`);
  lines.push('  "types": {');
  const names = Object.keys(model.types);
  const renderElements = (elements, indent) => {
    const out = [];
    elements.forEach((e, i) => {
      const { elements: children, ...head } = e;
      const comma = i + 1 < elements.length ? ',' : '';
      const text = JSON.stringify(head).replace(/,"/g, ', "').replace(/":/g, '": ');
      if (!children) {
        out.push(`${indent}${text}${comma}`);
      } else {
        out.push(`${indent}${text.slice(0, -1)}, "elements": [`);
        out.push(...renderElements(children, `${indent}  `));
        out.push(`${indent}]}${comma}`);
      }
    });
    return out;
  };
  names.forEach((name, i) => {
    const { elements, ...head } = model.types[name];
    const comma = i + 1 < names.length ? ',' : '';
    const text = JSON.stringify(head).replace(/,"/g, ', "').replace(/":/g, '": ');
    if (!elements) {
      lines.push(`    ${JSON.stringify(name)}: ${text}${comma}`);
    } else {
      lines.push(`    ${JSON.stringify(name)}: ${text.slice(0, -1)}, "elements": [`);
      lines.push(...renderElements(elements, '      '));
      lines.push(`    ]}${comma}`);
    }
  });
  lines.push('  }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function generate(args) {
  const { dir, version } = packageDir(args);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith('StructureDefinition-') && f.endsWith('.json'))
    .sort();
  const types = {};
  for (const f of files) {
    const sd = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    if (!isBaseDefinition(sd)) continue;
    if (sd.fhirVersion !== '4.0.1') fail(`${f}: fhirVersion ${sd.fhirVersion}`);
    if (sd.type in types) fail(`${f}: ${sd.type} defined twice`);
    types[sd.type] = modelType(sd);
  }
  const sorted = Object.fromEntries(
    Object.keys(types)
      .sort()
      .map((k) => [k, types[k]]),
  );
  checkReferences(sorted);
  const text = render({
    fhirVersion: '4.0.1',
    source: `${packageName}@${version}`,
    types: sorted,
  });
  if (!/^[\x0a\x20-\x7e]*$/.test(text)) fail('the model is not printable ASCII');
  JSON.parse(text);  // the renderer must produce valid JSON
  return text;
}

const args = parseArgs(process.argv.slice(2));
const text = generate(args);
if (args.check) {
  let committed = '';
  try {
    committed = readFileSync(args.out, 'utf8');
  } catch {
    committed = '';
  }
  if (committed !== text) {
    const want = text.split('\n');
    const have = committed.split('\n');
    let line = 0;
    while (line < want.length && want[line] === have[line]) line++;
    process.stderr.write(
      `generate.mjs: ${args.out} is out of date (first difference at line ${line + 1}: ` +
        `expected ${JSON.stringify(want[line] ?? '')}); run 'npm ci && node generate.mjs' in ` +
        `${here}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`${args.out} is up to date\n`);
} else {
  writeFileSync(args.out, text);
  const types = Object.values(JSON.parse(text).types);
  const count = (kind) => types.filter((t) => t.kind === kind).length;
  process.stdout.write(
    `wrote ${args.out}: ${text.length} bytes; ${count('resource')} resource, ` +
      `${count('complex-type')} complex and ${count('primitive-type')} primitive types\n`,
  );
}
