import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { validation } from '../errors.js';
import { checkClientToken, idempotent } from '../idempotency.js';
import { FieldErrors } from '../validation.js';

export interface VersionUpdateByJobsConfig {
  enabled: boolean;
  roleArn?: string;
}

const SETTING = 'packageConfiguration';

/** The account-level package configuration singleton (packages.md §10). */
export class PackageConfigurationService {
  constructor(private readonly ctx: DomainContext) {}

  async current(store: Store = this.ctx.store): Promise<VersionUpdateByJobsConfig> {
    const text = await store.settings.get(SETTING);
    return text ? (JSON.parse(text) as VersionUpdateByJobsConfig) : { enabled: false };
  }

  async getPackageConfiguration() {
    return { versionUpdateByJobsConfig: await this.current() };
  }

  async updatePackageConfiguration(input: { versionUpdateByJobsConfig?: unknown; clientToken?: unknown }): Promise<Record<string, never>> {
    const errors = new FieldErrors();
    const config = errors.object(input.versionUpdateByJobsConfig, 'versionUpdateByJobsConfig');
    const enabled = config ? errors.boolean(config.enabled, 'versionUpdateByJobsConfig.enabled') : undefined;
    const roleArn = config ? errors.string(config.roleArn, 'versionUpdateByJobsConfig.roleArn', { min: 20, max: 2048 }) : undefined;
    const clientToken = checkClientToken(errors, input.clientToken);
    errors.throwIfAny();
    return idempotent(this.ctx.store, this.ctx.clock, 'UpdatePackageConfiguration', clientToken, { enabled, roleArn }, async (tx) => {
      if (!config) return {};
      const stored = await tx.settings.get(SETTING);
      const previous = stored ? (JSON.parse(stored) as VersionUpdateByJobsConfig) : { enabled: false };
      const next: VersionUpdateByJobsConfig = { enabled: enabled ?? previous.enabled };
      const role = roleArn ?? previous.roleArn;
      if (role !== undefined) next.roleArn = role;
      if (next.enabled && next.roleArn === undefined) {
        throw validation('A roleArn is required to enable versionUpdateByJobsConfig.');
      }
      await tx.settings.put(SETTING, JSON.stringify(next));
      return {};
    });
  }
}
