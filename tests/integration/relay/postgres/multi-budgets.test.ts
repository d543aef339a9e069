import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/multi-budgets.test.ts (multi-recipient budgets) with every relay on PostgreSQL.
usePostgresRelays();
await import('../multi-budgets.test.ts');
