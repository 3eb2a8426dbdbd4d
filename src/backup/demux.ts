// Docker's multiplexed attach/log stream as a Transform with backpressure: stdout frames flow on,
// stderr frames go to a callback. (dockerode's demuxStream ignores backpressure, so a slow
// consumer would make memory grow with the volume.)
import { Transform } from 'node:stream';

export function demuxTransform(onStderr: (chunk: Buffer) => void): Transform {
  let pending: Buffer = Buffer.alloc(0);
  let want = 0; // payload bytes left in the current frame
  let stream = 1;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let buf: Buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      while (buf.length > 0) {
        if (want === 0) {
          if (buf.length < 8) {
            pending = buf;
            break;
          }
          stream = buf[0]!;
          want = buf.readUInt32BE(4);
          buf = buf.subarray(8);
          continue;
        }
        const take = Math.min(want, buf.length);
        const payload = buf.subarray(0, take);
        if (stream === 2) onStderr(payload);
        else this.push(payload);
        want -= take;
        buf = buf.subarray(take);
      }
      cb();
    },
  });
}
