/**
 * `POST /_fleetjobs/reset` (and moto's `/moto-api/reset`): every resource gone, back to a fresh
 * server, while the process, its credentials, its port and the clock stay (decision 0016). A
 * server started with `--seed` comes back with its seed, as a fresh one would.
 *
 * Order matters: background work that would write for a resource stops first (the engine between
 * two steps, job deletions finished, SBOM validations abandoned), then the database is wiped in one
 * transaction, then what lives outside it (object files, MQTT sessions) goes.
 */
export interface ResetParts {
  /** Runs `fn` with no engine step in flight (Engine.exclusive). */
  betweenSteps: <T>(fn: () => Promise<T>) => Promise<T>;
  /** In every region: job deletions in flight finished, SBOM validations abandoned. */
  quiesce: () => Promise<void>;
  /** Every region's database wiped (Store.wipeResources), each in one transaction. */
  wipeDatabases: () => Promise<void>;
  removeAllObjects: () => Promise<void>;
  disconnectDevices: () => Promise<void>;
  /** After the wipe, outside the engine's exclusion: loads the start seed again (a fresh server has it). */
  reseed: () => Promise<void>;
}

export interface ResetResult {
  status: 'ok';
}

export class TestModeReset {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly parts: ResetParts) {}

  /** Resets run one at a time; each resolves once the server is fresh. */
  reset(): Promise<ResetResult> {
    const next = this.chain.then(() => this.once());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async once(): Promise<ResetResult> {
    const p = this.parts;
    await p.betweenSteps(async () => {
      await p.quiesce();
      await p.wipeDatabases();
      await p.removeAllObjects();
      await p.disconnectDevices();
    });
    await p.reseed();
    return { status: 'ok' };
  }
}
