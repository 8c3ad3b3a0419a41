import { decodeEndpointsUserInfo } from '../../lib/verify/endpoints-userinfo';

const payload = { iss: 'https://securetoken.google.com/my-project', sub: 'uid-1', aud: 'my-project', email: 'jane@example.com', iat: 1700000000, exp: 1700003600 };
const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

describe('ESPv2 form: the JWT payload', () => {
  test.each([['base64url', b64url(payload)], ['base64 with padding', b64(payload)], ['base64url with padding', `${b64url(payload)}=`.slice(0, Math.ceil(b64url(payload).length / 4) * 4)]])('%s', (_name, header) => {
    expect(decodeEndpointsUserInfo(header)).toEqual({
      format: 'espv2', issuer: payload.iss, subject: 'uid-1', email: 'jane@example.com', audiences: ['my-project'], claims: payload,
    });
  });

  test('a list aud is kept as a list', () => {
    expect(decodeEndpointsUserInfo(b64url({ ...payload, aud: ['a', 'b'] })).audiences).toEqual(['a', 'b']);
  });
});

describe('ESP form: issuer, id, email and the claims', () => {
  test('claims as a JSON string', () => {
    const info = { issuer: payload.iss, id: 'uid-1', email: 'jane@example.com', audiences: 'my-project,other', claims: JSON.stringify(payload) };
    expect(decodeEndpointsUserInfo(b64url(info))).toEqual({
      format: 'esp', issuer: payload.iss, subject: 'uid-1', email: 'jane@example.com', audiences: ['my-project', 'other'], claims: payload,
    });
  });

  test('claims as an object, identity taken from the claims when the wrapper omits it', () => {
    expect(decodeEndpointsUserInfo(b64({ claims: payload }))).toMatchObject({ format: 'esp', issuer: payload.iss, subject: 'uid-1', audiences: ['my-project'] });
  });

  test('issuer and id without claims', () => {
    expect(decodeEndpointsUserInfo(b64url({ issuer: 'https://accounts.google.com', id: '42' }))).toMatchObject({ format: 'esp', subject: '42', claims: {} });
  });
});

test('the issuer can be restricted: another one is a valid caller this API refuses (403)', () => {
  expect(decodeEndpointsUserInfo(b64url(payload), { issuers: [payload.iss] }).issuer).toBe(payload.iss);
  expect(() => decodeEndpointsUserInfo(b64url(payload), { issuers: ['https://accounts.google.com'] }))
    .toThrow(expect.objectContaining({ code: 'CALLER_NOT_ALLOWED', status: 403, message: `issuer "${payload.iss}" is not accepted by this API` }));
});

describe('a caller-written payload cannot pass for ESP\'s wrapper', () => {
  // A self-signed service-account JWT may carry any member; ESPv2 forwards its payload as is.
  const attacker = 'attacker@evil-project.iam.gserviceaccount.com';
  const victim = { iss: 'https://accounts.google.com', sub: 'admin', email: 'admin@example.com' };

  test.each([
    ['a "claims" member (string)', { claims: JSON.stringify(victim) }],
    ['a "claims" member (object)', { claims: victim }],
    ['"issuer" and "id" members', { issuer: victim.iss, id: victim.sub, email: victim.email }],
  ])('%s: the payload\'s own iss and sub are the identity', (_name, extra) => {
    const info = decodeEndpointsUserInfo(b64url({ iss: attacker, sub: attacker, aud: 'https://api.example', ...extra }));
    expect(info).toMatchObject({ format: 'espv2', issuer: attacker, subject: attacker });
    expect(() => decodeEndpointsUserInfo(b64url({ iss: attacker, sub: attacker, ...extra }), { issuers: [victim.iss] })).toThrow(expect.objectContaining({ code: 'CALLER_NOT_ALLOWED' }));
  });
});

test.each([
  ['absent', undefined, 'MISSING_TOKEN'],
  ['empty', '', 'MISSING_TOKEN'],
  ['sent twice', ['a', 'b'], 'MALFORMED_TOKEN'],
  ['not base64', 'eyJ!!!', 'MALFORMED_TOKEN'],
  ['impossible base64 length', 'eyJhb', 'MALFORMED_TOKEN'],
  ['padding in the middle', 'eyJ=hbGc', 'MALFORMED_TOKEN'],
  ['not JSON', b64url('hello'), 'MALFORMED_TOKEN'],
  ['a JSON array', b64url([payload]), 'MALFORMED_TOKEN'],
  ['ESP claims not JSON', b64url({ issuer: 'i', id: 'x', claims: '{not json' }), 'MALFORMED_TOKEN'],
  ['ESP claims a number', b64url({ issuer: 'i', id: 'x', claims: 7 }), 'MALFORMED_TOKEN'],
  ['no issuer', b64url({ sub: 'x' }), 'MISSING_CLAIM'],
  ['no subject', b64url({ iss: 'i' }), 'MISSING_CLAIM'],
  ['a number subject', b64url({ iss: 'i', sub: 5 }), 'INVALID_CLAIM'],
  ['audiences of numbers', b64url({ iss: 'i', sub: 's', aud: [1] }), 'INVALID_CLAIM'],
  ['too large', 'A'.repeat(20_000), 'TOKEN_TOO_LARGE'],
])('%s is refused cleanly with %#', (_name, header, code) => {
  expect(() => decodeEndpointsUserInfo(header as string)).toThrow(expect.objectContaining({ code }));
});
