/**
 * The Kysely table map. Each store module adds its own tables by declaration merging
 * (`declare module './schema.js' { interface Database { ... } }`), so a feature's SQL and its
 * table types live side by side. Timestamps are epoch milliseconds (BIGINT); JSON values are TEXT.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Database {}

export type Dialect = 'sqlite' | 'postgres';
