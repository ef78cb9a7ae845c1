import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import { ModelInfo, modelInfoKey, PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';

/** Reads what the workers published about the loaded artifact (the gateway never loads the model). */
@Injectable()
export class ModelInfoService {
  private readonly key: string;

  constructor(@InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue, config: ConfigService<TagserveConfig, true>) {
    this.key = modelInfoKey(config.get('QUEUE_PREFIX'));
  }

  async get(): Promise<ModelInfo> {
    const client = await this.queue.client;
    if (client.status !== 'ready') throw new ServiceUnavailableException('Queue backend (Redis) is unavailable, retry shortly');
    const raw = await client.get(this.key);
    if (!raw) throw new ServiceUnavailableException('No worker has loaded a model yet');
    return JSON.parse(raw) as ModelInfo;
  }
}
