// commander option parser for repeatable, comma-separated names: `-C a,b -C c` gives [a, b, c].
export const commaList = (v: string, prev: string[] = []): string[] => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];
