// Copies the API's source of truth, proto/hypr/v1/*.proto at the repository root, into this package
// (packages/api/proto/hypr/v1), so the published tarball carries the .proto files beside the code
// generated from them. Run by `build` and `prepack`; the copy is ignored by git.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(pkg, '../../proto');
const target = join(pkg, 'proto');
if (!existsSync(join(source, 'hypr/v1'))) {
  // Outside the repository (an unpacked tarball) the copy is already there.
  if (existsSync(join(target, 'hypr/v1'))) process.exit(0);
  console.error(`copy-proto: ${source}/hypr/v1 is missing`);
  process.exit(1);
}
rmSync(target, { recursive: true, force: true });
cpSync(join(source, 'hypr'), join(target, 'hypr'), { recursive: true, filter: (p) => !p.endsWith('~') });
for (const f of ['buf.yaml']) if (existsSync(join(source, f))) cpSync(join(source, f), join(target, f));
