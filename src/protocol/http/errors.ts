import type { ServerResponse } from 'node:http';
import type { AwsErrorName } from '../../domain/errors.js';
import { canStartResponse, writeHead } from './response.js';

/** HTTP status per AWS exception (wire.md §4.2). Planes that differ pass overrides. */
const STATUS: Record<AwsErrorName, number> = {
  ValidationException: 400,
  InvalidRequestException: 400,
  ThrottlingException: 400,
  ConflictException: 409,
  ResourceNotFoundException: 404,
  ResourceAlreadyExistsException: 409,
  ServiceQuotaExceededException: 402,
  InvalidStateTransitionException: 409,
  VersionConflictException: 409,
  LimitExceededException: 410,
  TerminalStateException: 410,
  InternalServerException: 500,
  InternalFailureException: 500,
  UnauthorizedException: 401,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  IncompleteSignatureException: 403,
  MissingAuthenticationTokenException: 403,
  UnsupportedMediaTypeException: 415,
  RequestEntityTooLargeException: 413,
  UnknownOperationException: 404,
  MethodNotAllowedException: 405,
  UnsupportedDocumentEncodingException: 415,
  InvalidQueryException: 400,
  IndexNotReadyException: 400,
  InvalidAggregationException: 400,
  CertificateStateException: 406,
  CertificateConflictException: 409,
  CertificateValidationException: 400,
  RegistrationCodeValidationException: 400,
  DeleteConflictException: 409,
  ForbiddenException: 403,
  MalformedPolicyException: 400,
  VersionsLimitExceededException: 409,
};

export type StatusOverrides = Partial<Record<AwsErrorName, number>>;

export function statusOf(name: AwsErrorName, overrides?: StatusOverrides): number {
  return overrides?.[name] ?? STATUS[name] ?? 400;
}

/** restJson1 error: x-amzn-ErrorType header plus `__type` and `message` in the body. */
export function writeAwsError(
  res: ServerResponse,
  requestId: string,
  name: AwsErrorName,
  message: string,
  members: Record<string, unknown> = {},
  overrides?: StatusOverrides,
): void {
  if (!canStartResponse(res)) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ __type: name, message, ...members });
  writeHead(res, statusOf(name, overrides), {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': name,
    'x-amzn-requestid': requestId,
  });
  res.end(body);
}
