// `init-encryption`: a new X25519 identity in the age-keygen file format, written 0600 and never
// over an existing file (losing a key loses every backup encrypted to it).
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BbackupError } from '../errors.js';

export interface NewIdentity {
  path: string;
  recipient: string;
}

export async function writeNewIdentity(path: string): Promise<NewIdentity> {
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption'); // not at start-up
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BbackupError(
        'CONFLICT',
        `${path} already exists; refusing to overwrite a key (move it away first, or pass another --path)`,
        { path },
      );
    }
    throw new BbackupError('DISK', `cannot write ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  try {
    await file.writeFile(text);
    await file.chmod(0o600); // umask cannot widen it, but be explicit
  } finally {
    await file.close();
  }
  return { path, recipient };
}
