// Seeded fault injection (--fault-rate R --fault-seed S): a deterministic share of the GET requests
// under the FHIR base fail the way flaky servers and networks fail, so that tests of retries,
// give-up reports and resumption are reproducible.
//
// Each such request draws from one PRNG (mulberry32) seeded with S: with probability R it fails,
// and a second draw picks one of the four kinds below with equal chance. Given the same seed and
// the same sequence of requests, the same requests fail the same way.

export const FAULT_KINDS = ['429', '503', 'reset', 'truncate'];

// mulberry32: a small 32-bit PRNG; returns a function yielding floats in [0, 1).
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  // `rate` in [0, 1]; `seed` a non-negative integer.
  constructor(rate, seed) {
    this.rate = rate;
    this.random = mulberry32(seed);
    this.counts = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0]));
  }

  // The fault for the next request, or null to serve it normally.
  next() {
    if (this.rate <= 0 || this.random() >= this.rate) {
      return null;
    }
    const kind = FAULT_KINDS[Math.min(FAULT_KINDS.length - 1, Math.floor(this.random() * 4))];
    this.counts[kind] += 1;
    return kind;
  }
}

// Answers `res` with the fault `kind`, or marks it to be truncated when sent. Returns true when
// the request is done (no normal answer must follow).
export function applyFault(kind, req, res) {
  switch (kind) {
    case '429':
    case '503': {
      const status = Number(kind);
      const text = JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: status === 429 ? 'throttled' : 'transient',
            details: { text: `injected fault (--fault-rate): ${status}` },
          },
        ],
      });
      res.writeHead(status, {
        'Content-Type': 'application/fhir+json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
      return true;
    }
    case 'reset':
      // A TCP reset before any byte of the response (an abrupt close where Node cannot reset).
      if (typeof req.socket.resetAndDestroy === 'function') {
        req.socket.resetAndDestroy();
      } else {
        req.socket.destroy();
      }
      return true;
    case 'truncate':
      res.truncateBody = true;
      return false;
    default:
      throw new Error(`unknown fault kind '${kind}'`);
  }
}

// Sends `text` with its full Content-Length but only its first half, then drops the connection:
// the client sees a body cut short.
export function sendTruncated(res, status, headers, text) {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Length': body.length });
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
}
