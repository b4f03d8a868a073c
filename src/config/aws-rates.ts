import type { ThrottleLimit } from './throttle-config.js';

/**
 * `--throttle aws`: AWS's documented per-account rates (device-security.md §7, jobs.md §12; the
 * c. 2019 limits table), one bucket per operation unless AWS counts several together (the jobs
 * data plane's 200 reads and 200 writes per second). Each bucket holds one second's worth.
 */
const each = (api: ThrottleLimit['api'], perSecond: number, operations: string[]): ThrottleLimit[] =>
  operations.map((op) => ({ api, operations: [op], perSecond, burst: perSecond }));

export const AWS_RATES: readonly ThrottleLimit[] = [
  ...each('iot', 10, [
    'RegisterCertificate', 'RegisterCACertificate', 'DescribeCertificate', 'DescribeCACertificate', 'UpdateCertificate', 'UpdateCACertificate',
    'DeleteCertificate', 'DeleteCACertificate', 'ListCertificates', 'ListCertificatesByCA', 'ListCACertificates', 'GetRegistrationCode',
    'DeleteRegistrationCode', 'CreatePolicy', 'CreatePolicyVersion', 'GetPolicy', 'DeletePolicy', 'DeletePolicyVersion', 'SetDefaultPolicyVersion',
    'ListPolicies', 'ListPolicyVersions', 'ListPolicyPrincipals', 'ListTargetsForPolicy', 'ListPrincipalThings', 'ListThingPrincipals',
    'TestAuthorization', 'TransferCertificate', 'AcceptCertificateTransfer', 'RejectCertificateTransfer', 'CancelCertificateTransfer',
    // jobs.md §12: the jobs control plane.
    'CreateJob', 'UpdateJob', 'CancelJob', 'DeleteJob', 'DescribeJob', 'ListJobs', 'GetJobDocument', 'AssociateTargetsWithJob',
    'CancelJobExecution', 'DeleteJobExecution', 'DescribeJobExecution', 'ListJobExecutionsForJob', 'ListJobExecutionsForThing',
  ]),
  ...each('iot', 15, [
    'CreateCertificateFromCsr', 'AttachPolicy', 'DetachPolicy', 'AttachPrincipalPolicy', 'DetachPrincipalPolicy', 'AttachThingPrincipal',
    'DetachThingPrincipal', 'GetPolicyVersion', 'ListAttachedPolicies', 'ListPrincipalPolicies',
  ]),
  ...each('iot', 50, ['GetEffectivePolicies']),
  { api: 'iot-jobs-data', operations: ['DescribeJobExecution', 'GetPendingJobExecutions'], perSecond: 200, burst: 200 },
  { api: 'iot-jobs-data', operations: ['StartNextPendingJobExecution', 'UpdateJobExecution'], perSecond: 200, burst: 200 },
];
