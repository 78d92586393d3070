// Builds the page into dist/ (embedded in the medledger binary) and the test wallet into
// dist-test/ (injected by the browser test only; never served). Run by `cargo xtask web`.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';

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
await build({
  ...common,
  entryPoints: ['page/test-wallet.ts'],
  outfile: 'dist-test/test-wallet.js',
  format: 'iife',
});
