// Start-up (issue 12, README "Speed"): bundles the CLI from src/cli/bin.ts into dist/src/cli/bin.js
// (replacing tsc's copy of that one file) with its lazily imported parts as chunks beside it in
// dist/src/cli/chunks/. Node then reads a few files instead of several hundred and resolves no
// module paths at start-up: list-containers and --help spend about half the CPU they did. Dynamic
// import() stays lazy (each becomes its own chunk), so a command still loads only what it uses.
// Kept out of the bundle: packages with native add-ons (ssh2, cpu-features) and those that find
// their own files at run time (blessed's widgets and terminfo, blessed-contrib); they load from
// node_modules as before. tsc's dist/ stays complete for everything that imports modules directly.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * Two modules of the Docker client that start-up never needs but that load big libraries when
 * they are required: docker-modem's ssh transport (ssh2 and its crypto; used only for ssh://
 * engines) and dockerode's BuildKit session (gRPC and protobufjs; bbackup never builds with
 * BuildKit). Each exports one function; the plugin puts a stand-in in its place that requires the
 * real module on its first call (a bundled require runs the module then, not at start-up).
 */
const LAZY = [
  { importer: /docker-modem[\\/]lib[\\/]modem\.js$/, path: './ssh' },
  { importer: /dockerode[\\/]lib[\\/]docker\.js$/, path: './session' },
];
const lazyFunctionModules = {
  name: 'lazy-function-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\/(ssh|session)$/ }, (args) => {
      if (args.pluginData === 'real' || !LAZY.some((l) => l.path === args.path && l.importer.test(args.importer)))
        return undefined;
      return { path: `${args.importer}?lazy=${args.path}`, namespace: 'lazy', pluginData: args };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, async (args) => {
      const from = args.pluginData;
      const real = await b.resolve(from.path, {
        kind: 'require-call',
        importer: from.importer,
        resolveDir: from.resolveDir,
        pluginData: 'real',
      });
      if (real.errors.length) return { errors: real.errors };
      return {
        contents: `module.exports = function () { return require(${JSON.stringify(real.path)}).apply(this, arguments); };`,
        resolveDir: from.resolveDir,
        loader: 'js',
      };
    });
  },
};

// chunks of an earlier build have other hashes: start clean
rmSync('dist/src/cli/chunks', { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/bin.ts'],
  outdir: 'dist/src/cli',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [
    'ssh2',
    '@grpc/grpc-js',
    '@grpc/proto-loader',
    'cpu-features',
    'blessed',
    'blessed-contrib',
    'node-pty',
    'pty.js',
    'term.js',
    'fsevents',
  ],
  // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none of its own.
  banner: {
    js: 'import { createRequire as __bbackupRequire } from "node:module"; const require = __bbackupRequire(import.meta.url);',
  },
  plugins: [lazyFunctionModules],
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
