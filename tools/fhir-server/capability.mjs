// GET [base]/metadata: the CapabilityStatement describing what this server does.

import { globalSchema } from '@medplum/core';

// options: {baseUrl, version, resourceTypes (sorted), typeHistory (bool), security (or undefined),
// date}.
export function capabilityStatement(options) {
  const interactions = [
    'read', 'vread', 'update', 'patch', 'delete', 'history-instance',
    ...(options.typeHistory ? ['history-type'] : []),
    'create', 'search-type',
  ];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: options.date,
    publisher: 'lakeflow-cpp',
    kind: 'instance',
    software: { name: 'lakeflow-fhir-server', version: options.version },
    implementation: {
      description: 'In-memory FHIR R4 test server (Medplum FHIR router)',
      url: options.baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        ...(options.security ? { security: options.security } : undefined),
        resource: options.resourceTypes.map((type) => ({
          type,
          interaction: interactions.map((code) => ({ code })),
          versioning: 'versioned',
          readHistory: true,
          updateCreate: true,
          searchParam: searchParams(type),
        })),
        interaction: [{ code: 'batch' }, { code: 'transaction' }],
        searchParam: [
          { name: '_count', type: 'number', documentation: 'Page size: default 20, at most 1000' },
          { name: '_offset', type: 'number', documentation: 'Index of the first result to return' },
          { name: '_sort', type: 'string', documentation: 'Sort rules; the first decides' },
        ],
      },
    ],
  };
}

function searchParams(type) {
  const params = globalSchema.types[type]?.searchParams ?? {};
  return Object.keys(params)
    .sort()
    .map((code) => ({ name: code, type: params[code].type }));
}
