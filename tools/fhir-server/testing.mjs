// Starting and talking to the server from the tests in test/ (kept outside test/ so the test runner
// does not take it for a test file).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const READY = /^FHIR server ready at (http:\/\/\S+)$/;

// Starts `node server.mjs --port 0 --exit-on-stdin-close ...args` and resolves once it printed its
// ready line: {baseUrl, origin, stdoutLines, stderr(), exited, stop()}. Rejects with the server's
// stderr when it exits first or takes longer than timeoutMs.
export function startServer(args = [], { timeoutMs = 60000 } = {}) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--exit-on-stdin-close', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server not ready after ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const status = code ?? signal;
      reject(new Error(`server exited (${status}) before it was ready; stderr:\n${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const firstLine = stdout.split('\n')[0];
      if (!stdout.includes('\n')) {
        return;
      }
      clearTimeout(timer);
      const match = READY.exec(firstLine);
      if (!match) {
        child.kill('SIGKILL');
        reject(new Error(`unexpected first stdout line: ${JSON.stringify(firstLine)}`));
        return;
      }
      const baseUrl = match[1];
      resolve({
        child,
        baseUrl,
        origin: new URL(baseUrl).origin,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        // Ends the server the way a test runner's parent would: closing its stdin.
        stop: async () => {
          child.stdin.end();
          return exited;
        },
      });
    });
  });
}

// fetch() returning {status, headers, body} with body parsed as JSON when it is JSON.
export async function request(url, { method = 'GET', body, headers = {}, token } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) {
    init.headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] ??= 'application/fhir+json';
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, body: json, text };
}

// Every page of a search or history, following next links from `url`: {pages, entries}.
export async function followPages(url, options = {}) {
  const pages = [];
  const entries = [];
  let next = url;
  while (next) {
    const { status, body } = await request(next, options);
    if (status !== 200) {
      throw new Error(`GET ${next} answered ${status}: ${JSON.stringify(body)}`);
    }
    pages.push(body);
    entries.push(...(body.entry ?? []));
    next = body.link?.find((l) => l.relation === 'next')?.url;
    if (pages.length > 10000) {
      throw new Error('next links do not end');
    }
  }
  return { pages, entries };
}
