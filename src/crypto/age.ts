// age encryption as streams. X25519 recipients and identity files go through the real `age` CLI
// when it is installed (about 10x faster than the JS implementation, RECIPES §7); a passphrase
// (scrypt) goes through the age-encryption library, because the CLI reads passphrases only from a
// terminal. Either way the output is standard age: `age -d` decrypts it. Memory stays flat.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/schema.js';
import { expandHome } from '../config/locate.js';
import { BbackupError } from '../errors.js';
import { runChain } from '../remote/proc-stream.js';

export interface AgeSpec {
  /** encrypt to these (age1..., or ssh-ed25519/ssh-rsa keys with the CLI) */
  recipients: string[];
  passphrase?: string;
  /** identity file used to decrypt */
  identityFile?: string;
}

export const AGE_SUFFIX = '.age';

/** The encryption section as an AgeSpec, or undefined when encryption is off. */
export function ageSpecFrom(cfg: Config['encryption']): AgeSpec | undefined {
  if (!cfg.enabled) return undefined;
  const recipients = [...cfg.recipients];
  if (cfg.recipients_file)
    recipients.push(...readKeyLines(expandHome(cfg.recipients_file), 'encryption.recipients_file'));
  if (recipients.length > 0 && cfg.passphrase) {
    // The age format allows a passphrase (scrypt) stanza only as the sole recipient.
    throw new BbackupError(
      'CONFIG_INVALID',
      'encryption: age cannot encrypt to recipients and a passphrase at once; set either recipients or passphrase',
    );
  }
  if (recipients.length === 0 && !cfg.passphrase) {
    throw new BbackupError(
      'CONFIG_INVALID',
      'encryption is enabled but has no recipients, recipients_file or passphrase (run `bbackup init-encryption` to make a key)',
    );
  }
  return {
    recipients,
    passphrase: cfg.passphrase,
    identityFile: cfg.identity_file ? expandHome(cfg.identity_file) : undefined,
  };
}

/** Just the decryption side (pull/restore work even when encryption is now off). */
export function decryptSpecFrom(cfg: Config['encryption']): AgeSpec {
  return {
    recipients: [],
    passphrase: cfg.passphrase,
    identityFile: cfg.identity_file ? expandHome(cfg.identity_file) : undefined,
  };
}

function readKeyLines(path: string, what: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch (err) {
    throw new BbackupError(
      'CONFIG_INVALID',
      `${what}: cannot read ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

let ageCli: string | null | undefined;
function findAgeCli(): string | null {
  if (ageCli === undefined) {
    const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
    ageCli = dirs.map((d) => join(d, 'age')).find((p) => existsSync(p)) ?? null;
  }
  return process.env.BBACKUP_AGE_JS === '1' ? null : ageCli;
}

const ageError = (what: string) => (_s: unknown, stderr: string, err: unknown) => {
  const wrongKey = /no identity matched|incorrect passphrase|failed to decrypt/i.test(stderr);
  return new BbackupError(
    wrongKey ? 'REMOTE_AUTH' : 'TOOL_FAILED',
    `${what}: ${wrongKey ? 'wrong key: ' : ''}age: ${stderr.replace(/^age: (error: )?/gm, '').trim()}`,
    { stderr },
    { cause: err },
  );
};

export function encryptStream(input: Readable, spec: AgeSpec, signal?: AbortSignal): Readable {
  const cli = findAgeCli();
  if (cli && !spec.passphrase) {
    return runChain([{ file: cli, args: ['--encrypt', ...spec.recipients.flatMap((r) => ['-r', r])] }], {
      input,
      signal,
      what: 'encrypting',
      classify: ageError('encrypting'),
    });
  }
  return viaWeb(
    input,
    async (web) => {
      const { Encrypter } = await import('age-encryption'); // loaded on first use, not at start-up
      const e = new Encrypter();
      if (spec.passphrase) e.setPassphrase(spec.passphrase);
      else for (const r of spec.recipients) e.addRecipient(r);
      return e.encrypt(web);
    },
    'encrypting',
  );
}

export function decryptStream(input: Readable, spec: AgeSpec, signal?: AbortSignal): Readable {
  if (!spec.identityFile && !spec.passphrase) {
    throw new BbackupError(
      'CONFIG_INVALID',
      'this backup is encrypted: set encryption.identity_file (or encryption.passphrase) to decrypt it',
    );
  }
  const cli = findAgeCli();
  if (cli && spec.identityFile && !spec.passphrase) {
    if (!existsSync(spec.identityFile))
      throw new BbackupError('CONFIG_INVALID', `encryption.identity_file ${spec.identityFile} does not exist`);
    return runChain([{ file: cli, args: ['--decrypt', '-i', spec.identityFile] }], {
      input,
      signal,
      what: 'decrypting',
      classify: ageError('decrypting'),
    });
  }
  return viaWeb(
    input,
    async (web) => {
      const { Decrypter } = await import('age-encryption');
      const d = new Decrypter();
      if (spec.passphrase) d.addPassphrase(spec.passphrase);
      if (spec.identityFile)
        for (const id of readKeyLines(spec.identityFile, 'encryption.identity_file')) d.addIdentity(id);
      return d.decrypt(web);
    },
    'decrypting',
  );
}

/** Bridge a Node stream through the library's web-stream API, errors included. */
function viaWeb(
  input: Readable,
  run: (web: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>,
  what: string,
): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  (async () => {
    const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
    const result = await run(web);
    await pipeline(Readable.fromWeb(result), out);
  })().catch((err: unknown) => {
    const msg = (err as Error).message ?? String(err);
    const wrongKey = /no identity matched|incorrect passphrase|failed to decrypt|invalid/i.test(msg);
    out.destroy(
      err instanceof BbackupError
        ? err
        : new BbackupError(
            wrongKey ? 'REMOTE_AUTH' : 'TOOL_FAILED',
            `${what}: ${wrongKey ? 'wrong key: ' : ''}${msg}`,
            {},
            { cause: err },
          ),
    );
  });
  return out;
}
