import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/handshake.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../handshake.test.ts');
