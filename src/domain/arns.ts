/** ARNs in the configured partition, region and account. */
export class Arns {
  constructor(
    readonly region: string,
    readonly accountId: string,
    readonly partition = 'aws',
  ) {}

  private base(): string {
    return `arn:${this.partition}:iot:${this.region}:${this.accountId}`;
  }

  package(name: string): string {
    return `${this.base()}:package/${name}`;
  }
  packageVersion(packageName: string, versionName: string): string {
    return `${this.base()}:package/${packageName}/version/${versionName}`;
  }
  thing(name: string): string {
    return `${this.base()}:thing/${name}`;
  }
  thingGroup(name: string): string {
    return `${this.base()}:thinggroup/${name}`;
  }
  billingGroup(name: string): string {
    return `${this.base()}:billinggroup/${name}`;
  }
  certificate(id: string): string {
    return `${this.base()}:cert/${id}`;
  }
  caCertificate(id: string): string {
    return `${this.base()}:cacert/${id}`;
  }
  thingType(name: string): string {
    return `${this.base()}:thingtype/${name}`;
  }
  job(jobId: string): string {
    return `${this.base()}:job/${jobId}`;
  }
  policy(name: string): string {
    return `${this.base()}:policy/${name}`;
  }
  jobTemplate(id: string): string {
    return `${this.base()}:jobtemplate/${id}`;
  }

  /**
   * Splits an IoT ARN of this account and region into its resource type and path
   * (`package/p/version/v` → type 'package', path ['p','version','v']). Undefined for anything else.
   */
  parse(arn: string): { resourceType: string; path: string[] } | undefined {
    const m = /^arn:([a-z-]+):iot:([a-z0-9-]*):(\d*):([^/]+)\/(.+)$/.exec(arn);
    if (!m) return undefined;
    const [, partition, region, account, resourceType, rest] = m;
    if (partition !== this.partition || region !== this.region || account !== this.accountId) return undefined;
    return { resourceType, path: rest.split('/') };
  }

  /** Whether split ARN parts name this partition, region and account. */
  owns(parts: Pick<IotArnParts, 'partition' | 'region' | 'account'>): boolean {
    return parts.partition === this.partition && parts.region === this.region && parts.account === this.accountId;
  }
}

export interface IotArnParts {
  partition: string;
  region: string;
  /** Empty in AWS-owned ARNs such as managed job templates. */
  account: string;
  resourceType: string;
  /** Everything after the first `/`; may hold further `/` and `:` (`name:version`). */
  resource: string;
}

/**
 * Any `arn:{partition}:iot:{region}:{account}:{type}/{resource}`, whoever's it is. For callers that
 * answer a malformed ARN (400) differently from a well-formed one of another account or region
 * (404), or that accept AWS-owned ARNs without an account; Arns.parse answers all of those with
 * undefined.
 */
export function splitIotArn(arn: string): IotArnParts | undefined {
  const m = /^arn:([^:]+):iot:([^:]*):([^:]*):([^/]+)\/(.+)$/s.exec(arn);
  if (!m) return undefined;
  const [, partition, region, account, resourceType, resource] = m;
  return { partition, region, account, resourceType, resource };
}
