import { SqliteQueryCompiler, ValueNode, type LimitNode } from 'kysely';

/**
 * Kysely's SQLite compiler with LIMIT written into the SQL text when it is a plain integer.
 *
 * SQLite runs a statement with a bound LIMIT markedly slower than the same statement with a
 * literal one (about 10–20 µs more per run on a point lookup, as much as the lookup itself), and
 * the device path's hot reads all carry one (`limit 1`, a pending list's 10). The values are few,
 * so the prepared-statement cache still holds them all.
 */
export class LiteralLimitSqliteQueryCompiler extends SqliteQueryCompiler {
  protected override visitLimit(node: LimitNode): void {
    const limit = node.limit;
    if (ValueNode.is(limit) && typeof limit.value === 'number' && Number.isSafeInteger(limit.value) && limit.value >= 0) {
      this.append(`limit ${limit.value}`);
      return;
    }
    super.visitLimit(node);
  }
}
