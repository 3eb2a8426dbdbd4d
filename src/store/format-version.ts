// The version rule of every local file bbackup writes (docs/FORMAT.md, "Versions"): `format` is the
// file's major version; a file without it is the oldest version (1), written before the field
// existed; a newer major is refused with what to do, never misread.
import { BbackupError } from '../errors.js';

/** The format of a parsed file, checked against the newest this bbackup reads. */
export function checkFileFormat(doc: Record<string, unknown>, newest: number, what: string): number {
  const f = doc.format ?? 1;
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 1)
    throw new BbackupError('INTEGRITY', `${what} has a malformed format field (${JSON.stringify(f)})`, { what });
  if (f > newest)
    throw new BbackupError(
      'USAGE',
      `${what} was written by a newer bbackup (format ${f}); this bbackup reads formats 1 to ${newest}: upgrade bbackup to read it`,
      { what, format: f },
    );
  return f;
}
