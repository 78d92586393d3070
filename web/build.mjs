// Builds the page into dist/ (embedded in the medledger binary) and the test wallet into
// dist-test/ (injected by the browser test only; never served). Run by `cargo xtask web`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';

// The type check first: esbuild strips types without checking them.
execFileSync('node', ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
for (const file of ['index.html', 'style.css']) {
  cpSync(`page/${file}`, `dist/${file}`);
}
const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'es2022',
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, entryPoints: ['page/main.ts'], outfile: 'dist/app.js', format: 'esm' });
// GraphiQL for GET /graphql, with its stylesheet (dist/graphiql.css beside it).
await build({
  ...common,
  entryPoints: ['page/graphiql.ts'],
  outfile: 'dist/graphiql.js',
  format: 'iife',
  define: { 'process.env.NODE_ENV': '"production"' },
});
await build({
  ...common,
  entryPoints: ['page/test-wallet.ts'],
  outfile: 'dist-test/test-wallet.js',
  format: 'iife',
});
