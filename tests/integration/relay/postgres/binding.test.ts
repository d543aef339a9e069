import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/binding.test.ts (identity binding (auth)) with every relay on PostgreSQL.
usePostgresRelays();
await import('../binding.test.ts');
