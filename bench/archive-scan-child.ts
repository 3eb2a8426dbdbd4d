// Child of bench/archive-scan.ts: scans a generated archive of argv[2] entries and prints its peak
// RSS. The archive is generated block by block and never held whole.
// the built engine (npm run bench builds dist/ first), as an installed bbackup runs; typed from its source
const built: string = '../dist/src/archive/tar-scan.js';
const { TarScanner } = (await import(built)) as typeof import('../src/archive/tar-scan.js');

const entries = Number(process.argv[2]);
const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
function header(name: string, type: string, link = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write(octal(0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(0, 12), 124);
  h.write(octal(1_700_000_000, 12), 136);
  h.write(type, 156);
  h.write(link, 157, 100);
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

const scanner = new TarScanner();
const started = process.hrtime.bigint();
let batch: Buffer[] = [];
for (let i = 0; i < entries; i++) {
  const dir = `data/d${i % 1000}/s${i % 7}`;
  if (i < 7000) batch.push(header(`${dir}/`, '5'));
  batch.push(header(`${dir}/file-${i}`, '0'));
  if (i % 1000 === 999)
    batch.push(header(`${dir}/link-${i}`, '2', `file-${i}`), header(`${dir}/hard-${i}`, '1', `${dir}/file-${i}`));
  if (batch.length >= 2048) {
    scanner.write(Buffer.concat(batch));
    batch = [];
  }
}
scanner.write(Buffer.concat([...batch, Buffer.alloc(1024)]));
const r = scanner.end();
if (r.problems.length > 0 || r.damaged || !r.complete) throw new Error(`unexpected scan result ${JSON.stringify(r)}`);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  JSON.stringify({
    entries: r.entries,
    rssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    seconds: Math.round(seconds * 10) / 10,
  }),
);
