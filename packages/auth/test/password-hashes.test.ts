import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword, type HashAlgorithm } from '../src/index.js';

// Vectors computed outside this code (Python hashlib, the jBCrypt test suite, RFC 6070).
const PW = Buffer.from('public');
const SALT = 'salt123';
const V = {
  md5: { disable: '4c9184f37cff01bcdc32dc486ec36961', prefix: 'b84fbb3f92bba74026ce3175e0f84ca6', suffix: 'd4c3cada554e53659c7430932d41b7df' },
  sha: { disable: '61c9b2b17db77a27841bbeeabff923448b0f6388', prefix: '8257501b1a2a03f7c185461766763f3b8205861f', suffix: 'c4b1d3c113afe8e01c9dfaefd21ae38a43fdb543' },
  sha256: { disable: 'efa1f375d76194fa51a3556a97e641e61685f914d446979da50a551a4333ffd7', prefix: 'a5a72f1edf5dcc152e04572ae63b199a01961fa97c1059ccd3238290425e56e4', suffix: '888c165e70c92b9ef29a603edf953993dff2c10765fe8f6380c777cd08e1149e' },
  sha512: {
    disable: 'd32997e9747b65a3ecf65b82533a4c843c4e16dd30cf371e8c81ab60a341de00051da422d41ff29c55695f233a1e06fac8b79aeb0a4d91ae5d3d18c8e09b8c73',
    prefix: 'ab9a75ecca9a487365b7155c758ed65b6d22bd0fda0f5e0408bdcbb298c99d167fe2cd887ec626978331c01d2a9ed3c9024dab91bc9809d22c2fe882517443b4',
    suffix: '331de73b7584229ebc73d667ae58b069238a42db136b462418f3efc5ff4a6904739377322690f027491b09474a4a87f0261c9ccbef0956b17778a64ba33a4d67',
  },
} as const;

describe('password hashes in EMQX formats', () => {
  for (const [name, byPos] of Object.entries(V)) {
    for (const [pos, hex] of Object.entries(byPos)) {
      it(`${name} with salt ${pos} matches the known digest, case-insensitively`, async () => {
        const alg = { name, salt_position: pos } as HashAlgorithm;
        const stored = { password_hash: hex, salt: pos === 'disable' ? '' : SALT };
        expect(await checkPassword(alg, stored, PW)).toBe(true);
        expect(await checkPassword(alg, { ...stored, password_hash: hex.toUpperCase() }, PW)).toBe(true);
        expect(await checkPassword(alg, stored, Buffer.from('Public'))).toBe(false);
        expect(await checkPassword(alg, stored, Buffer.alloc(0))).toBe(false);
        if (pos !== 'disable') expect(await checkPassword(alg, { ...stored, salt: 'other' }, PW)).toBe(false);
      });
    }
  }

  it('plain stores salt and password as they are', async () => {
    expect(await checkPassword({ name: 'plain', salt_position: 'disable' }, { password_hash: 'public' }, PW)).toBe(true);
    expect(await checkPassword({ name: 'plain', salt_position: 'prefix' }, { password_hash: 'salt123public', salt: SALT }, PW)).toBe(true);
    expect(await checkPassword({ name: 'plain', salt_position: 'suffix' }, { password_hash: 'publicsalt123', salt: SALT }, PW)).toBe(true);
    expect(await checkPassword({ name: 'plain', salt_position: 'disable' }, { password_hash: 'public' }, Buffer.from('publi'))).toBe(false);
  });

  it('bcrypt checks published vectors and refuses invalid UTF-8', async () => {
    const alg: HashAlgorithm = { name: 'bcrypt' };
    expect(await checkPassword(alg, { password_hash: '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i' }, Buffer.from('abc'))).toBe(true);
    expect(await checkPassword(alg, { password_hash: '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.' }, Buffer.alloc(0))).toBe(true);
    expect(await checkPassword(alg, { password_hash: '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i' }, Buffer.from('abd'))).toBe(false);
    expect(await checkPassword(alg, { password_hash: 'not-a-bcrypt-hash' }, Buffer.from('abc'))).toBe(false);
    expect(await checkPassword(alg, { password_hash: '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i' }, Buffer.from([0xff, 0xfe]))).toBe(false);
  });

  it('pbkdf2 with mac_fun, iterations and dk_length matches RFC 6070 and hashlib', async () => {
    // RFC 6070: PBKDF2-HMAC-SHA1("password", "salt", 1, 20)
    expect(await checkPassword({ name: 'pbkdf2', mac_fun: 'sha', iterations: 1 }, { password_hash: '0c60c80f961f0e71f3a9b524af6012062fe037a6', salt: 'salt' }, Buffer.from('password'))).toBe(true);
    expect(await checkPassword({ name: 'pbkdf2', mac_fun: 'sha', iterations: 2 }, { password_hash: 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957', salt: 'salt' }, Buffer.from('password'))).toBe(true);
    const sha256 = { name: 'pbkdf2', mac_fun: 'sha256', iterations: 4096 } as const;
    expect(await checkPassword(sha256, { password_hash: 'bafb6c83733b0e5c485f1384bbc12c6717ddfc264f68081e0587714748b56ce8', salt: SALT }, PW)).toBe(true);
    const sha512dk = { name: 'pbkdf2', mac_fun: 'sha512', iterations: 1000, dk_length: 32 } as const;
    expect(await checkPassword(sha512dk, { password_hash: '45aa6746794bc71fce8b1fed9a612101c061438f7a452bdb64dbcf266c7a4e2b', salt: SALT }, PW)).toBe(true);
    expect(await checkPassword({ ...sha512dk, iterations: 999 }, { password_hash: '45aa6746794bc71fce8b1fed9a612101c061438f7a452bdb64dbcf266c7a4e2b', salt: SALT }, PW)).toBe(false);
  });

  it('hashPassword output verifies with the same algorithm, with a fresh 32-hex salt', async () => {
    const algs: HashAlgorithm[] = [
      { name: 'sha256', salt_position: 'prefix' },
      { name: 'sha512', salt_position: 'suffix' },
      { name: 'md5', salt_position: 'disable' },
      { name: 'plain', salt_position: 'disable' },
      { name: 'bcrypt', salt_rounds: 5 },
      { name: 'pbkdf2', mac_fun: 'sha256', iterations: 10 },
    ];
    for (const alg of algs) {
      const a = await hashPassword(alg, 'secret-1');
      const b = await hashPassword(alg, 'secret-1');
      expect(await checkPassword(alg, a, Buffer.from('secret-1'))).toBe(true);
      expect(await checkPassword(alg, a, Buffer.from('secret-2'))).toBe(false);
      if (alg.name === 'sha256' || alg.name === 'sha512' || alg.name === 'pbkdf2') {
        expect(a.salt).toMatch(/^[0-9a-f]{32}$/);
        expect(a.password_hash).not.toBe(b.password_hash);
      }
      if (alg.name === 'bcrypt') expect(a.salt).toBe(a.password_hash);
    }
  });
});
