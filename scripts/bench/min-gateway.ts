/**
 * The bench's floor for a queued NestJS gateway: one @Post('predict') controller on
 * platform-express with Nest's default body parser, nothing else (no validation, API keys, rate
 * limit, helmet, request ids, metrics, envelope, backpressure or reply sweep). Each request becomes
 * one BullMQ job on the stack's own prediction queue, served by the stack's own workers, answered
 * through the same Redis reply channel. Stack minus this = what tagserve's gateway adds to a
 * request; this minus the bare server = what a NestJS gateway with a BullMQ queue costs at all.
 * The bench runs it in a child process (startMinGateway).
 */
import 'reflect-metadata';
import { Body, Controller, GatewayTimeoutException, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseReply, PREDICT_JOB, PREDICTION_QUEUE, replyChannel, type PredictionJobData, type PredictionJobResult } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REPLY_TIMEOUT_MS = 30_000;

export interface MinGatewayOptions {
  redisPort: number;
  password: string;
  prefix: string;
}

/** Starts the minimal gateway in a child process; resolves with its port once it listens. */
export async function startMinGateway(options: MinGatewayOptions): Promise<{ port: number; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', __filename, JSON.stringify(options)], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`min-gateway exited with code ${code} before listening`)));
  });
  return { port: (JSON.parse(line) as { port: number }).port, pid: child.pid!, stop: () => child.kill() };
}

async function serve(options: MinGatewayOptions): Promise<void> {
  const connection = { host: '127.0.0.1', port: options.redisPort, password: options.password || undefined, maxRetriesPerRequest: null };
  const queue = new Queue<PredictionJobData, PredictionJobResult>(PREDICTION_QUEUE, { connection, prefix: options.prefix });
  const gatewayId = `min-${randomBytes(4).toString('hex')}`;
  const channel = replyChannel(options.prefix, gatewayId);
  const waiters = new Map<string, (result: PredictionJobResult) => void>();
  let sequence = 0;

  @Controller('predict')
  class MinPredictController {
    @Post()
    @HttpCode(200)
    async predict(@Body() body: { texts: { text: string }[] }): Promise<{ predictions: unknown[] }> {
      const jobId = `${gatewayId}-${++sequence}`;
      const texts = body.texts.map((t) => t.text);
      // No reply sweep here: a reply lost on the way ends the bench with a 504 after 30 s, not a hang.
      const result = new Promise<PredictionJobResult>((resolve, reject) => {
        const timer = setTimeout(() => reject(new GatewayTimeoutException(`job ${jobId}: no reply within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
        waiters.set(jobId, (r) => (clearTimeout(timer), resolve(r)));
      });
      result.catch(() => undefined); // if the add below throws, nobody awaits this one
      const data: PredictionJobData = {
        texts,
        requests: [{ requestId: jobId, texts: texts.length }],
        replyTo: channel,
        deadline: Date.now() + REPLY_TIMEOUT_MS,
      };
      await queue.add(PREDICT_JOB, data, { jobId, removeOnComplete: true, removeOnFail: true });
      return { predictions: (await result).predictions };
    }
  }

  @Module({ controllers: [MinPredictController] })
  class MinGatewayModule {}

  const subscriber = new Redis(connection);
  subscriber.on('message', (_channel: string, message: string) => {
    const reply = parseReply(message);
    if (!reply || !('result' in reply)) return;
    waiters.get(reply.jobId)?.(reply.result);
    waiters.delete(reply.jobId);
  });
  await subscriber.subscribe(channel);
  const app = await NestFactory.create(MinGatewayModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  process.stdout.write(JSON.stringify({ port: (app.getHttpServer().address() as { port: number }).port }) + '\n');
}

if (require.main === module) {
  serve(JSON.parse(process.argv[2] ?? '{}') as MinGatewayOptions).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
