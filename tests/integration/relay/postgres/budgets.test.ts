import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/budgets.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../budgets.test.ts');
