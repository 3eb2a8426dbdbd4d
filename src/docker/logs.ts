// Docker's multiplexed log format (non-TTY containers): frames of [stream, 0, 0, 0, length u32 BE]
// followed by the payload. This joins the payloads of a whole buffered log.
export function demuxLogs(buf: Buffer): Buffer {
  if (!Buffer.isBuffer(buf)) return Buffer.from(String(buf));
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out);
}
