import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { logRequest } from '../../src/protocol/http/request-log.js';

describe('logRequest', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => { lines.push(JSON.parse(c.toString())); done(); } }));
    return { log, lines };
  };

  it('logs a 4xx at info with its error name, and nothing it was not given', () => {
    const { log, lines } = capture();
    logRequest(log, 'r-1', { api: 'iot', operation: 'DescribeThing', error: 'ResourceNotFoundException' }, 404, 1.234);
    assert.deepEqual({ ...lines[0], time: undefined, pid: undefined, hostname: undefined }, {
      level: 30, time: undefined, pid: undefined, hostname: undefined, reqId: 'r-1', status: 404, ms: 1.23, api: 'iot', operation: 'DescribeThing', error: 'ResourceNotFoundException', msg: 'request',
    });
  });

  it('logs a 5xx at error with what caused it', () => {
    const { log, lines } = capture();
    logRequest(log, 'r-2', { api: 'iot-jobs-data', operation: 'StartNextPendingJobExecution', error: 'InternalFailureException', cause: new Error('disk on fire') }, 500, 7);
    assert.equal(lines[0].level, 50);
    assert.equal(lines[0].error, 'InternalFailureException');
    assert.match(String((lines[0].err as { stack: string }).stack), /disk on fire/);
  });
});
