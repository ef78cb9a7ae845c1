import { INestApplication, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { modelInfoKey, workerEntry } from '@tagserve/queue';
import request from 'supertest';
import { configureApp } from '../http/configure-app';
import { MetricsService } from '../metrics/metrics.service';
import { QueueConnection } from '../queue/queue-connection.service';
import { ModelInfoController } from './model-info.controller';
import { ModelInfoService } from './model-info.service';

const info = { version: 'abc.dir', labels: ['mlops', 'other'], args: { C: 1 }, performance: { overall: { f1: 0.9 } }, loadedAt: '2026-01-01T00:00:00.000Z' };

/**
 * /performance and /args in an in-process app with the production HTTP edge (configureApp), in
 * front of a fake Redis connection: the serving-workers script answers `members`, and `mget`
 * answers what a test puts under the version's key.
 */
describe('/performance and /args', () => {
  let app: INestApplication;
  let stored: string | null;
  let members: string[];
  let redisDown: boolean;
  const gets: string[] = [];

  /** QueueConnection as the service uses it: run() turns a Redis failure into a 503, client() is the connection. */
  const connection = {
    ready: true,
    async client() {
      if (redisDown)
        throw new ServiceUnavailableException({
          message: 'Queue backend (Redis) is unavailable (not connected), retry shortly',
          headers: { 'Retry-After': '2' },
        });
      return {
        eval: async () => members,
        mget: async (...keys: string[]) => (gets.push(...keys), keys.map(() => stored)),
      };
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      await this.client();
      return work();
    },
  };

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      controllers: [ModelInfoController],
      providers: [
        ModelInfoService,
        { provide: QueueConnection, useValue: connection },
        // configureApp times every answer; the timings themselves are not under test here.
        { provide: MetricsService, useValue: { httpDuration: { startTimer: () => () => undefined } } },
        { provide: ConfigService, useValue: { get: (key: string) => ({ QUEUE_PREFIX: 'unit-model-info' })[key] } },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    configureApp(app as NestExpressApplication, {
      BODY_LIMIT: '512kb',
      HTTP_BODY_TIMEOUT_MS: 10000,
      MAX_TEXTS: 64,
      MAX_TEXT_LENGTH: 5000,
      API_KEYS: '',
      API_KEYS_FILE: '',
      JOBS_BODY_LIMIT: '64mb',
    });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    jest.restoreAllMocks();
  });

  beforeEach(() => {
    stored = null;
    members = [workerEntry(info.version, 'host:1')];
    redisDown = false;
    gets.length = 0;
  });

  it.each(['/performance', '/args'])('%s answers 503 in the envelope, with Retry-After, while no worker serves', async (path) => {
    members = [];
    const res = await request(app.getHttpServer()).get(path);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toMatchObject({
      'status-code': 503,
      message: 'Service Unavailable',
      method: 'GET',
      url: path,
      error: expect.stringContaining('No worker is serving a model right now'),
    });
  });

  it.each(['/performance', '/args'])('%s answers 503 while a serving version has not republished its info', async (path) => {
    const res = await request(app.getHttpServer()).get(path);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.error).toContain('not published yet');
    expect(gets).toEqual([modelInfoKey('unit-model-info', info.version)]);
  });

  it.each([
    ['/performance', 'not json at all'],
    ['/args', '{"version":'],
    ['/performance', JSON.stringify({ ...info, performance: 'high' })],
    ['/args', JSON.stringify({ ...info, args: null })],
  ])('%s answers 503, not 500, for a corrupt key (%s)', async (path, raw) => {
    stored = raw;
    const res = await request(app.getHttpServer()).get(path);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ 'status-code': 503, error: expect.stringContaining('not published yet') });
  });

  it('answers 503 with the reason while Redis is unreachable', async () => {
    redisDown = true;
    const res = await request(app.getHttpServer()).get('/performance');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.body.error).toContain('Queue backend (Redis) is unavailable');
  });

  it('answers what the worker published', async () => {
    stored = JSON.stringify(info);
    const performance = await request(app.getHttpServer()).get('/performance');
    expect(performance.status).toBe(200);
    expect(performance.body).toMatchObject({ 'status-code': 200, data: { performance: info.performance, model_version: info.version } });
    const args = await request(app.getHttpServer()).get('/args');
    expect(args.body).toMatchObject({ 'status-code': 200, data: { args: info.args, model_version: info.version } });
  });
});
