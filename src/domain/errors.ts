/**
 * Domain errors carry the AWS exception name, which is part of the AWS vocabulary the domain
 * speaks; each door maps the name to its own wire form (HTTP status + header, MQTT code).
 */
export type AwsErrorName =
  | 'ValidationException'
  | 'InvalidRequestException'
  | 'ConflictException'
  | 'ResourceNotFoundException'
  | 'ResourceAlreadyExistsException'
  | 'ServiceQuotaExceededException'
  | 'ThrottlingException'
  | 'InvalidStateTransitionException'
  | 'VersionConflictException'
  | 'LimitExceededException'
  | 'TerminalStateException'
  | 'InternalServerException'
  | 'InternalFailureException'
  | 'UnauthorizedException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException'
  | 'IncompleteSignatureException'
  | 'MissingAuthenticationTokenException'
  | 'UnsupportedMediaTypeException'
  | 'RequestEntityTooLargeException'
  | 'UnknownOperationException'
  | 'MethodNotAllowedException'
  | 'UnsupportedDocumentEncodingException'
  | 'InvalidQueryException'
  | 'IndexNotReadyException'
  | 'InvalidAggregationException'
  | 'CertificateStateException'
  | 'CertificateConflictException'
  | 'CertificateValidationException'
  | 'RegistrationCodeValidationException'
  | 'DeleteConflictException'
  | 'ForbiddenException'
  | 'MalformedPolicyException'
  | 'VersionsLimitExceededException';

/**
 * Why a state machine refused, for doors whose wire tells these apart (MQTT's VersionMismatch and
 * TerminalStateReached are one InvalidStateTransitionException over HTTPS).
 */
export type RefusalReason = 'VERSION_MISMATCH' | 'TERMINAL_STATE' | 'ILLEGAL_TRANSITION';

export class DomainError extends Error {
  constructor(
    readonly errorName: AwsErrorName,
    message: string,
    /** Extra modelled members, e.g. resourceId for ConflictException. */
    readonly members: Record<string, unknown> = {},
    /** Never on the wire itself: each door maps it to its own name. */
    readonly reason?: RefusalReason,
  ) {
    super(message);
    this.name = errorName;
  }
}

export const notFound = (message: string) => new DomainError('ResourceNotFoundException', message);
export const conflict = (message: string, resourceId?: string) =>
  new DomainError('ConflictException', message, resourceId === undefined ? {} : { resourceId });
export const validation = (message: string) => new DomainError('ValidationException', message);
export const invalidRequest = (message: string) => new DomainError('InvalidRequestException', message);
