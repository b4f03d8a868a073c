import type { Clock } from '../../clock.js';
import { DomainError } from '../../domain/errors.js';
import { isTerminal } from '../../domain/jobs/execution-state-machine.js';
import type { JobsDataService } from '../../domain/jobs/jobs-data-service.js';
import { devicePlaneText } from '../http/json.js';
import type { RequestThrottle } from '../http/request-throttle.js';
import { acceptedTopic, rejectedTopic, type InvalidJobsTopic, type JobsRequest } from './topics.js';

/**
 * The device jobs API over MQTT (jobs.md §10): the same JobsDataService as the HTTPS door, with
 * MQTT's payloads — `clientToken` echoed, `timestamp` in epoch seconds, documents as objects — and
 * its rejection codes. A refusal's reason (the domain's, not HTTPS's exception name) picks the code.
 */
export interface MqttReply {
  topic: string;
  payload: string;
}

export type JobsRejectionCode =
  | 'InvalidTopic' | 'InvalidJson' | 'InvalidRequest' | 'InvalidStateTransition' | 'ResourceNotFound'
  | 'VersionMismatch' | 'TerminalStateReached' | 'RequestThrottled' | 'InternalError';

/** The largest jobs request payload accepted (AWS's MQTT message limit is 128 KiB). */
export const MAX_JOBS_PAYLOAD_BYTES = 128 * 1024;

class Rejection extends Error {
  constructor(
    readonly code: JobsRejectionCode,
    message: string,
    readonly executionState?: unknown,
  ) {
    super(message);
  }
}

function codeOf(err: DomainError): JobsRejectionCode {
  switch (err.errorName) {
    case 'InvalidRequestException':
    case 'ValidationException':
      return 'InvalidRequest';
    case 'ResourceNotFoundException':
      return 'ResourceNotFound';
    case 'InvalidStateTransitionException':
    case 'VersionConflictException':
      return err.reason === 'VERSION_MISMATCH' ? 'VersionMismatch' : err.reason === 'TERMINAL_STATE' ? 'TerminalStateReached' : 'InvalidStateTransition';
    case 'ThrottlingException':
      return 'RequestThrottled';
    default:
      return 'InternalError';
  }
}

const parseDocument = (text: string | undefined) => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/** The data plane's execution with its document as an object (MQTT's JobExecution). */
export function withObjectDocument<T extends object>(execution: T | undefined): object | undefined {
  if (!execution) return undefined;
  const { jobDocument, ...rest } = execution as T & { jobDocument?: string };
  return { ...rest, ...(jobDocument !== undefined ? { jobDocument: parseDocument(jobDocument) } : {}) };
}

/** Refuses malformed UTF-8; decoding a whole payload at once keeps no state, so one serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** MQTT takes numeric strings where HTTPS takes numbers (the docs' own examples send `"expectedVersion": "1"`). */
const numeric = (v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);

/** The HTTPS data plane's operation each MQTT jobs request is counted as (jobs.md §12: one account-level limit). */
const OPERATIONS: Record<JobsRequest['op'], string> = {
  get: 'GetPendingJobExecutions',
  'start-next': 'StartNextPendingJobExecution',
  describe: 'DescribeJobExecution',
  update: 'UpdateJobExecution',
};

export class JobsMqtt {
  /** `--throttle`'s check per request kind; absent when it is off, so a request costs one null check. */
  private readonly throttled?: Partial<Record<JobsRequest['op'], () => void>>;

  constructor(
    private readonly jobs: JobsDataService,
    private readonly clock: Clock,
    throttle?: RequestThrottle,
  ) {
    if (throttle) {
      const checks: Partial<Record<JobsRequest['op'], () => void>> = {};
      for (const op of Object.keys(OPERATIONS) as JobsRequest['op'][]) {
        const check = throttle.checkerOf('iot-jobs-data', OPERATIONS[op]);
        if (check) checks[op] = check;
      }
      this.throttled = checks;
    }
  }

  private timestamp(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** Answers one request published on `topic`; never throws. */
  async handle(request: JobsRequest | InvalidJobsTopic, topic: string, payload: Buffer): Promise<MqttReply> {
    let clientToken: string | undefined;
    try {
      if (request.kind === 'invalid-jobs') throw new Rejection('InvalidTopic', `The topic ${topic} is not a jobs request topic.`);
      const body = this.parse(payload);
      if (body.clientToken !== undefined) {
        if (typeof body.clientToken !== 'string' || body.clientToken.length > 64) throw new Rejection('InvalidRequest', 'clientToken must be a string of at most 64 characters.');
        clientToken = body.clientToken;
      }
      // Counted once the payload is read, so the refusal echoes its clientToken; before the
      // service runs, so a throttled request changes nothing (decision 0050).
      this.throttled?.[request.op]?.();
      const answer = await this.run(request, body);
      return { topic: acceptedTopic(topic), payload: devicePlaneText({ ...answer, timestamp: this.timestamp(), ...(clientToken !== undefined ? { clientToken } : {}) }) };
    } catch (err) {
      const r = err instanceof Rejection ? err
        : err instanceof DomainError ? new Rejection(codeOf(err), err.message, err.members.executionState)
          : new Rejection('InternalError', 'Internal error.');
      return {
        topic: rejectedTopic(topic),
        payload: devicePlaneText({
          code: r.code,
          message: r.message,
          ...(clientToken !== undefined ? { clientToken } : {}),
          timestamp: this.timestamp(),
          ...(r.executionState !== undefined && (r.code === 'InvalidStateTransition' || r.code === 'VersionMismatch') ? { executionState: r.executionState } : {}),
        }),
      };
    }
  }

  private parse(payload: Buffer): Record<string, unknown> {
    if (payload.length > MAX_JOBS_PAYLOAD_BYTES) throw new Rejection('InvalidRequest', `The payload exceeds ${MAX_JOBS_PAYLOAD_BYTES} bytes.`);
    if (payload.length === 0) return {};
    let value: unknown;
    try {
      value = JSON.parse(UTF8.decode(payload));
    } catch {
      throw new Rejection('InvalidJson', 'The payload is not valid UTF-8 JSON.');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Rejection('InvalidJson', 'The payload must be a JSON object.');
    return value as Record<string, unknown>;
  }

  private async run(request: JobsRequest, body: Record<string, unknown>): Promise<object> {
    const { thingName } = request;
    switch (request.op) {
      case 'get':
        return this.jobs.getPendingJobExecutions({ thingName, namespaceId: request.namespaceId });
      case 'start-next': {
        const { execution } = await this.jobs.startNextPendingJobExecution({ thingName, statusDetails: body.statusDetails, stepTimeoutInMinutes: numeric(body.stepTimeoutInMinutes), namespaceId: request.namespaceId });
        return execution ? { execution: withObjectDocument(execution) } : {};
      }
      case 'describe': {
        const { execution } = await this.jobs.describeJobExecution({
          thingName, jobId: request.jobId, executionNumber: numeric(body.executionNumber), includeJobDocument: body.includeJobDocument, namespaceId: request.namespaceId,
        });
        // Over MQTT a described execution that has ended is refused (jobs.md §10.2).
        if (execution && request.jobId !== '$next' && isTerminal(execution.status)) {
          throw new Rejection('TerminalStateReached', `The job execution of ${request.jobId} on ${thingName} is in terminal state ${execution.status}.`);
        }
        return execution ? { execution: withObjectDocument(execution) } : {};
      }
      case 'update': {
        const answer = await this.jobs.updateJobExecution({
          thingName,
          jobId: request.jobId,
          status: body.status,
          statusDetails: body.statusDetails,
          expectedVersion: numeric(body.expectedVersion),
          executionNumber: numeric(body.executionNumber),
          includeJobExecutionState: body.includeJobExecutionState,
          includeJobDocument: body.includeJobDocument,
          stepTimeoutInMinutes: numeric(body.stepTimeoutInMinutes),
        });
        return { ...answer, ...(answer.jobDocument !== undefined ? { jobDocument: parseDocument(answer.jobDocument) } : {}) };
      }
    }
  }
}
