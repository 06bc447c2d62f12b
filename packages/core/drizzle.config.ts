import { defineConfig } from 'drizzle-kit';

// The state database's migrations are generated from src/state/schema.ts into drizzle/:
//   pnpm -C packages/core exec drizzle-kit generate --name <what-changed>
// and checked in; src/state/migrations.test.ts fails when the two disagree.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/state/schema.ts',
  out: './drizzle',
});
