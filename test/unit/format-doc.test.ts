// docs/FORMAT.md is reviewed against the code: every field of every file bbackup writes (the
// types the writers use, read from the source with the TypeScript compiler, nested objects and
// arrays included) must be named in the document's code (`...` spans or fenced blocks). A field
// added to a manifest, a tree index line, a snapshot or a pack index without a word in the
// specification fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** Each written file's type: where it is declared, what the document calls the file. */
const WRITTEN: { file: string; type: string; what: string }[] = [
  { file: 'src/store/manifest.ts', type: 'Manifest', what: 'manifest.json' },
  { file: 'src/store/manifest.ts', type: 'IndexEntry', what: 'tree index line' },
  { file: 'src/store/lock.ts', type: 'LockInfo', what: 'store .lock' },
  { file: 'src/drill/types.ts', type: 'DrillReport', what: 'drill record' },
  { file: 'src/remote/upload-status.ts', type: 'UploadStatus', what: 'upload status' },
  { file: 'src/remote/repo/repo.ts', type: 'RepoFile', what: 'bbackup-repo.json' },
  { file: 'src/remote/repo/naming.ts', type: 'KeyDoc', what: 'keys/<keyId>.json' },
  { file: 'src/remote/repo/packs.ts', type: 'PackIndexDoc', what: 'packs/<packId>.idx.json' },
  { file: 'src/remote/repo/snapshot.ts', type: 'SnapshotDoc', what: 'snapshot.json' },
  { file: 'src/remote/repo/snapshot.ts', type: 'SnapshotInfo', what: 'info.json' },
  { file: 'src/remote/repo/snapshot.ts', type: 'SnapshotRefs', what: 'refs.json.gz' },
  { file: 'src/remote/repo/lock.ts', type: 'LockDoc', what: 'locks/<lockId>.json' },
  { file: 'src/remote/packing.ts', type: 'RemoteIndex', what: 'remote-index.json (format 1)' },
  { file: 'src/remote/retention-info.ts', type: 'RetentionInfo', what: 'retention.json (format 1)' },
];

function fieldsOf(): Map<string, Set<string>> {
  const files = WRITTEN.map((w) => join(root, w.file));
  const program = ts.createProgram(files, {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, Set<string>>();
  const walk = (type: ts.Type, into: Set<string>, seen: Set<ts.Type>): void => {
    if (seen.has(type)) return;
    seen.add(type);
    if (type.isUnion() || type.isIntersection()) {
      for (const t of type.types) walk(t, into, seen);
      return;
    }
    if (checker.isArrayType(type) || checker.isTupleType(type)) {
      for (const t of checker.getTypeArguments(type as ts.TypeReference)) walk(t, into, seen);
      return;
    }
    if (!(type.flags & ts.TypeFlags.Object)) return;
    for (const p of type.getProperties()) {
      into.add(p.name);
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      if (decl) walk(checker.getTypeOfSymbolAtLocation(p, decl), into, seen);
    }
  };
  for (const w of WRITTEN) {
    const sf = program.getSourceFile(join(root, w.file));
    if (!sf) throw new Error(`${w.file} not found`);
    let decl: ts.InterfaceDeclaration | ts.TypeAliasDeclaration | undefined;
    sf.forEachChild((n) => {
      if ((ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) && n.name.text === w.type) decl = n;
    });
    if (!decl) throw new Error(`${w.type} is not declared in ${w.file}`);
    const fields = new Set<string>();
    walk(checker.getTypeAtLocation(decl.name), fields, new Set());
    out.set(`${w.what} (${w.type})`, fields);
  }
  return out;
}

/** Every word inside the document's code spans and fenced blocks. */
function documentedNames(): Set<string> {
  const text = readFileSync(join(root, 'docs', 'FORMAT.md'), 'utf8');
  const code = [...text.matchAll(/```[\s\S]*?```|`[^`\n]+`|`[^`]+`/g)].map((m) => m[0]).join('\n');
  return new Set(code.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
}

describe('docs/FORMAT.md names every field the code writes', () => {
  const fields = fieldsOf();
  const named = documentedNames();
  it('finds the types (a type renamed or moved must be updated here)', () => {
    for (const [what, f] of fields) expect(f.size, what).toBeGreaterThan(1);
  });
  it.each([...fields.keys()])('%s', (what) => {
    const missing = [...fields.get(what)!].filter((f) => !named.has(f)).sort();
    expect(missing, `fields of ${what} not named in docs/FORMAT.md`).toEqual([]);
  });
});
