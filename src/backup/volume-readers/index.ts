// The one place a volume mode becomes a reader. The stream reader (remote engines) registers here.
import type { VolumeMode } from '../types.js';
import { hostReader } from './host.js';
import type { ReaderDeps, VolumeReader } from './types.js';
import { streamReader } from './stream.js';
import { workerReader } from './worker.js';

export function createReader(mode: VolumeMode, deps: ReaderDeps): VolumeReader {
  switch (mode) {
    case 'host':
      return hostReader;
    case 'worker':
      return workerReader(deps);
    case 'stream':
      return streamReader(deps);
  }
}
