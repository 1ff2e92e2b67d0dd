// Access control for the FHIR endpoints, in one of three modes:
//
//   none    every request is served.
//   bearer  requests carry `Authorization: Bearer <the --token value>`.
//   oauth   requests carry a token this server issued at its token endpoint (OAuth 2.0 client
//           credentials grant, RFC 6749 §4.4), to a client that authenticated with
//           - client_secret_basic / client_secret_post (--client-id, --client-secret), or
//           - private_key_jwt: a SMART Backend Services JWT assertion signed with RS384 or ES384,
//             checked against --jwt-public-key (--jwt-client-id).
//           Tokens live --token-lifetime seconds. Scopes are echoed, not enforced.
//
// Secrets and tokens are never logged or echoed in errors.

import { createHash, createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_S = 300; // SMART: exp no more than five minutes in the future...
const CLOCK_SKEW_S = 60; // ...give or take this much clock difference.
const DEFAULT_SCOPE = 'system/*.read';

// A failed check: an HTTP status plus, for the token endpoint, the RFC 6749 §5.2 error code.
export class AuthError extends Error {
  constructor(status, code, description) {
    super(description);
    this.status = status;
    this.code = code;
  }
}

export class Auth {
  #mode;
  #staticToken;
  #secretClient; // {id, secret}
  #jwtClient; // {id, key, alg}
  #tokenLifetime;
  #tokenUrl;
  #issued = new Map(); // access token -> expiry (ms since epoch)
  #usedJti = new Map(); // assertion jti -> its exp (ms); kept until then to refuse replays

  // options: {mode, token, clientId, clientSecret, jwtClientId, jwtPublicKeyPath, tokenLifetime}.
  // Throws an Error naming the flag to fix when the combination is incomplete.
  constructor(options) {
    this.#mode = options.mode ?? 'none';
    this.#tokenLifetime = options.tokenLifetime ?? 300;
    if (this.#mode === 'bearer') {
      if (!options.token) {
        throw new Error('--auth bearer needs --token');
      }
      this.#staticToken = options.token;
    } else if (this.#mode === 'oauth') {
      if (Boolean(options.clientId) !== Boolean(options.clientSecret)) {
        throw new Error('--client-id and --client-secret go together');
      }
      if (Boolean(options.jwtClientId) !== Boolean(options.jwtPublicKeyPath)) {
        throw new Error('--jwt-client-id and --jwt-public-key go together');
      }
      if (!options.clientId && !options.jwtClientId) {
        throw new Error(
          '--auth oauth needs --client-id/--client-secret and/or --jwt-client-id/--jwt-public-key'
        );
      }
      if (options.clientId) {
        this.#secretClient = { id: options.clientId, secret: options.clientSecret };
      }
      if (options.jwtClientId) {
        const key = createPublicKey(readFileSync(options.jwtPublicKeyPath));
        this.#jwtClient = { id: options.jwtClientId, key, alg: signingAlgorithm(key) };
      }
    } else if (this.#mode !== 'none') {
      throw new Error(`--auth must be none, bearer or oauth, got '${this.#mode}'`);
    }
  }

  get mode() {
    return this.#mode;
  }

  // Called once the server knows its address.
  setTokenUrl(url) {
    this.#tokenUrl = url;
  }

  get tokenUrl() {
    return this.#tokenUrl;
  }

  // Checks a FHIR request's Authorization header; throws AuthError(401) when it is not acceptable.
  checkRequest(headers) {
    if (this.#mode === 'none') {
      return;
    }
    const match = /^Bearer +(\S+) *$/i.exec(headers.authorization ?? '');
    if (!match) {
      throw new AuthError(401, undefined, 'missing Authorization: Bearer header');
    }
    const token = match[1];
    if (this.#mode === 'bearer') {
      if (!sameSecret(token, this.#staticToken)) {
        throw new AuthError(401, 'invalid_token', 'the bearer token is not the configured one');
      }
      return;
    }
    const expiry = this.#issued.get(token);
    if (expiry === undefined) {
      throw new AuthError(401, 'invalid_token', 'the bearer token was not issued by this server');
    }
    if (expiry <= Date.now()) {
      throw new AuthError(401, 'invalid_token', 'the bearer token has expired');
    }
  }

  // The token endpoint: `form` is the decoded application/x-www-form-urlencoded body as
  // URLSearchParams. Returns the RFC 6749 §5.1 response body; throws AuthError.
  issueToken(headers, form) {
    for (const name of new Set(form.keys())) {
      if (form.getAll(name).length > 1) {
        throw new AuthError(400, 'invalid_request', `parameter '${name}' is repeated`);
      }
    }
    if (form.get('grant_type') !== 'client_credentials') {
      throw new AuthError(
        400,
        form.has('grant_type') ? 'unsupported_grant_type' : 'invalid_request',
        'grant_type must be client_credentials'
      );
    }
    this.#authenticateClient(headers, form);
    const now = Date.now();
    for (const [token, expiry] of this.#issued) {
      if (expiry <= now) {
        this.#issued.delete(token);
      }
    }
    const accessToken = randomBytes(32).toString('base64url');
    this.#issued.set(accessToken, now + this.#tokenLifetime * 1000);
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: this.#tokenLifetime,
      scope: form.get('scope') || DEFAULT_SCOPE,
    };
  }

  #authenticateClient(headers, form) {
    const basic = /^Basic +(\S+) *$/i.exec(headers.authorization ?? '');
    const methods = [basic, form.has('client_secret'), form.has('client_assertion')];
    if (methods.filter(Boolean).length > 1) {
      throw new AuthError(400, 'invalid_request', 'use exactly one client authentication method');
    }
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) {
        throw new AuthError(401, 'invalid_client', 'malformed Basic credentials');
      }
      // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
      this.#checkSecret(formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1)));
    } else if (form.has('client_secret')) {
      this.#checkSecret(form.get('client_id'), form.get('client_secret'));
    } else if (form.has('client_assertion')) {
      if (form.get('client_assertion_type') !== JWT_BEARER) {
        throw new AuthError(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
      }
      this.#checkAssertion(form.get('client_assertion'), form.get('client_id'));
    } else {
      throw new AuthError(401, 'invalid_client', 'no client authentication given');
    }
  }

  #checkSecret(clientId, secret) {
    const client = this.#secretClient;
    if (!client) {
      throw new AuthError(401, 'invalid_client', 'client secret authentication is not enabled');
    }
    // Both compared, always, so the time taken does not tell which was wrong.
    const idOk = sameSecret(clientId ?? '', client.id);
    const secretOk = sameSecret(secret ?? '', client.secret);
    if (!idOk || !secretOk) {
      throw new AuthError(
        401,
        'invalid_client',
        'client authentication failed: unknown client id or wrong secret'
      );
    }
  }

  #checkAssertion(assertion, formClientId) {
    const client = this.#jwtClient;
    if (!client) {
      throw new AuthError(401, 'invalid_client', 'JWT client assertions are not enabled');
    }
    const fail = (why) => new AuthError(401, 'invalid_client', `client assertion rejected: ${why}`);
    const parts = assertion.split('.');
    if (parts.length !== 3) {
      throw fail('not a compact JWS (header.payload.signature)');
    }
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw fail('header or payload is not base64url-encoded JSON');
    }
    if (header.alg !== client.alg) {
      const got = JSON.stringify(header.alg);
      throw fail(`alg must be ${client.alg} (the registered key's algorithm), got ${got}`);
    }
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2], 'base64url');
    // JWS carries an ECDSA signature as r || s, not DER.
    const key =
      client.alg === 'ES384' ? { key: client.key, dsaEncoding: 'ieee-p1363' } : client.key;
    if (!verify('sha384', signed, key, signature)) {
      throw fail('signature does not verify with the registered public key');
    }
    if (claims.iss !== client.id || claims.sub !== client.id) {
      throw fail('iss and sub must both be the client id');
    }
    if (formClientId !== null && formClientId !== client.id) {
      throw fail('client_id does not match the assertion');
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.#tokenUrl)) {
      throw fail(`aud must be the token endpoint ${this.#tokenUrl}`);
    }
    const now = Date.now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= now) {
      throw fail('exp is missing or in the past');
    }
    if (claims.exp > now + MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
      throw fail(`exp is more than ${MAX_ASSERTION_LIFETIME_S} seconds in the future`);
    }
    if (typeof claims.nbf === 'number' && claims.nbf > now + CLOCK_SKEW_S) {
      throw fail('nbf is in the future');
    }
    if (typeof claims.jti !== 'string' || !claims.jti) {
      throw fail('jti is missing');
    }
    for (const [jti, exp] of this.#usedJti) {
      if (exp <= now) {
        this.#usedJti.delete(jti);
      }
    }
    if (this.#usedJti.has(claims.jti)) {
      throw fail('jti was already used');
    }
    this.#usedJti.set(claims.jti, claims.exp);
  }

  // GET [base]/.well-known/smart-configuration (oauth mode only).
  smartConfiguration() {
    return {
      token_endpoint: this.#tokenUrl,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: [
        ...(this.#secretClient ? ['client_secret_basic', 'client_secret_post'] : []),
        ...(this.#jwtClient ? ['private_key_jwt'] : []),
      ],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      scopes_supported: ['system/*.read', 'system/*.*', 'system/*.rs', 'system/*.cruds'],
      capabilities: [
        'client-confidential-symmetric',
        'client-confidential-asymmetric',
        'permission-v1',
        'permission-v2',
      ],
    };
  }

  // CapabilityStatement.rest[0].security, or undefined when auth is off.
  capabilitySecurity() {
    if (this.#mode === 'bearer') {
      return {
        description: 'Requests need Authorization: Bearer with a token configured on the server.',
      };
    }
    if (this.#mode !== 'oauth') {
      return undefined;
    }
    return {
      extension: [
        {
          url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
          extension: [{ url: 'token', valueUri: this.#tokenUrl }],
        },
      ],
      service: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
              code: 'SMART-on-FHIR',
            },
          ],
        },
      ],
      description:
        'OAuth 2.0 client credentials (client secret or SMART Backend Services JWT assertion).',
    };
  }
}

// The JWS algorithm a public key verifies: RS384 for RSA, ES384 for EC P-384.
function signingAlgorithm(key) {
  if (key.asymmetricKeyType === 'rsa') {
    return 'RS384';
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1') {
    return 'ES384';
  }
  throw new Error('--jwt-public-key must be an RSA key (RS384) or an EC P-384 key (ES384)');
}

// Constant-time equality of two strings (hashed first, so lengths do not leak either).
function sameSecret(given, expected) {
  const digest = (s) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function formDecode(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
