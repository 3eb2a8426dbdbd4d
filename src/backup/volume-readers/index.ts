// The one place a volume mode becomes a reader. The stream reader (remote engines) registers here.
import { BbackupError } from '../../errors.js';
import type { VolumeMode } from '../types.js';
import { hostReader } from './host.js';
import type { ReaderDeps, VolumeReader } from './types.js';
import { workerReader } from './worker.js';

export function createReader(mode: VolumeMode, deps: ReaderDeps): VolumeReader {
  switch (mode) {
    case 'host':
      return hostReader;
    case 'worker':
      return workerReader(deps);
    case 'stream':
      throw new BbackupError('USAGE', 'volume mode "stream" (remote Docker engines) is not available in this build; use a local engine or mode worker');
  }
}
