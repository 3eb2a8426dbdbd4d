// Encryption decorator: everything put() stores becomes <key>.age (standard age format, so the
// `age` CLI can decrypt it without bbackup). get() decrypts files whose key ends in .age and
// passes others through, so backups made before encryption was switched on still pull. A put
// marked plaintext (retention.json: status and a hashed group) is stored as it is.
// Keys stay honest: list() returns the stored names, .age included.
import type { Readable } from 'node:stream';
import { bind } from '../remote/with-progress.js';
import type { OpOptions, PutOptions, PutResult, Remote } from '../remote/types.js';
import { AGE_SUFFIX, decryptStream, encryptStream, type AgeSpec } from './age.js';

export interface EncryptionKeys {
  /** undefined: put() stores plaintext */
  encrypt?: AgeSpec;
  decrypt: AgeSpec;
}

export function withEncryption(inner: Remote, keys: EncryptionKeys): Remote {
  return {
    ...bind(inner),
    async put(key: string, open: () => Readable, o: PutOptions): Promise<PutResult> {
      const spec = keys.encrypt;
      if (!spec || o.plaintext) return inner.put(key, open, o);
      return inner.put(key + AGE_SUFFIX, () => encryptStream(open(), spec, o.signal), o);
    },
    async get(key: string, o: OpOptions): Promise<Readable> {
      const stored = await inner.get(key, o);
      if (!key.endsWith(AGE_SUFFIX)) return stored;
      return decryptStream(stored, keys.decrypt, o.signal);
    },
  };
}
